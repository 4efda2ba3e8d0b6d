// pipelines/playout.sh checked with a demuxer (issue 20, point 5): the script runs as a user
// runs it (the shipped model, H.264 in MPEG-TS to a file or over UDP) and its stream is read
// back with tsdemux ! h264parse, which turns the SEI back into metas. Asserted frame by frame:
// frames in == frames out, each frame's timecode (picture timing SEI) and caption bytes
// (ATSC A/53 cc_data SEI) on the frame they were sent with, a keyframe at least every second;
// for the test source's own captions, their CEA-608 text. Needs plugins-bad (timecodestamper,
// cccombiner, h264parse, mpegtsmux, tsdemux): skipped without it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gst/video/video.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gst/gst_test_util.hpp"
#include "tools/run_command.hpp"

namespace {

VCTEST_GST_MAIN_ENV;

// What the script and the check need beyond plugins-base/good/ugly and the plugin.
std::string missing_elements() {
  std::string missing;
  for (const char* e : {"timecodestamper", "cccombiner", "h264parse", "mpegtsmux", "tsdemux"}) {
    GstElementFactory* f = gst_element_factory_find(e);
    if (f == nullptr)
      missing += std::string(missing.empty() ? "" : ", ") + e;
    else
      gst_object_unref(f);
  }
  return missing;
}

#define SKIP_WITHOUT_PLUGINS_BAD()                                                               \
  do {                                                                                           \
    const std::string missing = missing_elements();                                              \
    if (!missing.empty())                                                                        \
      GTEST_SKIP() << "needs gstreamer1.0-plugins-bad (scripts/setup.sh); missing: " << missing; \
  } while (0)

std::string source_dir() {
  const char* s = std::getenv("VIDCOLOR_SOURCE_DIR");
  return s ? s : ".";
}

// The script with the build's plugin (meson's build root: GST_PLUGIN_PATH's parent) and the
// shipped model.
std::string playout_command(const std::string& args) {
  std::string build;
  if (const char* p = std::getenv("GST_PLUGIN_PATH")) {
    build = p;
    build = build.substr(0, build.find(':'));
    if (build.size() > 4 && build.compare(build.size() - 4, 4, "/gst") == 0)
      build.resize(build.size() - 4);
  }
  return (build.empty() ? "" : "VIDCOLOR_BUILD='" + build + "' ") + "'" + source_dir() +
         "/pipelines/playout.sh' -m '" + source_dir() + "/models/vidcolor-default.safetensors' " +
         args + " 2>&1";
}

struct Frame {
  GstClockTime pts = GST_CLOCK_TIME_NONE;
  bool keyframe = false;
  std::string timecode;  // empty: no GstVideoTimeCodeMeta
  int captions = 0;      // GstVideoCaptionMeta count
  GstVideoCaptionType caption_type = GST_VIDEO_CAPTION_TYPE_UNKNOWN;
  std::vector<guint8> cc;  // the first caption meta's bytes
};

struct Collected {
  std::mutex lock;
  std::vector<Frame> frames;
};

GstPadProbeReturn collect(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* c = static_cast<Collected*>(data);
  GstBuffer* b = GST_PAD_PROBE_INFO_BUFFER(info);
  Frame f;
  f.pts = GST_BUFFER_PTS(b);
  f.keyframe = !GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT);
  if (GstVideoTimeCodeMeta* tc = gst_buffer_get_video_time_code_meta(b)) {
    gchar* s = gst_video_time_code_to_string(&tc->tc);
    f.timecode = s;
    g_free(s);
  }
  gpointer state = nullptr;
  while (GstMeta* m =
             gst_buffer_iterate_meta_filtered(b, &state, GST_VIDEO_CAPTION_META_API_TYPE)) {
    auto* cc = reinterpret_cast<GstVideoCaptionMeta*>(m);
    if (f.captions++ == 0) {
      f.caption_type = cc->caption_type;
      f.cc.assign(cc->data, cc->data + cc->size);
    }
  }
  std::lock_guard<std::mutex> g(c->lock);
  c->frames.push_back(std::move(f));
  return GST_PAD_PROBE_OK;
}

// The frames of an MPEG-TS file as tsdemux ! h264parse gives them, in presentation order.
std::vector<Frame> demux_file(const std::string& path, std::string* error) {
  Collected c;
  *error = vctest::run_pipeline(
      "filesrc location=" + path +
          " ! tsdemux ! h264parse ! video/x-h264,alignment=au ! fakesink name=sink",
      60, nullptr, [&](GstElement* p) { vctest::add_sink_buffer_probe(p, collect, &c); });
  std::sort(c.frames.begin(), c.frames.end(),
            [](const Frame& a, const Frame& b) { return a.pts < b.pts; });
  return c.frames;
}

