// Issue 20: broadcast formats through the chain. For every Y'CbCr format the chain carries
// (8- and 10-bit, planar, semi-planar, packed 4:2:2, v210) the output of vidcolorize has the
// input's format, colorimetry and chroma-site, and its luma codes are the input's bit for
// bit (foot and head room included); vccolorize's chroma is the networks' BT.601 full-range
// chroma converted to the stream's matrix and range; 4:2:2 keeps twice the vertical chroma
// of 4:2:0; a forced output format; resolution and format changes mid-stream; the luma
// coded back (with a warning) when vcgray's source frame is lost on the way; an R'G'B' source;
// timecode, CEA-708/608 captions, AFD, bar data, SEI user data and the buffer flags (discont,
// header, delta, gap, interlaced, TFF, RFF, one-field) of frame N on output frame N, through
// vcrefine's look-ahead window. Frames are written and read with GStreamer's own pack/unpack
// functions, independently of the plugin.
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <vidcolor/core/color.hpp>
#include <glib/gstdio.h>
#include <unistd.h>

#include <vidcolor/model/model_file.hpp>

#include "../common/tiny_model.hpp"
#include "gst_test_util.hpp"

using namespace vctest;

VCTEST_GST_MAIN_ENV;

namespace {

// Model files made here. The default one's f gives about this constant chroma (head bias,
// head weights scaled down), so the expected output chroma is known; the "varied" one keeps
// f's random head, for chroma that follows the picture. g is random in both.
constexpr float kCb = 0.2f, kCr = -0.1f;

std::string make_model_file(const char* name, float head_weight_scale) {
  vidcolor::ModelConfig c = vctest::tiny_model_config();
  c.chroma_classes = 0;
  torch::manual_seed(20);
  vidcolor::Model m = vidcolor::make_model(c);
  {
    torch::NoGradGuard no_grad;
    auto p = m.f->named_parameters(true);
    p["head.weight"].mul_(head_weight_scale);
    p["head.bias"][0] = std::atanh(2.0f * kCb);
    p["head.bias"][1] = std::atanh(2.0f * kCr);
  }
  const std::string file = std::string(g_get_tmp_dir()) + "/vidcolor-test-formats-" + name + "-" +
                           std::to_string(getpid()) + ".safetensors";
  vidcolor::save_model(m, file);
  return file;
}

struct ModelFiles {
  std::string flat = make_model_file("flat", 0.01f), varied = make_model_file("varied", 20.0f);
  ~ModelFiles() {
    g_unlink(flat.c_str());
    g_unlink(varied.c_str());
  }
};

const ModelFiles& models() {
  static const ModelFiles m;
  return m;
}

const std::string& model_path() { return models().flat; }

GstVideoInfo info_of(const std::string& caps) {
  GstVideoInfo info;
  CapsPtr c(gst_caps_from_string(caps.c_str()));
  EXPECT_TRUE(c && gst_video_info_from_caps(&info, c.get())) << caps;
  return info;
}

// A frame's codes, one per pixel (chroma repeated over its block, as unpacking gives it), at
// the format's depth.
struct Codes {
  int width = 0, height = 0;
  std::vector<uint16_t> y, u, v;
};

int depth_of(const GstVideoInfo* info) { return GST_VIDEO_INFO_COMP_DEPTH(info, 0); }

Codes unpack(const GstVideoInfo* info, GstBuffer* buf) {
  Codes c;
  GstVideoFrame f;
  if (!gst_video_frame_map(&f, info, buf, GST_MAP_READ)) {
    ADD_FAILURE() << "cannot map";
    return c;
  }
  const GstVideoFormatInfo* fi = info->finfo;
  const bool wide = fi->unpack_format == GST_VIDEO_FORMAT_AYUV64;
  const int w = GST_VIDEO_INFO_WIDTH(info), h = GST_VIDEO_INFO_HEIGHT(info),
            shift = 16 - depth_of(info);
  std::vector<uint8_t> line(static_cast<size_t>(w) * 8 + 64);
  c.width = w;
  c.height = h;
  for (int y = 0; y < h; ++y) {
    fi->unpack_func(fi, GST_VIDEO_PACK_FLAG_NONE, line.data(), f.data, f.info.stride, 0, y, w);
    for (int x = 0; x < w; ++x)
      for (int k = 1; k <= 3; ++k) {
        const uint16_t v =
            wide ? reinterpret_cast<uint16_t*>(line.data())[4 * x + k] >> shift : line[4 * x + k];
        (k == 1 ? c.y : k == 2 ? c.u : c.v).push_back(v);
      }
  }
  gst_video_frame_unmap(&f);
  return c;
}

// A frame of random codes over the whole code range (foot and head room too), chroma in the
// legal range; PTS t * 40 ms.
GstBuffer* random_frame(const GstVideoInfo* info, unsigned seed, int t, Codes* written) {
  std::mt19937 rng(seed);
  const int d = depth_of(info), max = (1 << d) - 1;
  const int w = GST_VIDEO_INFO_WIDTH(info), h = GST_VIDEO_INFO_HEIGHT(info);
  const bool wide = info->finfo->unpack_format == GST_VIDEO_FORMAT_AYUV64;
  GstBuffer* buf = make_frame(info, [&](GstVideoFrame* f) {
    std::vector<uint8_t> line(static_cast<size_t>(w) * 8 + 64);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        // Smooth luma plus noise (something for the flow), then a few codes at the rails.
        int luma = static_cast<int>((0.5 + 0.4 * std::sin(0.3 * x + 0.2 * y + t)) * max) +
                   static_cast<int>(rng() % 9) - 4;
        if (rng() % 17 == 0) luma = rng() % 2 ? 0 : max;
        const int comps[4] = {
            max, std::clamp(luma, 0, max),
            static_cast<int>(16 << (d - 8)) + static_cast<int>(rng() % (224 << (d - 8))),
            static_cast<int>(16 << (d - 8)) + static_cast<int>(rng() % (224 << (d - 8)))};
        for (int k = 0; k < 4; ++k) {
          if (wide)
            reinterpret_cast<uint16_t*>(line.data())[4 * x + k] =
                static_cast<uint16_t>(comps[k] << (16 - d));
          else
            line[4 * x + k] = static_cast<uint8_t>(comps[k]);
        }
      }
      info->finfo->pack_func(info->finfo, GST_VIDEO_PACK_FLAG_NONE, line.data(), 0, f->data,
                             f->info.stride, info->chroma_site, y, w);
    }
  });
  GST_BUFFER_PTS(buf) = t * 40 * GST_MSECOND;
  GST_BUFFER_DURATION(buf) = 40 * GST_MSECOND;
  if (written != nullptr) *written = unpack(info, buf);
  return buf;
}

