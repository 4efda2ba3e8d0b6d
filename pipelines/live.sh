#!/usr/bin/env bash
# Live: colorizes a network stream with the vidcolorize bin and sends the result both to a
# file and to a preview. Input is RTP/H.264 over UDP (rtpjitterbuffer, rtph264depay,
# avdec_h264: Debian's plugins-good and gstreamer1.0-libav) or SRT (srtsrc: Debian's
# gstreamer1.0-plugins-bad, not installed by scripts/setup.sh; the script says so when it
# is missing). The recording is H.264 in MP4 (or Matroska when OUTPUT ends in .mkv, which
# stays readable if the process is killed); Ctrl-C ends it cleanly (EOS).
#
# usage: pipelines/live.sh [-u PORT | -s SRT_URI] [-o OUTPUT] [-v auto|fake|none]
#                          [-d SECONDS] [-m MODEL] [-p "PROPS"]
#   -u PORT      receive RTP/H.264 (payload 96) on this UDP port (default 5000)
#   -s SRT_URI   receive MPEG-TS over SRT instead, e.g. srt://:7001 (listener)
#   -o OUTPUT    recording file (default out/live.mp4; "none" = no recording)
#   -v           preview: auto (autovideosink), fake (fakesink, for headless checks), none
#   -d SECONDS   stop after this long (default: run until Ctrl-C)
#   -m, -p       model file and more vidcolorize properties, as in colorize-file.sh
# A test sender on the same machine (what the live check runs). A keyframe every second
# (key-int-max=25): a receiver started after the sender decodes nothing until the next one
# (x264's default of 250 frames left it blank for up to 10 s):
#   gst-launch-1.0 videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=25/1 ! \
#     x264enc tune=zerolatency key-int-max=25 ! rtph264pay config-interval=1 pt=96 ! udpsink host=127.0.0.1 port=5000
set -euo pipefail
source "$(dirname "$0")/_common.sh"

port=5000 srt="" out="out/live.mp4" preview=auto duration=""
vc_opt() {
  case "$1" in
    u) port="$2" ;;
    s) srt="$2" ;;
    o) out="$2" ;;
    v) preview="$2" ;;
    d) duration="$2" ;;
  esac
}
vc_getopts "u:s:o:v:d:" "$@"
vc_need vidcolorize avdec_h264
if [ -n "$srt" ]; then
  vc_need srtsrc tsdemux
  src="srtsrc uri=$srt ! tsdemux ! queue ! avdec_h264"
else
  vc_need udpsrc rtpjitterbuffer rtph264depay
  src="udpsrc port=$port caps=application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96 ! \
    rtpjitterbuffer latency=200 ! rtph264depay ! avdec_h264"
fi

branches=""
case "$preview" in
  auto) branches+=" t. ! queue leaky=downstream max-size-buffers=5 ! videoconvert ! autovideosink sync=false" ;;
  fake) branches+=" t. ! queue leaky=downstream max-size-buffers=5 ! fakesink sync=false" ;;
  none) ;;
  *) echo "$(basename "$0"): -v must be auto, fake or none" >&2; exit 2 ;;
esac
if [ "$out" != none ]; then
  mkdir -p "$(dirname "$out")"
  case "$out" in
    *.mkv) mux=matroskamux ;;
    *) mux=mp4mux ;;
  esac
  vc_need x264enc "$mux"
  branches+=" t. ! queue ! videoconvert ! x264enc tune=zerolatency speed-preset=veryfast ! $mux ! \
    filesink location=$out"
fi
[ -n "$branches" ] || branches=" t. ! queue ! fakesink"

# -e: Ctrl-C (or the -d timer's SIGINT) sends EOS, so the muxer finishes the file.
run=(gst-launch-1.0 -e $src ! videoconvert ! vidcolorize ${model:+model=$model} $props ! tee name=t $branches)
if [ -n "$duration" ]; then
  timeout -s INT -k 20 "$duration" "${run[@]}" || [ $? -eq 124 ]
else
  "${run[@]}"
fi
[ "$out" = none ] || echo "vidcolor: wrote $out"
