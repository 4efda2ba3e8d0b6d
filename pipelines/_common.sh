# Shared by the pipelines/ scripts (sourced, not run): where the plugin is, option parsing,
# element checks, the source part of a pipeline for a file or a frame folder, the MP4-or-window
# sink, and audio detection.
#
# Environment:
#   VIDCOLOR_BUILD  build tree whose plugin to use (default: build/ beside pipelines/); an
#                   installed plugin is found by GStreamer as usual.
#   VIDCOLOR_MODEL  model file the elements use when no -m is given (see README).

vc_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export GST_PLUGIN_PATH="${VIDCOLOR_BUILD:-$vc_root/build}/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
# glibc hands every large block (frames, tensors) back to the kernel when freed and faults it in
# again on the next frame; keeping up to 256 MiB in the process makes the chain ~15 % faster on
# the 2-core machine (docs/BENCHMARKS.md). Set only where the caller has not chosen.
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-33554432}"  # glibc accepts at most 32 MiB
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-268435456}"

# vc_getopts SPEC "$@": the scripts' option loop. -m MODEL and -p PROPS (every script has them)
# set $model and $props (default empty); each option in SPEC (getopts letters, e.g. "w:b:") is
# handed to the script's own vc_opt function as `vc_opt LETTER ARG`; -h, an unknown option or a
# missing argument prints the script's header comment (its usage) and exits 2. Sets $vc_nopts
# to the number of arguments the options took:  vc_getopts "w:" "$@"; shift "$vc_nopts"
vc_getopts() {
  local spec="$1" opt
  shift
  model="" props=""
  OPTIND=1
  while getopts "${spec}m:p:h" opt; do
    case "$opt" in
      m) model="$OPTARG" ;;
      p) props="$OPTARG" ;;
      h | \?) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0" >&2; exit 2 ;;
      *) vc_opt "$opt" "${OPTARG:-}" ;;
    esac
  done
  vc_nopts=$((OPTIND - 1))
}

# vc_need ELEMENT...: exits with a clear message when an element is not installed.
vc_need() {
  local e
  for e in "$@"; do
    gst-inspect-1.0 "$e" >/dev/null 2>&1 ||
      { echo "$(basename "$0"): GStreamer element '$e' is not available (README, set-up)" >&2; exit 1; }
  done
}

# vc_video_source INPUT: prints the source part of a pipeline ending in decoded raw video.
# INPUT is a folder of NNNNN.jpg frames (25 fps) or a media file in any container. A video of
# odd width or height loses its last column / row (videocrop): x264 encodes 4:2:0 only at even
# sizes and otherwise fails with a bare "Can not initialize x264 encoder" (the black-and-white
# film clips in ../shared/data/bw are 853x480).
vc_video_source() {
  local src size w h
  src=$(vc_decoded_source "$1") || exit 1
  size=$(vc_video_size "$src")
  w=${size%x*}; h=${size#*x}
  if [ -n "$size" ] && [ $((w % 2 + h % 2)) -gt 0 ]; then
    echo "$(basename "$0"): $1 is ${w}x${h}; cropping to $((w - w % 2))x$((h - h % 2)) (H.264 4:2:0 needs even sizes)" >&2
    src="$src ! videocrop right=$((w % 2)) bottom=$((h % 2))"
  fi
  echo "$src"
}

# vc_video_size SOURCE: WIDTHxHEIGHT of the first decoded frame of a pipeline source part
# (empty if it cannot be read; the real pipeline then reports why).
vc_video_size() {
  timeout 30 gst-launch-1.0 -v $1 ! video/x-raw ! fakesink num-buffers=1 2>/dev/null |
    grep -o 'video/x-raw.*width=(int)[0-9]*, height=(int)[0-9]*' | tail -n1 |
    sed -E 's/.*width=\(int\)([0-9]+), height=\(int\)([0-9]+)/\1x\2/' || true
}

# vc_decoded_source INPUT: vc_video_source without the even-size crop.
vc_decoded_source() {
  local in="$1"
  if [ -d "$in" ]; then
    local first ext digits start
    first=$(ls "$in" | grep -E '^[0-9]+\.jpe?g$' | sort | head -n1)
    [ -n "$first" ] || { echo "$(basename "$0"): no NNNNN.jpg frames in $in" >&2; exit 1; }
    ext="${first##*.}"
    digits=$(( ${#first} - ${#ext} - 1 ))
    start=$((10#${first%.*}))
    echo "multifilesrc location=$in/%0${digits}d.$ext start-index=$start caps=image/jpeg,framerate=25/1 ! jpegdec"
  elif [ -f "$in" ]; then
    echo "filesrc location=$in ! decodebin"
  else
    echo "$(basename "$0"): no such file or folder: $in" >&2
    exit 1
  fi
}

# vc_video_sink OUTPUT: prints the end of a pipeline: H.264 in an MP4 at OUTPUT (its folder
# made), or autovideosink when OUTPUT is empty.
vc_video_sink() {
  if [ -n "$1" ]; then
    vc_need x264enc mp4mux
    mkdir -p "$(dirname "$1")"
    echo "x264enc ! mp4mux ! filesink location=$1"
  else
    echo "autovideosink"
  fi
}

# vc_has_audio FILE: true when FILE has an audio stream GStreamer can decode. (The video
# pad is left unlinked; with an audio branch linked the demuxer goes on, otherwise it stops
# with not-linked.)
vc_has_audio() {
  [ -f "$1" ] || return 1
  timeout 30 gst-launch-1.0 -q filesrc location="$1" ! decodebin ! audio/x-raw ! \
    fakesink num-buffers=1 >/dev/null 2>&1
}
