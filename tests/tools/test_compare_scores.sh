#!/usr/bin/env bash
# scripts/compare-scores.py on two small scores files worked out by hand: the overall and per-clip
# differences, the clip counts, the paired standard error, the rule's verdict and exit status,
# and refusals of bad input.
set -euo pipefail
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmp="python3 $src/scripts/compare-scores.py"

# Two clips. Candidate - baseline per clip: PSNR +1 and -0.5 (mean +0.25; sd = 1.5 / sqrt 2,
# SE = sd / sqrt 2 = 0.75); AuC +0.01 on both; spread and colorfulness equal; CDC lower on one.
clip() {  # name psnr auc spread colorfulness cdc
  printf '{"name":"%s","psnr":%s,"auc_rebalanced":%s,"chroma_spread_ratio":%s,"colorfulness_ratio":%s,"cdc":%s}' "$@"
}
scores() {  # overall-json clip-json clip-json
  printf '{"overall":%s,"clips":[%s,%s]}\n' "$1" "$2" "$3"
}
scores "$(clip all 25.25 0.86 0.7 0.8 0.002)" "$(clip a 26 0.85 0.7 0.8 0.001)" \
  "$(clip b 24.5 0.87 0.7 0.8 0.003)" > "$tmp/cand.json"
scores "$(clip all 25 0.85 0.7 0.8 0.002)" "$(clip a 25 0.84 0.7 0.8 0.002)" \
  "$(clip b 25 0.86 0.7 0.8 0.003)" > "$tmp/base.json"

status=0
out=$($cmp "$tmp/cand.json" "$tmp/base.json") || status=$?
echo "$out"
[ "$status" = 0 ] || { echo "FAIL: expected the rule met (exit 0), got $status"; exit 1; }
grep -Eq '^PSNR dB +25\.2500 +25\.0000 +\+0\.2500 +1/2 +0\.7500 +a \+1\.0000 b -0\.5000$' <<<"$out" \
  || { echo "FAIL: PSNR row"; exit 1; }
grep -Eq '^AuC rebalanced .* \+0\.0100 +2/2 +0\.0000 ' <<<"$out" || { echo "FAIL: AuC row"; exit 1; }
grep -Eq '^CDC .* 1/2 ' <<<"$out" || { echo "FAIL: CDC row (lower is better)"; exit 1; }
grep -q 'rule (at least the baseline on all four overall): met' <<<"$out" || { echo "FAIL: verdict"; exit 1; }

# Swapped, the baseline is better on PSNR and AuC overall: the rule is not met, exit 1.
status=0
out=$($cmp "$tmp/base.json" "$tmp/cand.json") || status=$?
[ "$status" = 1 ] || { echo "FAIL: expected exit 1 when the rule is not met, got $status"; exit 1; }
grep -q 'rule (at least the baseline on all four overall): not met' <<<"$out" || { echo "FAIL: verdict"; exit 1; }

# Bad input: a missing file, a file that is not a scores file, different clips, no arguments.
echo '{"clips":[]}' > "$tmp/bad.json"
scores "$(clip all 25 0.85 0.7 0.8 0.002)" "$(clip a 25 0.84 0.7 0.8 0.002)" \
  "$(clip c 25 0.86 0.7 0.8 0.003)" > "$tmp/other.json"
for args in "$tmp/none.json $tmp/base.json" "$tmp/bad.json $tmp/base.json" \
  "$tmp/other.json $tmp/base.json" ""; do
  status=0
  err=$($cmp $args 2>&1 >/dev/null) || status=$?
  [ "$status" = 2 ] || { echo "FAIL: '$args' gave exit $status, expected 2"; exit 1; }
  [ -n "$err" ] || { echo "FAIL: '$args' gave no message"; exit 1; }
done
echo "compare-scores: OK"