HarnessPtr chain_harness(const std::string& caps, const char* extra_props = nullptr) {
  GstElement* e = gst_element_factory_make("vidcolorize", nullptr);
  EXPECT_NE(e, nullptr);
  g_object_set(e, "model", model_path().c_str(), "device", "cpu", "threads", 1, "inference-size",
               64, nullptr);
  if (extra_props != nullptr) gst_util_set_object_arg(G_OBJECT(e), "output-format", extra_props);
  HarnessPtr h(gst_harness_new_with_element(e, "sink", "src"));
  gst_object_unref(e);
  gst_harness_set_src_caps_str(h.get(), caps.c_str());
  return h;
}

GstVideoInfo current_output(GstHarness* h) {
  CapsPtr caps(gst_pad_get_current_caps(h->sinkpad));
  GstVideoInfo info;
  EXPECT_TRUE(caps && gst_video_info_from_caps(&info, caps.get()));
  return info;
}

// The siting the caps name, else the parsed one. (GStreamer 1.22's parse replaces a named
// siting by the default one when the caps name no colorimetry: caps are what a user reads.)
GstVideoChromaSite named_site(const std::string& caps, const GstVideoInfo& parsed) {
  CapsPtr c(gst_caps_from_string(caps.c_str()));
  const gchar* named = gst_structure_get_string(gst_caps_get_structure(c.get(), 0), "chroma-site");
  return named != nullptr ? gst_video_chroma_site_from_string(named) : parsed.chroma_site;
}

std::string colorimetry_string(const GstVideoInfo& info) {
  gchar* s = gst_video_colorimetry_to_string(&info.colorimetry);
  std::string r = s ? s : "";
  g_free(s);
  return r;
}

double mean(const std::vector<uint16_t>& v) {
  double s = 0;
  for (uint16_t x : v) s += x;
  return s / v.size();
}

// Pushes in->size() frames (random_frame with seeds seed, seed + 1, ...; their codes in `in`)
// and EOS, so a chain holding frames gives them all.
void push_clip(GstHarness* h, const GstVideoInfo* info, unsigned seed, std::vector<Codes>* in) {
  for (size_t t = 0; t < in->size(); ++t)
    ASSERT_EQ(gst_harness_push(h, random_frame(info, seed + static_cast<unsigned>(t),
                                               static_cast<int>(t), &(*in)[t])),
              GST_FLOW_OK)
        << "frame " << t;
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
}

struct FormatCase {
  const char* format;
  const char* extra;  // colorimetry / chroma-site
};

