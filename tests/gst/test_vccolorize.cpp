// vccolorize through GstHarness and in pipelines, with a small random model made here: Y is
// the input gray byte for byte (I420, NV12, Y444, odd sizes), GRAY16 input, R'G'B' output
// keeps the luma, timestamps and flags, a resolution change mid-stream, missing and corrupt
// model files as bus errors naming the file, refused caps, the candidate, class decoding and mosaic
// properties, and frames in == frames out behind vcgray (VcFlowMeta not passed on).
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <vidcolor/model/model_file.hpp>

#include "../../gst/vcflowmeta.h"
#include "gst_test_util.hpp"

using namespace vctest;
namespace fs = std::filesystem;

VCTEST_GST_MAIN_ENV;

namespace {

// Each candidate's chroma is about this constant (head bias), plus a little of the random
// network (head weights scaled down), so candidates are far apart and known.
const float kChroma[4][2] = {{0.2f, -0.1f}, {-0.2f, 0.1f}, {0.1f, 0.2f}, {-0.1f, -0.2f}};

// The test model files, made once per binary.
struct Models {
  fs::path dir;
  std::string good, corrupt, missing;
  // f with chroma classes (the shipped kind) and a prior that is not flat, and the same file
  // naming another decoding (what vidcolor-model set --class-temperature 0.6 --class-debias 0.9
  // writes).
  std::string classed, classed_decoded;
  Models() {
    dir = fs::temp_directory_path() / ("vidcolor-test-vccolorize-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    torch::manual_seed(21);
    vidcolor::ModelConfig c = vidcolor::ModelConfig::fast();
    c.inference_size = 32;
    c.chroma_classes = 0;  // every candidate from the regression head, whose bias sets it
    vidcolor::Model m = vidcolor::make_model(c);
    {
      torch::NoGradGuard no_grad;
      auto p = m.f->named_parameters(true);
      p["head.weight"].mul_(0.1);
      for (int i = 0; i < 4; ++i)
        for (int k = 0; k < 2; ++k) p["head.bias"][2 * i + k] = std::atanh(2.0f * kChroma[i][k]);
    }
    good = (dir / "model.safetensors").string();
    vidcolor::save_model(m, good);
    corrupt = (dir / "corrupt.safetensors").string();
    std::ifstream in(good, std::ios::binary);
    std::vector<char> bytes(4096);
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::ofstream(corrupt, std::ios::binary).write(bytes.data(), in.gcount());
    missing = (dir / "no-such-model.safetensors").string();

    vidcolor::ModelConfig cc = vidcolor::ModelConfig::fast();
    cc.inference_size = 32;
    vidcolor::Model mc = vidcolor::make_model(cc);
    {
      torch::NoGradGuard no_grad;
      mc.f->class_log_prior.copy_(torch::linspace(-4.0, 2.0, 313));
    }
    classed = (dir / "classed.safetensors").string();
    vidcolor::save_model(mc, classed);
    mc.config.class_temperature = 0.6;
    mc.config.class_debias = 0.9;
    classed_decoded = (dir / "classed-decoded.safetensors").string();
    vidcolor::save_model(mc, classed_decoded);
  }
  ~Models() { fs::remove_all(dir); }
};

const Models& models() {
  static Models m;
  return m;
}

// A harness around a vccolorize configured before it starts (start() loads the model).
HarnessPtr colorize_harness(const std::string& in_caps, const std::string& out_caps,
                            int candidate = -1, bool mosaic = false,
                            const std::string& model = models().good,
                            double class_temperature = 0.0, double class_debias = -1.0) {
  GstElement* e = gst_element_factory_make("vccolorize", nullptr);
  EXPECT_NE(e, nullptr);
  g_object_set(e, "model", model.c_str(), "device", "cpu", "threads", 1, "candidate", candidate,
               "mosaic", mosaic, "class-temperature", class_temperature, "class-debias",
               class_debias, nullptr);
  HarnessPtr h(gst_harness_new_with_element(e, "sink", "src"));
  gst_object_unref(e);
  gst_harness_set_src_caps_str(h.get(), in_caps.c_str());
  gst_harness_set_sink_caps_str(h.get(), out_caps.c_str());
  return h;
}

std::vector<uint8_t> random_gray(int w, int h, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(static_cast<size_t>(w) * h);
  // Smooth-ish content with texture: a gradient plus noise.
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      v[y * w + x] = static_cast<uint8_t>((x * 200 / w + y * 40 / h + rng() % 16) & 0xff);
  return v;
}

GstBuffer* gray8_frame(const std::vector<uint8_t>& px, int w, int h, GstClockTime pts) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_GRAY8, w, h);
  GstBuffer* b = make_frame(&info, [&](GstVideoFrame* f) {
    for (int y = 0; y < h; ++y)
      std::memcpy(static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(f, 0)) +
                      y * GST_VIDEO_FRAME_PLANE_STRIDE(f, 0),
                  &px[static_cast<size_t>(y) * w], w);
  });
  GST_BUFFER_PTS(b) = pts;
  GST_BUFFER_DURATION(b) = 40 * GST_MSECOND;
  return b;
}

