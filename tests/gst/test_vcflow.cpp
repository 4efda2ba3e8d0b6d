// vcflow through GstHarness and in pipelines: meta present from frame 2, absent after
// start / flush / DISCONT / caps change, flow direction and size on a real frame moved by
// a known shift in every format, video untouched, no latency, the meta surviving queue,
// identity, videoconvert and videoscale, frames in == frames out.
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../../gst/vcflowmeta.h"
#include "gst_test_util.hpp"
#include "vidcolor-config.h"

using namespace vctest;

VCTEST_GST_MAIN_ENV;

namespace {

constexpr int kW = 320, kH = 180;

std::string shared_data() {
  const char* env = std::getenv("VIDCOLOR_SHARED_DATA");
  return env != nullptr ? env : VIDCOLOR_SHARED_DATA_DIR;
}

// A real DAVIS frame as gray, resized to w x h.
cv::Mat davis_gray(int index, int w = kW, int h = kH) {
  char name[64];
  std::snprintf(name, sizeof name, "/videos/davis2016/bmx-trees/%05d.jpg", index);
  cv::Mat img = cv::imread(shared_data() + name, cv::IMREAD_GRAYSCALE);
  if (img.empty()) {
    ADD_FAILURE() << "cannot read " << shared_data() + name;
    return cv::Mat(h, w, CV_8UC1, cv::Scalar(0));
  }
  cv::Mat out;
  cv::resize(img, out, cv::Size(w, h), 0, 0, cv::INTER_AREA);
  return out;
}

// `img` moved by (dx, dy): out(x) = img(x - d), so the flow img -> out is +d.
cv::Mat shifted(const cv::Mat& img, double dx, double dy) {
  const cv::Mat m = (cv::Mat_<double>(2, 3) << 1, 0, dx, 0, 1, dy);
  cv::Mat out;
  cv::warpAffine(img, out, m, img.size(), cv::INTER_LINEAR, cv::BORDER_REFLECT101);
  return out;
}

// A buffer of `format` holding the gray picture (converted by GstVideoConverter).
GstBuffer* frame_of(const cv::Mat& gray, const char* format, GstClockTime pts) {
  GstVideoInfo gi, oi;
  gst_video_info_set_format(&gi, GST_VIDEO_FORMAT_GRAY8, gray.cols, gray.rows);
  gst_video_info_set_format(&oi, gst_video_format_from_string(format), gray.cols, gray.rows);
  GstBuffer* g = make_frame(&gi, [&](GstVideoFrame* f) {
    for (int y = 0; y < gray.rows; ++y)
      std::memcpy(static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(f, 0)) +
                      y * GST_VIDEO_FRAME_PLANE_STRIDE(f, 0),
                  gray.ptr(y), gray.cols);
  });
  GstVideoFrame in;
  gst_video_frame_map(&in, &gi, g, GST_MAP_READ);
  GstVideoConverter* conv = gst_video_converter_new(&gi, &oi, nullptr);
  GstBuffer* out =
      make_frame(&oi, [&](GstVideoFrame* f) { gst_video_converter_frame(conv, &in, f); });
  gst_video_converter_free(conv);
  gst_video_frame_unmap(&in);
  gst_buffer_unref(g);
  GST_BUFFER_PTS(out) = pts;
  GST_BUFFER_DURATION(out) = 40 * GST_MSECOND;
  return out;
}

std::vector<uint8_t> bytes_of(GstBuffer* b) {
  GstMapInfo map;
  gst_buffer_map(b, &map, GST_MAP_READ);
  std::vector<uint8_t> v(map.data, map.data + map.size);
  gst_buffer_unmap(b, &map);
  return v;
}

struct MeanFlow {
  double bx, by, fx, fy, valid_b, valid_f;
};

