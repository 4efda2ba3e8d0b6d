#!/usr/bin/env bash
# Playout: timecode and closed captions in, colorized by the vidcolorize bin, H.264 in MPEG-TS
# out over UDP (or SRT, or to a file), with each frame's timecode and captions still in the
# stream. vidcolorize keeps every frame's GstVideoTimeCodeMeta and GstVideoCaptionMeta on its
# output frame; x264enc writes the captions as ATSC A/53 CEA-708 cc_data SEI and h264parse
# (update-timecode) the timecode into the picture timing SEI (x264 pic-struct), so a receiver's
# h264parse gives both back as metas. Needs Debian's gstreamer1.0-plugins-bad (timecodestamper,
# cccombiner, h264parse, mpegtsmux; srtsink for -s), installed by scripts/setup.sh.
#
# usage: pipelines/playout.sh [-u HOST:PORT | -s SRT_URI | -o FILE.ts] [-c CCFILE]
#                             [-n FRAMES] [-d SECONDS] [-m MODEL] [-p "PROPS"] [INPUT]
#   INPUT        a media file; captions it carries in its video (H.264 / MPEG-2 SEI) and its
#                timecodes (H.264 picture timing) are kept. Without INPUT: a test source,
#                320x240 at 29.97 fps, with pop-on CEA-608 captions (CC1) "VIDCOLOR 1",
#                "VIDCOLOR 2", ... one a second (a one-minute cycle). Over UDP or SRT the
#                sink sends in real time (synchronised to the clock), to a file at full speed
#   -u HOST:PORT MPEG-TS over UDP, 7 TS packets a datagram (default 127.0.0.1:5004)
#   -s SRT_URI   MPEG-TS over SRT instead (srtsink), e.g. srt://:7001 (listener: waits for a
#                receiver, such as pipelines/live.sh -s srt://127.0.0.1:7001) or
#                srt://HOST:7001 (caller)
#   -o FILE.ts   MPEG-TS to a file instead (the test source then runs as fast as it can)
#   -c CCFILE    captions from a file of raw CEA-708 cc_data, one 3-byte triplet a frame from
#                the first frame on (e.g. FC 94 20: CEA-608 field 1; FC 80 80: nothing)
#   -n FRAMES    test source: stop after FRAMES frames
#   -d SECONDS   stop after this long (default: the end of INPUT, -n, or Ctrl-C)
#   -m, -p       model file and more vidcolorize properties, as in colorize-file.sh
# Timecodes: the input's own, else counted from 00:00:00;00 (drop-frame at 29.97 fps) by
# timecodestamper. H.264 at 4:2:0 8 bit (High), a keyframe every second, SPS/PPS with each.
#
# Receiver / check on the same machine (tsdemux and h264parse: plugins-bad). Each line shows
# "meta: GstVideoTimeCodeMeta, GstVideoCaptionMeta" for a frame that carries both:
#   gst-launch-1.0 -v udpsrc port=5004 caps=video/mpegts,systemstream=true,packetsize=188 ! \
#     tsdemux ! h264parse ! fakesink silent=false
# the caption bytes of each frame (cc_data triplets, as sent):
#   ... ! h264parse ! ccextractor ! fakesink silent=false dump=true
# watched (decoded; the captions stay metas, nothing here renders CEA-608):
#   ... ! h264parse ! avdec_h264 ! videoconvert ! autovideosink
# The automatic check, which reads the timecodes and caption bytes frame by frame after
# tsdemux ! h264parse: meson test -C build gst-playout (tests/gst/test_playout.cpp).
set -euo pipefail
source "$(dirname "$0")/_common.sh"