// One output frame's planes without padding, and its format.
struct Planes {
  GstVideoFormat format = GST_VIDEO_FORMAT_UNKNOWN;
  int width = 0, height = 0;
  std::vector<std::vector<uint8_t>> planes;  // rows of COMP width (bytes incl. pstride)
  std::string colorimetry;
};

Planes read_planes(GstHarness* h, GstBuffer* out) {
  Planes r;
  GstCaps* caps = gst_pad_get_current_caps(h->sinkpad);
  GstVideoInfo info;
  EXPECT_TRUE(gst_video_info_from_caps(&info, caps));
  const gchar* cm = gst_structure_get_string(gst_caps_get_structure(caps, 0), "colorimetry");
  r.colorimetry = cm ? cm : "";
  gst_caps_unref(caps);
  GstVideoFrame f;
  if (!gst_video_frame_map(&f, &info, out, GST_MAP_READ)) {
    ADD_FAILURE() << "cannot map the output";
    return r;
  }
  r.format = GST_VIDEO_FRAME_FORMAT(&f);
  r.width = GST_VIDEO_FRAME_WIDTH(&f);
  r.height = GST_VIDEO_FRAME_HEIGHT(&f);
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&f); ++p) {
    const int comp = p == 0 ? 0 : 1;
    const int rows = GST_VIDEO_FRAME_COMP_HEIGHT(&f, comp);
    const int row_bytes =
        GST_VIDEO_FRAME_COMP_WIDTH(&f, comp) * GST_VIDEO_FRAME_COMP_PSTRIDE(&f, comp);
    std::vector<uint8_t> v;
    for (int y = 0; y < rows; ++y) {
      const uint8_t* row = static_cast<const uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&f, p)) +
                           y * GST_VIDEO_FRAME_PLANE_STRIDE(&f, p);
      v.insert(v.end(), row, row + row_bytes);
    }
    r.planes.push_back(std::move(v));
  }
  gst_video_frame_unmap(&f);
  return r;
}

BufferPtr push_pull(GstHarness* h, GstBuffer* in) {
  if (gst_harness_push(h, in) != GST_FLOW_OK) return nullptr;
  return BufferPtr(gst_harness_pull(h));
}

// The text ("message | debug") of the first error on the bus after trying to start vccolorize
// with `model` (and `class_debias`), or "" if none (then the state change must have worked).
std::string start_error(const std::string& model, bool expect_failure = true,
                        double class_debias = -1.0) {
  GstElement* pipeline = gst_pipeline_new(nullptr);
  GstElement* e = gst_element_factory_make("vccolorize", nullptr);
  g_object_set(e, "model", model.c_str(), "device", "cpu", "class-debias", class_debias, nullptr);
  gst_bin_add(GST_BIN(pipeline), e);
  const GstStateChangeReturn ret = gst_element_set_state(pipeline, GST_STATE_PAUSED);
  EXPECT_EQ(ret == GST_STATE_CHANGE_FAILURE, expect_failure) << model;
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* msg =
      gst_bus_timed_pop_filtered(bus, expect_failure ? 5 * GST_SECOND : 0, GST_MESSAGE_ERROR);
  std::string text;
  if (msg != nullptr) {
    GError* err = nullptr;
    gchar* dbg = nullptr;
    gst_message_parse_error(msg, &err, &dbg);
    text = std::string(err->message) + " | " + (dbg ? dbg : "");
    g_error_free(err);
    g_free(dbg);
    gst_message_unref(msg);
  }
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  return text;
}

double mean_of(const std::vector<uint8_t>& plane, int row_bytes, int x0, int x1, int y0, int y1,
               int pstride = 1, int offset = 0) {
  double s = 0;
  long n = 0;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x, ++n) s += plane[y * row_bytes + x * pstride + offset];
  return s / n;
}

}  // namespace

class YPlaneExact : public ::testing::TestWithParam<std::tuple<const char*, std::pair<int, int>>> {
};

