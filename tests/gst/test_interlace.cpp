// Issue 20, interlaced content: the networks and the flow see fields, not combed frames.
// - vidcolorize keeps the input's interlace-mode (interleaved, mixed, alternate) and field
//   order, the luma bit for bit and the interlace buffer flags.
// - vcgray ! vccolorize colours each field of an interleaved (or mixed, flagged) frame as the
//   picture it is: a frame whose top and bottom fields are two different pictures comes out
//   with each field's chroma equal to what that picture alone gets (4:2:0 chroma lines by
//   field parity too); an alternate-mode field is a picture of its own.
// - vcflow computes flow between fields of one parity: top fields moving right and bottom
//   fields moving left give even flow lines (top) to the right and odd ones to the left; in
//   alternate mode a field links to the previous field of its parity, two buffers back.
// - vcflow ! vcrefine refines each field with the fields of its parity only: two sequences
//   interleaved as the fields of one stream come out as each sequence does on its own.
// Frames are built and taken apart here with plain row copies, independently of the plugin.
#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <glib/gstdio.h>
#include <unistd.h>

#include <vidcolor/model/model_file.hpp>

#include "gst_test_util.hpp"
#include "../../gst/vcflowmeta.h"

using namespace vctest;

VCTEST_GST_MAIN_ENV;

