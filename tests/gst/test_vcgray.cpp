// vcgray through GstHarness: values per matrix, every sink format, odd sizes and strides,
// passthrough, 16-bit, negotiation failure, short buffers, timestamps.
#include <cstring>
#include <vector>

#include "gst_test_util.hpp"

using namespace vctest;

VCTEST_GST_MAIN_ENV;

namespace {

// Pulls one GRAY8 frame's pixels (without stride padding).
std::vector<uint8_t> gray_pixels(GstHarness* h, GstBuffer* out, int* w = nullptr) {
  GstCaps* caps = gst_pad_get_current_caps(h->sinkpad);
  GstVideoInfo info;
  EXPECT_TRUE(gst_video_info_from_caps(&info, caps));
  gst_caps_unref(caps);
  GstVideoFrame frame;
  std::vector<uint8_t> px;
  if (!gst_video_frame_map(&frame, &info, out, GST_MAP_READ)) return px;
  const int width = GST_VIDEO_FRAME_WIDTH(&frame), height = GST_VIDEO_FRAME_HEIGHT(&frame);
  for (int y = 0; y < height; ++y) {
    const uint8_t* row = static_cast<const uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, 0)) +
                         y * GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0);
    px.insert(px.end(), row, row + width);
  }
  gst_video_frame_unmap(&frame);
  if (w) *w = width;
  return px;
}

// Fills a frame of any supported format with one color: R'G'B' = rgb for RGB formats,
// Y = y (chroma 128) for Y'CbCr and gray formats.
void fill_uniform(GstVideoFrame* f, const uint8_t rgb[3], uint8_t y) {
  const GstVideoFormatInfo* fi = f->info.finfo;
  const int w = GST_VIDEO_FRAME_WIDTH(f), h = GST_VIDEO_FRAME_HEIGHT(f);
  if (GST_VIDEO_FORMAT_INFO_IS_RGB(fi)) {
    const int ps = GST_VIDEO_FRAME_COMP_PSTRIDE(f, 0);
    for (int yy = 0; yy < h; ++yy) {
      uint8_t* row = static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(f, 0)) +
                     yy * GST_VIDEO_FRAME_PLANE_STRIDE(f, 0);
      std::memset(row, 0x5a, GST_VIDEO_FRAME_PLANE_STRIDE(f, 0));  // alpha/padding garbage
      for (int x = 0; x < w; ++x)
        for (int c = 0; c < 3; ++c) row[x * ps + GST_VIDEO_FORMAT_INFO_POFFSET(fi, c)] = rgb[c];
    }
    return;
  }
  if (GST_VIDEO_FRAME_FORMAT(f) == GST_VIDEO_FORMAT_GRAY16_LE) {
    for (int yy = 0; yy < h; ++yy) {
      uint16_t* row =
          reinterpret_cast<uint16_t*>(static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(f, 0)) +
                                      yy * GST_VIDEO_FRAME_PLANE_STRIDE(f, 0));
      for (int x = 0; x < w; ++x) row[x] = static_cast<uint16_t>(y * 257);
    }
    return;
  }
  // Planar / semi-planar / packed Y'CbCr: set every plane to 128, then write Y.
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(f); ++p) {
    const int ph = GST_VIDEO_FRAME_COMP_HEIGHT(f, p == 0 ? 0 : 1);
    std::memset(GST_VIDEO_FRAME_PLANE_DATA(f, p), 128,
                static_cast<size_t>(GST_VIDEO_FRAME_PLANE_STRIDE(f, p)) * (p == 0 ? h : ph));
  }
  const int ps = GST_VIDEO_FRAME_COMP_PSTRIDE(f, 0);
  for (int yy = 0; yy < h; ++yy) {
    uint8_t* row = static_cast<uint8_t*>(GST_VIDEO_FRAME_COMP_DATA(f, 0)) +
                   yy * GST_VIDEO_FRAME_COMP_STRIDE(f, 0);
    for (int x = 0; x < w; ++x) row[x * ps] = y;
  }
}

struct FormatCase {
  const char* format;
  const char* extra_caps;
  uint8_t value_in;  // gray level written (RGB: all three components; YUV: Y)
  uint8_t expected;  // GRAY8 output
};

class EveryFormat : public ::testing::TestWithParam<std::tuple<FormatCase, std::pair<int, int>>> {};

