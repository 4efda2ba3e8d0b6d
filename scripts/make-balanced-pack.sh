#!/usr/bin/env bash
# Builds the balanced 112-px training pack the shipped f was trained on (models/MODEL_CARD.md,
# "Training"): the scene photos (ImageNet sample, BSDS500, Urban100, Sun-Hays80) and every frame
# of the training DAVIS/DVP sequences as stills, a seeded 1,500 LFW + 1,500 UTKFace (the faces
# would otherwise be 86 % of the stills), and 4 frames a second of the training clips, 2 crops
# each; 8 consecutive-frame pairs per training sequence and training clip. data/split.json leaves out every
# validation, report and film clip. About 12,400 crops and 256 pairs, ~45 MiB.
#
# usage: scripts/make-balanced-pack.sh [OUT_DIR] [--lfw N] [--utkface N] [--name NAME]
#   OUT_DIR default out/train; needs a build. --lfw / --utkface: how many photos of each face
#   set (default 1,500 each: the shipped f's pack); --name: the pack is OUT_DIR/pack-NAME-112
#   (default bal). Other counts make the data ablations of docs/TRAINING.md's run log
#   (camp4lfw: --lfw 4500 --name lfw; nolfw: --lfw 0 --name nolfw).
# Writes OUT_DIR/bal/ (face links, clip frames) and OUT_DIR/pack-NAME-112.safetensors.
set -euo pipefail
cd "$(dirname "$0")/.."
out=out/train lfw=1500 utkface=1500 pack_name=bal
while [ $# -gt 0 ]; do
  case $1 in
    --lfw) lfw=$2; shift ;;
    --utkface) utkface=$2; shift ;;
    --name) pack_name=$2; shift ;;
    -*) echo "make-balanced-pack: unknown option $1" >&2; exit 2 ;;
    *) out=$1 ;;
  esac
  shift
done
for n in "$lfw" "$utkface"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "make-balanced-pack: a photo count must be a number, got '$n'" >&2; exit 2; }
done
data=${VIDCOLOR_SHARED_DATA:-../shared/data}
build=${VIDCOLOR_BUILD:-build}
pack="$build/tools/vidcolor-pack"
[ -x "$pack" ] || { echo "make-balanced-pack: no $pack (run scripts/build.sh)" >&2; exit 1; }
[ -d "$data/images" ] || { echo "make-balanced-pack: no $data/images (VIDCOLOR_SHARED_DATA)" >&2; exit 1; }
bal="$out/bal"
# The face links are made anew each time, so a pack with other counts holds only its own.
rm -rf "$bal/faces"
mkdir -p "$bal/faces" "$bal/clipframes"

# --lfw / --utkface photos of each face set (1,500 by default), chosen with a fixed seed from
# the sorted names (links, no copies). The split's validation_photos are never linked (the
# sample is drawn as before, so the pack stays the one the shipped f was trained on: none of
# them is in it).
python3 - "$data" "$bal/faces" "$lfw" "$utkface" <<'EOF'
import json, os, random, sys
data, dst = sys.argv[1], sys.argv[2]
counts = {"lfw": int(sys.argv[3]), "utkface": int(sys.argv[4])}
held_out = {os.path.normpath(p) for p in json.load(open("data/split.json")).get("validation_photos", [])}
for folder in ("lfw", "utkface"):
    src = os.path.join(data, "images", folder)
    names = sorted(n for n in os.listdir(src) if n.lower().endswith((".jpg", ".jpeg", ".png")))
    for n in random.Random(3).sample(names, counts[folder]):
        if os.path.join("images", folder, n) in held_out:
            continue
        link = os.path.join(dst, f"{folder}-{n}")
        if not os.path.lexists(link):
            os.symlink(os.path.abspath(os.path.join(src, n)), link)
EOF

# The training clips (split.json's "training" list), 4 frames a second as JPEG stills.
mapfile -t clips < <(python3 -c '
import json, sys
for p in json.load(open("data/split.json"))["training"]:
    if p.startswith("videos/clips/"): print(p)')
for c in "${clips[@]}"; do
  name=$(basename "$c" .mp4)
  dir="$bal/clipframes/$name"
  if [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then continue; fi
  mkdir -p "$dir"
  echo "make-balanced-pack: frames of $name"
  gst-launch-1.0 -q filesrc location="$data/$c" ! decodebin ! videoconvert ! videorate ! \
    video/x-raw,framerate=4/1 ! jpegenc quality=95 ! multifilesink location="$dir/%05d.jpg"
done

# The training sequences (DAVIS, DVP): as stills and as frame pairs.
mapfile -t seqs < <(python3 -c '
import json
for p in json.load(open("data/split.json"))["training"]:
    if p.startswith(("videos/davis2016/", "videos/dvp/")): print(p)')
args=()
for d in imagenet-sample bsds500 urban100 sun-hays80; do args+=(--images "$data/images/$d"); done
for s in "${seqs[@]}"; do args+=(--images "$data/$s"); done
args+=(--images "$bal/faces")
for d in "$bal"/clipframes/*/; do args+=(--images "${d%/}"); done
for s in "${seqs[@]}"; do args+=(--frames "$data/$s"); done
args+=(--video "$data/videos/clips")  # the split keeps the training clips only
"$pack" --split data/split.json --crop 112 --per-image 2 --pairs-per-seq 8 --seed 3 \
  "${args[@]}" -o "$out/pack-$pack_name-112.safetensors"