namespace {

// f keeps its random head scaled up, so its chroma follows the picture (two different fields
// get different chroma); one candidate, so nothing is chosen over time; g random.
const std::string& model_path() {
  static const std::string path = [] {
    vidcolor::ModelConfig c = vidcolor::ModelConfig::fast();
    c.candidates = 1;
    c.chroma_classes = 0;
    c.colorizer_channels = {4, 4, 4};
    c.refiner_channels = {4, 8};
    c.inference_size = 32;
    torch::manual_seed(21);
    vidcolor::Model m = vidcolor::make_model(c);
    {
      torch::NoGradGuard no_grad;
      m.f->named_parameters(true)["head.weight"].mul_(20.0f);
    }
    const std::string p = std::string(g_get_tmp_dir()) + "/vidcolor-test-interlace-" +
                          std::to_string(getpid()) + ".safetensors";
    vidcolor::save_model(m, p);
    return p;
  }();
  static const bool remove_at_exit [[maybe_unused]] =
      std::atexit([] { g_unlink(path.c_str()); }) == 0;
  return path;
}

GstVideoInfo info_of(const std::string& caps) {
  GstVideoInfo info;
  CapsPtr c(gst_caps_from_string(caps.c_str()));
  EXPECT_TRUE(c && gst_video_info_from_caps(&info, c.get())) << caps;
  return info;
}

std::string caps_of(const char* format, int w, int h, const std::string& extra = "") {
  return video_caps(format, w, h, extra.c_str());
}

std::string alternate_caps(const char* format, int w, int h) {
  return std::string("video/x-raw(format:Interlaced),format=") + format +
         ",width=" + std::to_string(w) + ",height=" + std::to_string(h) +
         ",framerate=25/1,interlace-mode=alternate";
}

// Rows of a plane: the height of its first component.
int plane_rows(const GstVideoInfo* info, int plane, int height) {
  for (guint c = 0; c < GST_VIDEO_INFO_N_COMPONENTS(info); ++c)
    if (GST_VIDEO_FORMAT_INFO_PLANE(info->finfo, c) == static_cast<guint>(plane))
      return GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT(info->finfo, c, height);
  return 0;
}

// Copies every plane's rows of the progressive `src` picture (`rows` lines) to lines
// first + k * step of `dst`, or the other way round (`to_dst` false).
void copy_field(GstVideoFrame* picture, GstVideoFrame* frame, int first, int step, bool to_frame) {
  const GstVideoInfo* pi = &picture->info;
  for (guint p = 0; p < GST_VIDEO_INFO_N_PLANES(pi); ++p) {
    const int rows = plane_rows(pi, p, GST_VIDEO_INFO_HEIGHT(pi));
    const size_t bytes =
        std::min(GST_VIDEO_FRAME_PLANE_STRIDE(picture, p), GST_VIDEO_FRAME_PLANE_STRIDE(frame, p));
    for (int r = 0; r < rows; ++r) {
      auto* prow = static_cast<guint8*>(GST_VIDEO_FRAME_PLANE_DATA(picture, p)) +
                   r * GST_VIDEO_FRAME_PLANE_STRIDE(picture, p);
      auto* frow = static_cast<guint8*>(GST_VIDEO_FRAME_PLANE_DATA(frame, p)) +
                   (first + r * step) * GST_VIDEO_FRAME_PLANE_STRIDE(frame, p);
      if (to_frame)
        memcpy(frow, prow, bytes);
      else
        memcpy(prow, frow, bytes);
    }
  }
}

// Sample (r, x) of component c of a mapped frame as an 8-bit value, and back (10-bit
// formats: the 8 bits shifted up).
int get8(const GstVideoFrame* f, int c, int r, int x) {
  const guint8* p = static_cast<const guint8*>(GST_VIDEO_FRAME_COMP_DATA(f, c)) +
                    r * GST_VIDEO_FRAME_COMP_STRIDE(f, c) + x * GST_VIDEO_FRAME_COMP_PSTRIDE(f, c);
  const int depth = GST_VIDEO_FRAME_COMP_DEPTH(f, c);
  return depth > 8 ? *reinterpret_cast<const guint16*>(p) : *p;
}

void put8(GstVideoFrame* f, int c, int r, int x, int v) {
  guint8* p = static_cast<guint8*>(GST_VIDEO_FRAME_COMP_DATA(f, c)) +
              r * GST_VIDEO_FRAME_COMP_STRIDE(f, c) + x * GST_VIDEO_FRAME_COMP_PSTRIDE(f, c);
  const int depth = GST_VIDEO_FRAME_COMP_DEPTH(f, c);
  if (depth > 8)
    *reinterpret_cast<guint16*>(p) = static_cast<guint16>(v << (depth - 8));
  else
    *p = static_cast<guint8>(v);
}

// A progressive picture: smooth texture moved by `shift` pixels to the right, a pattern
// chosen by `seed`; chroma noise (vcrefine's input has chroma to refine).
GstBuffer* picture(const GstVideoInfo* info, int seed, double shift) {
  std::mt19937 rng(seed);
  const double a = 0.11 + 0.05 * (seed % 7), b = 0.07 + 0.04 * (seed % 5), ph = seed;
  return make_frame(info, [&](GstVideoFrame* f) {
    const int w = GST_VIDEO_FRAME_WIDTH(f), h = GST_VIDEO_FRAME_HEIGHT(f);
    for (int r = 0; r < h; ++r)
      for (int x = 0; x < w; ++x) {
        const double u = x - shift;
        const double v = 0.5 + 0.2 * std::sin(a * u + ph) * std::cos(b * r) +
                         0.15 * std::sin(0.31 * u + 0.23 * r + ph) +
                         0.08 * std::sin(0.9 * u - 0.4 * r);
        put8(f, 0, r, x, static_cast<int>(std::clamp(v, 0.0, 1.0) * 219 + 16));
      }
    for (int c = 1; c < 3; ++c)
      for (int r = 0; r < GST_VIDEO_FRAME_COMP_HEIGHT(f, c); ++r)
        for (int x = 0; x < GST_VIDEO_FRAME_COMP_WIDTH(f, c); ++x)
          put8(f, c, r, x, 96 + rng() % 64);
  });
}

// An interleaved frame (`info`) whose top field is `top` and bottom field `bottom`
// (progressive pictures of half its height).
GstBuffer* interleave(const GstVideoInfo* info, const GstVideoInfo* field_info, GstBuffer* top,
                      GstBuffer* bottom) {
  GstBuffer* out = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(info), nullptr);
  GstVideoFrame f, t, b;
  EXPECT_TRUE(gst_video_frame_map(&f, info, out, GST_MAP_WRITE));
  EXPECT_TRUE(gst_video_frame_map(&t, field_info, top, GST_MAP_READ));
  EXPECT_TRUE(gst_video_frame_map(&b, field_info, bottom, GST_MAP_READ));
  copy_field(&t, &f, 0, 2, true);
  copy_field(&b, &f, 1, 2, true);
  gst_video_frame_unmap(&b);
  gst_video_frame_unmap(&t);
  gst_video_frame_unmap(&f);
  return out;
}

