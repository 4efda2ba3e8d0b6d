#!/usr/bin/env bash
# The main job until a trained model ships: a real color clip (a JPEG frame folder such as
# ../shared/data/videos/davis2016/dog, or any video file) through vcgray and vcflow into an
# H.264 MP4. Shows the plugin working end to end on real footage.
#
# usage: pipelines/gray-file.sh INPUT OUTPUT.mp4
#   INPUT: a folder of NNNNN.jpg frames (25 fps assumed) or a video file in any container.
set -euo pipefail
source "$(dirname "$0")/_common.sh"
in="${1:?usage: $0 INPUT OUTPUT.mp4}"
out="${2:?usage: $0 INPUT OUTPUT.mp4}"
src=$(vc_video_source "$in")
vc_need vcgray vcflow x264enc mp4mux
mkdir -p "$(dirname "$out")"
gst-launch-1.0 -e $src ! videoconvert ! vcgray ! vcflow ! videoconvert ! \
  x264enc tune=zerolatency ! mp4mux ! filesink location="$out"
echo "vidcolor: wrote $out"