TEST_P(EveryFormat, ProducesExpectedLuma) {
  const FormatCase fc = std::get<0>(GetParam());
  const auto [w, h] = std::get<1>(GetParam());
  HarnessPtr harness = make_harness("vcgray");
  GstHarness* hs = harness.get();
  const std::string caps = video_caps(fc.format, w, h, fc.extra_caps);
  gst_harness_set_src_caps_str(hs, caps.c_str());
  gst_harness_set_sink_caps_str(hs, "video/x-raw,format=GRAY8");

  GstVideoInfo info;
  GstCaps* c = gst_caps_from_string(caps.c_str());
  ASSERT_TRUE(gst_video_info_from_caps(&info, c));
  gst_caps_unref(c);
  const uint8_t rgb[3] = {fc.value_in, fc.value_in, fc.value_in};
  GstBuffer* in = make_frame(&info, [&](GstVideoFrame* f) { fill_uniform(f, rgb, fc.value_in); });
  ASSERT_NE(in, nullptr);
  GST_BUFFER_PTS(in) = 40 * GST_MSECOND;
  GST_BUFFER_DURATION(in) = 40 * GST_MSECOND;

  BufferPtr out(gst_harness_push_and_pull(hs, in));
  ASSERT_NE(out, nullptr) << fc.format;
  EXPECT_EQ(GST_BUFFER_PTS(out.get()), 40 * GST_MSECOND);
  EXPECT_EQ(GST_BUFFER_DURATION(out.get()), 40 * GST_MSECOND);
  const std::vector<uint8_t> px = gray_pixels(hs, out.get());
  ASSERT_EQ(px.size(), static_cast<size_t>(w * h));
  for (size_t i = 0; i < px.size(); ++i)
    ASSERT_EQ(px[i], fc.expected) << fc.format << " " << w << "x" << h << " at " << i;
}

const FormatCase kFormats[] = {
    {"RGB", "", 100, 100},
    {"BGR", "", 100, 100},
    {"RGBx", "", 100, 100},
    {"BGRx", "", 100, 100},
    {"xRGB", "", 100, 100},
    {"xBGR", "", 100, 100},
    {"RGBA", "", 100, 100},
    {"BGRA", "", 100, 100},
    {"ARGB", "", 100, 100},
    {"ABGR", "", 100, 100},
    {"GRAY8", "", 100, 100},
    {"GRAY16_LE", "", 100, 100},
    // Y'CbCr defaults to limited range: 126 -> (126 - 16) * 255 / 219 = 128.08
    {"I420", "", 126, 128},
    {"YV12", "", 126, 128},
    {"NV12", "", 126, 128},
    {"NV21", "", 126, 128},
    {"YUY2", "", 126, 128},
    {"UYVY", "", 126, 128},
    {"I420", ",colorimetry=(string)1:4:0:0", 126, 126},  // full range: copied as is
};

INSTANTIATE_TEST_SUITE_P(
    Formats, EveryFormat,
    ::testing::Combine(::testing::ValuesIn(kFormats),
                       ::testing::Values(std::make_pair(64, 48), std::make_pair(7, 5),
                                         std::make_pair(1, 1), std::make_pair(33, 17))));

// A red frame through each matrix gives the ITU weights.
struct MatrixCase {
  const char* matrix;
  const char* extra_caps;
  uint8_t expected;
};

class RedByMatrix : public ::testing::TestWithParam<MatrixCase> {};

TEST_P(RedByMatrix, WeightsFollowMatrix) {
  const MatrixCase mc = GetParam();
  HarnessPtr harness = make_harness("vcgray");
  GstHarness* hs = harness.get();
  gst_util_set_object_arg(G_OBJECT(hs->element), "matrix", mc.matrix);
  const std::string caps = video_caps("RGB", 16, 8, mc.extra_caps);
  gst_harness_set_src_caps_str(hs, caps.c_str());
  GstVideoInfo info;
  GstCaps* c = gst_caps_from_string(caps.c_str());
  ASSERT_TRUE(gst_video_info_from_caps(&info, c));
  gst_caps_unref(c);
  const uint8_t red[3] = {255, 0, 0};
  BufferPtr out(gst_harness_push_and_pull(
      hs, make_frame(&info, [&](GstVideoFrame* f) { fill_uniform(f, red, 0); })));
  ASSERT_NE(out, nullptr);
  for (uint8_t v : gray_pixels(hs, out.get())) ASSERT_EQ(v, mc.expected) << mc.matrix;
}

INSTANTIATE_TEST_SUITE_P(Matrices, RedByMatrix,
                         ::testing::Values(MatrixCase{"bt601", "", 76}, MatrixCase{"bt709", "", 54},
                                           MatrixCase{"bt2020", "", 67},
                                           // auto: sRGB primaries are BT.709's
                                           MatrixCase{"auto", ",colorimetry=(string)sRGB", 54},
                                           // auto: RGB with BT.2020 primaries
                                           MatrixCase{"auto", ",colorimetry=(string)1:1:0:7", 67}));

