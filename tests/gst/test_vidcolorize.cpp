// The vidcolorize bin (properties reach the children; a clip goes through with every frame
// and timestamp, the latency includes vcrefine's window) and the full element chain on a
// real DAVIS sequence: multifilesrc ! jpegdec ! vcgray ! vccolorize ! vcflow ! vcrefine with
// frames in == frames out, luma untouched by vcrefine and its chroma refined. Small random
// model, small inference size.
#include <glib/gstdio.h>
#include <gst/video/video.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>
#include <unistd.h>
#include <vector>

#include <vidcolor/model/model_file.hpp>

#include "gst_test_util.hpp"
#include "temp_model.hpp"
#include "vidcolor-config.h"

using namespace vctest;

VCTEST_GST_MAIN_ENV;

namespace {

std::string shared_data() {
  const char* env = std::getenv("VIDCOLOR_SHARED_DATA");
  return env != nullptr ? env : VIDCOLOR_SHARED_DATA_DIR;
}

const std::string& model_path() {
  vidcolor::ModelConfig c = vidcolor::ModelConfig::fast();
  c.candidates = 4;
  c.colorizer_channels = {4, 8, 8};
  c.refiner_channels = {4, 8};
  c.inference_size = 64;
  return vctest::temp_model_path("vidcolorize-test", c, 5);
}

GstElement* child_of(GstElement* bin, const char* factory) {
  GstElement* found = nullptr;
  GstIterator* it = gst_bin_iterate_recurse(GST_BIN(bin));
  GValue v = G_VALUE_INIT;
  while (!found && gst_iterator_next(it, &v) == GST_ITERATOR_OK) {
    auto* e = GST_ELEMENT(g_value_get_object(&v));
    GstElementFactory* f = gst_element_get_factory(e);
    if (f != nullptr && g_str_equal(GST_OBJECT_NAME(f), factory)) found = e;
    g_value_reset(&v);
  }
  g_value_unset(&v);
  gst_iterator_free(it);
  return found;  // owned by the bin
}

// Runs a parsed pipeline to EOS or error. Returns the error text, "timeout", or "".
std::string run(GstElement* pipeline, int timeout_s = 50) {
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* msg =
      gst_bus_timed_pop_filtered(bus, timeout_s * GST_SECOND,
                                 static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  std::string result = msg == nullptr ? "timeout" : "";
  if (msg != nullptr && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError* e = nullptr;
    gchar* dbg = nullptr;
    gst_message_parse_error(msg, &e, &dbg);
    result = std::string(e->message) + " (" + (dbg ? dbg : "") + ")";
    g_error_free(e);
    g_free(dbg);
  }
  if (msg) gst_message_unref(msg);
  gst_object_unref(bus);
  return result;
}

struct Seen {
  std::vector<GstClockTime> pts;
  std::map<GstClockTime, std::pair<std::vector<uint8_t>, std::vector<uint8_t>>> planes;  // Y, UV
  bool keep_planes = false;
};

GstPadProbeReturn seen_probe(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* s = static_cast<Seen*>(data);
  GstBuffer* b = GST_PAD_PROBE_INFO_BUFFER(info);
  s->pts.push_back(GST_BUFFER_PTS(b));
  if (s->keep_planes) {
    GstCaps* caps = gst_pad_get_current_caps(pad);
    GstVideoInfo vi;
    gst_video_info_from_caps(&vi, caps);
    gst_caps_unref(caps);
    GstVideoFrame f;
    if (gst_video_frame_map(&f, &vi, b, GST_MAP_READ)) {
      std::vector<uint8_t> y, uv;
      for (int comp = 0; comp < 3; ++comp) {
        const auto* p = static_cast<const uint8_t*>(GST_VIDEO_FRAME_COMP_DATA(&f, comp));
        const int st = GST_VIDEO_FRAME_COMP_STRIDE(&f, comp),
                  ps = GST_VIDEO_FRAME_COMP_PSTRIDE(&f, comp);
        for (int r = 0; r < GST_VIDEO_FRAME_COMP_HEIGHT(&f, comp); ++r)
          for (int c = 0; c < GST_VIDEO_FRAME_COMP_WIDTH(&f, comp); ++c)
            (comp == 0 ? y : uv).push_back(p[r * st + c * ps]);
      }
      gst_video_frame_unmap(&f);
      s->planes[GST_BUFFER_PTS(b)] = {y, uv};
    }
  }
  return GST_PAD_PROBE_OK;
}

void watch(GstElement* pipeline, const char* element, const char* pad, Seen* seen) {
  GstElement* e = gst_bin_get_by_name(GST_BIN(pipeline), element);
  ASSERT_NE(e, nullptr) << element;
  GstPad* p = gst_element_get_static_pad(e, pad);
  gst_pad_add_probe(p, GST_PAD_PROBE_TYPE_BUFFER, seen_probe, seen, nullptr);
  gst_object_unref(p);
  gst_object_unref(e);
}

}  // namespace

TEST(VidColorize, PropertiesReachTheChildren) {
  GstElement* bin = gst_element_factory_make("vidcolorize", nullptr);
  ASSERT_NE(bin, nullptr);
  g_object_set(bin, "model", model_path().c_str(), "device", "cpu", "threads", 1, "inference-size",
               96, "queue-size", 5u, nullptr);
  // One child's own properties go through GstChildProxy (the bin has no shortcuts for them).
  gst_child_proxy_set(GST_CHILD_PROXY(bin), "colorize::candidate", 2, "flow::scale", 0.25,
                      "refine::window", 2u, "refine::iterations", 3u, "refine::alpha", 9.0,
                      nullptr);
  {
    GstElement* f = gst_bin_get_by_name(GST_BIN(bin), "flow");
    ASSERT_NE(f, nullptr);
    gst_util_set_object_arg(G_OBJECT(f), "backend", "dis-medium");  // an enum, by its nick
    gst_object_unref(f);
  }
  GstElement* colorize = child_of(bin, "vccolorize");
  GstElement* flow = child_of(bin, "vcflow");
  GstElement* refine = child_of(bin, "vcrefine");
  ASSERT_TRUE(colorize && flow && refine && child_of(bin, "vcgray"));

  gchar *m1 = nullptr, *m2 = nullptr, *d2 = nullptr;
  gint c = 0, s1 = 0, s2 = 0, t1 = 0, t2 = 0;
  guint w = 0, it = 0, qs = 0;
  gdouble scale = 0, alpha = 0;
  g_object_get(colorize, "model", &m1, "candidate", &c, "inference-size", &s1, "threads", &t1,
               nullptr);
  g_object_get(refine, "model", &m2, "device", &d2, "inference-size", &s2, "threads", &t2, "window",
               &w, "iterations", &it, "alpha", &alpha, nullptr);
  g_object_get(flow, "scale", &scale, nullptr);
  EXPECT_EQ(model_path(), m1);
  EXPECT_EQ(model_path(), m2);
  EXPECT_STREQ(d2, "cpu");
  EXPECT_EQ(c, 2);
  EXPECT_EQ(s1, 96);
  EXPECT_EQ(s2, 96);
  EXPECT_EQ(t1, 1);
  EXPECT_EQ(t2, 1);
  EXPECT_EQ(w, 2u);
  EXPECT_EQ(it, 3u);
  EXPECT_DOUBLE_EQ(alpha, 9.0);
  EXPECT_DOUBLE_EQ(scale, 0.25);
  gchar* backend = nullptr;
  GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(flow), "backend");
  GValue bv = G_VALUE_INIT;
  g_value_init(&bv, spec->value_type);
  g_object_get_property(G_OBJECT(flow), "backend", &bv);
  backend = g_strdup(
      g_enum_get_value(G_ENUM_CLASS(g_type_class_peek(spec->value_type)), g_value_get_enum(&bv))
          ->value_nick);
  g_value_unset(&bv);
  EXPECT_STREQ(backend, "dis-medium");
  // Reading the bin reads the children.
  gint bin_size = 0, bin_threads = 0;
  g_object_get(bin, "inference-size", &bin_size, "queue-size", &qs, "threads", &bin_threads,
               nullptr);
  EXPECT_EQ(bin_size, 96);
  EXPECT_EQ(qs, 5u);
  EXPECT_EQ(bin_threads, 1);
  g_free(m1);
  g_free(m2);
  g_free(d2);
  g_free(backend);
  gst_object_unref(bin);
}

