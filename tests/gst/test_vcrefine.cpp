// vcrefine through GstHarness with a small random model: the added latency, frames held and
// released on time, EOS drain with exact frame counts and timestamps, flush, caps change and
// DISCONT mid-stream (held frames out first, in order with events), the refined chroma equal
// to RefineEngine's on the same frames and flows (so the meta's directions are right), Y
// untouched, no flow meta -> one warning and passthrough, bad model -> error.
#include <glib/gstdio.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

#include <vidcolor/model/model_file.hpp>
#include <vidcolor/infer/refine_engine.hpp>

#include "../../gst/vcflowmeta.h"
#include "temp_model.hpp"
#include "gst_test_util.hpp"

using namespace vctest;

VCTEST_GST_MAIN_ENV;

namespace {

constexpr int kW = 64, kH = 48;
constexpr GstClockTime kDur = 40 * GST_MSECOND;
constexpr int kShift = 2;  // content moves kShift pixels right per frame

const std::string& model_path() {
  return vctest::temp_model_path("vcrefine-test", vctest::tiny_model_config(), 3);
}

// A harness around a vcrefine configured before it starts (the harness plays it at once,
// which loads the model).
HarnessPtr new_refine(guint window, guint iterations) {
  GstElement* e = gst_element_factory_make("vcrefine", nullptr);
  g_object_set(e, "model", model_path().c_str(), "window", window, "iterations", iterations,
               "threads", 1, nullptr);
  HarnessPtr hp(gst_harness_new_with_element(e, "sink", "src"));
  gst_object_unref(e);
  return hp;
}

HarnessPtr refine_harness(guint window = 1, guint iterations = 1, const char* format = "I420",
                          int w = kW, int h = kH) {
  HarnessPtr hp = new_refine(window, iterations);
  // What vccolorize emits on its own: full-range BT.601, the networks' space.
  gst_harness_set_src_caps_str(hp.get(), video_caps(format, w, h, ",colorimetry=1:4:16:4").c_str());
  return hp;
}

// Frame t of a scene moving kShift px right per frame: luma and chroma are smooth patterns
// of (x - kShift t, y); the chroma also flickers frame to frame (what g is there to calm).
GstBuffer* scene_frame(int t, const char* format = "I420", int w = kW, int h = kH,
                       GstClockTime pts = GST_CLOCK_TIME_NONE) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, gst_video_format_from_string(format), w, h);
  GstBuffer* b = make_frame(&info, [&](GstVideoFrame* f) {
    const double sx = static_cast<double>(kShift) * t;
    auto* y = static_cast<uint8_t*>(GST_VIDEO_FRAME_COMP_DATA(f, 0));
    const int ys = GST_VIDEO_FRAME_COMP_STRIDE(f, 0);
    for (int r = 0; r < h; ++r)
      for (int c = 0; c < w; ++c)
        y[r * ys + c] =
            static_cast<uint8_t>(128 + 90 * std::sin((c - sx) * 0.21) * std::cos(r * 0.17));
    for (int comp = 1; comp <= 2; ++comp) {
      auto* p = static_cast<uint8_t*>(GST_VIDEO_FRAME_COMP_DATA(f, comp));
      const int stride = GST_VIDEO_FRAME_COMP_STRIDE(f, comp);
      const int ps = GST_VIDEO_FRAME_COMP_PSTRIDE(f, comp);
      const int cw = GST_VIDEO_FRAME_COMP_WIDTH(f, comp), ch = GST_VIDEO_FRAME_COMP_HEIGHT(f, comp);
      const double fx = static_cast<double>(w) / cw;
      const double flicker = ((t * 7 + comp * 3) % 5 - 2) * 6.0;
      for (int r = 0; r < ch; ++r)
        for (int c = 0; c < cw; ++c)
          p[r * stride + c * ps] = static_cast<uint8_t>(
              128 + (comp == 1 ? 40 : -30) * std::cos(((c + 0.5) * fx - sx) * 0.09) + flicker);
    }
  });
  GST_BUFFER_PTS(b) = GST_CLOCK_TIME_IS_VALID(pts) ? pts : t * kDur;
  GST_BUFFER_DURATION(b) = kDur;
  return b;
}