// The field `parity` of an interleaved frame as a progressive picture.
GstBuffer* field_of(const GstVideoInfo* info, const GstVideoInfo* field_info, GstBuffer* frame,
                    int parity) {
  GstBuffer* out = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(field_info), nullptr);
  gst_buffer_memset(out, 0, 0, GST_VIDEO_INFO_SIZE(field_info));
  GstVideoFrame f, p;
  EXPECT_TRUE(gst_video_frame_map(&f, info, frame, GST_MAP_READ));
  EXPECT_TRUE(gst_video_frame_map(&p, field_info, out, GST_MAP_WRITE));
  copy_field(&p, &f, parity, 2, false);
  gst_video_frame_unmap(&p);
  gst_video_frame_unmap(&f);
  return out;
}

// An alternate-mode buffer holding `field` (a progressive picture of the field's size).
GstBuffer* alternate_buffer(const GstVideoInfo* info, const GstVideoInfo* field_info,
                            GstBuffer* field, int parity) {
  GstBuffer* out = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(info), nullptr);
  GST_BUFFER_FLAG_SET(
      out, parity == 0 ? GST_VIDEO_BUFFER_FLAG_TOP_FIELD : GST_VIDEO_BUFFER_FLAG_BOTTOM_FIELD);
  GstVideoFrame f, p;
  EXPECT_TRUE(gst_video_frame_map(&f, info, out, GST_MAP_WRITE));
  EXPECT_TRUE(gst_video_frame_map(&p, field_info, field, GST_MAP_READ));
  copy_field(&p, &f, 0, 1, true);
  gst_video_frame_unmap(&p);
  gst_video_frame_unmap(&f);
  return out;
}

GstBuffer* from_alternate(const GstVideoInfo* info, const GstVideoInfo* field_info,
                          GstBuffer* buf) {
  GstBuffer* out = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(field_info), nullptr);
  GstVideoFrame f, p;
  EXPECT_TRUE(gst_video_frame_map(&f, info, buf, GST_MAP_READ));
  EXPECT_TRUE(gst_video_frame_map(&p, field_info, out, GST_MAP_WRITE));
  copy_field(&p, &f, 0, 1, false);
  gst_video_frame_unmap(&p);
  gst_video_frame_unmap(&f);
  return out;
}

// Component c's samples (codes) of a progressive picture, row by row.
std::vector<int> samples(const GstVideoInfo* info, GstBuffer* buf, int c) {
  std::vector<int> v;
  GstVideoFrame f;
  EXPECT_TRUE(gst_video_frame_map(&f, info, buf, GST_MAP_READ));
  for (int r = 0; r < GST_VIDEO_FRAME_COMP_HEIGHT(&f, c); ++r)
    for (int x = 0; x < GST_VIDEO_FRAME_COMP_WIDTH(&f, c); ++x) v.push_back(get8(&f, c, r, x));
  gst_video_frame_unmap(&f);
  return v;
}

