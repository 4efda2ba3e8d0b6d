#!/usr/bin/env bash
# scripts/train-on-device.sh: the one command a session gives the device tool (a GPU machine
# lent for minutes: PyTorch's CUDA LibTorch, meson, ninja, no GStreamer, no OpenCV, no network;
# docs/TRAINING.md, "Training on a lent GPU"). On that machine it
#   1. unpacks the carried Debian packages (libjpeg-turbo, nlohmann-json, libpng) with dpkg -x,
#   2. builds the LibTorch-only trainer against the machine's LibTorch (vidcolor-train only;
#      timed; kept in build-device/ so a second call on a warm machine skips it),
#   3. checks the carried compact pack (its JPEGs are decoded when the trainer loads it),
#   4. trains for the minutes given (never past the call's limit), resuming from
#      models/vidcolor-default.safetensors by default, or continuing a carried checkpoint,
#   5. copies the model, checkpoint, loss curves, sample sheet, CSV log and status under $OUT
#      every 15 s (the trainer writes them every 1.5 minutes), so a call cut at its limit
#      returns the latest; prints samples/s and GPU memory as it goes.
# Its last line of stdout is one JSON object:
#   {"pack_bytes":…, "images":…, "pairs":…, "samples_per_s":…, "steps":…, "train_s":…, ...}
#
# Usage (each mode's options below):
#   scripts/train-on-device.sh --prepare [--pack-seed N]      here: make out/device/ (pack,
#                                                             .debs, backbone weights)
#   scripts/train-on-device.sh [--minutes M] [options]        on the device (needs $OUT)
#   scripts/train-on-device.sh --rehearse DIR [options]       here, on the CPU: the same steps
#                                                             with the existing build/, 1 minute
#                                                             of training, outputs in DIR
# Options:
#   --minutes M        training time (device default 6; rehearsal default 1)
#   --call-limit S     the device call's timeout_s: training stops so that the call ends
#                      within it, build and load included (default 590; rehearsal 1500)
#   --init MODEL|none  start from this model file (default models/vidcolor-default.safetensors;
#                      none = a new model)
#   --stages LIST      vidcolor-train stages (default f-images:100000000: one stage, ended by time)
#   --batch N          vidcolor-train --batch (default: the trainer's, 8)
#   --pack FILE        the pack (device default out/device/pack.safetensors; rehearsal default:
#                      made into DIR first with the standard recipe, as --prepare makes it)
#   --build DIR        rehearsal: the existing build to use (default build)
#   --fresh            ignore a checkpoint left by an earlier call (warm machine or carried
#                      out/device/resume/) and start from --init
#   --pack-seed N      --prepare / rehearsal pack: crop and subset seed (default 1; another
#                      seed = another 16,000 of the 20,550 photos and other crops and pairs)
#   -- ARGS...         further vidcolor-train arguments (e.g. -- --lr 1e-4); they come after the
#                      recipe below, so they override it
#
# The recipe: f trains as the shipped f was (models/MODEL_CARD.md): the class loss and the ranked
# diversity term, no bilateral term (the paper's losses alone collapse to tints at this compute:
# the model card's ablation). vidcolor-train gets --w-bilateral 0 --w-classes 1 --w-diversity 1
# before ARGS; `-- --w-bilateral 1` brings the paper's term back.
#
# Carried folder (ignored by git; the run tool's carry: ["out/device"]):
#   out/device/pack.safetensors       compact pack (vidcolor-pack --format 2), <= ~50 MiB
#   out/device/debs/*.deb             libjpeg62-turbo(-dev), nlohmann-json3-dev, libpng(-dev), zlib1g-dev
#   out/device/weights/mobilenetv2-0.35/   model.json + weights.bin (φ of the diversity loss)
#   out/device/resume/checkpoint.safetensors   optional: a previous call's checkpoint to continue
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CALLER=$PWD
cd "$ROOT"
CARRY=out/device
SHARED=${VIDCOLOR_SHARED_DATA:-$ROOT/../shared/data}
T_START=$(date +%s)