// Means over the interior (a 4-pixel margin) of the meta's flows and masks.
MeanFlow mean_flow(const GstVcFlowMeta* m) {
  const float* b = gst_vc_flow_meta_backward_data(m);
  const float* f = gst_vc_flow_meta_forward_data(m);
  const guint8* bv = gst_vc_flow_meta_backward_valid_data(m);
  const guint8* fv = gst_vc_flow_meta_forward_valid_data(m);
  MeanFlow r{0, 0, 0, 0, 0, 0};
  long n = 0;
  for (guint y = 4; y + 4 < m->height; ++y)
    for (guint x = 4; x + 4 < m->width; ++x) {
      const size_t i = y * m->width + x;
      r.bx += b[2 * i];
      r.by += b[2 * i + 1];
      r.fx += f[2 * i];
      r.fy += f[2 * i + 1];
      r.valid_b += bv[i];
      r.valid_f += fv[i];
      ++n;
    }
  r.bx /= n, r.by /= n, r.fx /= n, r.fy /= n, r.valid_b /= n, r.valid_f /= n;
  return r;
}

HarnessPtr flow_harness(const char* format = "I420", int w = kW, int h = kH) {
  HarnessPtr h_(gst_harness_new("vcflow"));
  gst_harness_set_src_caps_str(h_.get(), video_caps(format, w, h).c_str());
  return h_;
}

// Pushes a frame and pulls the result; returns it (owned) or nullptr.
GstBuffer* push_pull(GstHarness* h, GstBuffer* in) {
  if (gst_harness_push(h, in) != GST_FLOW_OK) return nullptr;
  return gst_harness_pull(h);
}

}  // namespace

TEST(VcFlow, MetaFromTheSecondFrameWithItsResolution) {
  auto h = flow_harness();
  for (int i = 0; i < 4; ++i) {
    GstBuffer* in = frame_of(davis_gray(i), "I420", i * 40 * GST_MSECOND);
    const auto before = bytes_of(in);
    BufferPtr out(push_pull(h.get(), in));
    ASSERT_TRUE(out);
    // The video passes untouched, with its timestamps.
    EXPECT_EQ(bytes_of(out.get()), before) << "frame " << i;
    EXPECT_EQ(GST_BUFFER_PTS(out.get()), i * 40 * GST_MSECOND);
    EXPECT_EQ(GST_BUFFER_DURATION(out.get()), 40 * GST_MSECOND);
    GstVcFlowMeta* m = gst_buffer_get_vc_flow_meta(out.get());
    if (i == 0) {
      EXPECT_EQ(m, nullptr) << "the first frame has no previous frame";
      continue;
    }
    ASSERT_NE(m, nullptr) << "frame " << i;
    EXPECT_EQ(m->width, 160u);  // scale 0.5 by default
    EXPECT_EQ(m->height, 90u);
    EXPECT_EQ(m->frame_width, static_cast<guint>(kW));
    EXPECT_EQ(m->frame_height, static_cast<guint>(kH));
    EXPECT_EQ(g_bytes_get_size(m->backward), 160u * 90 * 2 * sizeof(float));
    EXPECT_EQ(g_bytes_get_size(m->forward), 160u * 90 * 2 * sizeof(float));
    EXPECT_EQ(g_bytes_get_size(m->backward_valid), 160u * 90);
    EXPECT_EQ(g_bytes_get_size(m->forward_valid), 160u * 90);
  }
}

TEST(VcFlow, ScalePropertySetsTheFlowSize) {
  auto h = flow_harness();
  g_object_set(h->element, "scale", 0.25, "backend", 2 /* dis-medium */, nullptr);
  BufferPtr a(push_pull(h.get(), frame_of(davis_gray(0), "I420", 0)));
  BufferPtr b(push_pull(h.get(), frame_of(davis_gray(1), "I420", 40 * GST_MSECOND)));
  ASSERT_TRUE(b);
  GstVcFlowMeta* m = gst_buffer_get_vc_flow_meta(b.get());
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->width, 80u);
  EXPECT_EQ(m->height, 45u);
}

// Known motion in every format: frame t is frame t-1 moved by (+6, +4) px, so at scale 0.5
// the backward flow is (-3, -2) and the forward flow (+3, +2).
class VcFlowFormats : public ::testing::TestWithParam<const char*> {};

