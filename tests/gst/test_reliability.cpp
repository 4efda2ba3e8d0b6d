// Reliability of the whole chain (issue 8): vcgray ! vccolorize ! vcflow ! vcrefine with a
// small random model made here, under what long-running broadcast/archive use throws at it:
// repeated state changes mid-stream, flushing seeks during playback, caps changes mid-stream,
// a pipeline stopped while the networks run, EOS with frames held, bad and hostile model files
// at state change, tiny / odd / 4K / zero-size frames, short and garbage buffers. Every test
// is bounded (a hang fails by the test timeout or an explicit deadline), and after each test
// the leaks tracer (GST_TRACERS=leaks, set by tests/meson.build) must report no live buffer,
// pad or element: nothing the chain allocated may outlive its pipeline.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <vidcolor/model/model_file.hpp>

#include "gst_test_util.hpp"

using namespace vctest;
namespace fs = std::filesystem;

VCTEST_GST_MAIN_ENV;

namespace {

struct Models {
  fs::path dir;
  std::string good, missing, empty, truncated, not_a_model, wrong_shapes, hostile_header;
  Models() {
    dir = fs::temp_directory_path() / ("vidcolor-test-reliability-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    torch::manual_seed(5);
    vidcolor::ModelConfig c = vidcolor::ModelConfig::fast();
    c.inference_size = 32;
    good = (dir / "model.safetensors").string();
    vidcolor::save_model(vidcolor::make_model(c), good);

    missing = (dir / "no-such-model.safetensors").string();
    empty = (dir / "empty.safetensors").string();
    std::ofstream(empty, std::ios::binary).flush();
    truncated = (dir / "truncated.safetensors").string();
    {
      std::ifstream in(good, std::ios::binary);
      std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
      std::ofstream(truncated, std::ios::binary)
          .write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
    }
    not_a_model = (dir / "picture.safetensors").string();
    std::ofstream(not_a_model, std::ios::binary) << "\x89PNG\r\n\x1a\n this is not a model";
    // A valid safetensors file of the wrong architecture: wider f and g.
    vidcolor::ModelConfig wide = c;
    wide.colorizer_channels = {16, 24, 32, 48};
    wide.refiner_channels = {12, 16, 24};
    vidcolor::Model other = vidcolor::make_model(wide);
    wrong_shapes = (dir / "wrong-shapes.safetensors").string();
    vidcolor::save_model(other, wrong_shapes);
    {  // then claim the small config in its metadata: every shape disagrees.
      std::ifstream in(wrong_shapes, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const std::string from = "[16,24,32,48]", to = "[12,24,32,48]";
      const size_t at = bytes.find(from);
      if (at != std::string::npos) bytes.replace(at, from.size(), to);
      std::ofstream(wrong_shapes, std::ios::binary) << bytes;
    }
    // A header that claims 2^62 bytes: must be refused before any allocation.
    hostile_header = (dir / "hostile.safetensors").string();
    {
      const uint64_t len = uint64_t{1} << 62;
      std::ofstream out(hostile_header, std::ios::binary);
      out.write(reinterpret_cast<const char*>(&len), 8);
      out << "{\"__metadata__\":{\"format\":\"vidcolor-model\"}}";
    }
  }
  ~Models() { fs::remove_all(dir); }
};

const Models& models() {
  static Models m;
  return m;
}

std::string chain(const std::string& model = models().good) {
  return "vcgray ! vccolorize name=colorize model=" + model +
         " device=cpu threads=1 ! vcflow backend=dis-ultrafast ! vcrefine name=refine model=" +
         model + " device=cpu threads=1";
}

struct PipelineDeleter {
  void operator()(GstElement* p) const {
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
  }
};
using PipelinePtr = std::unique_ptr<GstElement, PipelineDeleter>;

PipelinePtr parse(const std::string& desc) {
  GError* err = nullptr;
  GstElement* p = gst_parse_launch(desc.c_str(), &err);
  if (err) {
    ADD_FAILURE() << "parse error: " << err->message << " in " << desc;
    g_error_free(err);
  }
  return PipelinePtr(p);
}

// Frames arriving at the element named "sink": count and timestamps.
struct SinkLog {
  std::mutex mutex;
  std::vector<GstClockTime> pts;
  std::vector<std::pair<int, int>> sizes;
  void clear() {
    std::lock_guard<std::mutex> lock(mutex);
    pts.clear();
    sizes.clear();
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mutex);
    return pts.size();
  }
};

GstPadProbeReturn log_buffer(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* log = static_cast<SinkLog*>(data);
  GstCaps* caps = gst_pad_get_current_caps(pad);
  GstVideoInfo vi;
  int w = -1, h = -1;
  if (caps && gst_video_info_from_caps(&vi, caps)) {
    w = GST_VIDEO_INFO_WIDTH(&vi);
    h = GST_VIDEO_INFO_HEIGHT(&vi);
  }
  if (caps) gst_caps_unref(caps);
  std::lock_guard<std::mutex> lock(log->mutex);
  log->pts.push_back(GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info)));
  log->sizes.emplace_back(w, h);
  return GST_PAD_PROBE_OK;
}