// Attaches a VcFlowMeta as vcflow would for the scene: backward F_{t->t-1} = -kShift,
// forward F_{t-1->t} = +kShift, at half size (so -kShift/2 and +kShift/2 there).
void add_scene_flow(GstBuffer* b, int w = kW, int h = kH) {
  const GstMetaInfo* info = gst_meta_get_info(GST_VC_FLOW_META_IMPL_NAME);
  ASSERT_NE(info, nullptr) << "the vidcolor plugin registers the meta";
  auto* m = reinterpret_cast<GstVcFlowMeta*>(gst_buffer_add_meta(b, info, nullptr));
  const guint fw = static_cast<guint>(w / 2), fh = static_cast<guint>(h / 2);
  std::vector<float> back(fw * fh * 2), fwd(fw * fh * 2);
  for (size_t i = 0; i < fw * fh; ++i) {
    back[2 * i] = -kShift / 2.0f;
    fwd[2 * i] = kShift / 2.0f;
    back[2 * i + 1] = fwd[2 * i + 1] = 0.0f;
  }
  std::vector<uint8_t> valid(fw * fh, 1);
  m->width = fw;
  m->height = fh;
  m->frame_width = static_cast<guint>(w);
  m->frame_height = static_cast<guint>(h);
  m->backward = g_bytes_new(back.data(), back.size() * sizeof(float));
  m->forward = g_bytes_new(fwd.data(), fwd.size() * sizeof(float));
  m->backward_valid = g_bytes_new(valid.data(), valid.size());
  m->forward_valid = g_bytes_new(valid.data(), valid.size());
}

GstBuffer* scene_frame_with_flow(int t, bool first) {
  GstBuffer* b = scene_frame(t);
  if (!first) add_scene_flow(b);
  return b;
}

struct Planes {
  std::vector<uint8_t> y, u, v;
};

Planes planes_of(GstBuffer* b, const char* format = "I420", int w = kW, int h = kH) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, gst_video_format_from_string(format), w, h);
  GstVideoFrame f;
  Planes p;
  if (!gst_video_frame_map(&f, &info, b, GST_MAP_READ)) {
    ADD_FAILURE() << "cannot map";
    return p;
  }
  for (int comp = 0; comp < 3; ++comp) {
    std::vector<uint8_t>& dst = comp == 0 ? p.y : comp == 1 ? p.u : p.v;
    const auto* src = static_cast<const uint8_t*>(GST_VIDEO_FRAME_COMP_DATA(&f, comp));
    const int stride = GST_VIDEO_FRAME_COMP_STRIDE(&f, comp),
              ps = GST_VIDEO_FRAME_COMP_PSTRIDE(&f, comp);
    for (int r = 0; r < GST_VIDEO_FRAME_COMP_HEIGHT(&f, comp); ++r)
      for (int c = 0; c < GST_VIDEO_FRAME_COMP_WIDTH(&f, comp); ++c)
        dst.push_back(src[r * stride + c * ps]);
  }
  gst_video_frame_unmap(&f);
  return p;
}

int max_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  if (a.size() != b.size()) return 1000;
  int d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

std::vector<GstClockTime> pull_all_pts(GstHarness* h) {
  std::vector<GstClockTime> pts;
  while (GstBuffer* b = gst_harness_try_pull(h)) {
    pts.push_back(GST_BUFFER_PTS(b));
    gst_buffer_unref(b);
  }
  return pts;
}

std::vector<GstClockTime> times(int from, int to) {  // [from, to) frames
  std::vector<GstClockTime> v;
  for (int i = from; i < to; ++i) v.push_back(i * kDur);
  return v;
}

// Records what leaves vcrefine's src pad, in order: B = buffer, C = caps, E = EOS, T = tag,
// S = segment.
GstPadProbeReturn record_probe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* s = static_cast<std::string*>(data);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
    *s += 'B';
  } else if (GstEvent* e = GST_PAD_PROBE_INFO_EVENT(info)) {
    switch (GST_EVENT_TYPE(e)) {
      case GST_EVENT_CAPS:
        *s += 'C';
        break;
      case GST_EVENT_EOS:
        *s += 'E';
        break;
      case GST_EVENT_TAG:
        *s += 'T';
        break;
      case GST_EVENT_SEGMENT:
        *s += 'S';
        break;
      default:
        break;
    }
  }
  return GST_PAD_PROBE_OK;
}