TEST(VcGray, Gray8FullRangeIsPassthrough) {
  HarnessPtr harness = make_harness("vcgray");
  GstHarness* hs = harness.get();
  gst_harness_set_src_caps_str(hs, video_caps("GRAY8", 8, 4).c_str());
  GstBuffer* in = gst_harness_create_buffer(hs, 32);
  gst_buffer_memset(in, 0, 7, 32);
  GstBuffer* expected = in;
  BufferPtr out(gst_harness_push_and_pull(hs, in));
  EXPECT_EQ(out.get(), expected);
}

TEST(VcGray, Gray16KeepsPrecision) {
  HarnessPtr harness = make_harness("vcgray");
  GstHarness* hs = harness.get();
  gst_harness_set_src_caps_str(hs, video_caps("GRAY16_LE", 4, 2).c_str());
  gst_harness_set_sink_caps_str(hs, "video/x-raw,format=GRAY16_LE");
  GstBuffer* in = gst_harness_create_buffer(hs, 16);
  GstMapInfo map;
  ASSERT_TRUE(gst_buffer_map(in, &map, GST_MAP_WRITE));
  for (int i = 0; i < 8; ++i)
    reinterpret_cast<uint16_t*>(map.data)[i] = static_cast<uint16_t>(1000 + i);
  gst_buffer_unmap(in, &map);
  BufferPtr out(gst_harness_push_and_pull(hs, in));
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(gst_buffer_map(out.get(), &map, GST_MAP_READ));
  for (int i = 0; i < 8; ++i) EXPECT_EQ(reinterpret_cast<uint16_t*>(map.data)[i], 1000 + i);
  gst_buffer_unmap(out.get(), &map);
}

TEST(VcGray, Gray16DefaultsTo16BitOutput) {
  HarnessPtr harness = make_harness("vcgray");
  GstHarness* hs = harness.get();
  gst_harness_set_src_caps_str(hs, video_caps("GRAY16_LE", 4, 2).c_str());
  BufferPtr out(gst_harness_push_and_pull(hs, gst_harness_create_buffer(hs, 16)));
  ASSERT_NE(out, nullptr);
  CapsPtr caps(gst_pad_get_current_caps(hs->sinkpad));
  EXPECT_STREQ(gst_structure_get_string(gst_caps_get_structure(caps.get(), 0), "format"),
               "GRAY16_LE");
}

TEST(VcGray, UnsupportedCapsFailNegotiation) {
  HarnessPtr harness = make_harness("vcgray");
  GstHarness* hs = harness.get();
  gst_harness_set_src_caps_str(hs, video_caps("AYUV64", 8, 8).c_str());
  GstFlowReturn ret = gst_harness_push(hs, gst_harness_create_buffer(hs, 512));
  EXPECT_EQ(ret, GST_FLOW_NOT_NEGOTIATED);
  EXPECT_FALSE(gst_pad_query_accept_caps(
      hs->srcpad->peer, CapsPtr(gst_caps_from_string(video_caps("AYUV64", 8, 8).c_str())).get()));
}

TEST(VcGray, ShortBufferIsAnErrorNotAnOverread) {
  HarnessPtr harness = make_harness("vcgray");
  GstHarness* hs = harness.get();
  gst_harness_set_src_caps_str(hs, video_caps("RGB", 64, 48).c_str());
  GstFlowReturn ret = gst_harness_push(hs, gst_harness_create_buffer(hs, 100));
  EXPECT_EQ(ret, GST_FLOW_ERROR);
}

TEST(VcGray, RealPipelineFromVideotestsrc) {
  const std::string err = run_pipeline(
      "videotestsrc num-buffers=10 ! video/x-raw,format=NV12,width=321,height=241 ! vcgray ! "
      "video/x-raw,format=GRAY8 ! fakesink");
  EXPECT_EQ(err, "");
}

TEST(VcGray, InspectableProperty) {
  GstElement* e = gst_element_factory_make("vcgray", nullptr);
  ASSERT_NE(e, nullptr);
  GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(e), "matrix");
  ASSERT_NE(spec, nullptr);
  EXPECT_STREQ(
      g_enum_get_value(G_PARAM_SPEC_ENUM(spec)->enum_class, G_PARAM_SPEC_ENUM(spec)->default_value)
          ->value_nick,
      "auto");
  gst_object_unref(e);
}

}  // namespace