void watch_sink(GstElement* pipeline, SinkLog* log) {
  add_sink_buffer_probe(pipeline, log_buffer, log);
}

// Waits for EOS or an error; returns "" on EOS, else the error text (or "timeout").
std::string wait_eos(GstElement* pipeline, int timeout_s) {
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* msg =
      gst_bus_timed_pop_filtered(bus, static_cast<GstClockTime>(timeout_s) * GST_SECOND,
                                 static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  std::string result;
  if (!msg) {
    result = "timeout";
  } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError* e = nullptr;
    gst_message_parse_error(msg, &e, nullptr);
    result = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(msg))) + ": " + e->message;
    g_error_free(e);
  }
  if (msg) gst_message_unref(msg);
  gst_object_unref(bus);
  return result;
}

// The first error on the bus (without waiting), or "".
std::string pending_error(GstElement* pipeline) {
  GstBus* bus = gst_element_get_bus(pipeline);
  std::string result;
  while (GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
    if (result.empty()) {
      GError* e = nullptr;
      gchar* dbg = nullptr;
      gst_message_parse_error(msg, &e, &dbg);
      result = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(msg))) + ": " + e->message +
               (dbg ? std::string(" | ") + dbg : std::string());
      g_error_free(e);
      g_free(dbg);
    }
    gst_message_unref(msg);
  }
  gst_object_unref(bus);
  return result;
}

GstTracer* leaks_tracer() {
  GstTracer* found = nullptr;
  GList* tracers = gst_tracing_get_active_tracers();
  for (GList* l = tracers; l; l = l->next)
    if (g_strcmp0(G_OBJECT_TYPE_NAME(l->data), "GstLeaksTracer") == 0)
      found = GST_TRACER(gst_object_ref(l->data));
  g_list_free_full(tracers, gst_object_unref);
  return found;
}

// Objects created since the last checkpoint and still alive whose type is one of ours or a
// buffer/pad/element. Uses the tracer's activity checkpoints, which report type names and
// addresses only: "get-live-objects" would take references to every live object, racing with
// a streaming thread that is just finalising its task (a use after free we hit under load).
std::vector<std::string> created_and_alive(GstTracer* t) {
  GstStructure* cp = nullptr;
  g_signal_emit_by_name(t, "activity-get-checkpoint", &cp);
  // Both lists hold {type-name, address}; what was created and not removed is alive.
  std::map<std::string, std::string> created;  // address -> type
  auto for_each = [cp](const char* field,
                       const std::function<void(const std::string&, const std::string&)>& fn) {
    const GValue* list = cp ? gst_structure_get_value(cp, field) : nullptr;
    for (guint i = 0; list && i < gst_value_list_get_size(list); ++i) {
      const GstStructure* o = gst_value_get_structure(gst_value_list_get_value(list, i));
      const gchar* type = gst_structure_get_string(o, "type-name");
      gchar* addr = gst_structure_has_field(o, "address")
                        ? gst_value_serialize(gst_structure_get_value(o, "address"))
                        : nullptr;
      fn(type ? type : "?", addr ? addr : "?");
      g_free(addr);
    }
  };
  for_each("objects-created-list",
           [&](const std::string& type, const std::string& addr) { created[addr] = type; });
  for_each("objects-removed-list",
           [&](const std::string&, const std::string& addr) { created.erase(addr); });
  if (cp) gst_structure_free(cp);
  std::vector<std::string> alive;
  for (const auto& [addr, name] : created)
    if (name == "GstBuffer" || name == "GstPad" || name == "GstGhostPad" || name == "GstPipeline" ||
        name.rfind("GstVc", 0) == 0 || name == "GstQueue")
      alive.push_back(name);
  return alive;
}