void record(GstHarness* h, std::string* seq) {
  GstPad* src = gst_element_get_static_pad(h->element, "src");
  gst_pad_add_probe(
      src,
      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
      record_probe, seq, nullptr);
  gst_object_unref(src);
}

struct BusPtr {
  GstBus* bus;
  explicit BusPtr(GstElement* e) : bus(gst_bus_new()) { gst_element_set_bus(e, bus); }
  // Flushing drops the messages still queued (state changes, latency): each holds a ref on
  // the element, which holds the bus, a cycle that leaked both (valgrind found it).
  ~BusPtr() {
    gst_bus_set_flushing(bus, TRUE);
    gst_object_unref(bus);
  }
  int count(GstMessageType type, std::string* text = nullptr) {
    int n = 0;
    while (GstMessage* m = gst_bus_pop_filtered(bus, type)) {
      ++n;
      if (text) {
        GError* err = nullptr;
        gchar* dbg = nullptr;
        if (type == GST_MESSAGE_ERROR) gst_message_parse_error(m, &err, &dbg);
        if (type == GST_MESSAGE_WARNING) gst_message_parse_warning(m, &err, &dbg);
        if (err) *text += std::string(err->message) + " | " + (dbg ? dbg : "") + "\n";
        if (err) g_error_free(err);
        g_free(dbg);
      }
      gst_message_unref(m);
    }
    return n;
  }
};

}  // namespace

// Latency = window x iterations held frames + g's processing-latency (default one frame).
TEST(VcRefine, LatencyQueryAddsHeldFramesAndProcessingTime) {
  struct Case {
    guint window, iterations;
    const char* rate;
    gint64 processing;  // the property; -1 = one frame
    GstClockTime expect_added;
  };
  const GstClockTime ntsc = gst_util_uint64_scale_int(GST_SECOND, 1001, 30000);
  const Case cases[] = {
      {1, 1, "25/1", -1, 80 * GST_MSECOND},  {1, 2, "25/1", -1, 120 * GST_MSECOND},
      {2, 3, "25/1", -1, 280 * GST_MSECOND}, {1, 1, "30000/1001", -1, 2 * ntsc},
      {1, 1, "25/1", 0, 40 * GST_MSECOND},   {1, 2, "25/1", 7 * GST_MSECOND, 87 * GST_MSECOND}};
  for (const Case& c : cases) {
    HarnessPtr h = new_refine(c.window, c.iterations);
    g_object_set(h->element, "processing-latency", c.processing, nullptr);
    gst_harness_set_src_caps_str(
        h.get(),
        (std::string("video/x-raw,format=I420,width=64,height=48,framerate=") + c.rate).c_str());
    gst_harness_set_upstream_latency(h.get(), 10 * GST_MSECOND);
    EXPECT_EQ(gst_harness_query_latency(h.get()), 10 * GST_MSECOND + c.expect_added)
        << "window " << c.window << " iterations " << c.iterations << " rate " << c.rate
        << " processing-latency " << c.processing;
  }
}

TEST(VcRefine, VariableFramerateLatencyUsesTheLastBufferDuration) {
  HarnessPtr h = new_refine(1, 2);
  gst_harness_set_src_caps_str(h.get(), "video/x-raw,format=I420,width=64,height=48,framerate=0/1");
  gst_harness_set_upstream_latency(h.get(), 5 * GST_MSECOND);
  EXPECT_EQ(gst_harness_query_latency(h.get()), 5 * GST_MSECOND) << "nothing known yet";
  ASSERT_EQ(gst_harness_push(h.get(), scene_frame(0)), GST_FLOW_OK);
  EXPECT_EQ(gst_harness_query_latency(h.get()), 5 * GST_MSECOND + 3 * kDur)
      << "2 held + 1 processing";
}