TEST(VidColorize, ClipGoesThroughWithEveryFrameAndTheRefineLatency) {
  const int n = 10;
  const std::string desc =
      "videotestsrc num-buffers=" + std::to_string(n) +
      " pattern=ball ! video/x-raw,format=I420,width=128,height=96,framerate=25/1 ! "
      "vidcolorize name=vc model=" +
      model_path() +
      " inference-size=64 threads=1 refine::iterations=2 ! fakesink name=sink sync=false";
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(desc.c_str(), &err);
  ASSERT_EQ(err, nullptr) << err->message;
  Seen out;
  watch(pipeline, "sink", "sink", &out);
  EXPECT_EQ(run(pipeline), "");
  std::vector<GstClockTime> expect;
  for (int i = 0; i < n; ++i) expect.push_back(i * GST_SECOND / 25);
  EXPECT_EQ(out.pts, expect) << "every frame once, in order, with its timestamp";
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);

  // Latency (live source): vcrefine's window x iterations = 2 held frames, plus one frame of
  // processing-latency each for vccolorize and vcrefine (0 = none).
  const auto live_latency = [](const std::string& props) {
    GError* e = nullptr;
    GstElement* live =
        gst_parse_launch(("videotestsrc is-live=true ! "
                          "video/x-raw,width=128,height=96,framerate=25/1 ! vidcolorize model=" +
                          model_path() + " inference-size=64 threads=1 refine::iterations=2 " +
                          props + " ! fakesink name=sink")
                             .c_str(),
                         &e);
    EXPECT_EQ(e, nullptr);
    if (e) g_error_free(e);
    if (!live) return GstClockTime(0);
    gst_element_set_state(live, GST_STATE_PLAYING);
    EXPECT_NE(gst_element_get_state(live, nullptr, nullptr, 30 * GST_SECOND),
              GST_STATE_CHANGE_FAILURE);
    // Asked where the sink asks: at the bin's src pad.
    GstElement* sink = gst_bin_get_by_name(GST_BIN(live), "sink");
    GstPad* sinkpad = gst_element_get_static_pad(sink, "sink");
    GstQuery* q = gst_query_new_latency();
    EXPECT_TRUE(gst_pad_peer_query(sinkpad, q));
    gst_object_unref(sinkpad);
    gst_object_unref(sink);
    gboolean is_live = FALSE;
    GstClockTime min = 0, max = 0;
    gst_query_parse_latency(q, &is_live, &min, &max);
    EXPECT_TRUE(is_live);
    gst_query_unref(q);
    gst_element_set_state(live, GST_STATE_NULL);
    gst_object_unref(live);
    return min;
  };
  const GstClockTime frame = GST_SECOND / 25;
  const GstClockTime with_processing = live_latency(""),
                     without = live_latency("processing-latency=0"),
                     explicit_ms = live_latency("processing-latency=5000000");
  EXPECT_GE(without, 2 * frame);
  EXPECT_EQ(with_processing, without + 2 * frame) << "one frame each for vccolorize and vcrefine";
  EXPECT_EQ(explicit_ms, without + 10 * GST_MSECOND);
}

