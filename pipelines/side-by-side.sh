#!/usr/bin/env bash
# Review: the input as it is (left; for a color clip that is the ground truth) and the
# colorized result (right) side by side in one picture, with compositor; to an MP4 or to a
# window.
#
# usage: pipelines/side-by-side.sh [-w WIDTH] [-m MODEL] [-p "PROPS"] INPUT [OUTPUT.mp4]
#   INPUT    a media file in any container, or a folder of NNNNN.jpg frames (25 fps)
#   OUTPUT   the comparison as H.264 MP4; without it, shown with autovideosink
#   -w       width of each half in pixels (default 640; height keeps the aspect ratio)
#   -m, -p   model file and more vidcolorize properties, as in colorize-file.sh
# example: pipelines/side-by-side.sh ../shared/data/videos/davis2016/dog out/dog-compare.mp4
set -euo pipefail
source "$(dirname "$0")/_common.sh"

width=640
vc_opt() { width="$2"; }  # -w
vc_getopts "w:" "$@"
shift "$vc_nopts"
in="${1:?usage: $0 [-w WIDTH] [-m MODEL] [-p PROPS] INPUT [OUTPUT.mp4]}"
out="${2:-}"
src=$(vc_video_source "$in")
vc_need vidcolorize compositor
sink=$(vc_video_sink "$out")

# Both halves are scaled to WIDTH (square pixels) before the split, so the right half starts
# at x = WIDTH. The left queue holds the frames while vidcolorize's window fills.
gst-launch-1.0 -e compositor name=comp sink_1::xpos="$width" ! videoconvert ! $sink \
  $src ! videoconvert ! videoscale ! \
    "video/x-raw,width=$width,pixel-aspect-ratio=1/1" ! tee name=t \
  t. ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=0 ! videoconvert ! comp.sink_0 \
  t. ! queue ! vidcolorize ${model:+model=$model} $props ! videoconvert ! comp.sink_1
[ -z "$out" ] || echo "vidcolor: wrote $out"