TEST(VcRefine, HoldsWindowTimesIterationsFramesAndDrainsAllAtEos) {
  for (guint window : {1u, 2u})
    for (guint iterations : {1u, 2u, 3u}) {
      auto h = refine_harness(window, iterations);
      const int n = 9, lag = static_cast<int>(window * iterations);
      int out = 0;
      std::vector<GstClockTime> pts;
      for (int t = 0; t < n; ++t) {
        ASSERT_EQ(gst_harness_push(h.get(), scene_frame_with_flow(t, t == 0)), GST_FLOW_OK);
        const auto got = pull_all_pts(h.get());
        pts.insert(pts.end(), got.begin(), got.end());
        out += static_cast<int>(got.size());
        EXPECT_EQ(out, std::max(0, t + 1 - lag))
            << "after frame " << t << ", window " << window << " iterations " << iterations;
      }
      ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_eos()));
      const auto rest = pull_all_pts(h.get());
      EXPECT_EQ(static_cast<int>(rest.size()), std::min(lag, n));
      pts.insert(pts.end(), rest.begin(), rest.end());
      EXPECT_EQ(pts, times(0, n)) << "every frame once, in order, with its timestamp";
      // EOS comes after the drained frames.
      bool saw_eos = false;
      while (GstEvent* e = gst_harness_try_pull_event(h.get())) {
        saw_eos = saw_eos || GST_EVENT_TYPE(e) == GST_EVENT_EOS;
        gst_event_unref(e);
      }
      EXPECT_TRUE(saw_eos);
    }
}

TEST(VcRefine, RefinedChromaIsRefineEnginesWithTheMetaFlowsAndLumaUntouched) {
  // Window 1, one pass: frame s is refined with s-1 (flow = backward flow of s's meta) and
  // s+1 (flow = forward flow of (s+1)'s meta). The same computation through RefineEngine
  // must give the element's output up to 8-bit rounding.
  auto h = refine_harness(1, 1);
  const int n = 4;
  std::vector<Planes> in;
  std::vector<GstBuffer*> outs;
  for (int t = 0; t < n; ++t) {
    GstBuffer* b = scene_frame_with_flow(t, t == 0);
    in.push_back(planes_of(b));
    ASSERT_EQ(gst_harness_push(h.get(), b), GST_FLOW_OK);
  }
  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_eos()));
  while (GstBuffer* b = gst_harness_try_pull(h.get())) outs.push_back(b);
  ASSERT_EQ(outs.size(), static_cast<size_t>(n));

  auto model = std::make_shared<const vidcolor::Model>(vidcolor::load_model(model_path()));
  vidcolor::RefineEngine engine(model, torch::kCPU);
  auto luma = [&](int t) {
    return torch::tensor(std::vector<float>(in[t].y.begin(), in[t].y.end())).view({1, 1, kH, kW}) /
           255.0;
  };
  auto chroma = [&](int t) {
    std::vector<float> v(in[t].u.begin(), in[t].u.end());
    v.insert(v.end(), in[t].v.begin(), in[t].v.end());
    return (torch::tensor(v).view({1, 2, kH / 2, kW / 2}) - 128.0) / 255.0;
  };
  auto flow = [](float dx) {
    auto f = torch::zeros({1, 2, kH / 2, kW / 2});
    f.select(1, 0).fill_(dx);
    return f;
  };
  int changed_frames = 0;
  for (int s = 0; s < n; ++s) {
    const Planes o = planes_of(outs[s]);
    EXPECT_EQ(o.y, in[s].y) << "the Y plane passes through, frame " << s;
    std::vector<vidcolor::RefineNeighbour> nbs;
    if (s > 0) nbs.push_back({luma(s - 1), chroma(s - 1), flow(-kShift / 2.0f), torch::Tensor()});
    if (s + 1 < n)
      nbs.push_back({luma(s + 1), chroma(s + 1), flow(kShift / 2.0f), torch::Tensor()});
    const auto expect = engine.refine(luma(s), chroma(s), nbs);
    const auto q = (expect * 255.0 + 128.0).round().clamp(0, 255).to(torch::kUInt8).contiguous();
    const uint8_t* e = q.data_ptr<uint8_t>();
    const size_t plane = static_cast<size_t>(kW / 2) * (kH / 2);
    EXPECT_LE(max_diff(o.u, std::vector<uint8_t>(e, e + plane)), 1) << "Cb of frame " << s;
    EXPECT_LE(max_diff(o.v, std::vector<uint8_t>(e + plane, e + 2 * plane)), 1)
        << "Cr of frame " << s;
    if (max_diff(o.u, in[s].u) > 2) ++changed_frames;
  }
  EXPECT_EQ(changed_frames, n) << "a random g changes every frame that has a neighbour";
  // The swapped flow directions would give another picture: the check above can fail.
  std::vector<vidcolor::RefineNeighbour> wrong = {
      {luma(0), chroma(0), flow(kShift / 2.0f), torch::Tensor()},
      {luma(2), chroma(2), flow(-kShift / 2.0f), torch::Tensor()}};
  const auto q = (engine.refine(luma(1), chroma(1), wrong) * 255.0 + 128.0)
                     .round()
                     .clamp(0, 255)
                     .to(torch::kUInt8)
                     .contiguous();
  EXPECT_GT(max_diff(planes_of(outs[1]).u,
                     std::vector<uint8_t>(q.data_ptr<uint8_t>(),
                                          q.data_ptr<uint8_t>() + (kW / 2) * (kH / 2))),
            1);
  for (GstBuffer* b : outs) gst_buffer_unref(b);
}