TEST(FullPipeline, DavisSequenceFramesInEqualFramesOut) {
  const int n = 6;
  const std::string dir = shared_data() + "/videos/davis2016/bmx-trees";
  ASSERT_TRUE(g_file_test((dir + "/00000.jpg").c_str(), G_FILE_TEST_EXISTS)) << dir;
  const std::string desc =
      "multifilesrc location=" + dir + "/%05d.jpg index=0 stop-index=" + std::to_string(n - 1) +
      " caps=image/jpeg,framerate=25/1 ! jpegdec ! identity name=in ! vcgray ! vccolorize model=" +
      model_path() +
      " inference-size=64 threads=1 ! vcflow ! vcrefine name=refine model=" + model_path() +
      " threads=1 ! fakesink name=sink sync=false";
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(desc.c_str(), &err);
  ASSERT_EQ(err, nullptr) << err->message;
  Seen in, before, after;
  before.keep_planes = after.keep_planes = true;
  watch(pipeline, "in", "src", &in);
  watch(pipeline, "refine", "sink", &before);
  watch(pipeline, "sink", "sink", &after);
  EXPECT_EQ(run(pipeline, 55), "");
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);

  ASSERT_EQ(static_cast<int>(in.pts.size()), n) << "the source read every frame";
  EXPECT_EQ(after.pts, in.pts) << "frames in == frames out, timestamps kept";
  int refined = 0;
  for (GstClockTime t : in.pts) {
    ASSERT_TRUE(before.planes.count(t) && after.planes.count(t));
    EXPECT_EQ(after.planes[t].first, before.planes[t].first) << "vcrefine keeps Y";
    if (after.planes[t].second != before.planes[t].second) ++refined;
  }
  // vcflow gives every frame but the first a meta, so every frame has a neighbour.
  EXPECT_EQ(refined, n) << "vcrefine changed the chroma of every frame";
}

