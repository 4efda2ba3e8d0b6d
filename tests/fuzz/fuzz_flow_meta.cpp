// Fuzz target for the flow meta and the elements' buffer handling (issue 8). One input is one
// short stream, decoded from its bytes:
//  * vcrefine: I420/NV12/Y444 frames of a random size carrying VcFlowMetas with arbitrary
//    width/height (0, tiny, 2^16, 2^31, 2^32-1), GBytes that are NULL, empty, short, long or
//    right, and flows/masks of raw bytes, NaN, Inf, huge or plain values; caps changes,
//    DISCONT, buffers longer or shorter than the caps say. vcrefine must skip a bad meta
//    (never read past its bytes), keep every frame (frames in == frames out at EOS), in order,
//    with Y untouched, and fail only on a buffer that is too short for its caps.
//  * vcgray / vccolorize / vcflow: garbage pixels, random sizes and formats, buffers of the
//    wrong size, caps changes, DISCONT. Right-sized buffers must pass (frames in == out),
//    short ones must fail the push; every meta vcflow attaches must be self-consistent.
// Any crash, sanitizer report or GLib critical (G_DEBUG=fatal-criticals) is a bug.
//
// Two drivers of one fuzz_one():
//  * a GTest (default build): random inputs from a fixed seed for a fixed time budget,
//    VIDCOLOR_FUZZ_SECONDS (5 in the "gst" suite, 60 in the "long" suite),
//    VIDCOLOR_FUZZ_SEED (default 1); a failure names the case, and VIDCOLOR_FUZZ_CASE=N
//    replays only case N of that seed.
//  * libFuzzer (-DVIDCOLOR_LIBFUZZER, built by tests/meson.build where the compiler has
//    libFuzzer, i.e. clang): GST_PLUGIN_PATH=build-fuzz/gst ./build-fuzz/tests/fuzz-flow-meta
//    -max_total_time=60. The plugin itself is then not coverage-instrumented (it is loaded by
//    GStreamer), so the random GTest driver is the one the suites run.
#include <glib/gstdio.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <vidcolor/model/model_file.hpp>

#include "../../gst/vcflowmeta.h"
#include "../gst/temp_model.hpp"

#ifndef VIDCOLOR_LIBFUZZER
#include <gtest/gtest.h>
#endif