TEST_P(YPlaneExact, YIsTheInputGrayAndChromaIsColor) {
  const char* format = std::get<0>(GetParam());
  const auto [w, h] = std::get<1>(GetParam());
  auto hr = colorize_harness(video_caps("GRAY8", w, h), video_caps(format, w, h));
  const std::vector<uint8_t> gray = random_gray(w, h, 3);
  BufferPtr out = push_pull(hr.get(), gray8_frame(gray, w, h, 0));
  ASSERT_TRUE(out);
  const Planes p = read_planes(hr.get(), out.get());
  EXPECT_EQ(p.format, gst_video_format_from_string(format));
  ASSERT_EQ(p.width, w);
  EXPECT_EQ(p.planes[0], gray) << "Y must be the input, byte for byte";
  EXPECT_EQ(p.colorimetry.rfind("1:4:", 0), 0u) << "full-range BT.601, got " << p.colorimetry;
  // Chroma: candidate colors are far from gray, so the chroma planes are not 128.
  double dev = 0;
  for (size_t pl = 1; pl < p.planes.size(); ++pl)
    for (uint8_t v : p.planes[pl]) dev = std::max(dev, std::abs(v - 128.0));
  EXPECT_GT(dev, 10.0);
}

INSTANTIATE_TEST_SUITE_P(Formats, YPlaneExact,
                         ::testing::Combine(::testing::Values("I420", "NV12", "Y444"),
                                            ::testing::Values(std::make_pair(64, 48),
                                                              std::make_pair(33, 17))));

TEST(VcColorize, Gray16InputRoundsToEightBits) {
  const int w = 21, h = 13;
  auto hr = colorize_harness(video_caps("GRAY16_LE", w, h), video_caps("I420", w, h));
  GstVideoInfo info;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_GRAY16_LE, w, h);
  std::vector<uint16_t> v(static_cast<size_t>(w) * h);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint16_t>(i * 331 % 65536);
  GstBuffer* in = make_frame(&info, [&](GstVideoFrame* f) {
    for (int y = 0; y < h; ++y)
      std::memcpy(static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(f, 0)) +
                      y * GST_VIDEO_FRAME_PLANE_STRIDE(f, 0),
                  &v[static_cast<size_t>(y) * w], w * 2);
  });
  BufferPtr out = push_pull(hr.get(), in);
  ASSERT_TRUE(out);
  const Planes p = read_planes(hr.get(), out.get());
  for (size_t i = 0; i < v.size(); ++i)
    ASSERT_EQ(p.planes[0][i], std::lround(v[i] * 255.0 / 65535.0)) << "pixel " << i;
}

TEST(VcColorize, RgbOutputKeepsTheLuma) {
  const int w = 33, h = 17;
  const std::vector<uint8_t> gray = random_gray(w, h, 4);
  for (const char* format : {"RGB", "BGRx", "RGBA"}) {
    auto hr = colorize_harness(video_caps("GRAY8", w, h), video_caps(format, w, h));
    BufferPtr out = push_pull(hr.get(), gray8_frame(gray, w, h, 0));
    ASSERT_TRUE(out) << format;
    const Planes p = read_planes(hr.get(), out.get());
    const int ps = std::string(format) == "RGB" ? 3 : 4;
    const int r = std::string(format) == "BGRx" ? 2 : 0, b = 2 - r;
    int max_err = 0;
    double sat = 0;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const uint8_t* px = &p.planes[0][(y * w + x) * ps];
        const double lum = 0.299 * px[r] + 0.587 * px[1] + 0.114 * px[b];
        max_err = std::max(max_err, static_cast<int>(std::lround(std::abs(lum - gray[y * w + x]))));
        sat += std::max({px[0], px[1], px[2]}) - std::min({px[0], px[1], px[2]});
        if (ps == 4) {
          ASSERT_EQ(px[3], 255) << format;
        }
      }
    EXPECT_LE(max_err, 1) << format;
    EXPECT_GT(sat / (w * h), 10.0) << format << ": colored, not gray";
  }
}