TEST(VcRefine, Nv12AndY444AreRefinedWithLumaUntouched) {
  for (const char* format : {"NV12", "Y444"}) {
    auto h = refine_harness(1, 1, format);
    std::vector<Planes> in;
    for (int t = 0; t < 3; ++t) {
      GstBuffer* b = scene_frame(t, format);
      if (t > 0) add_scene_flow(b);
      in.push_back(planes_of(b, format));
      ASSERT_EQ(gst_harness_push(h.get(), b), GST_FLOW_OK);
    }
    ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_eos()));
    for (int t = 0; t < 3; ++t) {
      BufferPtr o(gst_harness_try_pull(h.get()));
      ASSERT_TRUE(o) << format << " frame " << t;
      const Planes p = planes_of(o.get(), format);
      EXPECT_EQ(p.y, in[t].y) << format;
      EXPECT_GT(max_diff(p.u, in[t].u) + max_diff(p.v, in[t].v), 2) << format << " chroma refined";
    }
  }
}

TEST(VcRefine, FlushDropsTheHeldFrames) {
  auto h = refine_harness(1, 2);
  std::string seq;
  record(h.get(), &seq);
  for (int t = 0; t < 5; ++t)
    ASSERT_EQ(gst_harness_push(h.get(), scene_frame_with_flow(t, t == 0)), GST_FLOW_OK);
  EXPECT_EQ(pull_all_pts(h.get()), times(0, 3));
  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_flush_start()));
  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_flush_stop(TRUE)));
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_segment(&seg)));
  EXPECT_TRUE(pull_all_pts(h.get()).empty()) << "frames 3 and 4 were dropped, not pushed";
  // A new run from 10: the window starts empty (first frame without flow).
  for (int t = 10; t < 13; ++t)
    ASSERT_EQ(gst_harness_push(h.get(), scene_frame_with_flow(t, t == 10)), GST_FLOW_OK);
  EXPECT_EQ(pull_all_pts(h.get()), times(10, 11));
  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_eos()));
  EXPECT_EQ(pull_all_pts(h.get()), times(11, 13));
  EXPECT_EQ(seq, "BBBSBBBE");
}

TEST(VcRefine, CapsChangePushesHeldFramesWithTheOldCapsFirst) {
  auto h = refine_harness(1, 1);
  std::string seq;
  record(h.get(), &seq);
  std::vector<GstBuffer*> outs;
  for (int t = 0; t < 4; ++t)
    ASSERT_EQ(gst_harness_push(h.get(), scene_frame_with_flow(t, t == 0)), GST_FLOW_OK);
  gst_harness_set_src_caps_str(h.get(), video_caps("I420", 32, 24).c_str());
  for (int t = 4; t < 7; ++t) {
    GstBuffer* b = scene_frame(t, "I420", 32, 24);
    if (t > 4) add_scene_flow(b, 32, 24);
    ASSERT_EQ(gst_harness_push(h.get(), b), GST_FLOW_OK);
  }
  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_eos()));
  while (GstBuffer* b = gst_harness_try_pull(h.get())) outs.push_back(b);
  ASSERT_EQ(outs.size(), 7u);
  for (size_t i = 0; i < outs.size(); ++i) {
    EXPECT_EQ(GST_BUFFER_PTS(outs[i]), i * kDur);
    EXPECT_EQ(gst_buffer_get_size(outs[i]), i < 4 ? 64u * 48 * 3 / 2 : 32u * 24 * 3 / 2) << i;
    gst_buffer_unref(outs[i]);
  }
  // The 4 frames of the old caps (one held when the caps changed) before the new caps.
  EXPECT_EQ(seq, "BBBBCSBBBE");
}