std::ostream& operator<<(std::ostream& os, const FormatCase& c) {
  return os << c.format << c.extra;
}

class ThroughTheChain
    : public ::testing::TestWithParam<std::tuple<FormatCase, std::pair<int, int>>> {};

// vidcolorize: same format, colorimetry and siting out; luma codes bit for bit; chroma new.
TEST_P(ThroughTheChain, LumaBitExactColorimetryAndSitingKept) {
  const FormatCase fc = std::get<0>(GetParam());
  const auto [w, h] = std::get<1>(GetParam());
  const std::string caps = video_caps(fc.format, w, h, fc.extra);
  const GstVideoInfo in_info = info_of(caps);
  HarnessPtr hr = chain_harness(caps);
  constexpr int kFrames = 3;
  std::vector<Codes> in(kFrames);
  ASSERT_NO_FATAL_FAILURE(push_clip(hr.get(), &in_info, 100, &in));
  for (int t = 0; t < kFrames; ++t) {
    BufferPtr out(gst_harness_pull(hr.get()));
    ASSERT_TRUE(out) << "frame " << t;
    const GstVideoInfo oi = current_output(hr.get());
    ASSERT_EQ(GST_VIDEO_INFO_FORMAT(&oi), GST_VIDEO_INFO_FORMAT(&in_info))
        << "the input's format by default";
    EXPECT_TRUE(gst_video_colorimetry_is_equal(&oi.colorimetry, &in_info.colorimetry))
        << colorimetry_string(oi) << " vs " << colorimetry_string(in_info);
    EXPECT_EQ(oi.chroma_site, named_site(caps, in_info))
        << gst_video_chroma_site_to_string(oi.chroma_site);
    EXPECT_EQ(GST_BUFFER_PTS(out.get()), t * 40 * GST_MSECOND);
    const Codes o = unpack(&oi, out.get());
    ASSERT_EQ(o.y.size(), in[t].y.size());
    EXPECT_TRUE(o.y == in[t].y) << "luma codes differ in frame " << t;
    EXPECT_NE(o.u, in[t].u) << "new chroma";
  }
}

const FormatCase kCases[] = {
    {"I420", ""},  // GStreamer's default: BT.601 limited range
    {"I420", ",colorimetry=bt709,chroma-site=mpeg2"},
    {"I420", ",chroma-site=mpeg2"},  // avdec_h264's caps for a stream without VUI
    {"YV12", ",colorimetry=bt709"},
    {"NV12", ",colorimetry=1:4:0:0,chroma-site=jpeg"},  // full range
    {"NV21", ""},
    {"Y42B", ",colorimetry=bt709"},
    {"NV16", ""},
    {"Y444", ",colorimetry=bt2020"},
    {"UYVY", ",colorimetry=bt709,chroma-site=mpeg2"},
    {"YUY2", ""},
    {"I420_10LE", ",colorimetry=bt709"},
    {"I422_10LE", ",colorimetry=bt709,chroma-site=mpeg2"},
    {"Y444_10LE", ",colorimetry=bt2020"},
    {"P010_10LE", ",colorimetry=bt2020,chroma-site=mpeg2"},
    {"v210", ",colorimetry=bt709"},
    {"v210", ",colorimetry=bt601"},
    {"P016_LE", ",colorimetry=bt2020,chroma-site=mpeg2"},
    {"Y444_16LE", ",colorimetry=bt709"},
};

INSTANTIATE_TEST_SUITE_P(Formats, ThroughTheChain,
                         ::testing::Combine(::testing::ValuesIn(kCases),
                                            ::testing::Values(std::make_pair(64, 36),
                                                              std::make_pair(33, 17))));