TEST(VcColorize, KeepsTimestampsFlagsAndVideoMetas) {
  const int w = 32, h = 24;
  auto hr = colorize_harness(video_caps("GRAY8", w, h), video_caps("I420", w, h));
  const std::vector<uint8_t> gray = random_gray(w, h, 5);
  for (int i = 0; i < 3; ++i) {
    GstBuffer* in = gray8_frame(gray, w, h, (1000 + 40 * i) * GST_MSECOND);
    GST_BUFFER_DTS(in) = (990 + 40 * i) * GST_MSECOND;
    GST_BUFFER_DURATION(in) = 39 * GST_MSECOND;
    GST_BUFFER_OFFSET(in) = 7 + i;
    if (i == 1) GST_BUFFER_FLAG_SET(in, GST_BUFFER_FLAG_DISCONT);
    gst_buffer_add_video_time_code_meta_full(in, 25, 1, nullptr, GST_VIDEO_TIME_CODE_FLAGS_NONE, 1,
                                             2, 3, i, 0);
    BufferPtr out = push_pull(hr.get(), in);
    ASSERT_TRUE(out);
    EXPECT_EQ(GST_BUFFER_PTS(out.get()), (1000 + 40 * i) * GST_MSECOND);
    EXPECT_EQ(GST_BUFFER_DTS(out.get()), (990 + 40 * i) * GST_MSECOND);
    EXPECT_EQ(GST_BUFFER_DURATION(out.get()), 39 * GST_MSECOND);
    EXPECT_EQ(GST_BUFFER_OFFSET(out.get()), static_cast<guint64>(7 + i));
    EXPECT_EQ(GST_BUFFER_FLAG_IS_SET(out.get(), GST_BUFFER_FLAG_DISCONT), i == 1);
    GstVideoTimeCodeMeta* tc = gst_buffer_get_video_time_code_meta(out.get());
    ASSERT_NE(tc, nullptr) << "frame " << i;
    EXPECT_EQ(tc->tc.frames, static_cast<guint>(i));
  }
}

TEST(VcColorize, ResolutionChangeMidStream) {
  auto hr = colorize_harness(video_caps("GRAY8", 64, 48), "video/x-raw,format=I420");
  for (int i = 0; i < 2; ++i) {
    const std::vector<uint8_t> gray = random_gray(64, 48, 6 + i);
    BufferPtr out = push_pull(hr.get(), gray8_frame(gray, 64, 48, i * 40 * GST_MSECOND));
    ASSERT_TRUE(out);
    EXPECT_EQ(read_planes(hr.get(), out.get()).planes[0], gray);
  }
  gst_harness_set_src_caps_str(hr.get(), video_caps("GRAY8", 45, 31).c_str());
  const std::vector<uint8_t> gray = random_gray(45, 31, 8);
  BufferPtr out = push_pull(hr.get(), gray8_frame(gray, 45, 31, 80 * GST_MSECOND));
  ASSERT_TRUE(out);
  const Planes p = read_planes(hr.get(), out.get());
  EXPECT_EQ(p.width, 45);
  EXPECT_EQ(p.height, 31);
  EXPECT_EQ(p.planes[0], gray);
  // A flush in between is fine too.
  ASSERT_TRUE(gst_harness_push_event(hr.get(), gst_event_new_flush_start()));
  ASSERT_TRUE(gst_harness_push_event(hr.get(), gst_event_new_flush_stop(TRUE)));
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  ASSERT_TRUE(gst_harness_push_event(hr.get(), gst_event_new_segment(&seg)));
  EXPECT_TRUE(push_pull(hr.get(), gray8_frame(gray, 45, 31, 0)));
}

// f's processing-latency (default one frame) is added to upstream's latency, so a live
// pipeline's sink does not find frames late while f computes; changing it posts a LATENCY
// message so the pipeline redistributes.
TEST(VcColorize, LatencyQueryAddsTheProcessingLatency) {
  HarnessPtr h = colorize_harness("video/x-raw,format=GRAY8,width=64,height=48,framerate=25/1",
                                  "video/x-raw,format=I420");
  gst_harness_set_upstream_latency(h.get(), 10 * GST_MSECOND);
  ASSERT_TRUE(push_pull(h.get(), gray8_frame(random_gray(64, 48, 1), 64, 48, 0)));  // caps applied
  EXPECT_EQ(gst_harness_query_latency(h.get()), 50 * GST_MSECOND) << "one frame at 25 fps";

  GstBus* bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  g_object_set(h->element, "processing-latency", G_GINT64_CONSTANT(3000000), nullptr);
  GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_LATENCY);
  EXPECT_NE(m, nullptr) << "no LATENCY message after the property changed";
  if (m) gst_message_unref(m);
  gst_element_set_bus(h->element, nullptr);
  gst_object_unref(bus);
  EXPECT_EQ(gst_harness_query_latency(h.get()), 13 * GST_MSECOND);
  g_object_set(h->element, "processing-latency", G_GINT64_CONSTANT(0), nullptr);
  EXPECT_EQ(gst_harness_query_latency(h.get()), 10 * GST_MSECOND);
}