TEST(VcRefine, DiscontPushesHeldFramesFirstAndRestarts) {
  auto h = refine_harness(1, 2);
  for (int t = 0; t < 4; ++t)
    ASSERT_EQ(gst_harness_push(h.get(), scene_frame_with_flow(t, t == 0)), GST_FLOW_OK);
  EXPECT_EQ(pull_all_pts(h.get()), times(0, 2));
  // A DISCONT buffer (vcflow gives it no meta): the two held frames come out first.
  GstBuffer* d = scene_frame(4);
  GST_BUFFER_FLAG_SET(d, GST_BUFFER_FLAG_DISCONT);
  ASSERT_EQ(gst_harness_push(h.get(), d), GST_FLOW_OK);
  EXPECT_EQ(pull_all_pts(h.get()), times(2, 4));
  for (int t = 5; t < 8; ++t)
    ASSERT_EQ(gst_harness_push(h.get(), scene_frame_with_flow(t, false)), GST_FLOW_OK);
  BufferPtr first(gst_harness_try_pull(h.get()));
  ASSERT_TRUE(first);
  EXPECT_EQ(GST_BUFFER_PTS(first.get()), 4 * kDur);
  EXPECT_TRUE(GST_BUFFER_FLAG_IS_SET(first.get(), GST_BUFFER_FLAG_DISCONT)) << "flag kept";
  EXPECT_EQ(pull_all_pts(h.get()), times(5, 6));
  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_eos()));
  EXPECT_EQ(pull_all_pts(h.get()), times(6, 8));
}

TEST(VcRefine, SerializedEventsStayInOrderWithHeldFrames) {
  auto h = refine_harness(1, 1);
  std::string seq;
  record(h.get(), &seq);
  ASSERT_EQ(gst_harness_push(h.get(), scene_frame_with_flow(0, true)), GST_FLOW_OK);
  ASSERT_EQ(gst_harness_push(h.get(), scene_frame_with_flow(1, false)), GST_FLOW_OK);
  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_tag(gst_tag_list_new_empty())));
  ASSERT_EQ(gst_harness_push(h.get(), scene_frame_with_flow(2, false)), GST_FLOW_OK);
  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_eos()));
  EXPECT_EQ(seq, "BBTBE") << "the tag came after frame 1, so it leaves after frame 1";
}

TEST(VcRefine, WithoutFlowMetaWarnsOnceAndPassesFramesThrough) {
  auto h = refine_harness(1, 2);
  BusPtr bus(h->element);
  std::vector<Planes> in;
  for (int t = 0; t < 6; ++t) {
    GstBuffer* b = scene_frame(t);
    in.push_back(planes_of(b));
    ASSERT_EQ(gst_harness_push(h.get(), b), GST_FLOW_OK);
  }
  ASSERT_TRUE(gst_harness_push_event(h.get(), gst_event_new_eos()));
  for (int t = 0; t < 6; ++t) {
    BufferPtr o(gst_harness_try_pull(h.get()));
    ASSERT_TRUE(o);
    EXPECT_EQ(GST_BUFFER_PTS(o.get()), t * kDur);
    const Planes p = planes_of(o.get());
    EXPECT_EQ(p.y, in[t].y);
    EXPECT_EQ(p.u, in[t].u) << "unrefined";
    EXPECT_EQ(p.v, in[t].v);
  }
  std::string text;
  EXPECT_EQ(bus.count(GST_MESSAGE_WARNING, &text), 1);
  EXPECT_NE(text.find("vcflow"), std::string::npos) << text;
}