namespace {

// ------------------------------------------------------------------ reporting

std::string g_case_name;  // what the current input is, for failure messages

#ifdef VIDCOLOR_LIBFUZZER
[[noreturn]] void fuzz_abort(const std::string& what) {
  std::fprintf(stderr, "fuzz_flow_meta: %s: %s\n", g_case_name.c_str(), what.c_str());
  std::abort();
}

#define FUZZ_CHECK(cond, what)     \
  do {                             \
    if (!(cond)) fuzz_abort(what); \
  } while (0)
#else
bool g_failed = false;
#define FUZZ_CHECK(cond, what)                        \
  do {                                                \
    if (!(cond)) {                                    \
      ADD_FAILURE() << g_case_name << ": " << (what); \
      g_failed = true;                                \
    }                                                 \
  } while (0)
#endif

// ------------------------------------------------------------------ input decoding

// Reads the fuzzer's bytes; past the end everything reads as 0, so every input is a stream.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool done() const { return pos_ >= size_; }
  uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint32_t u32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | u8();
    return v;
  }
  // Fills `out` with the input's bytes from here on, cycled (zeros when there are none).
  void fill(uint8_t* out, size_t n) {
    const size_t rest = size_ - std::min(pos_, size_);
    for (size_t i = 0; i < n; ++i) out[i] = rest ? data_[pos_ + i % rest] : 0;
    pos_ += std::min<size_t>(rest, 16);  // move on a little so later fields differ
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// ------------------------------------------------------------------ model and harness

const std::string& model_path() {
  return vctest::temp_model_path("vidcolor-fuzz-flow-meta", vctest::tiny_model_config(), 11);
}

struct Harness {
  GstHarness* h = nullptr;
  explicit Harness(GstElement* e) : h(gst_harness_new_with_element(e, "sink", "src")) {
    gst_object_unref(e);
  }
  ~Harness() { gst_harness_teardown(h); }
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;
};

std::string caps_string(const char* format, int w, int h) {
  return std::string("video/x-raw,format=") + format + ",width=" + std::to_string(w) +
         ",height=" + std::to_string(h) + ",framerate=25/1";
}

constexpr GstClockTime kDur = 40 * GST_MSECOND;
constexpr size_t kMaxFrames = 16;
constexpr size_t kMaxBytes = size_t{1} << 20;  // largest GBytes made for a meta

// Sets the next caps on the harness; false when they are refused.
void set_caps(GstHarness* h, const char* format, int w, int hgt) {
  gst_harness_set_src_caps_str(h, caps_string(format, w, hgt).c_str());
}

// A buffer of `size` bytes filled from the input.
GstBuffer* garbage_buffer(Input& in, size_t size) {
  GstBuffer* b = gst_buffer_new_allocate(nullptr, size, nullptr);
  if (size > 0) {
    GstMapInfo map;
    gst_buffer_map(b, &map, GST_MAP_WRITE);
    in.fill(map.data, map.size);
    gst_buffer_unmap(b, &map);
  }
  return b;
}

// Buffer size for a frame of `expected` bytes: mostly right, sometimes longer, sometimes short.
enum class SizeKind { kRight, kLonger, kShort };
size_t buffer_size(Input& in, size_t expected, SizeKind* kind) {
  const uint8_t m = in.u8() % 16;
  if (m == 0) {
    *kind = SizeKind::kShort;
    return in.u8() % 2 ? 0 : expected - 1 - std::min<size_t>(expected - 1, in.u8());
  }
  if (m == 1) {
    *kind = SizeKind::kLonger;
    return expected + 1 + in.u8();
  }
  *kind = SizeKind::kRight;
  return expected;
}

// ------------------------------------------------------------------ vcrefine + VcFlowMeta

guint meta_side(Input& in) {
  static const guint special[] = {0u, 1u, 65536u, 65537u, 0x7fffffffu, 0x80000000u, 0xffffffffu};
  const uint8_t m = in.u8();
  if (m < 224) return 1u + in.u8() % 80u;
  return special[m % (sizeof(special) / sizeof(special[0]))];
}

// A GBytes for a field that should hold `expected` bytes: NULL, empty, off by some bytes or
// right (capped at kMaxBytes, which makes huge claims wrong), with contents from `fill`.
template <typename Fill>
GBytes* meta_bytes(Input& in, guint64 expected, Fill fill) {
  const uint8_t m = in.u8() % 24;
  guint64 n = expected;
  if (m == 0) return nullptr;
  if (m == 1) n = 0;
  if (m == 2) n = expected > 0 ? expected - 1 : 0;
  if (m == 3) n = expected + 1 + in.u8() % 8;
  if (m == 4) n = expected / 2;
  n = std::min<guint64>(n, kMaxBytes);
  std::vector<uint8_t> data(static_cast<size_t>(n));
  fill(data);
  return g_bytes_new(data.data(), data.size());
}

void fill_flow(Input& in, std::vector<uint8_t>& bytes) {
  const size_t nf = bytes.size() / sizeof(float);
  std::vector<float> f(nf);
  const uint8_t m = in.u8() % 8;
  const float k = static_cast<float>(static_cast<int8_t>(in.u8())) / 8.0f;
  switch (m) {
    case 0:
      in.fill(bytes.data(), bytes.size());
      return;  // raw: any float, NaN, Inf, denormals
    case 1:
      std::fill(f.begin(), f.end(), std::numeric_limits<float>::quiet_NaN());
      break;
    case 2:
      for (size_t i = 0; i < nf; ++i)
        f[i] = i % 2 ? -std::numeric_limits<float>::infinity()
                     : std::numeric_limits<float>::infinity();
      break;
    case 3:
      for (size_t i = 0; i < nf; ++i) f[i] = i % 3 ? 1e30f : -3e38f;
      break;
    default:  // plain flows: a constant with some raw-byte noise
      std::vector<uint8_t> noise(nf);
      in.fill(noise.data(), noise.size());
      for (size_t i = 0; i < nf; ++i) f[i] = k + (static_cast<float>(noise[i]) - 128.0f) / 64.0f;
      break;
  }
  if (nf > 0) std::memcpy(bytes.data(), f.data(), nf * sizeof(float));
}

void fill_mask(Input& in, std::vector<uint8_t>& bytes) {
  const uint8_t m = in.u8() % 4;
  if (m == 0)
    in.fill(bytes.data(), bytes.size());  // any byte, not just 0/1
  else
    std::fill(bytes.begin(), bytes.end(), m == 1 ? 1 : m == 2 ? 0 : 255);
}

// Attaches a meta as a careless or hostile producer might: fields set directly, bypassing
// gst_buffer_add_vc_flow_meta's checks (the meta's free function unrefs the GBytes).
void add_fuzzed_meta(Input& in, GstBuffer* buf) {
  const GstMetaInfo* info = gst_meta_get_info(GST_VC_FLOW_META_IMPL_NAME);
  FUZZ_CHECK(info != nullptr, "the vidcolor plugin registers VcFlowMeta");
  if (info == nullptr) return;
  auto* m = reinterpret_cast<GstVcFlowMeta*>(gst_buffer_add_meta(buf, info, nullptr));
  m->width = meta_side(in);
  m->height = meta_side(in);
  m->frame_width = in.u8() < 200 ? m->width * 2 : in.u32();
  m->frame_height = in.u8() < 200 ? m->height * 2 : in.u32();
  const guint64 n = static_cast<guint64>(m->width) * m->height;
  auto flow = [&](std::vector<uint8_t>& b) { fill_flow(in, b); };
  auto mask = [&](std::vector<uint8_t>& b) { fill_mask(in, b); };
  m->backward = meta_bytes(in, n * 2 * sizeof(float), flow);
  m->forward = meta_bytes(in, n * 2 * sizeof(float), flow);
  m->backward_valid = meta_bytes(in, n, mask);
  m->forward_valid = meta_bytes(in, n, mask);
}

struct SentFrame {
  GstVideoInfo info;
  std::vector<uint8_t> y;  // the Y plane, rows packed
  GstClockTime pts;
};

std::vector<uint8_t> y_plane(const GstVideoInfo& info, GstBuffer* buf) {
  std::vector<uint8_t> y;
  GstVideoFrame f;
  if (!gst_video_frame_map(&f, &info, buf, GST_MAP_READ)) return y;
  const int w = GST_VIDEO_FRAME_COMP_WIDTH(&f, 0), h = GST_VIDEO_FRAME_COMP_HEIGHT(&f, 0);
  const int stride = GST_VIDEO_FRAME_COMP_STRIDE(&f, 0);
  const auto* p = static_cast<const uint8_t*>(GST_VIDEO_FRAME_COMP_DATA(&f, 0));
  for (int r = 0; r < h; ++r) y.insert(y.end(), p + r * stride, p + r * stride + w);
  gst_video_frame_unmap(&f);
  return y;
}

void fuzz_vcrefine(Input& in) {
  static const char* formats[] = {"I420", "NV12", "Y444"};
  GstElement* e = gst_element_factory_make("vcrefine", nullptr);
  FUZZ_CHECK(e != nullptr, "vcrefine exists (GST_PLUGIN_PATH)");
  if (e == nullptr) return;
  g_object_set(e, "model", model_path().c_str(), "device", "cpu", "threads", 1, "window",
               1u + in.u8() % 2u, "iterations", 1u + in.u8() % 3u, nullptr);
  Harness hs(e);
  GstHarness* h = hs.h;

  const char* format = formats[in.u8() % 3];
  int w = 1 + in.u8() % 64, hgt = 1 + in.u8() % 64;
  GstVideoInfo info;
  gst_video_info_set_format(&info, gst_video_format_from_string(format), w, hgt);
  set_caps(h, format, w, hgt);

  std::vector<SentFrame> sent;
  bool stopped = false;
  for (size_t i = 0; i < kMaxFrames && !in.done() && !stopped; ++i) {
    const uint8_t op = in.u8() % 16;
    if (op == 0) {  // caps change: held frames go out first, with the old caps
      format = formats[in.u8() % 3];
      w = 1 + in.u8() % 64;
      hgt = 1 + in.u8() % 64;
      gst_video_info_set_format(&info, gst_video_format_from_string(format), w, hgt);
      set_caps(h, format, w, hgt);
    }
    SizeKind kind;
    const size_t size = buffer_size(in, GST_VIDEO_INFO_SIZE(&info), &kind);
    GstBuffer* buf = garbage_buffer(in, size);
    GST_BUFFER_PTS(buf) = i * kDur;
    GST_BUFFER_DURATION(buf) = kDur;
    if (op == 1) GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
    if (op != 2) add_fuzzed_meta(in, buf);  // op 2: no meta
    SentFrame s{info, kind == SizeKind::kShort ? std::vector<uint8_t>() : y_plane(info, buf),
                GST_BUFFER_PTS(buf)};
    const GstFlowReturn ret = gst_harness_push(h, buf);
    if (kind == SizeKind::kShort) {
      FUZZ_CHECK(ret != GST_FLOW_OK, "a buffer shorter than its caps was accepted");
      stopped = true;  // the element has posted an error; the stream is over
    } else {
      FUZZ_CHECK(ret == GST_FLOW_OK, std::string("frame ") + std::to_string(i) + " (" +
                                         std::to_string(size) + " bytes) gave " +
                                         gst_flow_get_name(ret));
      if (ret != GST_FLOW_OK)
        stopped = true;
      else
        sent.push_back(std::move(s));
    }
  }
  if (stopped) return;
  gst_harness_push_event(h, gst_event_new_eos());
  // Every frame comes out once, in order, with its Y plane and timestamp untouched.
  size_t got = 0;
  while (GstBuffer* out = gst_harness_try_pull(h)) {
    if (got < sent.size()) {
      const SentFrame& s = sent[got];
      FUZZ_CHECK(GST_BUFFER_PTS(out) == s.pts, "frame " + std::to_string(got) + " out of order");
      FUZZ_CHECK(y_plane(s.info, out) == s.y, "frame " + std::to_string(got) + ": Y changed");
    }
    ++got;
    gst_buffer_unref(out);
  }
  FUZZ_CHECK(got == sent.size(),
             std::to_string(sent.size()) + " frames in, " + std::to_string(got) + " out");
}

// ------------------------------------------------------------------ vcgray / vccolorize / vcflow

bool meta_consistent(const GstVcFlowMeta* m, int w, int h) {
  if (m->width == 0 || m->height == 0) return false;
  const gsize n = static_cast<gsize>(m->width) * m->height;
  auto holds = [](GBytes* b, gsize size) { return b != nullptr && g_bytes_get_size(b) == size; };
  return holds(m->backward, n * 2 * sizeof(float)) && holds(m->forward, n * 2 * sizeof(float)) &&
         holds(m->backward_valid, n) && holds(m->forward_valid, n) &&
         m->frame_width == static_cast<guint>(w) && m->frame_height == static_cast<guint>(h);
}

void fuzz_garbage(Input& in, int which) {
  static const char* gray_in[] = {"RGB",  "BGR",  "RGBx", "BGRx", "xRGB",  "xBGR",
                                  "RGBA", "BGRA", "ARGB", "ABGR", "I420",  "YV12",
                                  "NV12", "NV21", "YUY2", "UYVY", "GRAY8", "GRAY16_LE"};
  static const char* gray16[] = {"GRAY8", "GRAY16_LE"};
  static const char* color_out[] = {"I420", "NV12", "Y444", "RGB", "BGRx", "RGBA"};
  static const char* flow_fmt[] = {"GRAY8", "GRAY16_LE", "I420", "YV12", "NV12", "NV21", "Y42B",
                                   "Y444",  "YUY2",      "UYVY", "RGB",  "BGR",  "RGBx", "BGRx",
                                   "xRGB",  "xBGR",      "RGBA", "BGRA", "ARGB", "ABGR"};
  const char* name = which == 0 ? "vcgray" : which == 1 ? "vccolorize" : "vcflow";
  GstElement* e = gst_element_factory_make(name, nullptr);
  FUZZ_CHECK(e != nullptr, std::string(name) + " exists (GST_PLUGIN_PATH)");
  if (e == nullptr) return;
  if (which == 1)
    g_object_set(e, "model", model_path().c_str(), "device", "cpu", "threads", 1, nullptr);
  if (which == 2) gst_util_set_object_arg(G_OBJECT(e), "backend", "dis-ultrafast");
  Harness hs(e);
  GstHarness* h = hs.h;

  auto pick_in = [&]() -> const char* {
    if (which == 0) return gray_in[in.u8() % 18];
    if (which == 1) return gray16[in.u8() % 2];
    return flow_fmt[in.u8() % 20];
  };
  // vccolorize's output format is the harness's choice; vcgray and vcflow pick their own
  // (vcgray makes GRAY16 only from 16-bit input).
  auto set_sink_caps = [&]() {
    if (which == 1)
      gst_harness_set_sink_caps_str(
          h, (std::string("video/x-raw,format=") + color_out[in.u8() % 6]).c_str());
  };
  const char* fin = pick_in();
  int w = 1 + in.u8() % 48, hgt = 1 + in.u8() % 48;
  GstVideoInfo info;
  gst_video_info_set_format(&info, gst_video_format_from_string(fin), w, hgt);
  set_sink_caps();
  set_caps(h, fin, w, hgt);

  size_t accepted = 0;
  bool stopped = false;
  bool first_of_run = true;  // vcflow: no meta on the first frame after start/caps/DISCONT
  std::vector<bool> expect_no_meta;
  size_t pulled = 0;
  for (size_t i = 0; i < kMaxFrames && !in.done() && !stopped; ++i) {
    const uint8_t op = in.u8() % 16;
    if (op == 0) {
      fin = pick_in();
      w = 1 + in.u8() % 48;
      hgt = 1 + in.u8() % 48;
      gst_video_info_set_format(&info, gst_video_format_from_string(fin), w, hgt);
      set_caps(h, fin, w, hgt);
      first_of_run = true;
    }
    SizeKind kind;
    GstBuffer* buf = garbage_buffer(in, buffer_size(in, GST_VIDEO_INFO_SIZE(&info), &kind));
    GST_BUFFER_PTS(buf) = i * kDur;
    GST_BUFFER_DURATION(buf) = kDur;
    if (op == 1) {
      GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
      first_of_run = true;
    }
    const GstFlowReturn ret = gst_harness_push(h, buf);
    if (kind == SizeKind::kShort) {
      FUZZ_CHECK(ret != GST_FLOW_OK, std::string(name) + ": a short buffer was accepted");
      stopped = true;
    } else {
      FUZZ_CHECK(ret == GST_FLOW_OK, std::string(name) + ": frame " + std::to_string(i) + " gave " +
                                         gst_flow_get_name(ret));
      if (ret != GST_FLOW_OK) {
        stopped = true;
      } else {
        ++accepted;
        expect_no_meta.push_back(first_of_run);
        first_of_run = false;
      }
    }
    // Check what came out so far (these elements hold no frames).
    while (GstBuffer* out = gst_harness_try_pull(h)) {
      if (which == 2) {
        const GstVcFlowMeta* m = gst_buffer_get_vc_flow_meta(out);
        const size_t k = pulled;
        if (k < expect_no_meta.size() && expect_no_meta[k])
          FUZZ_CHECK(m == nullptr, "vcflow: meta on the first frame of a run");
        if (m != nullptr)
          FUZZ_CHECK(meta_consistent(m, w, hgt), "vcflow: inconsistent meta " +
                                                     std::to_string(m->width) + "x" +
                                                     std::to_string(m->height));
      }
      ++pulled;
      gst_buffer_unref(out);
    }
  }
  if (!stopped)
    FUZZ_CHECK(gst_harness_buffers_received(h) == accepted,
               std::string(name) + ": " + std::to_string(accepted) + " frames in, " +
                   std::to_string(gst_harness_buffers_received(h)) + " out");
}

}  // namespace