TEST_P(VcFlowFormats, KnownShiftGivesTheRightFlowBothWays) {
  const char* format = GetParam();
  auto h = flow_harness(format);
  g_object_set(h->element, "backend", 2 /* dis-medium */, nullptr);
  const cv::Mat a = davis_gray(10);
  BufferPtr o1(push_pull(h.get(), frame_of(a, format, 0)));
  GstBuffer* in2 = frame_of(shifted(a, 6.0, 4.0), format, 40 * GST_MSECOND);
  const auto before = bytes_of(in2);
  BufferPtr o2(push_pull(h.get(), in2));
  ASSERT_TRUE(o1 && o2);
  EXPECT_EQ(bytes_of(o2.get()), before);
  EXPECT_EQ(gst_buffer_get_vc_flow_meta(o1.get()), nullptr);
  const GstVcFlowMeta* m = gst_buffer_get_vc_flow_meta(o2.get());
  ASSERT_NE(m, nullptr);
  const MeanFlow mf = mean_flow(m);
  std::printf("%-9s backward (%.3f, %.3f) forward (%.3f, %.3f) valid %.3f / %.3f\n", format, mf.bx,
              mf.by, mf.fx, mf.fy, mf.valid_b, mf.valid_f);
  EXPECT_NEAR(mf.bx, -3.0, 0.25);
  EXPECT_NEAR(mf.by, -2.0, 0.25);
  EXPECT_NEAR(mf.fx, 3.0, 0.25);
  EXPECT_NEAR(mf.fy, 2.0, 0.25);
  EXPECT_GT(mf.valid_b, 0.9);
  EXPECT_GT(mf.valid_f, 0.9);
}

INSTANTIATE_TEST_SUITE_P(Formats, VcFlowFormats,
                         ::testing::Values("GRAY8", "GRAY16_LE", "I420", "NV12", "Y444", "YUY2",
                                           "RGB", "BGRx", "RGBA", "ABGR"));

TEST(VcFlow, UnrelatedFramesAreMostlyInvalid) {
  // Two different sequences: no flow is consistent forward and backward over most of it.
  auto h = flow_harness();
  BufferPtr a(push_pull(h.get(), frame_of(davis_gray(0), "I420", 0)));
  char name[64];
  std::snprintf(name, sizeof name, "/videos/davis2016/%s/%05d.jpg", "camel", 0);
  cv::Mat other = cv::imread(shared_data() + name, cv::IMREAD_GRAYSCALE);
  ASSERT_FALSE(other.empty());
  cv::resize(other, other, cv::Size(kW, kH), 0, 0, cv::INTER_AREA);
  BufferPtr b(push_pull(h.get(), frame_of(other, "I420", 40 * GST_MSECOND)));
  const GstVcFlowMeta* m = gst_buffer_get_vc_flow_meta(b.get());
  ASSERT_NE(m, nullptr);
  const MeanFlow mf = mean_flow(m);
  std::printf("unrelated frames: valid %.3f / %.3f\n", mf.valid_b, mf.valid_f);
  EXPECT_LT(mf.valid_b, 0.7);
}

TEST(VcFlow, NoMetaAfterFlush) {
  auto h = flow_harness();
  BufferPtr a(push_pull(h.get(), frame_of(davis_gray(0), "I420", 0)));
  BufferPtr b(push_pull(h.get(), frame_of(davis_gray(1), "I420", 40 * GST_MSECOND)));
  ASSERT_NE(gst_buffer_get_vc_flow_meta(b.get()), nullptr);
  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_flush_start()));
  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_flush_stop(TRUE)));
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_segment(&seg)));
  BufferPtr c(push_pull(h.get(), frame_of(davis_gray(2), "I420", 0)));
  ASSERT_TRUE(c);
  EXPECT_EQ(gst_buffer_get_vc_flow_meta(c.get()), nullptr) << "first frame after a flush";
  BufferPtr d(push_pull(h.get(), frame_of(davis_gray(3), "I420", 40 * GST_MSECOND)));
  EXPECT_NE(gst_buffer_get_vc_flow_meta(d.get()), nullptr);
}

TEST(VcFlow, NoMetaOnADiscontBuffer) {
  auto h = flow_harness();
  BufferPtr a(push_pull(h.get(), frame_of(davis_gray(0), "I420", 0)));
  BufferPtr b(push_pull(h.get(), frame_of(davis_gray(1), "I420", 40 * GST_MSECOND)));
  ASSERT_NE(gst_buffer_get_vc_flow_meta(b.get()), nullptr);
  GstBuffer* in = frame_of(davis_gray(2), "I420", 80 * GST_MSECOND);
  GST_BUFFER_FLAG_SET(in, GST_BUFFER_FLAG_DISCONT);
  BufferPtr c(push_pull(h.get(), in));
  ASSERT_TRUE(c);
  EXPECT_EQ(gst_buffer_get_vc_flow_meta(c.get()), nullptr) << "DISCONT: no previous frame";
  EXPECT_TRUE(GST_BUFFER_FLAG_IS_SET(c.get(), GST_BUFFER_FLAG_DISCONT)) << "flag kept";
  BufferPtr d(push_pull(h.get(), frame_of(davis_gray(3), "I420", 120 * GST_MSECOND)));
  EXPECT_NE(gst_buffer_get_vc_flow_meta(d.get()), nullptr);
}