#if defined(__GLIBC__)
// Once a network element has started, frame-sized blocks stay in the process
// (gst/frame_memory.h): a 20 MiB block comes from the heap, not from an mmap of its own as
// with glibc's defaults (threshold 128 KiB, raised only by frees of such blocks). The test
// environment sets no MALLOC_* variable.
TEST(VcColorize, StartingKeepsFrameSizedBlocksInTheProcess) {
  ASSERT_EQ(std::getenv("MALLOC_MMAP_THRESHOLD_"), nullptr);
  HarnessPtr h = colorize_harness("video/x-raw,format=GRAY8,width=64,height=48,framerate=25/1",
                                  "video/x-raw,format=I420,width=64,height=48,framerate=25/1");
  gst_harness_play(h.get());
  const struct mallinfo2 before = mallinfo2();
  void* block = std::malloc(20u << 20);
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, 20u << 20);
  const struct mallinfo2 after = mallinfo2();
  std::free(block);
  EXPECT_EQ(after.hblks, before.hblks) << "the 20 MiB block was mmapped";
}
#endif

TEST(VcColorize, MissingOrCorruptModelIsABusErrorNamingTheFile) {
  const std::string missing = start_error(models().missing);
  EXPECT_NE(missing.find(models().missing), std::string::npos) << missing;
  EXPECT_NE(missing.find("Cannot load the colorization model"), std::string::npos) << missing;
  const std::string corrupt = start_error(models().corrupt);
  EXPECT_NE(corrupt.find(models().corrupt), std::string::npos) << corrupt;
  EXPECT_NE(corrupt.find("vccolorize.cpp: "), std::string::npos) << "the reason: " << corrupt;
  EXPECT_EQ(start_error(models().good, false), "");
}