// One input, one stream through one element.
void fuzz_one(const uint8_t* data, size_t size) {
  Input in(data, size);
  const uint8_t which = in.u8() % 4;
  if (which == 3)
    fuzz_vcrefine(in);
  else
    fuzz_garbage(in, which);
}

#ifdef VIDCOLOR_LIBFUZZER

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  gst_init(nullptr, nullptr);
  (void)model_path();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  g_case_name = "libFuzzer input of " + std::to_string(size) + " bytes";
  fuzz_one(data, size);
  return 0;
}

#else

namespace {

double env_number(const char* name, double fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atof(v) : fallback;
}

// Case `index` of `seed`: 1..1024 random bytes; half the cases start on vcrefine (the meta).
std::vector<uint8_t> make_case(uint64_t seed, uint64_t index) {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + index);
  std::vector<uint8_t> bytes(1 + rng() % 1024);
  for (auto& b : bytes) b = static_cast<uint8_t>(rng());
  if (index % 2 == 0) bytes[0] = static_cast<uint8_t>((bytes[0] & ~3u) | 3u);
  return bytes;
}

TEST(FuzzFlowMeta, RandomStreamsForATimeBudget) {
  gst_init(nullptr, nullptr);
  const double budget_s = env_number("VIDCOLOR_FUZZ_SECONDS", 5.0);
  const uint64_t seed = static_cast<uint64_t>(env_number("VIDCOLOR_FUZZ_SEED", 1.0));
  const double only = env_number("VIDCOLOR_FUZZ_CASE", -1.0);
  (void)model_path();
  const auto start = std::chrono::steady_clock::now();
  uint64_t cases = 0;
  for (uint64_t i = only >= 0 ? static_cast<uint64_t>(only) : 0;; ++i) {
    const std::vector<uint8_t> bytes = make_case(seed, i);
    g_case_name = "seed " + std::to_string(seed) + " case " + std::to_string(i) +
                  " (replay: VIDCOLOR_FUZZ_SEED=" + std::to_string(seed) +
                  " VIDCOLOR_FUZZ_CASE=" + std::to_string(i) + ")";
    fuzz_one(bytes.data(), bytes.size());
    ++cases;
    if (g_failed || only >= 0) break;
    const std::chrono::duration<double> spent = std::chrono::steady_clock::now() - start;
    if (spent.count() >= budget_s) break;
  }
  const std::chrono::duration<double> spent = std::chrono::steady_clock::now() - start;
  std::printf("fuzz_flow_meta: %llu streams in %.1f s (seed %llu)\n",
              static_cast<unsigned long long>(cases), spent.count(),
              static_cast<unsigned long long>(seed));
  EXPECT_GT(cases, 0u);
}

