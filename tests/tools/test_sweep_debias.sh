#!/usr/bin/env bash
# scripts/sweep-debias.sh on the shipped model and the real validation clips, made small (1 frame
# per clip at 64 px): one scores file per debias value, each decoded at that value (recorded in
# the report's run), the list of files printed and written, and refusals of bad arguments.
set -euo pipefail
src=$1 build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
export VIDCOLOR_EVAL=$build/tools/vidcolor-eval
sweep=$src/scripts/sweep-debias.sh
model=$src/models/vidcolor-default.safetensors

out=$("$sweep" "$model" "$tmp/s" 0.5 0.8 -- --max-frames 1 --size 64 2>"$tmp/err") ||
  { cat "$tmp/err"; fail "the sweep exited with $?"; }
[ "$out" = "$(printf '%s\n' "$tmp/s/d0.5/scores.json" "$tmp/s/d0.8/scores.json")" ] ||
  fail "printed files: $out"
cmp -s <(echo "$out") "$tmp/s/files" || fail "OUTDIR/files differs from what was printed"
python3 - "$tmp/s" <<'PY' || fail "the scores files"
import json, sys
d = sys.argv[1]
a, b = (json.load(open("%s/d%s/scores.json" % (d, v))) for v in ("0.5", "0.8"))
assert a["run"]["class_debias"] == 0.5 and b["run"]["class_debias"] == 0.8, (a["run"], b["run"])
assert len(a["clips"]) == 6, [c["name"] for c in a["clips"]]  # the validation clips
# More debias, less colour: the decoding changed, not only the label.
assert b["overall"]["chroma_spread_ratio"] < a["overall"]["chroma_spread_ratio"], (a["overall"], b["overall"])
PY
for args in "$model" "$model $tmp/x 1.5" "$model $tmp/x abc"; do
  status=0
  $sweep $args >/dev/null 2>"$tmp/err" || status=$?
  [ "$status" = 2 ] || fail "'$args' gave exit $status, expected 2"
  [ -s "$tmp/err" ] || fail "'$args' gave no message"
done
status=0
$sweep "$tmp/no-model.safetensors" "$tmp/y" 0.5 >/dev/null 2>"$tmp/err" || status=$?
[ "$status" = 1 ] || fail "a missing model gave exit $status, expected 1"
grep -q "scoring at debias 0.5 failed" "$tmp/err" || fail "no reason for the missing model: $(cat "$tmp/err")"
echo "sweep-debias: OK"