// vccolorize's chroma is f's full-range BT.601 chroma (kCb, kCr here) converted to the
// stream's matrix with the luma kept, then coded with its range and depth. Checked on 4:4:4
// formats, so no subsampling filter is involved.
TEST(VcColorizeChroma, ConvertedToTheStreamsMatrixAndRange) {
  struct Case {
    const char* format;
    const char* colorimetry;
    vidcolor::Matrix matrix;
    double offset, scale;
  };
  const Case cases[] = {
      {"Y444", "1:4:0:0", vidcolor::Matrix::BT601, 128, 255},  // the networks' space
      {"Y444", "bt601", vidcolor::Matrix::BT601, 128, 224},    // limited
      {"Y444", "bt709", vidcolor::Matrix::BT709, 128, 224},
      {"Y444_10LE", "bt2020", vidcolor::Matrix::BT2020, 512, 896},
      {"Y444_10LE", "1:3:5:1", vidcolor::Matrix::BT709, 512, 1023},  // full-range 10-bit BT.709
  };
  for (const Case& c : cases) {
    const int w = 32, h = 24;
    const std::string caps =
        video_caps(c.format, w, h, (std::string(",colorimetry=") + c.colorimetry).c_str());
    const GstVideoInfo info = info_of(caps);
    GstElement* bin = gst_parse_bin_from_description(
        ("vcgray ! vccolorize device=cpu threads=1 model=" + model_path()).c_str(), TRUE, nullptr);
    ASSERT_NE(bin, nullptr);
    HarnessPtr hr(gst_harness_new_with_element(bin, "sink", "src"));
    gst_object_unref(bin);
    gst_harness_set_src_caps_str(hr.get(), caps.c_str());
    // f's output is its bias up to the scaled-down weights, whatever the picture.
    Codes in;
    BufferPtr out(gst_harness_push_and_pull(hr.get(), random_frame(&info, 7, 0, &in)));
    ASSERT_TRUE(out) << c.format << " " << c.colorimetry;
    const GstVideoInfo oi = current_output(hr.get());
    EXPECT_TRUE(gst_video_colorimetry_is_equal(&oi.colorimetry, &info.colorimetry))
        << c.colorimetry;
    const Codes o = unpack(&oi, out.get());
    EXPECT_TRUE(o.y == in.y) << c.colorimetry;
    const vidcolor::ChromaConversion m =
        vidcolor::chroma_conversion(vidcolor::Matrix::BT601, c.matrix);
    const double cb = m.m[0] * kCb + m.m[1] * kCr, cr = m.m[2] * kCb + m.m[3] * kCr;
    // f's chroma is the bias up to its small weights: a few codes of spread at 10 bits.
    EXPECT_NEAR(mean(o.u), c.offset + c.scale * cb, 0.02 * c.scale)
        << c.format << " " << c.colorimetry;
    EXPECT_NEAR(mean(o.v), c.offset + c.scale * cr, 0.02 * c.scale)
        << c.format << " " << c.colorimetry;
  }
}

// 4:2:2 keeps the chroma's vertical detail: its two chroma rows per 4:2:0 row average to the
// 4:2:0 row (same gray, same f), and differ from each other where the picture changes.
TEST(VcColorizeChroma, FourTwoTwoKeepsTwiceTheVerticalChroma) {
  const int w = 48, h = 32;
  auto run = [&](const char* format, Codes* in_codes) {
    const std::string caps = video_caps(format, w, h, ",colorimetry=bt709");
    const GstVideoInfo info = info_of(caps);
    GstElement* bin = gst_parse_bin_from_description(
        ("vcgray ! vccolorize device=cpu threads=1 model=" + models().varied).c_str(), TRUE,
        nullptr);
    HarnessPtr hr(gst_harness_new_with_element(bin, "sink", "src"));
    gst_object_unref(bin);
    gst_harness_set_src_caps_str(hr.get(), caps.c_str());
    BufferPtr out(gst_harness_push_and_pull(hr.get(), random_frame(&info, 9, 0, in_codes)));
    EXPECT_TRUE(out);
    const GstVideoInfo oi = current_output(hr.get());
    return out ? unpack(&oi, out.get()) : Codes();
  };
  Codes in420, in422;
  const Codes c420 = run("I420_10LE", &in420), c422 = run("I422_10LE", &in422);
  ASSERT_EQ(in420.y, in422.y) << "the same picture";
  ASSERT_EQ(c420.u.size(), c422.u.size());
  int differing_rows = 0;
  double max_err = 0;
  for (int y = 0; y < h; y += 2)
    for (int x = 0; x < w; x += 2) {
      const size_t a = static_cast<size_t>(y) * w + x, b = a + w;
      max_err = std::max(max_err, std::abs((c422.u[a] + c422.u[b]) / 2.0 - c420.u[a]));
      if (c422.u[a] != c422.u[b]) ++differing_rows;
    }
  EXPECT_LE(max_err, 1.0);
  EXPECT_GT(differing_rows, 0) << "4:2:2 has chroma rows of its own";
}