// One fixed stream per element, the same on every run.
TEST(FuzzFlowMeta, FixedStreamsThroughEachElement) {
  gst_init(nullptr, nullptr);
  for (uint8_t which = 0; which < 4; ++which) {
    std::vector<uint8_t> bytes(600);
    std::mt19937 rng(which + 40);
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    bytes[0] = which;
    g_case_name = "fixed stream " + std::to_string(which);
    fuzz_one(bytes.data(), bytes.size());
  }
}

// ---------------------------------------------------------------- the contracts, one by one

// A w x h I420 frame of seeded noise, PTS t frames.
GstBuffer* noise_frame(int t, int w, int h) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_I420, w, h);
  GstBuffer* b = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  GstMapInfo map;
  gst_buffer_map(b, &map, GST_MAP_WRITE);
  std::mt19937 rng(static_cast<unsigned>(t) + 100);
  for (gsize i = 0; i < map.size; ++i) map.data[i] = static_cast<uint8_t>(64 + rng() % 128);
  gst_buffer_unmap(b, &map);
  GST_BUFFER_PTS(b) = t * kDur;
  GST_BUFFER_DURATION(b) = kDur;
  return b;
}

// Attaches a meta of w x h flows of constant (fx, fy), masks of byte `mask`; `short_by` bytes
// missing from the backward flow.
void add_meta(GstBuffer* b, guint w, guint h, float fx, float fy, uint8_t mask,
              size_t short_by = 0) {
  const GstMetaInfo* info = gst_meta_get_info(GST_VC_FLOW_META_IMPL_NAME);
  ASSERT_NE(info, nullptr);
  auto* m = reinterpret_cast<GstVcFlowMeta*>(gst_buffer_add_meta(b, info, nullptr));
  const size_t n = static_cast<size_t>(w) * h;
  std::vector<float> flow(2 * n);
  for (size_t i = 0; i < n; ++i) {
    flow[2 * i] = fx;
    flow[2 * i + 1] = fy;
  }
  std::vector<uint8_t> valid(n, mask);
  m->width = w;
  m->height = h;
  m->frame_width = w;
  m->frame_height = h;
  m->backward = g_bytes_new(flow.data(), flow.size() * sizeof(float) - short_by);
  m->forward = g_bytes_new(flow.data(), flow.size() * sizeof(float));
  m->backward_valid = g_bytes_new(valid.data(), valid.size());
  m->forward_valid = g_bytes_new(valid.data(), valid.size());
}

