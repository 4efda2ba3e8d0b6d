#!/usr/bin/env bash
# Scores a model on one part of the data split (data/split.json) with vidcolor-eval:
#   scripts/score-model.sh MODEL validation|validation_photos|report|film OUTDIR [options...]
# validation: every choice (checkpoint, temperature, default candidate) is made on these.
# validation_photos: 200 held-out LFW photos of people, each scored alone (--stills); with
#             --input-grain S also how a noisy source is colorized.
# report:     the held-out scores of the model card; nothing else may look at them.
# film:       black-and-white film, no truth (--film: colorfulness, spread, tint, CDC).
# Writes OUTDIR/scores.json (vidcolor-eval --json) and one strip per clip under
# OUTDIR/strips/, and prints the headline numbers. Defaults: 24 frames per clip at a short
# side of 240 (later options win).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 3 ]; then
  sed -n '2,11p' "$0" >&2
  exit 2
fi
model=$1 part=$2 out=$3
shift 3
data=${VIDCOLOR_DATA:-../shared/data}
eval_bin=${VIDCOLOR_EVAL:-build/tools/vidcolor-eval}
[ -x "$eval_bin" ] || { echo "score-model: $eval_bin not built (scripts/build.sh)" >&2; exit 1; }

mapfile -t clips < <(python3 -c '
import json, sys
part, data = sys.argv[1], sys.argv[2]
split = json.load(open("data/split.json"))
if not isinstance(split.get(part), list):
    sys.exit("score-model: data/split.json has no list \"%s\"" % part)
for p in split[part]:
    print(data + "/" + p)
' "$part" "$data")
extra=()
[ "$part" = film ] && extra+=(--film)
[ "$part" = validation_photos ] && extra+=(--stills --size 0)  # the photos as they are (128 px)
mkdir -p "$out/strips"
"$eval_bin" --model "$model" --clips "${clips[@]}" --max-frames 24 --size 240 --no-candidates \
  --strip-rows 2 "${extra[@]}" "$@" --out "$out/strips" --json > "$out/scores.json"

# The headline numbers, overall and per clip: f+g (the elements' output), in brackets the
# gray input (for cdc and warp_error: f alone).
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
film = "psnr" not in d["overall"]
keys = (["chroma_spread", "colorfulness", "tint", "cdc"] if film else
        ["psnr", "auc_rebalanced", "chroma_spread_ratio", "colorfulness_ratio", "cdc", "warp_error"])
print("%-20s" % "clip" + "".join("%24s" % k for k in keys))
for row in d["clips"] + [dict(d["overall"], name="overall")]:
    cells = []
    for k in keys:
        v = row.get(k)
        g = row.get(k + ("_f_only" if film or k in ("cdc", "warp_error") else "_gray"))
        cells.append("%11.4f (%10.4f)" % (v, g) if v is not None and g is not None else "%24s" % "")
    print("%-20s" % str(row.get("name", "?"))[:20] + "".join(cells))
' "$out/scores.json"