// output-format forces another format: the luma is shifted to its depth, the colorimetry is
// still the input's.
TEST(VidColorize, OutputFormatPropertyForcesAFormat) {
  const std::string caps = video_caps("v210", 48, 32, ",colorimetry=bt709");
  const GstVideoInfo in_info = info_of(caps);
  HarnessPtr hr = chain_harness(caps, "I420");
  Codes in;
  ASSERT_EQ(gst_harness_push(hr.get(), random_frame(&in_info, 3, 0, &in)), GST_FLOW_OK);
  ASSERT_TRUE(gst_harness_push_event(hr.get(), gst_event_new_eos()));
  BufferPtr out(gst_harness_pull(hr.get()));
  ASSERT_TRUE(out);
  const GstVideoInfo oi = current_output(hr.get());
  EXPECT_EQ(GST_VIDEO_INFO_FORMAT(&oi), GST_VIDEO_FORMAT_I420);
  EXPECT_TRUE(gst_video_colorimetry_is_equal(&oi.colorimetry, &in_info.colorimetry));
  const Codes o = unpack(&oi, out.get());
  for (size_t i = 0; i < in.y.size(); ++i) ASSERT_EQ(o.y[i], in.y[i] >> 2) << i;
  GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(hr->element), "output-format");
  ASSERT_NE(spec, nullptr);
  EXPECT_STREQ(
      g_enum_get_value(G_PARAM_SPEC_ENUM(spec)->enum_class, G_PARAM_SPEC_ENUM(spec)->default_value)
          ->value_nick,
      "auto");
}

// A new size and a new format mid-stream: every frame comes out in its own format with its own
// luma.
TEST(VidColorize, ResolutionAndFormatChangeMidStream) {
  const std::string caps[] = {video_caps("I420", 64, 48),
                              video_caps("v210", 50, 30, ",colorimetry=bt709"),
                              video_caps("UYVY", 40, 20)};
  HarnessPtr hr = chain_harness(caps[0]);
  std::map<GstClockTime, std::pair<GstVideoInfo, Codes>> sent;
  int t = 0;
  for (int k = 0; k < 3; ++k) {
    if (k > 0) gst_harness_set_src_caps_str(hr.get(), caps[k].c_str());
    const GstVideoInfo info = info_of(caps[k]);
    for (int i = 0; i < 3; ++i, ++t) {
      Codes c;
      GstBuffer* b = random_frame(&info, 40 + t, t, &c);
      sent[GST_BUFFER_PTS(b)] = {info, c};
      ASSERT_EQ(gst_harness_push(hr.get(), b), GST_FLOW_OK);
    }
  }
  ASSERT_TRUE(gst_harness_push_event(hr.get(), gst_event_new_eos()));
  for (int i = 0; i < t; ++i) {
    BufferPtr out(gst_harness_pull(hr.get()));
    ASSERT_TRUE(out) << i;
    ASSERT_EQ(GST_BUFFER_PTS(out.get()), i * 40 * GST_MSECOND) << "in order";
    const auto& [info, codes] = sent[GST_BUFFER_PTS(out.get())];
    ASSERT_GE(gst_buffer_get_size(out.get()), GST_VIDEO_INFO_SIZE(&info)) << i;
    EXPECT_TRUE(unpack(&info, out.get()).y == codes.y) << "frame " << i;
  }
  const GstVideoInfo last = current_output(hr.get());
  EXPECT_EQ(GST_VIDEO_INFO_FORMAT(&last), GST_VIDEO_FORMAT_UYVY);
  EXPECT_EQ(GST_VIDEO_INFO_WIDTH(&last), 40);
}

// An element between vcgray and vccolorize that converts the gray loses vcgray's source frame:
// the luma is coded back from the gray (exact for codes inside the legal range), with one
// warning on the bus.
TEST(VcColorizeChroma, LostSourceFrameCodesTheLumaBackWithAWarning) {
  const int w = 32, h = 16;
  const std::string caps = video_caps("I420", w, h);
  const GstVideoInfo info = info_of(caps);
  GstElement* bin = gst_parse_bin_from_description(
      ("vcgray ! video/x-raw,format=GRAY8 ! videoconvert ! video/x-raw,format=GRAY16_LE ! "
       "vccolorize device=cpu threads=1 model=" +
       model_path())
          .c_str(),
      TRUE, nullptr);
  ASSERT_NE(bin, nullptr);
  HarnessPtr hr(gst_harness_new_with_element(bin, "sink", "src"));
  gst_object_unref(bin);
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(hr->element, bus);
  gst_harness_set_src_caps_str(hr.get(), caps.c_str());
  Codes in;
  GstBuffer* b = random_frame(&info, 5, 0, &in);
  BufferPtr out(gst_harness_push_and_pull(hr.get(), b));
  ASSERT_TRUE(out);
  const GstVideoInfo oi = current_output(hr.get());
  const Codes o = unpack(&oi, out.get());
  for (size_t i = 0; i < in.y.size(); ++i)
    ASSERT_EQ(o.y[i], std::clamp<int>(in.y[i], 16, 235))
        << "legal codes exact, the rest clipped, at " << i;
  GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING);
  EXPECT_NE(m, nullptr) << "no warning";
  if (m) gst_message_unref(m);
  gst_element_set_bus(hr->element, nullptr);
  gst_object_unref(bus);
}