udp="127.0.0.1:5004" srt="" file="" ccfile="" frames="" duration=""
vc_opt() {
  case "$1" in
    u) udp="$2" ;;
    s) srt="$2" ;;
    o) file="$2" ;;
    c) ccfile="$2" ;;
    n) frames="$2" ;;
    d) duration="$2" ;;
  esac
}
vc_getopts "u:s:o:c:n:d:" "$@"
shift "$vc_nopts"
in="${1:-}"
vc_need vidcolorize timecodestamper cccombiner x264enc h264parse mpegtsmux rawvideoparse capssetter
[ -z "$ccfile" ] || [ -f "$ccfile" ] || { echo "$(basename "$0"): no such file: $ccfile" >&2; exit 1; }
[ -z "$frames" ] || [ "$frames" -gt 0 ] 2>/dev/null ||
  { echo "$(basename "$0"): -n needs a number of frames" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# cea608_second TEXT: one second (30 frames) of cc_data triplets, FC b1 b2 (CEA-608 field 1,
# bytes with odd parity), appended to $cc_bytes as \xNN escapes: one pop-on caption on CC1 --
# resume caption loading, erase the hidden memory, row 15, TEXT two characters a frame, end of
# caption (which shows it), every control code twice as CEA-608 sends them -- then FC 80 80
# (nothing) to the end of the second. In the shell itself: a fork a byte took 40 s here.
cea608_second() {
  local text="$1" codes=(0x14 0x20 0x14 0x20 0x14 0x2e 0x14 0x2e 0x14 0x70 0x14 0x70) i b p c
  for ((i = 0; i < ${#text}; i++)); do printf -v c '%d' "'${text:i:1}"; codes+=("$c"); done
  ((${#text} % 2 == 0)) || codes+=(0)
  codes+=(0x14 0x2f 0x14 0x2f)
  for ((i = 0; i < ${#codes[@]}; i++)); do
    ((i % 2)) || cc_bytes+='\xfc'
    b=$((codes[i])) p=$((codes[i]))
    p=$((p ^ p >> 4)) p=$((p ^ p >> 2)) p=$((p ^ p >> 1))
    printf -v c '\\x%02x' $((p & 1 ? b : b | 0x80))
    cc_bytes+="$c"
  done
  for ((i = ${#codes[@]} / 2; i < 30; i++)); do cc_bytes+='\xfc\x80\x80'; done
}

if [ -n "$in" ]; then
  src=$(vc_video_source "$in") || exit 1
  src+=" ! videoconvert"
  rate=$(timeout 30 gst-launch-1.0 -v $src ! video/x-raw ! fakesink num-buffers=1 2>/dev/null |
    grep -o 'video/x-raw.*framerate=(fraction)[0-9]*/[0-9]*' | tail -n1 | sed 's/.*framerate=(fraction)//' || true)
  [ -n "$rate" ] && [ "${rate%/*}" != 0 ] ||
    { echo "$(basename "$0"): cannot read a constant frame rate from $in" >&2; exit 1; }
  [ -z "$frames" ] || src+=" ! identity eos-after=$frames"
else
  rate=30000/1001
  src="videotestsrc pattern=ball ${frames:+num-buffers=$frames} ! \
    video/x-raw,format=I420,width=320,height=240,framerate=$rate,pixel-aspect-ratio=1/1"
  if [ -z "$ccfile" ]; then
    # One minute of captions, "VIDCOLOR 1" ... "VIDCOLOR 60", one a second, repeated.
    ccfile="$tmp/test-captions.cc" cc_bytes=""
    for ((s = 1; s <= 60; s++)); do cea608_second "VIDCOLOR $s"; done
    printf '%b' "$cc_bytes" >"$ccfile"
    loop=true
  fi
fi

# The caption file, cut into 3-byte buffers at the video's rate, goes to cccombiner, which puts
# each on the frame its timestamp falls in as a GstVideoCaptionMeta (schedule=false: exactly as
# given; schedule=true re-packs cc_data into field 1 + field 2 pairs). rawvideoparse cuts and
# times them, capssetter names them cc_data. videorate re-times them as sources time frames
# (N * 1001/30000 s, rounded down): rawvideoparse adds rounded durations, so from the third
# frame on a caption fell 1 ns before its frame, onto the frame before.
captions=""
if [ -n "$ccfile" ]; then
  ccsrc="filesrc location=$ccfile"
  [ -z "${loop:-}" ] || ccsrc="multifilesrc location=$ccfile loop=true"
  captions="$ccsrc ! rawvideoparse format=gray8 width=3 height=1 plane-strides=<3> framerate=$rate ! videorate ! \
    capssetter join=false replace=true caps=closedcaption/x-cea-708,format=cc_data,framerate=$rate ! cc.caption"
fi

if [ -n "$file" ]; then
  mkdir -p "$(dirname "$file")"
  sink="mpegtsmux ! filesink location=$file"
elif [ -n "$srt" ]; then
  vc_need srtsink
  sink="mpegtsmux alignment=7 ! srtsink uri=$srt"
else
  host=${udp%:*} port=${udp##*:}
  [ "$host" != "$udp" ] && [ -n "$port" ] || { echo "$(basename "$0"): -u needs HOST:PORT" >&2; exit 2; }
  vc_need udpsink
  sink="mpegtsmux alignment=7 ! udpsink host=$host port=$port"
fi

# x264's pic-struct puts a picture timing SEI in every frame, h264parse writes each frame's
# timecode into it; x264enc writes the caption metas itself.
keyint=$(( (${rate%/*} + ${rate#*/} - 1) / ${rate#*/} ))
run=(gst-launch-1.0 -e cccombiner name=cc schedule=false ! vidcolorize ${model:+model=$model} $props ! \
  videoconvert ! video/x-raw,format=I420 ! \
  x264enc tune=zerolatency speed-preset=veryfast key-int-max=$keyint option-string=pic-struct=1 ! \
  video/x-h264,profile=high ! h264parse update-timecode=true config-interval=-1 ! $sink \
  $src ! timecodestamper set=keep drop-frame=true ! cc.sink \
  $captions)
if [ -n "$duration" ]; then
  timeout -s INT -k 20 "$duration" "${run[@]}" || [ $? -eq 124 ]
else
  "${run[@]}"
fi
[ -z "$file" ] || echo "vidcolor: wrote $file"