TEST(VcFlow, NoMetaAfterACapsChange) {
  auto h = flow_harness();
  BufferPtr a(push_pull(h.get(), frame_of(davis_gray(0), "I420", 0)));
  BufferPtr b(push_pull(h.get(), frame_of(davis_gray(1), "I420", 40 * GST_MSECOND)));
  ASSERT_NE(gst_buffer_get_vc_flow_meta(b.get()), nullptr);
  gst_harness_set_src_caps_str(h.get(), video_caps("I420", 256, 144).c_str());
  BufferPtr c(push_pull(h.get(), frame_of(davis_gray(2, 256, 144), "I420", 80 * GST_MSECOND)));
  ASSERT_TRUE(c);
  EXPECT_EQ(gst_buffer_get_vc_flow_meta(c.get()), nullptr) << "first frame after new caps";
  BufferPtr d(push_pull(h.get(), frame_of(davis_gray(3, 256, 144), "I420", 120 * GST_MSECOND)));
  const GstVcFlowMeta* m = gst_buffer_get_vc_flow_meta(d.get());
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->width, 128u);
  EXPECT_EQ(m->height, 72u);
  EXPECT_EQ(m->frame_width, 256u);
}

TEST(VcFlow, NeverWritesMetaIntoABufferSomeoneElseHolds) {
  auto h = flow_harness();
  BufferPtr a(push_pull(h.get(), frame_of(davis_gray(0), "I420", 0)));
  GstBuffer* in = frame_of(davis_gray(1), "I420", 40 * GST_MSECOND);
  BufferPtr held(gst_buffer_ref(in));  // not writable for vcflow now
  BufferPtr out(push_pull(h.get(), in));
  ASSERT_TRUE(out);
  EXPECT_NE(gst_buffer_get_vc_flow_meta(out.get()), nullptr);
  EXPECT_EQ(gst_buffer_get_vc_flow_meta(held.get()), nullptr);
  EXPECT_EQ(bytes_of(out.get()), bytes_of(held.get()));
  // A shallow copy: the pixels are the same memory, not copied.
  EXPECT_EQ(gst_buffer_peek_memory(out.get(), 0), gst_buffer_peek_memory(held.get(), 0));
}

TEST(VcFlow, AddsNoLatency) {
  auto h = flow_harness();
  gst_harness_set_upstream_latency(h.get(), 33 * GST_MSECOND);
  BufferPtr a(push_pull(h.get(), frame_of(davis_gray(0), "I420", 0)));
  EXPECT_EQ(gst_harness_query_latency(h.get()), 33 * GST_MSECOND);
}

TEST(VcFlowMeta, PlainCopySharesTheDataRegionCopyDropsIt) {
  auto h = flow_harness();
  BufferPtr a(push_pull(h.get(), frame_of(davis_gray(0), "I420", 0)));
  BufferPtr b(push_pull(h.get(), frame_of(davis_gray(1), "I420", 40 * GST_MSECOND)));
  const GstVcFlowMeta* m = gst_buffer_get_vc_flow_meta(b.get());
  ASSERT_NE(m, nullptr);
  BufferPtr copy(gst_buffer_copy(b.get()));
  const GstVcFlowMeta* mc = gst_buffer_get_vc_flow_meta(copy.get());
  ASSERT_NE(mc, nullptr);
  EXPECT_EQ(mc->backward, m->backward) << "the flow data is shared, not copied";
  EXPECT_EQ(mc->forward_valid, m->forward_valid);
  EXPECT_EQ(mc->width, m->width);
  EXPECT_EQ(mc->frame_height, m->frame_height);
  BufferPtr part(gst_buffer_copy_region(b.get(), GST_BUFFER_COPY_ALL, 0, 100));
  EXPECT_EQ(gst_buffer_get_vc_flow_meta(part.get()), nullptr);
}