struct Outcome {
  std::vector<std::vector<uint8_t> > frames;  // whole output buffers
  std::vector<std::string> warnings;
};

// 5 frames of 32x24 I420 through vcrefine (window 1, 1 pass); frames 1.. get `meta`.
Outcome run_refine(const std::function<void(GstBuffer*)>& meta) {
  constexpr int kW = 32, kH = 24;
  GstElement* e = gst_element_factory_make("vcrefine", nullptr);
  g_object_set(e, "model", model_path().c_str(), "device", "cpu", "threads", 1, nullptr);
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(e, bus);
  Outcome out;
  {
    Harness hs(e);
    set_caps(hs.h, "I420", kW, kH);
    for (int t = 0; t < 5; ++t) {
      GstBuffer* b = noise_frame(t, kW, kH);
      if (t > 0) meta(b);
      EXPECT_EQ(gst_harness_push(hs.h, b), GST_FLOW_OK);
    }
    gst_harness_push_event(hs.h, gst_event_new_eos());
    while (GstBuffer* o = gst_harness_try_pull(hs.h)) {
      GstMapInfo map;
      gst_buffer_map(o, &map, GST_MAP_READ);
      out.frames.emplace_back(map.data, map.data + map.size);
      gst_buffer_unmap(o, &map);
      gst_buffer_unref(o);
    }
  }
  while (GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING)) {
    GError* err = nullptr;
    gst_message_parse_warning(m, &err, nullptr);
    out.warnings.emplace_back(err->message);
    g_error_free(err);
    gst_message_unref(m);
  }
  gst_bus_set_flushing(bus, TRUE);  // queued messages ref the element, which refs the bus
  gst_object_unref(bus);
  return out;
}