// A gray source deeper than 8 bits (GRAY16_LE: a film scan) gives 16-bit Y'CbCr by default,
// not 8-bit: its luma codes bit for bit (full range, the networks' space), through the whole
// chain.
TEST(VcColorizeChroma, DeepGraySourceKeepsItsBits) {
  const int w = 40, h = 24;
  const std::string caps = video_caps("GRAY16_LE", w, h);
  const GstVideoInfo in_info = info_of(caps);
  HarnessPtr hr = chain_harness(caps);
  constexpr int kFrames = 2;
  std::vector<Codes> in(kFrames);
  ASSERT_NO_FATAL_FAILURE(push_clip(hr.get(), &in_info, 40, &in));
  for (int t = 0; t < kFrames; ++t) {
    BufferPtr out(gst_harness_pull(hr.get()));
    ASSERT_TRUE(out) << "frame " << t;
    const GstVideoInfo oi = current_output(hr.get());
    ASSERT_EQ(GST_VIDEO_INFO_FORMAT(&oi), GST_VIDEO_FORMAT_P016_LE);
    EXPECT_EQ(oi.colorimetry.range, GST_VIDEO_COLOR_RANGE_0_255);
    const Codes o = unpack(&oi, out.get());
    EXPECT_TRUE(o.y == in[t].y) << "the 16-bit luma codes differ in frame " << t;
    EXPECT_NE(o.u, in[t].u) << "new chroma";
  }
}

}  // namespace

namespace {

// An R'G'B' source keeps its format by default, and its luma in the matrix vcgray used (sRGB:
// BT.709), within rounding: the colour is new, the brightness of every pixel is not.
TEST(VcColorizeRgb, RgbSourceKeepsItsFormatAndItsLuma) {
  const int w = 40, h = 24;
  for (const char* format : {"RGB", "BGRA", "xRGB"}) {
    const std::string caps = video_caps(format, w, h, ",colorimetry=sRGB");
    const GstVideoInfo info = info_of(caps);
    GstElement* bin = gst_parse_bin_from_description(
        ("vcgray ! vccolorize device=cpu threads=1 model=" + models().varied).c_str(), TRUE,
        nullptr);
    HarnessPtr hr(gst_harness_new_with_element(bin, "sink", "src"));
    gst_object_unref(bin);
    gst_harness_set_src_caps_str(hr.get(), caps.c_str());
    std::mt19937 rng(4);
    GstBuffer* in = make_frame(&info, [&](GstVideoFrame* f) {
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w * 4 && x < GST_VIDEO_FRAME_PLANE_STRIDE(f, 0); ++x)
          static_cast<uint8_t*>(
              GST_VIDEO_FRAME_PLANE_DATA(f, 0))[y * GST_VIDEO_FRAME_PLANE_STRIDE(f, 0) + x] =
              static_cast<uint8_t>(60 + rng() % 120);
    });
    auto luma709 = [&](GstBuffer* b, const GstVideoInfo* vi, std::vector<double>* out) {
      GstVideoFrame f;
      ASSERT_TRUE(gst_video_frame_map(&f, vi, b, GST_MAP_READ));
      const vidcolor::LumaWeights k = vidcolor::luma_weights(vidcolor::Matrix::BT709);
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          const uint8_t* p = static_cast<const uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&f, 0)) +
                             y * GST_VIDEO_FRAME_PLANE_STRIDE(&f, 0) +
                             x * GST_VIDEO_FRAME_COMP_PSTRIDE(&f, 0);
          out->push_back(k.kr * p[GST_VIDEO_FRAME_COMP_POFFSET(&f, 0)] +
                         k.kg * p[GST_VIDEO_FRAME_COMP_POFFSET(&f, 1)] +
                         k.kb * p[GST_VIDEO_FRAME_COMP_POFFSET(&f, 2)]);
        }
      gst_video_frame_unmap(&f);
    };
    std::vector<double> before, after;
    luma709(in, &info, &before);
    BufferPtr out(gst_harness_push_and_pull(hr.get(), in));
    ASSERT_TRUE(out) << format;
    const GstVideoInfo oi = current_output(hr.get());
    EXPECT_EQ(GST_VIDEO_INFO_FORMAT(&oi), GST_VIDEO_INFO_FORMAT(&info)) << format;
    luma709(out.get(), &oi, &after);
    double max_err = 0;
    for (size_t i = 0; i < before.size(); ++i)
      max_err = std::max(max_err, std::abs(after[i] - before[i]));
    EXPECT_LE(max_err, 1.5) << format;
  }
}

}  // namespace

// ---- Metadata and buffer flags (issue 20, point 3)