// Timecodes from h:m:s:f, one a frame, at 29.97 fps (drop-frame as timecodestamper counts).
std::vector<std::string> timecodes_from(guint h, guint m, guint s, guint f, int n,
                                        bool drop_frame) {
  GstVideoTimeCode* tc = gst_video_time_code_new(
      30000, 1001, nullptr,
      drop_frame ? GST_VIDEO_TIME_CODE_FLAGS_DROP_FRAME : GST_VIDEO_TIME_CODE_FLAGS_NONE, h, m, s,
      f, 0);
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    gchar* str = gst_video_time_code_to_string(tc);
    out.emplace_back(str);
    g_free(str);
    gst_video_time_code_increment_frame(tc);
  }
  gst_video_time_code_free(tc);
  return out;
}

guint8 odd_parity(guint8 b) {
  b &= 0x7f;
  return __builtin_popcount(b) % 2 ? b : static_cast<guint8>(b | 0x80);
}

// cc_data triplet of frame i: CEA-608 field 1 (FC) or field 2 (FD), or CEA-708 DTVCC packet
// bytes (FF); every frame's bytes differ, so a caption one frame off is seen.
std::vector<guint8> triplet(int i) {
  const guint8 kind = i % 5 == 4 ? 0xff : i % 3 == 2 ? 0xfd : 0xfc;
  if (kind == 0xff) return {kind, static_cast<guint8>(0x40 + i), static_cast<guint8>(0xc0 - i)};
  return {kind, odd_parity(static_cast<guint8>(0x20 + i)),
          odd_parity(static_cast<guint8>(0x7e - i))};
}

std::string hex(const std::vector<guint8>& v) {
  std::string s;
  char buf[4];
  for (guint8 b : v) {
    g_snprintf(buf, sizeof buf, "%02x ", b);
    s += buf;
  }
  return s;
}

// One line a frame, for failure messages.
std::string describe(const std::vector<Frame>& frames) {
  std::string s;
  for (size_t i = 0; i < frames.size(); ++i) {
    const Frame& f = frames[i];
    s += std::to_string(i) + ": pts " + std::to_string(GST_TIME_AS_MSECONDS(f.pts)) + " ms" +
         (f.keyframe ? " key" : "") + " tc " + (f.timecode.empty() ? "-" : f.timecode) + " cc " +
         std::to_string(f.captions) + " [" + hex(f.cc) + "]\n";
  }
  return s;
}

struct TempFiles {
  std::vector<std::string> paths;
  ~TempFiles() {
    for (const std::string& p : paths) g_unlink(p.c_str());
  }
  std::string add(const char* name) {
    paths.push_back(std::string(g_get_tmp_dir()) + "/vidcolor-playout-" + std::to_string(getpid()) +
                    "-" + name);
    return paths.back();
  }
};

constexpr int kFrames = 50;

// What a 29.97 fps stream of the script must be: kFrames frames, these timecodes, on frame i
// exactly one caption meta (A/53 cc_data) with triplet(i), 3003 ticks of 90 kHz between
// frames, a keyframe first and at least every 30 frames.
void expect_stream(const std::vector<Frame>& frames, const std::vector<std::string>& timecodes) {
  ASSERT_EQ(frames.size(), static_cast<size_t>(kFrames)) << "frames out of tsdemux ! h264parse:\n"
                                                         << describe(frames);
  int since_key = 0, wrong = 0;
  for (int i = 0; i < kFrames; ++i) {
    const Frame& f = frames[i];
    std::string problems;
    if (f.timecode != timecodes[i])
      problems += " timecode " + f.timecode + ", not " + timecodes[i] + ";";
    if (i > 0) {
      const double d = static_cast<double>(GST_CLOCK_DIFF(frames[i - 1].pts, f.pts));
      if (std::abs(d - 1001e9 / 30000) > 2e5)
        problems += " " + std::to_string(d / 1e6) + " ms after the frame before;";
    }
    since_key = f.keyframe ? 0 : since_key + 1;
    if (since_key >= 30) problems += " no keyframe for 30 frames;";
    if (f.captions != 1 || f.caption_type != GST_VIDEO_CAPTION_TYPE_CEA708_RAW ||
        f.cc != triplet(i))
      problems += " captions " + std::to_string(f.captions) + " of type " +
                  std::to_string(f.caption_type) + " [" + hex(f.cc) + "], not 1 of type 3 [" +
                  hex(triplet(i)) + "];";
    if (problems.empty()) continue;
    ADD_FAILURE() << "frame " << i << ":" << problems;
    if (++wrong == 3) FAIL() << "all frames:\n" << describe(frames);
  }
  EXPECT_TRUE(frames[0].keyframe);
}