TEST(VcFlow, CudaBackendIsListedOnlyWhenCompiledIn) {
  GstElement* e = gst_element_factory_make("vcflow", nullptr);
  ASSERT_NE(e, nullptr);
  GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(e), "backend");
  ASSERT_NE(spec, nullptr);
  GEnumClass* ec = G_PARAM_SPEC_ENUM(spec)->enum_class;
  EXPECT_NE(g_enum_get_value_by_nick(ec, "dis-medium"), nullptr);
  EXPECT_NE(g_enum_get_value_by_nick(ec, "farneback"), nullptr);
  EXPECT_EQ(g_enum_get_value_by_nick(ec, "cuda-tvl1") != nullptr,
            VIDCOLOR_HAVE_CV_CUDAOPTFLOW != 0);
  EXPECT_NE(std::string(g_param_spec_get_blurb(spec)).find("dis-fast"), std::string::npos);
  gst_object_unref(e);
}

namespace {

struct Counts {
  int frames = 0, metas = 0;
  guint meta_frame_width = 0, meta_width = 0;
};

GstPadProbeReturn count_probe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* c = static_cast<Counts*>(data);
  GstBuffer* b = GST_PAD_PROBE_INFO_BUFFER(info);
  ++c->frames;
  if (const GstVcFlowMeta* m = gst_buffer_get_vc_flow_meta(b)) {
    ++c->metas;
    c->meta_frame_width = m->frame_width;
    c->meta_width = m->width;
  }
  return GST_PAD_PROBE_OK;
}

// Runs `desc` (which must end in `fakesink name=sink`) to EOS, counting what reaches the sink.
Counts run_counting(const std::string& desc) {
  Counts c;
  const std::string err = run_pipeline(
      desc, 60, nullptr, [&c](GstElement* p) { add_sink_buffer_probe(p, count_probe, &c); });
  if (!err.empty()) ADD_FAILURE() << desc << ": " << err;
  return c;
}

}  // namespace

TEST(VcFlowPipeline, FramesInEqualFramesOut) {
  const Counts c = run_counting(
      "videotestsrc num-buffers=30 pattern=ball ! video/x-raw,width=320,height=240 ! vcflow ! "
      "fakesink name=sink");
  EXPECT_EQ(c.frames, 30);
  EXPECT_EQ(c.metas, 29);
}

TEST(VcFlowPipeline, MetaSurvivesQueueIdentityAndVideoconvert) {
  // videoconvert I420 -> NV12 is a real (non-passthrough) transform that copies metas.
  const Counts c = run_counting(
      "videotestsrc num-buffers=20 pattern=ball ! video/x-raw,format=I420,width=320,height=240 ! "
      "vcflow ! queue ! identity ! videoconvert ! video/x-raw,format=NV12 ! fakesink name=sink");
  EXPECT_EQ(c.frames, 20);
  EXPECT_EQ(c.metas, 19);
}

TEST(VcFlowPipeline, VideoscaleKeepsTheFlowAndUpdatesTheFrameSize) {
  const Counts c = run_counting(
      "videotestsrc num-buffers=10 pattern=ball ! video/x-raw,format=I420,width=320,height=240 ! "
      "vcflow ! videoscale ! video/x-raw,width=160,height=120 ! fakesink name=sink");
  EXPECT_EQ(c.frames, 10);
  EXPECT_EQ(c.metas, 9);
  EXPECT_EQ(c.meta_frame_width, 160u);
  EXPECT_EQ(c.meta_width, 160u);  // the flow itself is unchanged: 320 * 0.5
}

TEST(VcFlowPipeline, RealDavisSequence) {
  const std::string loc = shared_data() + "/videos/davis2016/dog/%05d.jpg";
  const Counts c = run_counting("multifilesrc location=" + loc +
                                " index=0 stop-index=19 caps=image/jpeg,framerate=25/1 ! jpegdec ! "
                                "videoconvert ! vcflow ! fakesink name=sink");
  EXPECT_EQ(c.frames, 20);
  EXPECT_EQ(c.metas, 19);
  EXPECT_EQ(c.meta_frame_width, 854u);
}