TEST(VcColorize, ExplicitCudaWithoutCudaIsABusError) {
  if (torch::cuda::is_available()) {
    GTEST_SKIP() << "this machine has CUDA";
  }
  GstElement* pipeline = gst_pipeline_new(nullptr);
  GstElement* e = gst_element_factory_make("vccolorize", nullptr);
  g_object_set(e, "model", models().good.c_str(), "device", "cuda:0", nullptr);
  gst_bin_add(GST_BIN(pipeline), e);
  EXPECT_EQ(gst_element_set_state(pipeline, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* msg = gst_bus_timed_pop_filtered(bus, 5 * GST_SECOND, GST_MESSAGE_ERROR);
  ASSERT_NE(msg, nullptr);
  GError* err = nullptr;
  gst_message_parse_error(msg, &err, nullptr);
  EXPECT_NE(std::string(err->message).find("cuda:0"), std::string::npos) << err->message;
  g_error_free(err);
  gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
}

TEST(VcColorize, RefusesCapsItCannotTake) {
  auto hr = colorize_harness(video_caps("GRAY8", 32, 24), video_caps("I420", 32, 24));
  CapsPtr rgb_in(gst_caps_from_string(video_caps("RGB", 32, 24).c_str()));
  CapsPtr gray_in(gst_caps_from_string(video_caps("GRAY8", 32, 24).c_str()));
  GstPad* sink = gst_element_get_static_pad(hr->element, "sink");
  EXPECT_FALSE(gst_pad_query_accept_caps(sink, rgb_in.get()));
  EXPECT_TRUE(gst_pad_query_accept_caps(sink, gray_in.get()));
  gst_object_unref(sink);
  // Downstream that only takes gray: not negotiated.
  auto bad = colorize_harness(video_caps("GRAY8", 32, 24), video_caps("GRAY8", 32, 24));
  EXPECT_NE(gst_harness_push(bad.get(), gray8_frame(random_gray(32, 24, 1), 32, 24, 0)),
            GST_FLOW_OK);
}

TEST(VcColorize, CandidatePropertyIsHonoured) {
  const int w = 32, h = 32;
  const std::vector<uint8_t> gray(w * h, 128);
  for (int k = 0; k < 4; ++k) {
    auto hr = colorize_harness(video_caps("GRAY8", w, h), video_caps("Y444", w, h), k);
    BufferPtr out = push_pull(hr.get(), gray8_frame(gray, w, h, 0));
    ASSERT_TRUE(out);
    const Planes p = read_planes(hr.get(), out.get());
    EXPECT_NEAR(mean_of(p.planes[1], w, 0, w, 0, h), 128 + 255 * kChroma[k][0], 8) << k;
    EXPECT_NEAR(mean_of(p.planes[2], w, 0, w, 0, h), 128 + 255 * kChroma[k][1], 8) << k;
  }
}

// class-temperature / class-debias give what a file naming that decoding gives, at start and
// set while playing (between two frames); a bad value while playing is ignored with a warning;
// on a model without classes an override fails the start with a reason.
TEST(VcColorize, ClassDecodingProperties) {
  const int w = 48, h = 32;
  const std::vector<uint8_t> gray = random_gray(w, h, 4);
  const auto run = [&](const std::string& model, double temperature, double debias) {
    auto hr = colorize_harness(video_caps("GRAY8", w, h), video_caps("Y444", w, h), 0, false, model,
                               temperature, debias);
    BufferPtr out = push_pull(hr.get(), gray8_frame(gray, w, h, 0));
    EXPECT_TRUE(out);
    return out ? read_planes(hr.get(), out.get()).planes : std::vector<std::vector<uint8_t>>{};
  };
  const auto from_file = run(models().classed_decoded, 0.0, -1.0);
  const auto own = run(models().classed, 0.0, -1.0);
  const auto overridden = run(models().classed, 0.6, 0.9);
  ASSERT_EQ(from_file.size(), 3u);
  EXPECT_EQ(overridden, from_file);
  EXPECT_NE(overridden[1], own[1]) << "the properties changed nothing";
  EXPECT_EQ(overridden[0], own[0]) << "luma is the input's";

  // While playing: the next frame has the new decoding; a bad value keeps the last good one.
  auto hr = colorize_harness(video_caps("GRAY8", w, h), video_caps("Y444", w, h), 0, false,
                             models().classed);
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(hr->element, bus);
  BufferPtr first = push_pull(hr.get(), gray8_frame(gray, w, h, 0));
  ASSERT_TRUE(first);
  EXPECT_EQ(read_planes(hr.get(), first.get()).planes, own);
  g_object_set(hr->element, "class-temperature", 0.6, "class-debias", 0.9, nullptr);
  BufferPtr second = push_pull(hr.get(), gray8_frame(gray, w, h, 40 * GST_MSECOND));
  ASSERT_TRUE(second);
  EXPECT_EQ(read_planes(hr.get(), second.get()).planes, from_file);
  EXPECT_EQ(gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING), nullptr);
  g_object_set(hr->element, "class-debias", -0.5, nullptr);
  BufferPtr third = push_pull(hr.get(), gray8_frame(gray, w, h, 80 * GST_MSECOND));
  ASSERT_TRUE(third);
  EXPECT_EQ(read_planes(hr.get(), third.get()).planes, from_file);
  GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING);
  ASSERT_NE(m, nullptr) << "no warning for class-debias -0.5";
  GError* err = nullptr;
  gchar* dbg = nullptr;
  gst_message_parse_warning(m, &err, &dbg);
  EXPECT_NE(std::string(dbg).find("class_debias must be 0..1"), std::string::npos) << dbg;
  EXPECT_NE(std::string(dbg).find("class-debias 0.9"), std::string::npos) << dbg;
  g_error_free(err);
  g_free(dbg);
  gst_message_unref(m);
  gst_element_set_bus(hr->element, nullptr);
  gst_object_unref(bus);

  // A model that regresses its chroma: nothing to decode, so an override fails the start.
  const std::string refused = start_error(models().good, true, 0.5);
  const size_t split = refused.find(" | ");
  ASSERT_NE(split, std::string::npos) << refused;
  EXPECT_NE(refused.substr(0, split).find("settings do not fit the colorization model"),
            std::string::npos)
      << refused;
  EXPECT_NE(refused.substr(split).find("chroma classes"), std::string::npos) << refused;
}

// A pillarboxed frame (black bars beside a gray picture): with skip-borders (the default) f
// colours the picture only and the bars stay neutral; with it off the bars take f's colour too.
TEST(VcColorize, SkipBordersKeepsBlackBarsNeutral) {
  const int w = 64, h = 32, bar = 12;
  std::vector<uint8_t> gray(w * h, 128);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      if (x < bar || x >= w - bar) gray[y * w + x] = 0;
  const int k = 1;  // a candidate with colour in both channels
  for (const bool skip : {true, false}) {
    auto hr = colorize_harness(video_caps("GRAY8", w, h), video_caps("Y444", w, h), k);
    gboolean is_default = FALSE;
    g_object_get(hr->element, "skip-borders", &is_default, nullptr);
    EXPECT_TRUE(is_default);
    g_object_set(hr->element, "skip-borders", skip, nullptr);
    BufferPtr out = push_pull(hr.get(), gray8_frame(gray, w, h, 0));
    ASSERT_TRUE(out);
    const Planes p = read_planes(hr.get(), out.get());
    EXPECT_EQ(p.planes[0], gray) << "luma is the input's";
    for (int c = 1; c <= 2; ++c) {
      const double want = 128 + 255 * kChroma[k][c - 1];
      EXPECT_NEAR(mean_of(p.planes[c], w, bar, w - bar, 0, h), want, 8) << c;
      const double left = mean_of(p.planes[c], w, 0, bar, 0, h),
                   right = mean_of(p.planes[c], w, w - bar, w, 0, h);
      if (skip) {
        EXPECT_EQ(left, 128.0) << c;
        EXPECT_EQ(right, 128.0) << c;
      } else {
        EXPECT_NEAR(left, want, 8) << c;
        EXPECT_NEAR(right, want, 8) << c;
      }
    }
  }
}

