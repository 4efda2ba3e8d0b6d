#!/usr/bin/env bash
# scripts/compare-scores.py on two small scores files worked out by hand: the overall and per-clip
# differences, the clip counts, the paired standard error, the rule's verdict and exit status,
# and refusals of bad input; --frontier on hand-made operating points: the interpolated frontier,
# each verdict (better, within noise, worse, outside), the margins and its refusals.
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
# --frontier: a baseline of two operating points, spread 0.6 (26.0 dB, AuC 0.850) and 0.8 (25.0 dB,
# 0.860), so at spread 0.7 the frontier is 25.5 dB and 0.855. Margins 0.2 dB and 0.002 AuC.
point() {  # name spread psnr auc
  local c
  c=$(clip all "$3" "$4" "$2" 0.8 0.002)
  scores "$c" "$(clip a "$3" "$4" "$2" 0.8 0.002)" "$(clip b "$3" "$4" "$2" 0.8 0.002)" > "$tmp/$1.json"
}
point lo 0.6 26.0 0.850
point hi 0.8 25.0 0.860
point ahead 0.7 25.8 0.855      # +0.3 dB, AuC equal: better
point quarter 0.65 25.9 0.853   # frontier 25.75 dB, 0.8525 a quarter of the way: +0.15 dB, within noise
point aucahead 0.7 25.45 0.858  # -0.05 dB, +0.003 AuC: better
point near 0.7 25.6 0.8555      # +0.1 dB, +0.0005: within noise
point behind 0.7 25.6 0.852     # +0.1 dB, -0.003 AuC: worse
point outside 0.9 30 0.9        # beyond the baseline's spread range: not judged
frontier() {  # expected-status expected-verdict candidates...
  local want=$1 verdict=$2 status=0 out
  shift 2
  out=$($cmp --frontier "$@" --baseline "$tmp/hi.json" "$tmp/lo.json") || status=$?
  echo "$out"
  [ "$status" = "$want" ] || { echo "FAIL: --frontier $* gave exit $status, expected $want"; exit 1; }
  grep -q "^frontier verdict: $verdict\$" <<<"$out" || { echo "FAIL: --frontier $*: verdict"; exit 1; }
}
frontier 0 better "$tmp/ahead.json"
out=$($cmp --frontier "$tmp/ahead.json" --baseline "$tmp/lo.json" "$tmp/hi.json")
grep -Eq 'ahead.json +0\.7000 +25\.8000 +25\.5000 +0\.8550 +0\.8550 +better \(\+0\.300 dB, \+0\.0000 AuC\)' \
  <<<"$out" || { echo "FAIL: --frontier row (interpolation)"; exit 1; }
out=$($cmp --frontier "$tmp/quarter.json" --baseline "$tmp/lo.json" "$tmp/hi.json" || true)
grep -Eq 'quarter.json +0\.6500 +25\.9000 +25\.7500 +0\.8530 +0\.8525 +within noise \(\+0\.150 dB, \+0\.0005 AuC\)' \
  <<<"$out" || { echo "FAIL: --frontier row (interpolation off the midpoint)"; exit 1; }
frontier 0 better "$tmp/aucahead.json"
frontier 1 "within noise" "$tmp/near.json"
frontier 1 worse "$tmp/behind.json"
frontier 1 worse "$tmp/ahead.json" "$tmp/behind.json"
frontier 1 "no candidate point inside the baseline's spread range" "$tmp/outside.json"
grep -q "outside the baseline's spread range" <<<"$($cmp --frontier "$tmp/outside.json" --baseline \
  "$tmp/lo.json" "$tmp/hi.json" || true)" || { echo "FAIL: --frontier outside row"; exit 1; }
# A tighter margin turns "within noise" into "better".
status=0
$cmp --frontier "$tmp/near.json" --baseline "$tmp/lo.json" "$tmp/hi.json" --margin-db 0.05 \
  > /dev/null || status=$?
[ "$status" = 0 ] || { echo "FAIL: --margin-db 0.05 should make +0.1 dB better"; exit 1; }
# Bad input: one baseline point, no candidate, a bad margin, an unknown option, other clips.
for args in "--frontier $tmp/near.json --baseline $tmp/lo.json" "--frontier --baseline $tmp/lo.json $tmp/hi.json" \
  "--frontier $tmp/near.json --baseline $tmp/lo.json $tmp/hi.json --margin-db x" \
  "--frontier $tmp/near.json --baseline $tmp/lo.json $tmp/hi.json --margin-auc -1" \
  "--frontier $tmp/near.json --baseline $tmp/lo.json $tmp/hi.json --bogus" \
  "--frontier $tmp/other.json --baseline $tmp/lo.json $tmp/hi.json"; do
  status=0
  err=$($cmp $args 2>&1 >/dev/null) || status=$?
  [ "$status" = 2 ] || { echo "FAIL: '$args' gave exit $status, expected 2"; exit 1; }
  [ -n "$err" ] || { echo "FAIL: '$args' gave no message"; exit 1; }
done
echo "compare-scores: OK"
