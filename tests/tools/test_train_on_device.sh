#!/usr/bin/env bash
# scripts/train-on-device.sh --rehearse on a small real pack (6 BSDS crops, 2 DAVIS pairs, 64 px)
# with a few seconds of training on the CPU: its last stdout line is the JSON object with the
# pack's bytes and counts and samples/s, and the outputs a device call returns exist. Also: the
# device mode refuses to run where $OUT is unset. Usage: test_train_on_device.sh SOURCE BUILD
set -euo pipefail
src=$1
build=$2
data=${VIDCOLOR_SHARED_DATA:-$src/../shared/data}
for need in images/bsds500 videos/davis2016/car-shadow weights/mobilenetv2-0.35/model.json; do
  if [ ! -e "$data/$need" ]; then echo "SKIP: no $data/$need"; exit 77; fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; echo "--- script output:"; cat "$tmp/out.txt" 2>/dev/null || true; exit 1; }

"$build/tools/vidcolor-pack" --images "$data/images/bsds500" --max-images 6 \
  --frames "$data/videos/davis2016/car-shadow" --pairs-per-seq 2 --crop 64 --seed 3 \
  -o "$tmp/small.safetensors" 2>/dev/null || fail "vidcolor-pack"

t0=$(date +%s)
"$src/scripts/train-on-device.sh" --rehearse "$tmp/r" --pack "$tmp/small.safetensors" --build "$build" \
  --minutes 0.1 --batch 2 >"$tmp/out.txt" 2>&1 || fail "the rehearsal exited with $?"
echo "rehearsal: $(( $(date +%s) - t0 )) s"

last=$(tail -n 1 "$tmp/out.txt")
echo "last line: $last"
python3 - "$last" "$(stat -c %s "$tmp/small.safetensors")" <<'EOF' || fail "the last line is not the expected JSON"
import json, sys
j = json.loads(sys.argv[1])
assert isinstance(j, dict), j
assert j["pack_bytes"] == int(sys.argv[2]), j
assert j["images"] == 6 and j["pairs"] == 2, j
assert j["samples_per_s"] > 0 and j["steps"] > 1, j
EOF

for f in model.safetensors checkpoint.safetensors train-log.csv status.json device.log; do
  [ -s "$tmp/r/$f" ] || fail "no $f in the rehearsal's folder"
done
# The recipe (the shipped f's): class loss and diversity on every f step, no bilateral term.
python3 - "$tmp/r/train-log.csv" <<'EOF' || fail "train-log.csv does not show the shipped f's recipe"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert rows, "no rows"
for r in rows:
    assert r["bilateral"] == "" and r["classes"] != "" and r["diversity"] != "", r
EOF
if grep -q 'VIDCOLOR_HAVE_PNG 1' "$build/vidcolor-config.h"; then
  for f in loss-curves.png samples.png; do [ -s "$tmp/r/$f" ] || fail "no $f"; done
fi
# What comes back from a device call: at most 8 plain files directly in $OUT.
n=$(find "$tmp/r" -maxdepth 1 -type f | wc -l)
[ "$n" -le 9 ] || fail "$n files in the output folder (pack included): more than a device call returns"

if env -u OUT "$src/scripts/train-on-device.sh" --minutes 1 >"$tmp/dev.txt" 2>&1; then
  fail "device mode ran without \$OUT"
fi
grep -q 'OUT is unset' "$tmp/dev.txt" || fail "device mode without \$OUT: $(cat "$tmp/dev.txt")"
"$src/scripts/train-on-device.sh" --minutes x >"$tmp/dev.txt" 2>&1 && fail "--minutes x accepted"
echo "1 passed, 0 failed"