TEST(VcColorize, MosaicShowsTheCandidatesInQuadrants) {
  const int w = 64, h = 48;
  const std::vector<uint8_t> gray = random_gray(w, h, 9);
  auto hr = colorize_harness(video_caps("GRAY8", w, h), video_caps("Y444", w, h), -1, true);
  BufferPtr out = push_pull(hr.get(), gray8_frame(gray, w, h, 0));
  ASSERT_TRUE(out);
  const Planes p = read_planes(hr.get(), out.get());
  double means[4][2];
  for (int i = 0; i < 4; ++i) {
    const int x0 = (i % 2) * w / 2, y0 = (i / 2) * h / 2;
    for (int c = 0; c < 2; ++c)
      means[i][c] = mean_of(p.planes[1 + c], w, x0, x0 + w / 2, y0, y0 + h / 2);
    EXPECT_NEAR(means[i][0], 128 + 255 * kChroma[i][0], 10) << "quadrant " << i;
    EXPECT_NEAR(means[i][1], 128 + 255 * kChroma[i][1], 10) << "quadrant " << i;
  }
  for (int i = 0; i < 4; ++i)
    for (int j = i + 1; j < 4; ++j)
      EXPECT_GT(std::abs(means[i][0] - means[j][0]) + std::abs(means[i][1] - means[j][1]), 20)
          << i << " vs " << j;
  // Each quadrant's luma is the frame scaled down: similar mean brightness.
  double mean_in = 0;
  for (uint8_t v : gray) mean_in += v;
  mean_in /= gray.size();
  EXPECT_NEAR(mean_of(p.planes[0], w, w / 2, w, h / 2, h), mean_in, 6);
}

namespace {

struct Counts {
  int frames = 0, flow_metas = 0;
};

GstPadProbeReturn count_probe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* c = static_cast<Counts*>(data);
  GstBuffer* b = GST_PAD_PROBE_INFO_BUFFER(info);
  ++c->frames;
  if (gst_buffer_get_vc_flow_meta(b) != nullptr) ++c->flow_metas;
  return GST_PAD_PROBE_OK;
}

Counts run_counting(const std::string& desc) {
  Counts c;
  const std::string err = run_pipeline(
      desc, 60, nullptr, [&c](GstElement* p) { add_sink_buffer_probe(p, count_probe, &c); });
  if (!err.empty()) ADD_FAILURE() << desc << ": " << err;
  return c;
}

}  // namespace

TEST(VcColorizePipeline, FramesInEqualFramesOut) {
  const Counts c = run_counting(
      "videotestsrc num-buffers=12 pattern=ball ! video/x-raw,width=160,height=120 ! vcgray ! "
      "vccolorize device=cpu threads=1 model=" +
      models().good + " ! fakesink name=sink");
  EXPECT_EQ(c.frames, 12);
}

TEST(VcColorizePipeline, DoesNotPassOnTheFlowMeta) {
  const Counts c = run_counting(
      "videotestsrc num-buffers=6 pattern=ball ! video/x-raw,width=96,height=64 ! vcgray ! "
      "vcflow ! vccolorize device=cpu threads=1 model=" +
      models().good + " ! video/x-raw,format=NV12 ! fakesink name=sink");
  EXPECT_EQ(c.frames, 6);
  EXPECT_EQ(c.flow_metas, 0) << "the flow belongs to the gray frames upstream";
}

namespace {

struct QosSeen {
  std::atomic<int> messages{0};
  std::atomic<guint64> dropped{0}, processed{0};
};

GstBusSyncReply count_qos(GstBus*, GstMessage* msg, gpointer data) {
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_QOS &&
      g_strcmp0(GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)), "colorize") == 0) {
    auto* q = static_cast<QosSeen*>(data);
    GstFormat format;
    guint64 processed = 0, dropped = 0;
    gst_message_parse_qos_stats(msg, &format, &processed, &dropped);
    ++q->messages;
    q->dropped = dropped;  // running totals: the last message has them all
    q->processed = processed;
  }
  return GST_BUS_PASS;
}

}  // namespace