class Reliability : public ::testing::Test {
 protected:
  void SetUp() override {
    models();
    tracer_ = leaks_tracer();  // null outside meson (no GST_TRACERS=leaks)
    if (tracer_) g_signal_emit_by_name(tracer_, "activity-start-tracking");
  }
  void TearDown() override {
    if (!tracer_) return;
    // A streaming thread of a pipeline set to NULL may still be winding down for a moment.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const std::vector<std::string> leaks = created_and_alive(tracer_);
    g_signal_emit_by_name(tracer_, "activity-stop-tracking");
    std::string list;
    for (const auto& l : leaks) list += l + " ";
    EXPECT_TRUE(leaks.empty()) << "objects created by the test and still alive: " << list;
    gst_object_unref(tracer_);
  }
  GstTracer* tracer_ = nullptr;
};

// The leak check itself: active under meson, and it does see a buffer left alive.
TEST_F(Reliability, LeakCheckSeesALiveBuffer) {
  if (std::getenv("GST_TRACERS") == nullptr) GTEST_SKIP() << "run without GST_TRACERS=leaks";
  ASSERT_NE(tracer_, nullptr);
  GstBuffer* kept = gst_buffer_new_allocate(nullptr, 64, nullptr);
  const std::vector<std::string> alive = created_and_alive(tracer_);
  EXPECT_NE(std::find(alive.begin(), alive.end(), "GstBuffer"), alive.end());
  gst_buffer_unref(kept);
}