TEST(VcRefine, BadModelFailsTheStateChangeNamingTheFile) {
  const std::string missing = std::string(g_get_tmp_dir()) + "/no-such-vidcolor-model.safetensors";
  const std::string corrupt = std::string(g_get_tmp_dir()) + "/vcrefine-corrupt-" +
                              std::to_string(getpid()) + ".safetensors";
  std::ofstream(corrupt) << "this is not a safetensors file";
  for (const std::string& path : {missing, corrupt}) {
    GstElement* e = gst_element_factory_make("vcrefine", nullptr);
    ASSERT_NE(e, nullptr);
    g_object_set(e, "model", path.c_str(), nullptr);
    {
      BusPtr bus(e);
      EXPECT_EQ(gst_element_set_state(e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
      std::string text;
      EXPECT_EQ(bus.count(GST_MESSAGE_ERROR, &text), 1);
      EXPECT_NE(text.find(path), std::string::npos) << text;
    }
    gst_element_set_state(e, GST_STATE_NULL);
    gst_object_unref(e);
  }
  g_unlink(corrupt.c_str());
  // A bad device is an error too, naming the device.
  GstElement* e = gst_element_factory_make("vcrefine", nullptr);
  g_object_set(e, "model", model_path().c_str(), "device", "tpu:3", nullptr);
  {
    BusPtr bus(e);
    EXPECT_EQ(gst_element_set_state(e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
    std::string text;
    EXPECT_EQ(bus.count(GST_MESSAGE_ERROR, &text), 1);
    EXPECT_NE(text.find("tpu:3"), std::string::npos) << text;
  }
  gst_element_set_state(e, GST_STATE_NULL);
  gst_object_unref(e);
}

TEST(VcRefine, PropertiesHaveRangesAndDefaults) {
  GstElement* e = gst_element_factory_make("vcrefine", nullptr);
  ASSERT_NE(e, nullptr);
  guint window = 0, iterations = 0;
  double alpha = 0;
  gchar* device = nullptr;
  gint threads = -1;
  g_object_get(e, "window", &window, "iterations", &iterations, "alpha", &alpha, "device", &device,
               "threads", &threads, nullptr);
  EXPECT_EQ(threads, 1);
  EXPECT_EQ(window, 1u);
  EXPECT_EQ(iterations, 1u);
  EXPECT_DOUBLE_EQ(alpha, 15.0);
  EXPECT_STREQ(device, "auto");
  g_free(device);
  GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(e), "iterations");
  ASSERT_NE(spec, nullptr);
  EXPECT_EQ(G_PARAM_SPEC_UINT(spec)->maximum, 4u);
  EXPECT_NE(g_param_spec_get_blurb(spec), nullptr);
  gst_object_unref(e);
}

// Issue 21: the shared properties (network_element.h) and vcrefine's own set from other
// threads over and over while frames flow through a window of 2 x 2 passes: threads and
// processing-latency take effect between frames, the READY-only ones (model, window,
// inference-size) are refused while playing. No crash, every frame out once, in order.
TEST(VcRefine, StressedPropertiesWhileFramesFlow) {
  const int n = 16;
  auto hr = refine_harness(2, 2);
  const auto start = [&](const char* name, auto set) {
    GValue v = G_VALUE_INIT;
    set(&v);
    GstHarnessThread* t = gst_harness_stress_property_start_full(hr.get(), name, &v, 500);
    g_value_unset(&v);
    return t;
  };
  GstHarnessThread* threads[] = {
      start("threads", [](GValue* v) { g_value_set_int(g_value_init(v, G_TYPE_INT), 1); }),
      start("processing-latency",
            [](GValue* v) { g_value_set_int64(g_value_init(v, G_TYPE_INT64), 3 * GST_MSECOND); }),
      start("inference-size", [](GValue* v) { g_value_set_int(g_value_init(v, G_TYPE_INT), 32); }),
      start("window", [](GValue* v) { g_value_set_uint(g_value_init(v, G_TYPE_UINT), 1); }),
      start("model",
            [](GValue* v) { g_value_set_string(g_value_init(v, G_TYPE_STRING), "/nonexistent"); }),
  };
  for (int t = 0; t < n; ++t)
    ASSERT_EQ(gst_harness_push(hr.get(), scene_frame_with_flow(t, t == 0)), GST_FLOW_OK) << t;
  ASSERT_TRUE(gst_harness_push_event(hr.get(), gst_event_new_eos()));
  for (GstHarnessThread* t : threads) EXPECT_GT(gst_harness_stress_thread_stop(t), 0u);
  for (int t = 0; t < n; ++t) {
    BufferPtr out(gst_harness_try_pull(hr.get()));
    ASSERT_TRUE(out) << t;
    EXPECT_EQ(GST_BUFFER_PTS(out.get()), t * kDur);
  }
  EXPECT_EQ(gst_harness_buffers_in_queue(hr.get()), 0u);
  guint window = 0;
  gint size = -1;
  gchar* model = nullptr;
  g_object_get(hr->element, "window", &window, "inference-size", &size, "model", &model, nullptr);
  EXPECT_EQ(window, 2u) << "READY-only: refused while playing";
  EXPECT_EQ(size, 0);
  EXPECT_EQ(model_path(), model);
  g_free(model);
}