// The chain computes its flow at g's resolution: a quarter of the frame, not vcflow's 0.5.
TEST(VidColorize, FlowScaleDefaultsToTheNetworksResolution) {
  GstElement* bin = gst_element_factory_make("vidcolorize", nullptr);
  ASSERT_NE(bin, nullptr);
  GstElement* flow = child_of(bin, "vcflow");
  ASSERT_NE(flow, nullptr);
  gdouble scale = 0, proxied_scale = 0;
  g_object_get(flow, "scale", &scale, nullptr);
  gst_child_proxy_get(GST_CHILD_PROXY(bin), "flow::scale", &proxied_scale, nullptr);
  EXPECT_DOUBLE_EQ(scale, 0.25);
  EXPECT_DOUBLE_EQ(proxied_scale, 0.25);
  gst_object_unref(bin);
}

// Issue 21: the children are named gray, colorize, flow and refine, so a launch line sets any
// child property through GstChildProxy.
TEST(VidColorize, ChildPropertiesThroughChildProxy) {
  const int n = 6;
  const std::string desc =
      "videotestsrc num-buffers=" + std::to_string(n) +
      " pattern=ball ! video/x-raw,format=I420,width=128,height=96,framerate=25/1 ! "
      "vidcolorize name=vc model=" +
      model_path() +
      " inference-size=64 threads=1 refine::iterations=2 refine::window=2 colorize::candidate=1 "
      "flow::backend=dis-ultrafast ! fakesink name=sink sync=false";
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(desc.c_str(), &err);
  ASSERT_EQ(err, nullptr) << err->message;
  GstElement* vc = gst_bin_get_by_name(GST_BIN(pipeline), "vc");
  ASSERT_NE(vc, nullptr);
  const std::pair<const char*, const char*> names[] = {
      {"gray", "vcgray"}, {"colorize", "vccolorize"}, {"flow", "vcflow"}, {"refine", "vcrefine"}};
  for (const auto& [name, factory] : names) {
    GstElement* child = gst_bin_get_by_name(GST_BIN(vc), name);
    ASSERT_NE(child, nullptr) << name;
    EXPECT_STREQ(GST_OBJECT_NAME(gst_element_get_factory(child)), factory);
    gst_object_unref(child);
  }
  guint iterations = 0, window = 0;
  gint candidate = -1;
  gst_child_proxy_get(GST_CHILD_PROXY(vc), "refine::iterations", &iterations, "refine::window",
                      &window, "colorize::candidate", &candidate, nullptr);
  EXPECT_EQ(iterations, 2u);
  EXPECT_EQ(window, 2u);
  EXPECT_EQ(candidate, 1);
  // One name per property: one child's own are not repeated on the bin.
  for (const char* name :
       {"iterations", "window", "alpha", "candidate", "flow-scale", "flow-backend"})
    EXPECT_EQ(g_object_class_find_property(G_OBJECT_GET_CLASS(vc), name), nullptr) << name;
  Seen out;
  watch(pipeline, "sink", "sink", &out);
  EXPECT_EQ(run(pipeline), "");
  EXPECT_EQ(out.pts.size(), static_cast<size_t>(n)) << "every frame once";
  gst_object_unref(vc);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
}