int max_difference(const std::vector<int>& a, const std::vector<int>& b) {
  EXPECT_EQ(a.size(), b.size());
  int m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

std::string network_props() {
  return "model=" + model_path() + " device=cpu threads=1 inference-size=64";
}

HarnessPtr parse_harness(const std::string& description, const std::string& caps) {
  HarnessPtr h(gst_harness_new_parse(description.c_str()));
  gst_harness_set_src_caps_str(h.get(), caps.c_str());
  return h;
}

// Runs `buffers` through a fresh harness of `description` and returns the outputs.
std::vector<BufferPtr> run(const std::string& description, const std::string& caps,
                           std::vector<GstBuffer*> buffers) {
  HarnessPtr h = parse_harness(description, caps);
  int t = 0;
  for (GstBuffer* b : buffers) {
    GST_BUFFER_PTS(b) = t++ * 20 * GST_MSECOND;
    GST_BUFFER_DURATION(b) = 20 * GST_MSECOND;
    EXPECT_EQ(gst_harness_push(h.get(), b), GST_FLOW_OK);
  }
  EXPECT_TRUE(gst_harness_push_event(h.get(), gst_event_new_eos()));
  std::vector<BufferPtr> out;
  for (size_t i = 0; i < buffers.size(); ++i) {
    out.emplace_back(gst_harness_pull(h.get()));
    EXPECT_TRUE(out.back()) << i;
  }
  return out;
}

constexpr int kW = 64, kH = 64;

// --------------------------------------------------------------- caps, luma, flags

struct ModeCase {
  const char* format;
  const char* mode;   // interleaved, mixed, alternate
  const char* order;  // field-order, or ""
};

class KeepsInterlacing : public ::testing::TestWithParam<ModeCase> {};

// vidcolorize: the output has the input's interlace-mode and field-order, each frame's luma
// bit for bit and its interlace flags.
TEST_P(KeepsInterlacing, ModeFieldOrderLumaAndFlags) {
  const ModeCase mc = GetParam();
  const bool alternate = std::string(mc.mode) == "alternate";
  const std::string caps =
      alternate
          ? alternate_caps(mc.format, kW, kH)
          : caps_of(mc.format, kW, kH,
                    std::string(",interlace-mode=") + mc.mode +
                        (mc.order[0] ? std::string(",field-order=") + mc.order : std::string()));
  const GstVideoInfo info = info_of(caps);
  GstVideoInfo field_info;
  gst_video_info_set_format(&field_info, GST_VIDEO_INFO_FORMAT(&info), kW, kH / 2);
  GstElement* e = gst_element_factory_make("vidcolorize", nullptr);
  ASSERT_NE(e, nullptr);
  g_object_set(e, "model", model_path().c_str(), "device", "cpu", "threads", 1, "inference-size",
               64, nullptr);
  HarnessPtr h(gst_harness_new_with_element(e, "sink", "src"));
  gst_object_unref(e);
  gst_harness_set_src_caps_str(h.get(), caps.c_str());

  const guint kFlags[] = {
      GST_VIDEO_BUFFER_FLAG_INTERLACED | GST_VIDEO_BUFFER_FLAG_TFF,
      GST_VIDEO_BUFFER_FLAG_INTERLACED,
      GST_VIDEO_BUFFER_FLAG_INTERLACED | GST_VIDEO_BUFFER_FLAG_TFF | GST_VIDEO_BUFFER_FLAG_RFF,
      0,  // mixed: a progressive frame among interlaced ones
      GST_VIDEO_BUFFER_FLAG_INTERLACED | GST_VIDEO_BUFFER_FLAG_ONEFIELD | GST_VIDEO_BUFFER_FLAG_TFF,
      GST_VIDEO_BUFFER_FLAG_INTERLACED | GST_VIDEO_BUFFER_FLAG_TFF};
  constexpr int kFrames = 6;
  std::vector<std::vector<int>> luma;
  std::vector<guint> flags;
  for (int t = 0; t < kFrames; ++t) {
    GstBuffer* b;
    guint f;
    if (alternate) {
      BufferPtr p(picture(&field_info, 5 + t, t));
      const int parity = t % 2;
      b = alternate_buffer(&info, &field_info, p.get(), parity);
      f = GST_BUFFER_FLAGS(b) &
          (GST_VIDEO_BUFFER_FLAG_TOP_FIELD | GST_VIDEO_BUFFER_FLAG_BOTTOM_FIELD);
      luma.push_back(samples(&field_info, p.get(), 0));
    } else {
      BufferPtr top(picture(&field_info, 5 + t, t)), bottom(picture(&field_info, 50 + t, -t));
      b = interleave(&info, &field_info, top.get(), bottom.get());
      f = kFlags[t];
      GST_BUFFER_FLAG_SET(b, f);
      GstVideoInfo full;
      gst_video_info_set_format(&full, GST_VIDEO_INFO_FORMAT(&info), kW, kH);
      luma.push_back(samples(&full, b, 0));
    }
    flags.push_back(f);
    GST_BUFFER_PTS(b) = t * 40 * GST_MSECOND;
    GST_BUFFER_DURATION(b) = 40 * GST_MSECOND;
    ASSERT_EQ(gst_harness_push(h.get(), b), GST_FLOW_OK) << t;
  }
  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_eos()));

  CapsPtr out_caps(gst_pad_get_current_caps(h->sinkpad));
  ASSERT_TRUE(out_caps);
  GstVideoInfo oi;
  ASSERT_TRUE(gst_video_info_from_caps(&oi, out_caps.get())) << gst_caps_to_string(out_caps.get());
  EXPECT_EQ(GST_VIDEO_INFO_FORMAT(&oi), GST_VIDEO_INFO_FORMAT(&info));
  EXPECT_EQ(GST_VIDEO_INFO_INTERLACE_MODE(&oi), GST_VIDEO_INFO_INTERLACE_MODE(&info));
  EXPECT_EQ(GST_VIDEO_INFO_FIELD_ORDER(&oi), GST_VIDEO_INFO_FIELD_ORDER(&info));
  EXPECT_EQ(gst_caps_features_contains(gst_caps_get_features(out_caps.get(), 0),
                                       GST_CAPS_FEATURE_FORMAT_INTERLACED),
            alternate);
  const guint kept = GST_VIDEO_BUFFER_FLAG_INTERLACED | GST_VIDEO_BUFFER_FLAG_TFF |
                     GST_VIDEO_BUFFER_FLAG_RFF | GST_VIDEO_BUFFER_FLAG_ONEFIELD |
                     GST_VIDEO_BUFFER_FLAG_BOTTOM_FIELD;
  for (int t = 0; t < kFrames; ++t) {
    BufferPtr out(gst_harness_pull(h.get()));
    ASSERT_TRUE(out) << t;
    EXPECT_EQ(GST_BUFFER_PTS(out.get()), t * 40 * GST_MSECOND);
    EXPECT_EQ(GST_BUFFER_FLAGS(out.get()) & kept, flags[t]) << t;
    if (alternate) {
      BufferPtr p(from_alternate(&oi, &field_info, out.get()));
      EXPECT_EQ(samples(&field_info, p.get(), 0), luma[t]) << "field " << t;
    } else {
      GstVideoInfo full;
      gst_video_info_set_format(&full, GST_VIDEO_INFO_FORMAT(&info), kW, kH);
      EXPECT_EQ(samples(&full, out.get(), 0), luma[t]) << "frame " << t;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, KeepsInterlacing,
                         ::testing::Values(ModeCase{"I420", "interleaved", "top-field-first"},
                                           ModeCase{"I420", "interleaved", "bottom-field-first"},
                                           ModeCase{"NV12", "mixed", ""},
                                           ModeCase{"UYVY", "interleaved", ""},
                                           ModeCase{"I420", "alternate", ""}));

// --------------------------------------------------------------- f sees fields

class ColorizesFields : public ::testing::TestWithParam<std::tuple<const char*, const char*>> {};

// A frame whose fields are two different pictures: each field's chroma (and luma) is what
// vcgray ! vccolorize gives that picture alone, as a progressive half-height frame.
TEST_P(ColorizesFields, EachFieldAsItsOwnPicture) {
  const char* format = std::get<0>(GetParam());
  const std::string mode = std::get<1>(GetParam());
  const std::string caps = caps_of(format, kW, kH, ",interlace-mode=" + mode);
  const GstVideoInfo info = info_of(caps);
  const std::string field_caps = caps_of(format, kW, kH / 2);
  const GstVideoInfo field_info = info_of(field_caps);
  const std::string chain = "vcgray ! vccolorize " + network_props();

  BufferPtr a(picture(&field_info, 1, 0)), b(picture(&field_info, 2, 0));
  GstBuffer* frame = interleave(&info, &field_info, a.get(), b.get());
  if (mode == "mixed") GST_BUFFER_FLAG_SET(frame, GST_VIDEO_BUFFER_FLAG_INTERLACED);
  std::vector<BufferPtr> out = run(chain, caps, {frame});
  std::vector<BufferPtr> alone_a = run(chain, field_caps, {gst_buffer_copy(a.get())});
  std::vector<BufferPtr> alone_b = run(chain, field_caps, {gst_buffer_copy(b.get())});

  BufferPtr top(field_of(&info, &field_info, out[0].get(), 0)),
      bottom(field_of(&info, &field_info, out[0].get(), 1));
  for (int c = 0; c < 3; ++c) {
    SCOPED_TRACE("component " + std::to_string(c));
    EXPECT_EQ(samples(&field_info, top.get(), c), samples(&field_info, alone_a[0].get(), c));
    EXPECT_EQ(samples(&field_info, bottom.get(), c), samples(&field_info, alone_b[0].get(), c));
  }
  // The two pictures get different chroma: the comparison above can tell them apart.
  EXPECT_GT(max_difference(samples(&field_info, alone_a[0].get(), 1),
                           samples(&field_info, alone_b[0].get(), 1)),
            4);
}

// The same frame flagged progressive in a mixed stream is one picture: its chroma is not the
// fields' (the flag decides).
TEST(ColorizesFieldsMixed, ProgressiveFrameIsOnePicture) {
  const std::string caps = caps_of("I420", kW, kH, ",interlace-mode=mixed");
  const GstVideoInfo info = info_of(caps);
  const std::string field_caps = caps_of("I420", kW, kH / 2);
  const GstVideoInfo field_info = info_of(field_caps);
  const std::string chain = "vcgray ! vccolorize " + network_props();
  BufferPtr a(picture(&field_info, 1, 0)), b(picture(&field_info, 2, 0));
  std::vector<BufferPtr> out = run(chain, caps, {interleave(&info, &field_info, a.get(), b.get())});
  std::vector<BufferPtr> alone_a = run(chain, field_caps, {gst_buffer_copy(a.get())});
  BufferPtr top(field_of(&info, &field_info, out[0].get(), 0));
  EXPECT_NE(samples(&field_info, top.get(), 1), samples(&field_info, alone_a[0].get(), 1));
}

INSTANTIATE_TEST_SUITE_P(Fields, ColorizesFields,
                         ::testing::Combine(::testing::Values("I420", "NV12", "UYVY", "I420_10LE"),
                                            ::testing::Values("interleaved", "mixed")));

// An alternate-mode field is colorized as the picture it holds.
TEST(ColorizesFieldsAlternate, FieldAsItsOwnPicture) {
  const std::string caps = alternate_caps("I420", kW, kH);
  const GstVideoInfo info = info_of(caps);
  const std::string field_caps = caps_of("I420", kW, kH / 2);
  const GstVideoInfo field_info = info_of(field_caps);
  const std::string chain = "vcgray ! vccolorize " + network_props();
  BufferPtr a(picture(&field_info, 3, 0)), b(picture(&field_info, 4, 0));
  std::vector<BufferPtr> out = run(chain, caps,
                                   {alternate_buffer(&info, &field_info, a.get(), 0),
                                    alternate_buffer(&info, &field_info, b.get(), 1)});
  std::vector<BufferPtr> alone =
      run(chain, field_caps, {gst_buffer_copy(a.get()), gst_buffer_copy(b.get())});
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(gst_buffer_get_size(out[i].get()), GST_VIDEO_INFO_SIZE(&info));
    BufferPtr f(from_alternate(&info, &field_info, out[i].get()));
    for (int c = 0; c < 3; ++c)
      EXPECT_EQ(samples(&field_info, f.get(), c), samples(&field_info, alone[i].get(), c))
          << i << " " << c;
  }
}

