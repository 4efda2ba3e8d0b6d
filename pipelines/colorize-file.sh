#!/usr/bin/env bash
# File to file: colorizes a video (any container GStreamer can decode) or a folder of JPEG
# frames with the vidcolorize bin into an H.264 MP4; the audio, when the input has any, is
# kept (re-encoded to AAC with avenc_aac).
#
# usage: pipelines/colorize-file.sh [-m MODEL] [-p "PROPS"] [-b BITRATE] INPUT OUTPUT.mp4
#   INPUT    a media file in any container, or a folder of NNNNN.jpg frames (25 fps)
#   -m       model file (default: $VIDCOLOR_MODEL, else the installed model, else models/ of
#            the source tree: the shipped vidcolor-default.safetensors)
#   -p       more vidcolorize properties, e.g. -p "refine::iterations=2 inference-size=96 threads=2"
#   -b       H.264 bitrate in kbit/s (default 4000)
# example: pipelines/colorize-file.sh -m model.safetensors old-film.mkv out/old-film-color.mp4
set -euo pipefail
source "$(dirname "$0")/_common.sh"

bitrate=4000
vc_opt() { bitrate="$2"; }  # -b
vc_getopts "b:" "$@"
shift "$vc_nopts"
in="${1:?usage: $0 [-m MODEL] [-p PROPS] INPUT OUTPUT.mp4}"
out="${2:?usage: $0 [-m MODEL] [-p PROPS] INPUT OUTPUT.mp4}"
src=$(vc_video_source "$in")
vc_need vidcolorize x264enc mp4mux
mkdir -p "$(dirname "$out")"

colorize="videoconvert ! vidcolorize ${model:+model=$model} $props ! videoconvert ! \
  x264enc bitrate=$bitrate ! video/x-h264,profile=high ! queue ! mux."
if vc_has_audio "$in"; then
  vc_need avenc_aac
  # The audio queue is unbounded: the video branch holds frames (encoder look-ahead, the
  # refinement window) and a full audio queue would stall the demuxer feeding both.
  gst-launch-1.0 -e mp4mux name=mux ! filesink location="$out" \
    filesrc location="$in" ! decodebin name=dec \
    dec. ! queue ! $colorize \
    dec. ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=0 ! audioconvert ! \
      audioresample ! avenc_aac ! queue ! mux.
else
  gst-launch-1.0 -e mp4mux name=mux ! filesink location="$out" \
    $src ! $colorize
fi
echo "vidcolor: wrote $out"