std::vector<std::vector<uint8_t> > input_frames() {
  std::vector<std::vector<uint8_t> > v;
  for (int t = 0; t < 5; ++t) {
    GstBuffer* b = noise_frame(t, 32, 24);
    GstMapInfo map;
    gst_buffer_map(b, &map, GST_MAP_READ);
    v.emplace_back(map.data, map.data + map.size);
    gst_buffer_unmap(b, &map);
    gst_buffer_unref(b);
  }
  return v;
}

TEST(FlowMetaContract, MetaWithWrongSizesIsIgnoredWithOneWarning) {
  gst_init(nullptr, nullptr);
  // Every kind of wrong: a short flow, and sides whose product overflows 32 bits.
  const Outcome a = run_refine([](GstBuffer* b) { add_meta(b, 16, 12, 1.0f, 0.0f, 1, 4); });
  EXPECT_TRUE(a.frames == input_frames()) << "frames pass unrefined, byte for byte";
  ASSERT_EQ(a.warnings.size(), 1u);
  EXPECT_NE(a.warnings[0].find("Invalid optical flow meta"), std::string::npos) << a.warnings[0];

  const Outcome b = run_refine([](GstBuffer* buf) {
    const GstMetaInfo* info = gst_meta_get_info(GST_VC_FLOW_META_IMPL_NAME);
    auto* m = reinterpret_cast<GstVcFlowMeta*>(gst_buffer_add_meta(buf, info, nullptr));
    m->width = m->height = 65536;  // 2^32 pixels: wraps to 0 in 32-bit arithmetic
    m->frame_width = m->frame_height = 32;
    m->backward = g_bytes_new(nullptr, 0);
    m->forward = g_bytes_new(nullptr, 0);
    m->backward_valid = g_bytes_new(nullptr, 0);
    m->forward_valid = g_bytes_new(nullptr, 0);
  });
  EXPECT_TRUE(b.frames == input_frames());
  EXPECT_EQ(b.warnings.size(), 1u);
}