// The test source with a caption file (one cc_data triplet a frame) to a .ts file: every
// frame's caption bytes and its timecode (counted from 00:00:00;00) come back on their frame.
TEST(Playout, TestSourceAndCaptionFileToTs) {
  SKIP_WITHOUT_PLUGINS_BAD();
  TempFiles tmp;
  const std::string cc = tmp.add("captions.cc");
  const std::string ts = tmp.add("out.ts");
  {
    std::ofstream out(cc, std::ios::binary);
    for (int i = 0; i < kFrames; ++i)
      out.write(reinterpret_cast<const char*>(triplet(i).data()), 3);
  }
  const auto t0 = std::chrono::steady_clock::now();
  const vctest::CommandResult r = vctest::run_command(
      playout_command("-n " + std::to_string(kFrames) + " -c '" + cc + "' -o '" + ts + "'"));
  ASSERT_EQ(r.status, 0) << r.output;
  std::printf("playout.sh, %d frames to a file: %.1f s\n", kFrames,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  std::string error;
  const std::vector<Frame> frames = demux_file(ts, &error);
  ASSERT_EQ(error, "");
  expect_stream(frames, timecodes_from(0, 0, 0, 0, kFrames, true));
}

struct Stamp {
  int frame = 0;
  GstVideoTimeCode* tc = nullptr;
};

// Puts timecode `tc` (then counts on) and triplet(frame) on each buffer.
GstPadProbeReturn stamp(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* s = static_cast<Stamp*>(data);
  GstBuffer* b = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
  GST_PAD_PROBE_INFO_DATA(info) = b;
  gst_buffer_add_video_time_code_meta(b, s->tc);
  gst_video_time_code_increment_frame(s->tc);
  const std::vector<guint8> t = triplet(s->frame++);
  gst_buffer_add_video_caption_meta(b, GST_VIDEO_CAPTION_TYPE_CEA708_RAW, t.data(), t.size());
  return GST_PAD_PROBE_OK;
}

// An H.264 MPEG-TS file made here, with timecodes from 10:00:00:00 (non-drop: the script's
// own would be drop-frame from 00:00:00;00) and a caption triplet on each frame, as the
// script's INPUT: decoded, colorized, encoded again; its own timecodes and captions come out
// on their frames.
TEST(Playout, InputKeepsItsTimecodesAndCaptions) {
  SKIP_WITHOUT_PLUGINS_BAD();
  TempFiles tmp;
  const std::string in = tmp.add("in.ts");
  const std::string ts = tmp.add("out.ts");
  Stamp s;
  s.tc =
      gst_video_time_code_new(30000, 1001, nullptr, GST_VIDEO_TIME_CODE_FLAGS_NONE, 10, 0, 0, 0, 0);
  const std::string made = vctest::run_pipeline(
      "videotestsrc num-buffers=" + std::to_string(kFrames) +
          " pattern=smpte ! "
          "video/x-raw,format=I420,width=320,height=240,framerate=30000/1001 ! identity name=stamp "
          "! "
          "x264enc option-string=pic-struct=1 key-int-max=30 ! h264parse update-timecode=true ! "
          "mpegtsmux ! "
          "filesink location=" +
          in,
      60, nullptr, [&](GstElement* p) { vctest::add_sink_buffer_probe(p, stamp, &s, "stamp"); });
  gst_video_time_code_free(s.tc);
  ASSERT_EQ(made, "");
  std::string error;
  {
    SCOPED_TRACE("the input as made");
    expect_stream(demux_file(in, &error), timecodes_from(10, 0, 0, 0, kFrames, false));
    ASSERT_EQ(error, "");
  }
  const vctest::CommandResult r =
      vctest::run_command(playout_command("-o '" + ts + "' '" + in + "'"));
  ASSERT_EQ(r.status, 0) << r.output;
  const std::vector<Frame> frames = demux_file(ts, &error);
  ASSERT_EQ(error, "");
  expect_stream(frames, timecodes_from(10, 0, 0, 0, kFrames, false));
}

int free_udp_port() {
  const int s = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = -1;
  if (s >= 0 && bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  if (s >= 0) close(s);
  return port;
}

// CEA-608 CC1 pop-on captions in field 1 of the frames' cc_data: (frame of the end-of-caption
// code, text). Parity stripped; a control code sent twice counts once.
std::vector<std::pair<int, std::string>> pop_on_captions(const std::vector<Frame>& frames) {
  std::vector<std::pair<int, std::string>> shown;
  std::string loading;
  int last_control = -1;
  for (size_t i = 0; i < frames.size(); ++i) {
    const std::vector<guint8>& cc = frames[i].cc;
    for (size_t k = 0; k + 3 <= cc.size(); k += 3) {
      if ((cc[k] & 0x07) != 0x04) continue;  // cc_valid, cc_type 0: field 1
      const int b1 = cc[k + 1] & 0x7f, b2 = cc[k + 2] & 0x7f;
      if (b1 == 0 && b2 == 0) continue;
      if (b1 >= 0x10 && b1 < 0x20) {
        const int code = b1 << 8 | b2;
        if (code == last_control) {
          last_control = -1;
          continue;
        }
        last_control = code;
        if (code == 0x1420) loading.clear();                                   // RCL
        if (code == 0x142f) shown.emplace_back(static_cast<int>(i), loading);  // EOC
        continue;
      }
      last_control = -1;
      for (int b : {b1, b2})
        if (b >= 0x20) loading += static_cast<char>(b);
    }
  }
  return shown;
}

// The test source over UDP on loopback (sent in real time), received here while it plays
// (udpsrc ! tsdemux ! h264parse): 60 frames in and out, timecodes from 00:00:00;00, a caption
// meta on every frame, and its CEA-608 captions "VIDCOLOR 1" and "VIDCOLOR 2" shown on the
// frames where the script puts them.
TEST(Playout, TestSourceOverUdp) {
  SKIP_WITHOUT_PLUGINS_BAD();
  const int port = free_udp_port();
  ASSERT_GT(port, 0);
  constexpr int kUdpFrames = 60;
  Collected c;
  GError* err = nullptr;
  GstElement* rx =
      gst_parse_launch(("udpsrc address=127.0.0.1 port=" + std::to_string(port) +
                        " caps=video/mpegts,systemstream=true,packetsize=188 ! tsdemux ! "
                        "h264parse ! video/x-h264,alignment=au ! fakesink name=sink sync=false")
                           .c_str(),
                       &err);
  ASSERT_EQ(err, nullptr) << err->message;
  vctest::add_sink_buffer_probe(rx, collect, &c);
  ASSERT_NE(gst_element_set_state(rx, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  gst_element_get_state(rx, nullptr, nullptr, 5 * GST_SECOND);

  const vctest::CommandResult r = vctest::run_command(playout_command(
      "-n " + std::to_string(kUdpFrames) + " -u 127.0.0.1:" + std::to_string(port)));
  // UDP has no end: an EOS here lets h264parse give out the last frame (it ends a frame at
  // the next one's start), after the packets still on their way.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  gst_element_send_event(rx, gst_event_new_eos());
  GstBus* bus = gst_element_get_bus(rx);
  GstMessage* end = gst_bus_timed_pop_filtered(
      bus, 10 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  gst_object_unref(bus);
  const bool eos = end != nullptr && GST_MESSAGE_TYPE(end) == GST_MESSAGE_EOS;
  if (end != nullptr) gst_message_unref(end);
  gst_element_set_state(rx, GST_STATE_NULL);
  gst_object_unref(rx);
  ASSERT_EQ(r.status, 0) << r.output;
  ASSERT_TRUE(eos) << "the receiver failed or did not end";

  std::vector<Frame> frames = c.frames;
  std::sort(frames.begin(), frames.end(),
            [](const Frame& a, const Frame& b) { return a.pts < b.pts; });
  ASSERT_EQ(frames.size(), static_cast<size_t>(kUdpFrames)) << r.output << describe(frames);
  const std::vector<std::string> tcs = timecodes_from(0, 0, 0, 0, kUdpFrames, true);
  for (int i = 0; i < kUdpFrames; ++i) {
    EXPECT_EQ(frames[i].timecode, tcs[i]) << "frame " << i;
    EXPECT_EQ(frames[i].captions, 1) << "frame " << i;
  }
  // Each second: RCL RCL ENM ENM PAC PAC, the text two characters a frame, EOC EOC; the
  // caption shows at its first EOC: frame 11 of the first second, 30 + 11 of the second.
  const std::vector<std::pair<int, std::string>> shown = pop_on_captions(frames);
  ASSERT_EQ(shown.size(), 2u);
  EXPECT_EQ(shown[0], std::make_pair(11, std::string("VIDCOLOR 1")));
  EXPECT_EQ(shown[1], std::make_pair(41, std::string("VIDCOLOR 2")));
}

}  // namespace