// --------------------------------------------------------------- flow between fields

// Mean dx of the meta's backward flow over lines of one parity (-1: all lines).
double mean_dx(const GstVcFlowMeta* m, int parity) {
  const auto* f = static_cast<const float*>(g_bytes_get_data(m->backward, nullptr));
  double s = 0;
  int n = 0;
  for (guint y = 0; y < m->height; ++y) {
    if (parity >= 0 && static_cast<int>(y % 2) != parity) continue;
    for (guint x = m->width / 4; x < 3 * m->width / 4; ++x, ++n) s += f[2 * (y * m->width + x)];
  }
  return s / n;
}

// Top fields move 2 pixels right per frame, bottom fields 2 left: the backward flow of an
// interleaved frame has the top field's flow on even lines (dx = -2) and the bottom's on odd
// lines (+2), each between fields of its own parity.
TEST(FlowBetweenFields, InterleavedFramesPairSameParity) {
  const int w = 128, h = 128;
  const std::string caps = caps_of("I420", w, h, ",interlace-mode=interleaved");
  const GstVideoInfo info = info_of(caps);
  const GstVideoInfo field_info = info_of(caps_of("I420", w, h / 2));
  std::vector<GstBuffer*> frames;
  for (int t = 0; t < 3; ++t) {
    BufferPtr top(picture(&field_info, 7, 2.0 * t)), bottom(picture(&field_info, 8, -2.0 * t));
    frames.push_back(interleave(&info, &field_info, top.get(), bottom.get()));
  }
  std::vector<BufferPtr> out = run("vcflow scale=1.0 backend=dis-medium", caps, frames);
  EXPECT_EQ(gst_buffer_get_vc_flow_meta(out[0].get()), nullptr);
  for (int t = 1; t < 3; ++t) {
    const GstVcFlowMeta* m = gst_buffer_get_vc_flow_meta(out[t].get());
    ASSERT_NE(m, nullptr) << t;
    ASSERT_TRUE(gst_vc_flow_meta_is_valid(m));
    EXPECT_EQ(m->width, static_cast<guint>(w));
    EXPECT_EQ(m->height, static_cast<guint>(h));  // two 64-line field flows, interleaved
    EXPECT_EQ(m->frame_height, static_cast<guint>(h));
    EXPECT_NEAR(mean_dx(m, 0), -2.0, 0.5) << t;
    EXPECT_NEAR(mean_dx(m, 1), 2.0, 0.5) << t;
  }
}