TEST(FlowMetaContract, NonFiniteFlowCountsAsZeroAndInvalid) {
  gst_init(nullptr, nullptr);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  // Zero flow marked invalid everywhere: g gets no neighbour weight, the frames stay as they
  // are. A finite flow marked valid does change them (so the comparison below can fail).
  const Outcome reference = run_refine([](GstBuffer* b) { add_meta(b, 16, 12, 0.0f, 0.0f, 0); });
  ASSERT_EQ(reference.frames.size(), 5u);
  EXPECT_TRUE(reference.warnings.empty());
  const Outcome moved = run_refine([](GstBuffer* b) { add_meta(b, 16, 12, 1.0f, 0.0f, 1); });
  ASSERT_EQ(moved.frames.size(), 5u);
  EXPECT_FALSE(moved.frames == reference.frames) << "a valid flow refines the frames";
  for (const auto& [fx, fy] :
       {std::pair<float, float>{nan, 0.0f}, {0.0f, nan}, {inf, 1.0f}, {-inf, nan}}) {
    const Outcome o =
        run_refine([fx = fx, fy = fy](GstBuffer* b) { add_meta(b, 16, 12, fx, fy, 1); });
    EXPECT_TRUE(o.frames == reference.frames) << "flow (" << fx << ", " << fy << ") was used";
  }
}

}  // namespace

#endif