say() { printf 'train-on-device: %s\n' "$*"; }
die() { printf 'train-on-device: error: %s\n' "$*" >&2; exit 1; }
elapsed() { echo $(( $(date +%s) - T_START )); }

# A path given on the command line is relative to the caller's folder.
abs_path() { case "$1" in /*) echo "$1" ;; *) echo "$CALLER/$1" ;; esac; }

MODE=device
RDIR=""
MINUTES=""
CALL_LIMIT=""
INIT=models/vidcolor-default.safetensors
STAGES="f-images:100000000"
BATCH=""
PACK=""
BUILD=build
FRESH=0
PACK_SEED=1
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --prepare) MODE=prepare ;;
    --rehearse) [ $# -ge 2 ] || die "--rehearse needs a folder"; MODE=rehearse; RDIR=$(abs_path "$2"); shift ;;
    --minutes) [ $# -ge 2 ] || die "--minutes needs a value"; MINUTES=$2; shift ;;
    --call-limit) [ $# -ge 2 ] || die "--call-limit needs seconds"; CALL_LIMIT=$2; shift ;;
    --init) [ $# -ge 2 ] || die "--init needs a model file or none"
            INIT=$2; [ "$INIT" = none ] || INIT=$(abs_path "$2"); shift ;;
    --stages) [ $# -ge 2 ] || die "--stages needs a list"; STAGES=$2; shift ;;
    --batch) [ $# -ge 2 ] || die "--batch needs a number"; BATCH=$2; shift ;;
    --pack) [ $# -ge 2 ] || die "--pack needs a file"; PACK=$(abs_path "$2"); shift ;;
    --build) [ $# -ge 2 ] || die "--build needs a folder"; BUILD=$(abs_path "$2"); shift ;;
    --fresh) FRESH=1 ;;
    --pack-seed) [ $# -ge 2 ] || die "--pack-seed needs a number"; PACK_SEED=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --) shift; EXTRA=("$@"); break ;;
    *) die "unknown option '$1' (--help lists them)" ;;
  esac
  shift
done
is_number() { [[ "$1" =~ ^[0-9]+([.][0-9]+)?$ ]]; }
[ -z "$MINUTES" ] || is_number "$MINUTES" || die "--minutes: not a number: $MINUTES"
[ -z "$CALL_LIMIT" ] || is_number "$CALL_LIMIT" || die "--call-limit: not a number: $CALL_LIMIT"
[ -z "$BATCH" ] || [[ "$BATCH" =~ ^[1-9][0-9]*$ ]] || die "--batch: not a positive integer: $BATCH"
[[ "$PACK_SEED" =~ ^[0-9]+$ ]] || die "--pack-seed: not an integer: $PACK_SEED"

# ---- the standard pack: at least 15,000 photos and 500 pairs of the training split in ~50 MiB
# (16,000 of the 20,550 photos, 112-px crops, JPEG quality 80, flows at 1/4 resolution, 16 pairs
# of each of the 32 training sequences and clips; validation and report clips left out by
# data/split.json). Needs a build with OpenCV (vidcolor-pack) and ../shared/data.
make_pack() {
  local out=$1 tool=$BUILD/tools/vidcolor-pack
  [ -x "$tool" ] || die "$tool is missing: build it first (ninja -C $BUILD tools/vidcolor-pack)"
  [ -d "$SHARED/images" ] || die "no shared data at $SHARED (set VIDCOLOR_SHARED_DATA)"
  local args=()
  for d in imagenet-sample bsds500 urban100 sun-hays80 lfw utkface; do args+=(--images "$SHARED/images/$d"); done
  say "packing the training split into $out (seed $PACK_SEED)"
  local t0; t0=$(date +%s)
  "$tool" "${args[@]}" --max-images 16000 \
      --frames "$SHARED/videos/davis2016" --frames "$SHARED/videos/dvp" --video "$SHARED/videos/clips" \
      --split data/split.json --crop 112 --jpeg-quality 80 --flow-factor 4 --pairs-per-seq 16 \
      --seed "$PACK_SEED" -o "$out"
  say "pack made in $(( $(date +%s) - t0 )) s: $(stat -c %s "$out") bytes"
}

# ---- the pack's counts, from its safetensors header (python3 is on both machines).
pack_meta() {  # FILE KEY
  python3 - "$1" "$2" <<'EOF'
import json, struct, sys
with open(sys.argv[1], 'rb') as f:
    n = struct.unpack('<Q', f.read(8))[0]
    if n > 100_000_000: sys.exit('bad safetensors header')
    meta = json.loads(f.read(n)).get('__metadata__', {})
print(meta.get(sys.argv[2], ''))
EOF
}

# ---- the carried Debian packages, unpacked into $1 (dpkg -x, or ar + tar where dpkg is missing);
# pkg-config files pointed at that folder; compiler, linker and loader paths exported.
unpack_debs() {
  local dest=$1 n=0
  mkdir -p "$dest"
  for deb in "$CARRY"/debs/*.deb; do
    [ -e "$deb" ] || break
    if command -v dpkg-deb >/dev/null; then
      dpkg-deb -x "$deb" "$dest"
    else
      local tmp; tmp=$(mktemp -d)
      (cd "$tmp" && ar x "$ROOT/$deb" && tar -xf data.tar.* -C "$dest")
      rm -rf "$tmp"
    fi
    n=$((n + 1))
  done
  [ "$n" -gt 0 ] || die "no .deb files in $CARRY/debs (run scripts/train-on-device.sh --prepare here and carry out/device)"
  local pc
  for pc in "$dest"/usr/lib/x86_64-linux-gnu/pkgconfig/*.pc "$dest"/usr/share/pkgconfig/*.pc; do
    [ -e "$pc" ] || continue
    sed -i -e "s|=/usr|=$dest/usr|g" -e "s|-I/usr|-I$dest/usr|g" -e "s|-L/usr|-L$dest/usr|g" "$pc"
  done
  local lib=$dest/usr/lib/x86_64-linux-gnu inc=$dest/usr/include
  export PKG_CONFIG_PATH=$lib/pkgconfig:$dest/usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
  export CMAKE_PREFIX_PATH=$dest/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
  export CPATH=$inc:$inc/x86_64-linux-gnu${CPATH:+:$CPATH}
  export LIBRARY_PATH=$lib${LIBRARY_PATH:+:$LIBRARY_PATH}
  export LD_LIBRARY_PATH=$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  local h
  for h in jpeglib.h nlohmann/json.hpp png.h; do
    [ -e "$inc/$h" ] || die "the carried packages lack $h (run --prepare again)"
  done
  say "unpacked $n packages into $dest"
}

# ---- prepare (here): what the device call carries.
if [ "$MODE" = prepare ]; then
  mkdir -p "$CARRY/debs" "$CARRY/weights"
  if [ -f "$CARRY/pack.safetensors" ] && [ "$FRESH" = 0 ]; then
    say "keeping $CARRY/pack.safetensors (--fresh makes a new one)"
  else
    make_pack "$CARRY/pack.safetensors"
  fi
  if ! ls "$CARRY"/debs/*.deb >/dev/null 2>&1; then
    say "downloading the Debian packages the device build needs into $CARRY/debs"
    (cd "$CARRY/debs" && apt-get download libjpeg62-turbo libjpeg62-turbo-dev nlohmann-json3-dev \
        libpng16-16 libpng-dev zlib1g-dev) || die "apt-get download failed (apt-get update first?)"
    for f in "$CARRY"/debs/*.deb; do  # plain names: no '%3a' epochs
      mv "$f" "$CARRY/debs/$(basename "$f" | sed 's/_.*//').deb"
    done
  fi
  [ -f "$SHARED/weights/mobilenetv2-0.35/model.json" ] || die "no backbone weights under $SHARED/weights"
  cp -r "$SHARED/weights/mobilenetv2-0.35" "$CARRY/weights/"
  tree=$( { git ls-files -z; git ls-files -z --others --exclude-standard; } |
          xargs -0 stat -c %s 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
  total=$(( tree + $(du -sb "$CARRY" | cut -f1) ))
  say "carry: $CARRY = $(du -sh "$CARRY" | cut -f1); the whole call sends ~$((total / 1048576)) MiB (limit 64)"
  [ "$total" -lt $((62 * 1048576)) ] || say "WARNING: over 62 MiB: the call may be refused; make a smaller pack"
  say "device call: run(command=\"scripts/train-on-device.sh --minutes 6\", carry=[\"out/device\"], timeout_s=600)"
  exit 0
fi

# ---- device or rehearsal
if [ "$MODE" = device ]; then
  [ -n "${OUT:-}" ] || die "\$OUT is unset: this is not the device machine (here, use --rehearse DIR)"
  OUTDIR=$OUT
  MINUTES=${MINUTES:-6}
  CALL_LIMIT=${CALL_LIMIT:-590}
  PACK=${PACK:-$CARRY/pack.safetensors}
  RUN=build-device/run
  DEVICE=cuda
else
  mkdir -p "$RDIR"
  OUTDIR=$(cd "$RDIR" && pwd)
  MINUTES=${MINUTES:-1}
  CALL_LIMIT=${CALL_LIMIT:-1500}
  RUN=$OUTDIR/run
  DEVICE=cpu
fi
mkdir -p "$OUTDIR"
LOG=$OUTDIR/device.log
exec > >(tee -a "$LOG") 2>&1
say "mode $MODE, $(nproc) cores, $(date -u +%FT%TZ)"

# 1. packages and 2. the trainer
if [ "$MODE" = device ]; then
  command -v python3 >/dev/null || die "python3 (with torch) not found"
  unpack_debs "$ROOT/build-device-deps"
  TORCH_DIR=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))') ||
    die "python3 cannot import torch"
  say "LibTorch: $TORCH_DIR ($(python3 -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda)'))"
  NCCL_INC=$(python3 -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "include"))' 2>/dev/null || true)
  CPP_ARGS=()
  [ -n "$NCCL_INC" ] && [ -f "$NCCL_INC/nccl.h" ] && CPP_ARGS=(-Dcpp_args=-I"$NCCL_INC")
  command -v meson >/dev/null || die "meson not found"
  command -v ninja >/dev/null || die "ninja not found"
  t0=$(date +%s)
  if [ ! -f build-device/build.ninja ]; then
    meson setup build-device -Dtorch_dir="$TORCH_DIR" -Dopencv=disabled -Dgstreamer=disabled \
        -Dtests=disabled -Dbuildtype=release "${CPP_ARGS[@]}" \
        -Dpkg_config_path="$PKG_CONFIG_PATH" -Dcmake_prefix_path="$ROOT/build-device-deps/usr" \
        >build-device-setup.log 2>&1 || { tail -40 build-device-setup.log; die "meson setup failed"; }
    grep -E "LibTorch with CUDA|libjpeg|libpng|NCCL" build-device-setup.log || true
    rm -f build-device-setup.log
  fi
  grep -q 'VIDCOLOR_HAVE_JPEG 1' build-device/vidcolor-config.h ||
    die "the device build found no libjpeg: it could not read the compact pack"
  grep -q 'VIDCOLOR_TORCH_HAS_CUDA 1' build-device/vidcolor-config.h ||
    die "the device build's LibTorch ($TORCH_DIR) has no CUDA"
  set +e
  ninja -C build-device tools/vidcolor-train 2>&1 | tee build-device/ninja.log |
    grep --line-buffered -E "^\[[0-9]+/[0-9]+\] Linking|FAILED|error:"
  st=${PIPESTATUS[0]}
  set -e
  [ "$st" = 0 ] || { tail -30 build-device/ninja.log; die "the trainer's build failed (build-device/ninja.log)"; }
  BUILD_S=$(( $(date +%s) - t0 ))
  say "build: $BUILD_S s (target: <= 180 s on 16 cores)"
  TRAINER=build-device/tools/vidcolor-train