TEST_F(Reliability, RepeatedStateChangesMidStream) {
  PipelinePtr p =
      parse("videotestsrc pattern=ball ! video/x-raw,width=96,height=64,framerate=25/1 ! " +
            chain() + " ! fakesink name=sink sync=false");
  SinkLog log;
  watch_sink(p.get(), &log);
  for (int round = 0; round < 12; ++round) {
    log.clear();
    ASSERT_NE(gst_element_set_state(p.get(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE) << round;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (log.count() < 3 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_GE(log.count(), 3u) << "round " << round << ": the chain stalled";
    // Alternate a full stop and a stop to READY (model stays loaded there).
    const GstState down = round % 2 ? GST_STATE_NULL : GST_STATE_READY;
    ASSERT_EQ(gst_element_set_state(p.get(), down), GST_STATE_CHANGE_SUCCESS) << round;
    EXPECT_EQ(pending_error(p.get()), "") << round;
  }
}

TEST_F(Reliability, FlushingSeeksDuringPlaybackGiveExactlyTheSegment) {
  PipelinePtr p =
      parse("videotestsrc pattern=ball ! video/x-raw,width=80,height=48,framerate=25/1 ! " +
            chain() + " ! fakesink name=sink sync=false");
  SinkLog log;
  watch_sink(p.get(), &log);
  ASSERT_NE(gst_element_set_state(p.get(), GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  ASSERT_EQ(gst_element_get_state(p.get(), nullptr, nullptr, 30 * GST_SECOND),
            GST_STATE_CHANGE_SUCCESS);
  ASSERT_NE(gst_element_set_state(p.get(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  // Seek around while frames flow (some seeks land while vcrefine holds frames).
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    ASSERT_TRUE(gst_element_seek_simple(p.get(), GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH,
                                        static_cast<gint64>(i * 7) * GST_SECOND / 25));
  }
  // The last seek: frames 10..29 only, then EOS.
  log.clear();
  ASSERT_TRUE(gst_element_seek(
      p.get(), 1.0, GST_FORMAT_TIME,
      static_cast<GstSeekFlags>(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE), GST_SEEK_TYPE_SET,
      10 * GST_SECOND / 25, GST_SEEK_TYPE_SET, 30 * GST_SECOND / 25));
  ASSERT_EQ(wait_eos(p.get(), 60), "");
  std::lock_guard<std::mutex> lock(log.mutex);
  // A flush may let a frame of the old segment through before the seek's flush reaches the
  // sink; count the new segment's frames only: exactly 20, in order, none twice.
  std::vector<GstClockTime> seg;
  for (GstClockTime t : log.pts)
    if (t >= 10 * GST_SECOND / 25 && t < 30 * GST_SECOND / 25) seg.push_back(t);
  ASSERT_EQ(seg.size(), 20u);
  for (size_t i = 0; i < seg.size(); ++i) EXPECT_EQ(seg[i], (10 + i) * GST_SECOND / 25) << i;
}

// appsrc-free caps change: three resolutions pushed through a harness around the chain.
TEST_F(Reliability, CapsChangesMidStreamThroughTheChain) {
  HarnessPtr h(gst_harness_new_parse(chain().c_str()));
  ASSERT_NE(h, nullptr);
  const int sizes[3][2] = {{64, 48}, {97, 41}, {64, 48}};
  const int per_size = 4;
  GstClockTime pts = 0;
  std::mt19937 rng(3);
  for (const auto& s : sizes) {
    gst_harness_set_src_caps_str(h.get(), video_caps("GRAY8", s[0], s[1]).c_str());
    GstVideoInfo info;
    gst_video_info_set_format(&info, GST_VIDEO_FORMAT_GRAY8, s[0], s[1]);
    for (int i = 0; i < per_size; ++i) {
      GstBuffer* b = make_frame(&info, [&](GstVideoFrame* f) {
        auto* d = static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(f, 0));
        const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(f, 0);
        for (int y = 0; y < s[1]; ++y)
          for (int x = 0; x < s[0]; ++x)
            d[y * stride + x] = static_cast<uint8_t>((x * 3 + y + i * 5) & 0xff);
      });
      GST_BUFFER_PTS(b) = pts;
      GST_BUFFER_DURATION(b) = GST_SECOND / 25;
      pts += GST_SECOND / 25;
      ASSERT_EQ(gst_harness_push(h.get(), b), GST_FLOW_OK);
    }
  }
  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_eos()));
  const int total = 3 * per_size;
  ASSERT_EQ(static_cast<int>(gst_harness_buffers_in_queue(h.get())), total);
  for (int i = 0; i < total; ++i) {
    GstBuffer* b = gst_harness_pull(h.get());
    EXPECT_EQ(GST_BUFFER_PTS(b), static_cast<GstClockTime>(i) * GST_SECOND / 25);
    gst_buffer_unref(b);
  }
}

TEST_F(Reliability, StoppingWhileTheNetworksRunDoesNotDeadlock) {
  for (int round = 0; round < 4; ++round) {
    PipelinePtr p =
        parse("videotestsrc pattern=smpte ! video/x-raw,width=640,height=360,framerate=25/1 ! " +
              chain() + " ! fakesink name=sink sync=false");
    SinkLog log;
    watch_sink(p.get(), &log);
    ASSERT_NE(gst_element_set_state(p.get(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + 60 * round));
    // The destructor sets NULL; a deadlock here hangs the test (bounded by meson's timeout).
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(gst_element_set_state(p.get(), GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  }
}

// Each bad model file: the pipeline fails to start, with an error from the element that
// names the file. Never a crash.
TEST_F(Reliability, BadModelFilesFailAtStateChangeNamingTheFile) {
  const Models& m = models();
  for (const std::string* bad :
       {&m.missing, &m.empty, &m.truncated, &m.not_a_model, &m.wrong_shapes, &m.hostile_header}) {
    for (const char* which : {"colorize", "refine"}) {
      const std::string colorize_model = std::string(which) == "colorize" ? *bad : m.good;
      const std::string refine_model = std::string(which) == "refine" ? *bad : m.good;
      PipelinePtr p = parse(
          "videotestsrc num-buffers=3 ! video/x-raw,width=64,height=48 ! vcgray ! "
          "vccolorize name=colorize device=cpu model=" +
          colorize_model + " ! vcflow ! vcrefine name=refine device=cpu model=" + refine_model +
          " ! fakesink");
      gst_element_set_state(p.get(), GST_STATE_PLAYING);
      const std::string err = wait_eos(p.get(), 30);
      EXPECT_NE(err, "") << which << " with " << *bad << " ran";
      EXPECT_NE(err, "timeout") << which << " with " << *bad;
      EXPECT_EQ(err.rfind(which, 0), 0u) << "error not from " << which << ": " << err;
      EXPECT_NE(err.find(fs::path(*bad).filename().string()), std::string::npos)
          << "error does not name the file: " << err;
    }
  }
}

TEST_F(Reliability, TinyOddAndHugeFramesWork) {
  for (const auto& [w, h] :
       std::vector<std::pair<int, int>>{{1, 1}, {2, 2}, {3, 1}, {33, 17}, {4096, 2160}}) {
    const int n = w >= 4096 ? 2 : 4;
    PipelinePtr p = parse("videotestsrc pattern=ball num-buffers=" + std::to_string(n) +
                          " ! video/x-raw,format=I420,width=" + std::to_string(w) +
                          ",height=" + std::to_string(h) + ",framerate=25/1 ! " + chain() +
                          " ! fakesink name=sink");
    SinkLog log;
    watch_sink(p.get(), &log);
    gst_element_set_state(p.get(), GST_STATE_PLAYING);
    const std::string err = wait_eos(p.get(), 120);
    EXPECT_EQ(err, "") << w << "x" << h;
    EXPECT_EQ(log.count(), static_cast<size_t>(n)) << w << "x" << h;
    std::lock_guard<std::mutex> lock(log.mutex);
    for (const auto& s : log.sizes) EXPECT_EQ(s, std::make_pair(w, h));
  }
}

TEST_F(Reliability, ZeroSizeCapsAreRefused) {
  for (const char* element : {"vccolorize", "vcrefine"}) {
    GstElement* e = gst_element_factory_make(element, nullptr);
    ASSERT_NE(e, nullptr);
    g_object_set(e, "model", models().good.c_str(), "device", "cpu", nullptr);
    HarnessPtr h(gst_harness_new_with_element(e, "sink", "src"));
    gst_object_unref(e);
    const char* fmt = std::string(element) == "vccolorize" ? "GRAY8" : "I420";
    gst_harness_set_src_caps_str(h.get(), video_caps(fmt, 0, 0).c_str());
    GstBuffer* b = gst_buffer_new_allocate(nullptr, 16, nullptr);
    EXPECT_NE(gst_harness_push(h.get(), b), GST_FLOW_OK) << element;
  }
}

TEST_F(Reliability, ShortAndGarbageBuffers) {
  GstElement* e = gst_element_factory_make("vccolorize", nullptr);
  g_object_set(e, "model", models().good.c_str(), "device", "cpu", nullptr);
  HarnessPtr h(gst_harness_new_with_element(e, "sink", "src"));
  gst_object_unref(e);
  gst_harness_set_src_caps_str(h.get(), video_caps("GRAY8", 64, 48).c_str());
  gst_harness_set_sink_caps_str(h.get(), video_caps("I420", 64, 48).c_str());
  // Garbage of the right size: any bytes are a valid gray picture; the output must be finite
  // and Y must be the input.
  std::mt19937 rng(9);
  GstBuffer* g = gst_buffer_new_allocate(nullptr, 64 * 48, nullptr);
  GstMapInfo map;
  gst_buffer_map(g, &map, GST_MAP_WRITE);
  for (gsize i = 0; i < map.size; ++i) map.data[i] = static_cast<uint8_t>(rng());
  std::vector<uint8_t> in(map.data, map.data + map.size);
  gst_buffer_unmap(g, &map);
  ASSERT_EQ(gst_harness_push(h.get(), g), GST_FLOW_OK);
  GstBuffer* out = gst_harness_pull(h.get());
  ASSERT_NE(out, nullptr);
  gst_buffer_map(out, &map, GST_MAP_READ);
  EXPECT_EQ(std::memcmp(map.data, in.data(), in.size()), 0);
  gst_buffer_unmap(out, &map);
  gst_buffer_unref(out);
  // A buffer shorter than the caps say: an error, not a read past its end.
  EXPECT_EQ(gst_harness_push(h.get(), gst_buffer_new_allocate(nullptr, 100, nullptr)),
            GST_FLOW_ERROR);
}

TEST_F(Reliability, EosWithFramesHeldInVcrefineDrainsEverything) {
  for (int frames : {1, 2, 5}) {
    PipelinePtr p = parse("videotestsrc pattern=ball num-buffers=" + std::to_string(frames) +
                          " ! video/x-raw,width=64,height=48,framerate=25/1 ! " + chain() +
                          " ! fakesink name=sink");
    SinkLog log;
    watch_sink(p.get(), &log);
    gst_element_set_state(p.get(), GST_STATE_PLAYING);
    ASSERT_EQ(wait_eos(p.get(), 60), "");
    std::lock_guard<std::mutex> lock(log.mutex);
    ASSERT_EQ(log.pts.size(), static_cast<size_t>(frames));
    for (int i = 0; i < frames; ++i)
      EXPECT_EQ(log.pts[i], static_cast<GstClockTime>(i) * GST_SECOND / 25);
  }
}

// Soak (long suite): 10,000 frames through the full chain; memory measured at the start and
// the end, frames in == frames out, timestamps strictly increasing.
long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

TEST_F(Reliability, Soak10000Frames) {
  if (std::getenv("VIDCOLOR_LONG_TESTS") == nullptr)
    GTEST_SKIP() << "long test (meson -Dlong_tests=true)";
  const int frames = 10000;
  PipelinePtr p = parse("videotestsrc pattern=ball num-buffers=" + std::to_string(frames) +
                        " ! video/x-raw,width=160,height=96,framerate=25/1 ! " + chain() +
                        " ! fakesink name=sink sync=false");
  long rss_at_1000 = -1;
  struct Soak {
    std::atomic<long> count{0};
    std::atomic<long> rss_at_1000{-1};
    std::atomic<bool> monotonic{true};
    GstClockTime last = GST_CLOCK_TIME_NONE;
  } soak;
  GstElement* sink = gst_bin_get_by_name(GST_BIN(p.get()), "sink");
  GstPad* pad = gst_element_get_static_pad(sink, "sink");
  gst_pad_add_probe(
      pad, GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad*, GstPadProbeInfo* info, gpointer d) {
        auto* s = static_cast<Soak*>(d);
        const GstClockTime t = GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info));
        if (GST_CLOCK_TIME_IS_VALID(s->last) && t <= s->last) s->monotonic = false;
        s->last = t;
        if (++s->count == 1000) s->rss_at_1000 = rss_kib();
        return GST_PAD_PROBE_OK;
      },
      &soak, nullptr);
  gst_object_unref(pad);
  gst_object_unref(sink);
  gst_element_set_state(p.get(), GST_STATE_PLAYING);
  ASSERT_EQ(wait_eos(p.get(), 3000), "");
  const long rss_end = rss_kib();
  rss_at_1000 = soak.rss_at_1000;
  EXPECT_EQ(soak.count, frames);
  EXPECT_TRUE(soak.monotonic);
  // After warm-up (frame 1000) memory must stay flat: under 16 MiB of growth over 9,000 frames.
  EXPECT_LT(rss_end - rss_at_1000, 16 * 1024)
      << "RSS " << rss_at_1000 << " KiB at frame 1000, " << rss_end << " KiB at the end";
  std::printf("soak: RSS %ld KiB at frame 1000, %ld KiB after %d frames\n", rss_at_1000, rss_end,
              frames);
}

}  // namespace
