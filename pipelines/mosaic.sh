#!/usr/bin/env bash
# The candidate mosaic: all d colorizations of network f side by side in one frame
# (vccolorize mosaic=true; 2 x 2 cells for d = 4, candidate i in cell i, row-major), to
# choose a candidate for vccolorize's `candidate` property (`vidcolorize colorize::candidate=N`). No refinement.
#
# usage: pipelines/mosaic.sh [-m MODEL] [-p "PROPS"] INPUT [OUTPUT.mp4]
#   INPUT    a media file in any container, or a folder of NNNNN.jpg frames (25 fps)
#   OUTPUT   the mosaic as H.264 MP4; without it, shown with autovideosink
#   -m       model file (default: $VIDCOLOR_MODEL, else the installed model, else models/ of
#            the source tree: the shipped vidcolor-default.safetensors)
#   -p       more vccolorize properties, e.g. -p "inference-size=96 threads=2"
# example: pipelines/mosaic.sh ../shared/data/videos/davis2016/dog out/dog-mosaic.mp4
set -euo pipefail
source "$(dirname "$0")/_common.sh"

vc_getopts "" "$@"
shift "$vc_nopts"
in="${1:?usage: $0 [-m MODEL] [-p PROPS] INPUT [OUTPUT.mp4]}"
out="${2:-}"
src=$(vc_video_source "$in")
vc_need vcgray vccolorize
sink=$(vc_video_sink "$out")
gst-launch-1.0 -e $src ! videoconvert ! vcgray ! \
  vccolorize mosaic=true ${model:+model=$model} $props ! videoconvert ! $sink
[ -z "$out" ] || echo "vidcolor: wrote $out"