// Issue 21: the bin's properties are made from its children's specs (type, range, default,
// when they may change), so they cannot disagree; a property set on both networks accepts
// what both accept and may change while playing only if both allow it.
TEST(VidColorize, PropertySpecsAreTheChildrens) {
  GstElement* bin = gst_element_factory_make("vidcolorize", nullptr);
  ASSERT_NE(bin, nullptr);
  GstElement* colorize = gst_bin_get_by_name(GST_BIN(bin), "colorize");
  GstElement* refine = gst_bin_get_by_name(GST_BIN(bin), "refine");
  ASSERT_TRUE(colorize && refine);
  const auto spec = [](GstElement* e, const char* name) {
    return g_object_class_find_property(G_OBJECT_GET_CLASS(e), name);
  };
  for (const char* name : {"threads", "inference-size"}) {
    GParamSpecInt* b = G_PARAM_SPEC_INT(spec(bin, name));
    GParamSpecInt* c = G_PARAM_SPEC_INT(spec(colorize, name));
    GParamSpecInt* r = G_PARAM_SPEC_INT(spec(refine, name));
    EXPECT_EQ(b->minimum, std::max(c->minimum, r->minimum)) << name;
    EXPECT_EQ(b->maximum, std::min(c->maximum, r->maximum)) << name;
    EXPECT_EQ(c->maximum, r->maximum) << name << ": one range for both networks";
    EXPECT_EQ(b->default_value, c->default_value) << name;
  }
  const auto mutable_playing = [&](GstElement* e, const char* name) {
    return (spec(e, name)->flags & GST_PARAM_MUTABLE_PLAYING) != 0;
  };
  EXPECT_TRUE(mutable_playing(bin, "threads"));
  EXPECT_TRUE(mutable_playing(bin, "processing-latency"));
  EXPECT_FALSE(mutable_playing(bin, "inference-size")) << "vcrefine's is READY-only";
  EXPECT_FALSE(mutable_playing(bin, "model"));
  EXPECT_STREQ(G_PARAM_SPEC_STRING(spec(bin, "device"))->default_value,
               G_PARAM_SPEC_STRING(spec(refine, "device"))->default_value);
  EXPECT_EQ(G_PARAM_SPEC_ENUM(spec(bin, "output-format"))->default_value,
            G_PARAM_SPEC_ENUM(spec(colorize, "output-format"))->default_value);
  const auto mutability = GST_PARAM_MUTABLE_PLAYING | GST_PARAM_MUTABLE_READY;
  EXPECT_EQ(spec(bin, "output-format")->flags & mutability,
            spec(colorize, "output-format")->flags & mutability);
  EXPECT_EQ(G_PARAM_SPEC_INT64(spec(bin, "processing-latency"))->default_value,
            G_PARAM_SPEC_INT64(spec(colorize, "processing-latency"))->default_value);
  gst_object_unref(colorize);
  gst_object_unref(refine);
  gst_object_unref(bin);
}

// The audit of 2026-12-08: the bin offered vccolorize's R'G'B' output formats, which vcrefine
// (Y'CbCr only) can never carry, and choosing one failed as a bare "could not link". The bin's
// output-format lists exactly vccolorize's Y'CbCr values (the same numbers and names), and a
// value set on the bin is vccolorize's.
TEST(VidColorize, OutputFormatsAreTheChainsYCbCrOnes) {
  GstElement* bin = gst_element_factory_make("vidcolorize", nullptr);
  ASSERT_NE(bin, nullptr);
  GstElement* colorize = gst_bin_get_by_name(GST_BIN(bin), "colorize");
  ASSERT_NE(colorize, nullptr);
  const auto enum_of = [](GstElement* e) {
    return G_PARAM_SPEC_ENUM(g_object_class_find_property(G_OBJECT_GET_CLASS(e), "output-format"))
        ->enum_class;
  };
  GEnumClass* chain = enum_of(bin);
  GEnumClass* all = enum_of(colorize);
  int yuv_in_all = 0;
  for (guint i = 0; i < all->n_values; ++i) {
    const GEnumValue& v = all->values[i];
    const GstVideoFormatInfo* info =
        gst_video_format_get_info(static_cast<GstVideoFormat>(v.value));
    const bool yuv = v.value == 0 || (info != nullptr && GST_VIDEO_FORMAT_INFO_IS_YUV(info));
    yuv_in_all += yuv;
    const GEnumValue* in_chain = g_enum_get_value_by_nick(chain, v.value_nick);
    EXPECT_EQ(in_chain != nullptr, yuv) << v.value_nick;
    if (in_chain != nullptr) EXPECT_EQ(in_chain->value, v.value) << v.value_nick;
  }
  EXPECT_EQ(static_cast<int>(chain->n_values), yuv_in_all);
  EXPECT_GE(yuv_in_all, 10) << "auto and the Y'CbCr formats";
  EXPECT_LT(yuv_in_all, static_cast<int>(all->n_values)) << "vccolorize also writes R'G'B'";
  gst_util_set_object_arg(G_OBJECT(bin), "output-format", "P010_10LE");
  gint on_child = 0, on_bin = 0;
  g_object_get(colorize, "output-format", &on_child, nullptr);
  g_object_get(bin, "output-format", &on_bin, nullptr);
  EXPECT_EQ(on_child, GST_VIDEO_FORMAT_P010_10LE);
  EXPECT_EQ(on_bin, GST_VIDEO_FORMAT_P010_10LE);
  gst_object_unref(colorize);
  gst_object_unref(bin);
}