// Alternate mode: each field links to the previous field of its parity (two buffers back);
// the first field of each parity has none.
TEST(FlowBetweenFields, AlternateFieldsPairSameParity) {
  const int w = 128, h = 128;
  const std::string caps = alternate_caps("I420", w, h);
  const GstVideoInfo info = info_of(caps);
  const GstVideoInfo field_info = info_of(caps_of("I420", w, h / 2));
  std::vector<GstBuffer*> fields;
  for (int t = 0; t < 3; ++t) {
    BufferPtr top(picture(&field_info, 7, 2.0 * t)), bottom(picture(&field_info, 8, -2.0 * t));
    fields.push_back(alternate_buffer(&info, &field_info, top.get(), 0));
    fields.push_back(alternate_buffer(&info, &field_info, bottom.get(), 1));
  }
  std::vector<BufferPtr> out = run("vcflow scale=1.0 backend=dis-medium", caps, fields);
  EXPECT_EQ(gst_buffer_get_vc_flow_meta(out[0].get()), nullptr);
  EXPECT_EQ(gst_buffer_get_vc_flow_meta(out[1].get()), nullptr);
  for (size_t i = 2; i < out.size(); ++i) {
    const GstVcFlowMeta* m = gst_buffer_get_vc_flow_meta(out[i].get());
    ASSERT_NE(m, nullptr) << i;
    EXPECT_EQ(m->height, static_cast<guint>(h / 2));
    EXPECT_EQ(m->frame_height, static_cast<guint>(h / 2));
    EXPECT_NEAR(mean_dx(m, -1), i % 2 == 0 ? -2.0 : 2.0, 0.5) << i;
  }
}