namespace {

// What one frame carries besides its pixels, written on input frame i and expected on output
// frame i (vcrefine pushes frames from its look-ahead window, where BaseTransform's copying
// does not apply).
void add_side_data(GstBuffer* b, int i) {
  gst_buffer_add_video_time_code_meta_full(b, 25, 1, nullptr, GST_VIDEO_TIME_CODE_FLAGS_NONE, 10, 0,
                                           1, i, 0);
  const guint8 cdp[] = {0x96, 0x69, 0x0b, 0x4f, 0x43, static_cast<guint8>(i),
                        0x72, 0xe1, 0xfc, 0x80, 0x80};
  gst_buffer_add_video_caption_meta(b, GST_VIDEO_CAPTION_TYPE_CEA708_CDP, cdp, sizeof(cdp));
  const guint8 cc608[] = {0x14, static_cast<guint8>(0x20 + i)};
  gst_buffer_add_video_caption_meta(b, GST_VIDEO_CAPTION_TYPE_CEA608_RAW, cc608, sizeof(cc608));
  gst_buffer_add_video_afd_meta(
      b, 0, GST_VIDEO_AFD_SPEC_SMPTE_ST2016_1,
      i % 2 ? GST_VIDEO_AFD_16_9_LETTER_16_9_FULL : GST_VIDEO_AFD_4_3_FULL_16_9_FULL);
  gst_buffer_add_video_bar_meta(b, 0, TRUE, 10 + i, 100 - i);
  const guint8 uuid[16] = {1, 2,  3,  4,  5,  6,  7,  8,
                           9, 10, 11, 12, 13, 14, 15, static_cast<guint8>(i)};
  const guint8 sei[] = {0xaa, static_cast<guint8>(i)};
  gst_buffer_add_video_sei_user_data_unregistered_meta(b, const_cast<guint8*>(uuid),
                                                       const_cast<guint8*>(sei), sizeof(sei));
}

// The flags of frame i: a mix of discont, header, delta, and the interlace flags.
guint flags_of(int i) {
  const guint all[] = {
      GST_BUFFER_FLAG_DISCONT | GST_BUFFER_FLAG_HEADER,
      GST_VIDEO_BUFFER_FLAG_INTERLACED | GST_VIDEO_BUFFER_FLAG_TFF | GST_VIDEO_BUFFER_FLAG_RFF,
      GST_VIDEO_BUFFER_FLAG_INTERLACED | GST_VIDEO_BUFFER_FLAG_ONEFIELD | GST_VIDEO_BUFFER_FLAG_TFF,
      GST_BUFFER_FLAG_DELTA_UNIT,
      GST_VIDEO_BUFFER_FLAG_INTERLACED,
      0};
  return all[i % G_N_ELEMENTS(all)];
}

void expect_side_data(GstBuffer* b, int i) {
  SCOPED_TRACE("output frame " + std::to_string(i));
  GstVideoTimeCodeMeta* tc = gst_buffer_get_video_time_code_meta(b);
  ASSERT_NE(tc, nullptr);
  EXPECT_EQ(tc->tc.frames, static_cast<guint>(i));
  EXPECT_EQ(tc->tc.hours, 10u);
  int cdp = 0, cea608 = 0;
  gpointer state = nullptr;
  while (GstMeta* m =
             gst_buffer_iterate_meta_filtered(b, &state, GST_VIDEO_CAPTION_META_API_TYPE)) {
    auto* cc = reinterpret_cast<GstVideoCaptionMeta*>(m);
    if (cc->caption_type == GST_VIDEO_CAPTION_TYPE_CEA708_CDP) {
      ++cdp;
      ASSERT_EQ(cc->size, 11u);
      EXPECT_EQ(cc->data[5], i);
    } else if (cc->caption_type == GST_VIDEO_CAPTION_TYPE_CEA608_RAW) {
      ++cea608;
      ASSERT_EQ(cc->size, 2u);
      EXPECT_EQ(cc->data[1], 0x20 + i);
    }
  }
  EXPECT_EQ(cdp, 1);
  EXPECT_EQ(cea608, 1);
  GstVideoAFDMeta* afd = gst_buffer_get_video_afd_meta(b);
  ASSERT_NE(afd, nullptr);
  EXPECT_EQ(afd->afd,
            i % 2 ? GST_VIDEO_AFD_16_9_LETTER_16_9_FULL : GST_VIDEO_AFD_4_3_FULL_16_9_FULL);
  GstVideoBarMeta* bar = gst_buffer_get_video_bar_meta(b);
  ASSERT_NE(bar, nullptr);
  EXPECT_EQ(bar->bar_data1, static_cast<guint>(10 + i));
  GstVideoSEIUserDataUnregisteredMeta* sei =
      gst_buffer_get_video_sei_user_data_unregistered_meta(b);
  ASSERT_NE(sei, nullptr);
  EXPECT_EQ(sei->uuid[15], i);
  ASSERT_EQ(sei->size, 2u);
  EXPECT_EQ(sei->data[1], i);
  const guint kept = GST_BUFFER_FLAG_DISCONT | GST_BUFFER_FLAG_HEADER | GST_BUFFER_FLAG_DELTA_UNIT |
                     GST_BUFFER_FLAG_GAP | GST_VIDEO_BUFFER_FLAG_INTERLACED |
                     GST_VIDEO_BUFFER_FLAG_TFF | GST_VIDEO_BUFFER_FLAG_RFF |
                     GST_VIDEO_BUFFER_FLAG_ONEFIELD;
  EXPECT_EQ(GST_BUFFER_FLAGS(b) & kept, flags_of(i)) << std::hex << GST_BUFFER_FLAGS(b);
}

class SideData : public ::testing::TestWithParam<std::tuple<const char*, guint>> {};

// Timecode, CEA-708 and CEA-608 captions, AFD, bar data, SEI user data and the buffer flags of
// frame N are on output frame N after vidcolorize, for a window of 1 and of 2 x 2 iterations
// (frames held up to 4 frames), in an 8-bit and a 10-bit format, mixed interlacing kept.
TEST_P(SideData, EachFramesMetasAndFlagsReachItsOutputFrame) {
  const char* format = std::get<0>(GetParam());
  const guint window = std::get<1>(GetParam());
  const std::string caps = video_caps(format, 48, 32, ",interlace-mode=mixed,colorimetry=bt709");
  const GstVideoInfo info = info_of(caps);
  HarnessPtr hr = chain_harness(caps);
  gst_child_proxy_set(GST_CHILD_PROXY(hr->element), "refine::window", window, "refine::iterations",
                      window, nullptr);
  constexpr int kFrames = 7;
  for (int i = 0; i < kFrames; ++i) {
    GstBuffer* b = random_frame(&info, 60 + i, i, nullptr);
    add_side_data(b, i);
    GST_BUFFER_FLAGS(b) |= flags_of(i);
    ASSERT_EQ(gst_harness_push(hr.get(), b), GST_FLOW_OK) << i;
  }
  ASSERT_TRUE(gst_harness_push_event(hr.get(), gst_event_new_eos()));
  for (int i = 0; i < kFrames; ++i) {
    BufferPtr out(gst_harness_pull(hr.get()));
    ASSERT_TRUE(out) << i;
    ASSERT_EQ(GST_BUFFER_PTS(out.get()), i * 40 * GST_MSECOND);
    expect_side_data(out.get(), i);
  }
  const GstVideoInfo oi = current_output(hr.get());
  EXPECT_EQ(GST_VIDEO_INFO_INTERLACE_MODE(&oi), GST_VIDEO_INTERLACE_MODE_MIXED);
}

INSTANTIATE_TEST_SUITE_P(Chain, SideData,
                         ::testing::Combine(::testing::Values("I420", "v210"),
                                            ::testing::Values(1u, 2u)));

// A GAP buffer (no real picture) goes through as a GAP buffer, in order, with its metas.
TEST(SideDataGap, GapFlagKept) {
  const std::string caps = video_caps("UYVY", 32, 16);
  const GstVideoInfo info = info_of(caps);
  HarnessPtr hr = chain_harness(caps);
  for (int i = 0; i < 3; ++i) {
    GstBuffer* b = random_frame(&info, 80 + i, i, nullptr);
    gst_buffer_add_video_time_code_meta_full(b, 25, 1, nullptr, GST_VIDEO_TIME_CODE_FLAGS_NONE, 1,
                                             0, 0, i, 0);
    if (i == 1) GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_GAP);
    ASSERT_EQ(gst_harness_push(hr.get(), b), GST_FLOW_OK);
  }
  ASSERT_TRUE(gst_harness_push_event(hr.get(), gst_event_new_eos()));
  for (int i = 0; i < 3; ++i) {
    BufferPtr out(gst_harness_pull(hr.get()));
    ASSERT_TRUE(out);
    EXPECT_EQ(GST_BUFFER_FLAG_IS_SET(out.get(), GST_BUFFER_FLAG_GAP), i == 1) << i;
    GstVideoTimeCodeMeta* tc = gst_buffer_get_video_time_code_meta(out.get());
    ASSERT_NE(tc, nullptr) << i;
    EXPECT_EQ(tc->tc.frames, static_cast<guint>(i));
  }
}

}  // namespace
