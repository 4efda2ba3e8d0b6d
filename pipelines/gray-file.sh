#!/usr/bin/env bash
# The main job until a trained model ships: a real color clip (a JPEG frame folder such as
# ../shared/data/videos/davis2016/dog, or any video file) through vcgray and vcflow into an
# H.264 MP4. Shows the plugin working end to end on real footage.
#
# usage: pipelines/gray-file.sh INPUT OUTPUT.mp4
#   INPUT: a folder of NNNNN.jpg frames (25 fps assumed) or a video file in any container.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
export GST_PLUGIN_PATH="$here/build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
in="${1:?usage: $0 INPUT OUTPUT.mp4}"
out="${2:?usage: $0 INPUT OUTPUT.mp4}"
mkdir -p "$(dirname "$out")"
if [ -d "$in" ]; then
  first=$(ls "$in" | grep -E '\.jpe?g$' | sort | head -n1)
  [ -n "$first" ] || { echo "no JPEG frames in $in" >&2; exit 1; }
  digits=$(( ${#first} - 4 ))
  start=$((10#${first%.*}))
  src="multifilesrc location=$in/%0${digits}d.jpg start-index=$start caps=image/jpeg,framerate=25/1 ! jpegdec"
else
  src="filesrc location=$in ! decodebin"
fi
gst-launch-1.0 -e $src ! videoconvert ! vcgray ! vcflow ! videoconvert ! \
  x264enc tune=zerolatency ! mp4mux ! filesink location="$out"
echo "vidcolor: wrote $out"
