#!/usr/bin/env bash
# Scores a model on the validation clips over a sweep of class debias values, the input of the
# shipping rule's frontier comparison (models/MODEL_CARD.md, "The shipping rule"):
#   scripts/sweep-debias.sh MODEL OUTDIR [DEBIAS...] [-- vidcolor-eval options...]
# Each value is decoded by vidcolor-eval --class-debias (the model file is not rewritten) and
# scored by scripts/score-model.sh at the run log's protocol (12 frames per clip, short side 240;
# later options win) into OUTDIR/d<DEBIAS>/scores.json. Default values: 0.4 0.5 0.55 0.6 0.65 0.7
# 0.8. Prints the scores files, ready for
#   scripts/compare-scores.py --frontier $(cat OUTDIR/files) --baseline $(cat BASE/files)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then
  sed -n '2,10p' "$0" >&2
  exit 2
fi
model=$1 out=$2
shift 2
values=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
  [[ "$1" =~ ^(0(\.[0-9]+)?|1(\.0+)?)$ ]] || { echo "sweep-debias: not a debias in 0..1: $1" >&2; exit 2; }
  values+=("$1")
  shift
done
[ $# -gt 0 ] && shift  # the --
[ ${#values[@]} -gt 0 ] || values=(0.4 0.5 0.55 0.6 0.65 0.7 0.8)
mkdir -p "$out"
: > "$out/files"
for d in "${values[@]}"; do
  echo "sweep-debias: debias $d" >&2
  mkdir -p "$out/d$d"
  if ! scripts/score-model.sh "$model" validation "$out/d$d" --max-frames 12 --class-debias "$d" \
      "$@" > "$out/d$d/summary.txt" 2> "$out/d$d/log.txt"; then
    tail -5 "$out/d$d/log.txt" >&2
    echo "sweep-debias: scoring at debias $d failed (log: $out/d$d/log.txt)" >&2
    exit 1
  fi
  echo "$out/d$d/scores.json" | tee -a "$out/files"
done