// A live source far faster than the element (1000 fps of 1280x720) into a synchronising sink:
// QoS events from the sink make vccolorize drop frames that are already late, each drop
// reported in a QoS message, and every frame is either shown or counted as dropped.
TEST(VcColorizePipeline, LateFramesOfALiveSourceAreDroppedWithQosMessages) {
  constexpr int kFrames = 150;
  Counts c;
  QosSeen q;
  const std::string desc =
      "videotestsrc is-live=true num-buffers=" + std::to_string(kFrames) +
      " pattern=ball ! video/x-raw,format=GRAY8,width=1280,height=720,framerate=1000/1 ! "
      "vccolorize name=colorize device=cpu threads=1 model=" +
      models().good + " ! fakesink name=sink sync=true qos=true";
  const std::string err = run_pipeline(desc, 60, nullptr, [&](GstElement* p) {
    add_sink_buffer_probe(p, count_probe, &c);
    GstBus* bus = gst_element_get_bus(p);
    gst_bus_set_sync_handler(bus, count_qos, &q, nullptr);
    gst_object_unref(bus);
  });
  ASSERT_EQ(err, "") << desc;
  EXPECT_GT(q.messages.load(), 0) << "no QoS message from vccolorize";
  EXPECT_GT(q.dropped.load(), 0u);
  EXPECT_EQ(static_cast<guint64>(c.frames) + q.dropped.load(), static_cast<guint64>(kFrames))
      << c.frames << " shown, " << q.dropped.load() << " dropped";
}

// The same element with a non-synchronising sink (files, benchmarks) drops nothing.
TEST(VcColorizePipeline, NoQosDropsWithoutASynchronisingSink) {
  const Counts c = run_counting(
      "videotestsrc num-buffers=40 pattern=ball ! "
      "video/x-raw,format=GRAY8,width=1280,height=720,framerate=500/1 ! "
      "vccolorize device=cpu threads=1 model=" +
      models().good + " ! fakesink name=sink sync=false");
  EXPECT_EQ(c.frames, 40);
}

// Issue 21: the shared properties (network_element.h) set from other threads over and over
// while frames flow: the ones that may change while playing take effect between frames (two
// threads flip inference-size, so f's engine is rebuilt again and again), the READY-only ones
// (model, device) are refused. No crash, every frame out once, in order.
TEST(VcColorize, StressedPropertiesWhileFramesFlow) {
  const int w = 64, h = 48, n = 24;
  auto hr = colorize_harness(video_caps("GRAY8", w, h), video_caps("I420", w, h));
  const auto start = [&](const char* name, auto set) {
    GValue v = G_VALUE_INIT;
    set(&v);
    GstHarnessThread* t = gst_harness_stress_property_start_full(hr.get(), name, &v, 500);
    g_value_unset(&v);
    return t;
  };
  const auto int_value = [](int x) {
    return [x](GValue* v) { g_value_set_int(g_value_init(v, G_TYPE_INT), x); };
  };
  GstHarnessThread* threads[] = {
      start("threads", int_value(1)),
      start("inference-size", int_value(64)),
      start("inference-size", int_value(96)),
      start("candidate", int_value(1)),
      start("processing-latency",
            [](GValue* v) { g_value_set_int64(g_value_init(v, G_TYPE_INT64), 2 * GST_MSECOND); }),
      start("model",
            [](GValue* v) { g_value_set_string(g_value_init(v, G_TYPE_STRING), "/nonexistent"); }),
      start("device",
            [](GValue* v) { g_value_set_string(g_value_init(v, G_TYPE_STRING), "tpu:3"); }),
  };
  const std::vector<uint8_t> gray = random_gray(w, h, 21);
  for (int i = 0; i < n; ++i)
    ASSERT_EQ(gst_harness_push(hr.get(), gray8_frame(gray, w, h, i * 40 * GST_MSECOND)),
              GST_FLOW_OK)
        << i;
  for (GstHarnessThread* t : threads) EXPECT_GT(gst_harness_stress_thread_stop(t), 0u);
  for (int i = 0; i < n; ++i) {
    BufferPtr out(gst_harness_pull(hr.get()));
    ASSERT_TRUE(out) << i;
    EXPECT_EQ(GST_BUFFER_PTS(out.get()), i * 40 * GST_MSECOND);
  }
  EXPECT_EQ(gst_harness_buffers_in_queue(hr.get()), 0u);
  gchar* model = nullptr;
  gchar* device = nullptr;
  g_object_get(hr->element, "model", &model, "device", &device, nullptr);
  EXPECT_EQ(models().good, model) << "READY-only: refused while playing";
  EXPECT_STREQ(device, "cpu");
  g_free(model);
  g_free(device);
}