else
  TRAINER=$BUILD/tools/vidcolor-train
  [ -x "$TRAINER" ] || die "$TRAINER is missing: build it first (ninja -C $BUILD tools/vidcolor-train)"
  BUILD_S=0
  if ls "$CARRY"/debs/*.deb >/dev/null 2>&1; then
    unpack_debs "$OUTDIR/deps"  # the device's first step, checked here; the build is reused
  else
    say "no $CARRY/debs here (scripts/train-on-device.sh --prepare fetches them): unpacking skipped"
  fi
  if [ -z "$PACK" ]; then
    PACK=$OUTDIR/pack.safetensors
    make_pack "$PACK"
  fi
fi

# 3. the pack
[ -f "$PACK" ] || die "no pack at $PACK (scripts/train-on-device.sh --prepare makes it; carry out/device)"
PACK_BYTES=$(stat -c %s "$PACK")
IMAGES=$(pack_meta "$PACK" images)
PAIRS=$(pack_meta "$PACK" pairs)
say "pack: $PACK, $PACK_BYTES bytes, version $(pack_meta "$PACK" version), ${IMAGES:-0} images, ${PAIRS:-0} pairs, crop $(pack_meta "$PACK" crop)"

WEIGHTS=$CARRY/weights/mobilenetv2-0.35
[ -f "$WEIGHTS/model.json" ] || WEIGHTS=$SHARED/weights/mobilenetv2-0.35
[ -f "$WEIGHTS/model.json" ] || die "no MobileNetV2 weights in $CARRY/weights or $SHARED/weights"

# 4. training, within the call's limit
budget_s=$(awk -v m="$MINUTES" -v lim="$CALL_LIMIT" -v el="$(elapsed)" \
  'BEGIN { b = m * 60; r = lim - el - 60; if (r < b) b = r; printf "%d", b }')
[ "$budget_s" -ge 5 ] || die "only ${budget_s} s left for training within --call-limit $CALL_LIMIT"
mkdir -p "$RUN"
if [ "$FRESH" = 1 ]; then rm -f "$RUN"/checkpoint.safetensors "$RUN"/train-log.csv; fi
if [ ! -f "$RUN/checkpoint.safetensors" ] && [ "$FRESH" = 0 ] && [ -f "$CARRY/resume/checkpoint.safetensors" ]; then
  cp "$CARRY/resume/checkpoint.safetensors" "$RUN/"
  [ -f "$CARRY/resume/train-log.csv" ] && cp "$CARRY/resume/train-log.csv" "$RUN/"
  say "continuing the carried checkpoint $CARRY/resume/checkpoint.safetensors"
fi
RECIPE=(--w-bilateral 0 --w-classes 1 --w-diversity 1)
ARGS=(--pack "$PACK" --out "$RUN" --stages "$STAGES" --device "$DEVICE"
      --max-minutes "$(awk -v s="$budget_s" 'BEGIN { printf "%.2f", s / 60 }')"
      --checkpoint-minutes 1.5 --checkpoint-every 100000000 --backbone-weights "$WEIGHTS" --phi-weights "$WEIGHTS")
[ "$INIT" = none ] || { [ -f "$INIT" ] || die "no model at $INIT"; ARGS+=(--init "$INIT"); }
[ -z "$BATCH" ] || ARGS+=(--batch "$BATCH")
if [ -f "$RUN/checkpoint.safetensors" ]; then
  ARGS+=(--resume)
  say "resuming $RUN/checkpoint.safetensors (same options needed; --fresh starts anew)"
fi
START_STEP=$(awk -F, 'NR > 1 { s = $1 } END { print s + 0 }' "$RUN/train-log.csv" 2>/dev/null || echo 0)
BATCH_N=${BATCH:-8}

# samples/s of this invocation: steps logged since START_STEP over their seconds column.
rate() {
  awk -F, -v s0="$START_STEP" -v b="$BATCH_N" '
    NR == 1 { for (i = 1; i <= NF; ++i) if ($i == "seconds") c = i; if (!c) exit; next }
    $1 > s0 { if (n == 0) { f = $1; t = $c } l = $1; u = $c; ++n }
    END { if (n > 1 && u > t) printf "%.2f %d %.1f", (l - f) * b / (u - t), l - s0, u - t;
          else printf "0 %d 0", (n ? l - s0 : 0) }' "$RUN/train-log.csv" 2>/dev/null || echo "0 0 0"
}
GPU_MAX=0
gpu_now() {  # used MiB, total MiB, utilization %
  command -v nvidia-smi >/dev/null || { echo ""; return; }
  nvidia-smi --query-gpu=memory.used,memory.total,utilization.gpu --format=csv,noheader,nounits 2>/dev/null |
    head -1 | tr -d ' '
}
copy_out() {  # the latest outputs into OUTDIR (atomic renames), a status line and status.json
  local f
  for f in model.safetensors checkpoint.safetensors train-log.csv loss-curves.png; do
    [ -f "$RUN/$f" ] || continue
    if [ ! -f "$OUTDIR/$f" ] || [ "$RUN/$f" -nt "$OUTDIR/$f" ]; then
      cp "$RUN/$f" "$OUTDIR/.$f.part" && mv -f "$OUTDIR/.$f.part" "$OUTDIR/$f"
    fi
  done
  local s; s=$(find "$RUN" -maxdepth 1 -name 'samples-*.png' | sort | tail -1)
  if [ -n "$s" ] && { [ ! -f "$OUTDIR/samples.png" ] || [ "$s" -nt "$OUTDIR/samples.png" ]; }; then
    cp "$s" "$OUTDIR/.samples.png.part" && mv -f "$OUTDIR/.samples.png.part" "$OUTDIR/samples.png"
  fi
  local rps steps tsec g used=""
  read -r rps steps tsec <<<"$(rate)"
  g=$(gpu_now)
  if [ -n "$g" ]; then
    used=${g%%,*}
    [ "$used" -gt "$GPU_MAX" ] 2>/dev/null && GPU_MAX=$used
  fi
  say "status: $steps steps, $rps samples/s over $tsec s${g:+; GPU memory ${used} MiB of $(echo "$g" | cut -d, -f2) (max $GPU_MAX), busy $(echo "$g" | cut -d, -f3) %}"
  printf '{"steps":%s,"samples_per_s":%s,"train_s":%s,"gpu_mem_mib":%s,"gpu_mem_max_mib":%s,"elapsed_s":%s}\n' \
    "$steps" "$rps" "$tsec" "${used:-null}" "$GPU_MAX" "$(elapsed)" >"$OUTDIR/.status.json.part"
  mv -f "$OUTDIR/.status.json.part" "$OUTDIR/status.json"
}

say "training ${budget_s} s on $DEVICE: $TRAINER ${ARGS[*]} ${RECIPE[*]} ${EXTRA[*]}"
T_TRAIN=$(date +%s)
"$TRAINER" "${ARGS[@]}" "${RECIPE[@]}" "${EXTRA[@]}" &
TPID=$!
trap 'kill -TERM $TPID 2>/dev/null || true' INT TERM
while kill -0 "$TPID" 2>/dev/null; do
  for _ in $(seq 15); do kill -0 "$TPID" 2>/dev/null || break; sleep 1; done
  copy_out
done
rc=0
wait "$TPID" || rc=$?
trap - INT TERM
copy_out
[ "$rc" = 0 ] || die "vidcolor-train exited with $rc (see $LOG)"
for f in model.safetensors checkpoint.safetensors train-log.csv; do
  [ -f "$OUTDIR/$f" ] || die "the trainer left no $f"
done
read -r RPS STEPS TSEC <<<"$(rate)"
say "done: $STEPS steps in $(( $(date +%s) - T_TRAIN )) s of training ($TSEC s logged), $RPS samples/s, GPU memory max ${GPU_MAX} MiB, whole call $(elapsed) s"
say "outputs in $OUTDIR: $(find "$OUTDIR" -maxdepth 1 -type f -printf '%f\n' | sort | tr '\n' ' ')"
printf '{"pack_bytes":%s,"images":%s,"pairs":%s,"samples_per_s":%s,"steps":%s,"train_s":%s,"build_s":%s,"gpu_mem_max_mib":%s,"device":"%s","elapsed_s":%s}\n' \
  "$PACK_BYTES" "${IMAGES:-0}" "${PAIRS:-0}" "$RPS" "$STEPS" "$TSEC" "$BUILD_S" "$GPU_MAX" "$DEVICE" "$(elapsed)"