// --------------------------------------------------------------- g sees fields

// Two sequences of pictures as the top and bottom fields of one stream (interleaved, or
// alternate fields) through vcflow ! vcrefine: each field comes out as its sequence does
// through the same elements on its own, so g paired only fields of one parity.
TEST(RefinesFields, EachParityIsItsOwnSequence) {
  const std::string field_caps = caps_of("I420", kW, kH / 2);
  const GstVideoInfo field_info = info_of(field_caps);
  const std::string chain = "vcflow ! vcrefine window=1 " + network_props();
  constexpr int kFrames = 4;
  std::vector<BufferPtr> a, b;
  for (int t = 0; t < kFrames; ++t) {
    a.emplace_back(picture(&field_info, 11 + t, 1.0 * t));
    b.emplace_back(picture(&field_info, 31 + t, -1.5 * t));
  }
  auto copies = [](const std::vector<BufferPtr>& v) {
    std::vector<GstBuffer*> c;
    for (const BufferPtr& x : v) c.push_back(gst_buffer_copy(x.get()));
    return c;
  };
  std::vector<BufferPtr> alone_a = run(chain, field_caps, copies(a));
  std::vector<BufferPtr> alone_b = run(chain, field_caps, copies(b));
  // g changed the pictures (else the comparison would hold trivially).
  EXPECT_NE(samples(&field_info, alone_a[1].get(), 1), samples(&field_info, a[1].get(), 1));

  {
    SCOPED_TRACE("interleaved");
    const std::string caps = caps_of("I420", kW, kH, ",interlace-mode=interleaved");
    const GstVideoInfo info = info_of(caps);
    std::vector<GstBuffer*> frames;
    for (int t = 0; t < kFrames; ++t)
      frames.push_back(interleave(&info, &field_info, a[t].get(), b[t].get()));
    std::vector<BufferPtr> out = run(chain, caps, frames);
    for (int t = 0; t < kFrames; ++t) {
      BufferPtr top(field_of(&info, &field_info, out[t].get(), 0)),
          bottom(field_of(&info, &field_info, out[t].get(), 1));
      for (int c = 1; c < 3; ++c) {
        EXPECT_LE(max_difference(samples(&field_info, top.get(), c),
                                 samples(&field_info, alone_a[t].get(), c)),
                  1)
            << t;
        EXPECT_LE(max_difference(samples(&field_info, bottom.get(), c),
                                 samples(&field_info, alone_b[t].get(), c)),
                  1)
            << t;
      }
    }
  }
  {
    SCOPED_TRACE("alternate");
    const std::string caps = alternate_caps("I420", kW, kH);
    const GstVideoInfo info = info_of(caps);
    std::vector<GstBuffer*> fields;
    for (int t = 0; t < kFrames; ++t) {
      fields.push_back(alternate_buffer(&info, &field_info, a[t].get(), 0));
      fields.push_back(alternate_buffer(&info, &field_info, b[t].get(), 1));
    }
    std::vector<BufferPtr> out = run(chain, caps, fields);
    for (int i = 0; i < 2 * kFrames; ++i) {
      BufferPtr f(from_alternate(&info, &field_info, out[i].get()));
      const BufferPtr& expected = i % 2 == 0 ? alone_a[i / 2] : alone_b[i / 2];
      for (int c = 1; c < 3; ++c)
        EXPECT_LE(max_difference(samples(&field_info, f.get(), c),
                                 samples(&field_info, expected.get(), c)),
                  1)
            << i;
    }
  }
}

}  // namespace
