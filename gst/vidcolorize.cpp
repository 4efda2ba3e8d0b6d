/**
 * SECTION:element-vidcolorize
 * @title: vidcolorize
 *
 * Fully automatic video colorization in one element: a bin of
 * `vcgray ! queue ! vccolorize ! queue ! vcflow ! queue ! vcrefine` with ghost pads. Any
 * raw video in (whatever vcgray accepts), colorized Y'CbCr out: by default the input's own
 * format (8- or 10-bit, planar, semi-planar, UYVY/YUY2, v210), colorimetry and chroma-site,
 * with its luma samples untouched (only the chroma is new); R'G'B' or gray input gives
 * full-range BT.601 I420 unless downstream asks otherwise. #GstVidColorize:output-format
 * chooses another Y'CbCr format. The queues put each
 * stage in its own streaming thread, so f, the optical flow and g run on different cores
 * at the same time; they are short (#GstVidColorize:queue-size buffers), which bounds the
 * added latency and memory.
 *
 * Properties are forwarded to the children: model, device, threads and inference-size to
 * both networks (vccolorize and vcrefine), candidate and output-format to vccolorize, flow-backend and
 * flow-scale to vcflow, window, iterations and alpha to vcrefine. Reading a property reads
 * it from the (first) child that has it. The reported latency is the children's: vcrefine
 * adds window × iterations frames, and vccolorize and vcrefine each add their
 * #GstVidColorize:processing-latency (one frame duration by default), so a synchronising sink
 * after a live source does not find the frames late (measured: docs/BENCHMARKS.md).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=old-film.mp4 ! decodebin ! videoconvert ! \
 *     vidcolorize iterations=2 ! videoconvert ! autovideosink
 * ]|
 */
#include "vidcolorize.h"

#include <string>
#include <vector>

#include <gst/video/video.h>

#include "frame_codes.h"
#include "processing_latency.h"
#include "vccolorize.h"
#include "vcflow.h"

GST_DEBUG_CATEGORY_STATIC(gst_vid_colorize_debug);
#define GST_CAT_DEFAULT gst_vid_colorize_debug

#define DEFAULT_QUEUE_SIZE 3
// The chain's flow is for g, which runs at the networks' inference size (192x112 for 854x480
// with the shipped model): flow at a quarter of the frame (213x120) is at g's own resolution,
// and costs ~9 ms a frame instead of ~20 at vcflow's own default of 0.5 (docs/BENCHMARKS.md).
#define DEFAULT_FLOW_SCALE 0.25

enum {
  PROP_0,
  PROP_MODEL,
  PROP_DEVICE,
  PROP_THREADS,
  PROP_CANDIDATE,
  PROP_INFERENCE_SIZE,
  PROP_FLOW_BACKEND,
  PROP_FLOW_SCALE,
  PROP_WINDOW,
  PROP_ITERATIONS,
  PROP_ALPHA,
  PROP_QUEUE_SIZE,
  PROP_PROCESSING_LATENCY,
  PROP_OUTPUT_FORMAT,
};

// The chain, in order; queues go between consecutive elements.
enum Child { GRAY, COLORIZE, FLOW, REFINE, N_CHILDREN };
static const char* const kChildFactories[N_CHILDREN] = {"vcgray", "vccolorize", "vcflow", "vcrefine"};

struct Target {
  Child child;
  const char* property;
};

// Bin property -> the child properties it sets (the first is read back).
static std::vector<Target> targets_of(guint prop_id) {
  switch (prop_id) {
    case PROP_MODEL: return {{COLORIZE, "model"}, {REFINE, "model"}};
    case PROP_DEVICE: return {{COLORIZE, "device"}, {REFINE, "device"}};
    case PROP_THREADS: return {{COLORIZE, "threads"}, {REFINE, "threads"}};
    case PROP_CANDIDATE: return {{COLORIZE, "candidate"}};
    case PROP_OUTPUT_FORMAT: return {{COLORIZE, "output-format"}};
    case PROP_INFERENCE_SIZE: return {{COLORIZE, "inference-size"}, {REFINE, "inference-size"}};
    case PROP_FLOW_BACKEND: return {{FLOW, "backend"}};
    case PROP_FLOW_SCALE: return {{FLOW, "scale"}};
    case PROP_WINDOW: return {{REFINE, "window"}};
    case PROP_ITERATIONS: return {{REFINE, "iterations"}};
    case PROP_ALPHA: return {{REFINE, "alpha"}};
    case PROP_PROCESSING_LATENCY: return {{COLORIZE, "processing-latency"}, {REFINE, "processing-latency"}};
    default: return {};
  }
}

struct _GstVidColorize {
  GstBin parent;
  GstElement* children[N_CHILDREN];  // owned by the bin; NULL where the factory is missing
  GstElement* queues[N_CHILDREN - 1];
  std::string* missing;  // names of missing child factories (empty when complete)
};

G_DEFINE_TYPE(GstVidColorize, gst_vid_colorize, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE(vidcolorize, "vidcolorize", GST_RANK_NONE, GST_TYPE_VID_COLORIZE);

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS("video/x-raw"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE("{ " VC_YUV_FORMATS " }")));

static void gst_vid_colorize_set_property(GObject* object, guint prop_id, const GValue* value,
                                          GParamSpec* pspec) {
  GstVidColorize* self = GST_VID_COLORIZE(object);
  if (prop_id == PROP_QUEUE_SIZE) {
    for (GstElement* q : self->queues) g_object_set(q, "max-size-buffers", g_value_get_uint(value), nullptr);
    return;
  }
  const std::vector<Target> targets = targets_of(prop_id);
  if (targets.empty()) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    return;
  }
  for (const Target& t : targets) {
    GstElement* child = self->children[t.child];
    // A child without the property (another version) is skipped, not a critical.
    if (child != nullptr && g_object_class_find_property(G_OBJECT_GET_CLASS(child), t.property))
      g_object_set_property(G_OBJECT(child), t.property, value);  // transforms int <-> uint etc.
  }
}

static void gst_vid_colorize_get_property(GObject* object, guint prop_id, GValue* value,
                                          GParamSpec* pspec) {
  GstVidColorize* self = GST_VID_COLORIZE(object);
  if (prop_id == PROP_QUEUE_SIZE) {
    guint n = 0;
    g_object_get(self->queues[0], "max-size-buffers", &n, nullptr);
    g_value_set_uint(value, n);
    return;
  }
  const std::vector<Target> targets = targets_of(prop_id);
  if (targets.empty()) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    return;
  }
  for (const Target& t : targets) {
    GstElement* child = self->children[t.child];
    if (child != nullptr && g_object_class_find_property(G_OBJECT_GET_CLASS(child), t.property)) {
      g_object_get_property(G_OBJECT(child), t.property, value);
      return;
    }
  }
  g_param_value_set_default(pspec, value);  // no child has it: report the default
}

static GstStateChangeReturn gst_vid_colorize_change_state(GstElement* element, GstStateChange transition) {
  GstVidColorize* self = GST_VID_COLORIZE(element);
  if (transition == GST_STATE_CHANGE_NULL_TO_READY && !self->missing->empty()) {
    GST_ELEMENT_ERROR(self, CORE, MISSING_PLUGIN, ("Missing element(s): %s", self->missing->c_str()),
                      ("vidcolorize.cpp: the vidcolor plugin of this build lacks %s",
                       self->missing->c_str()));
    return GST_STATE_CHANGE_FAILURE;
  }
  return GST_ELEMENT_CLASS(gst_vid_colorize_parent_class)->change_state(element, transition);
}

static void gst_vid_colorize_finalize(GObject* object) {
  GstVidColorize* self = GST_VID_COLORIZE(object);
  delete self->missing;
  self->missing = nullptr;
  G_OBJECT_CLASS(gst_vid_colorize_parent_class)->finalize(object);
}

static void gst_vid_colorize_class_init(GstVidColorizeClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GST_DEBUG_CATEGORY_INIT(gst_vid_colorize_debug, "vidcolorize", 0, "vidcolor colorization bin");

  gobject_class->set_property = gst_vid_colorize_set_property;
  gobject_class->get_property = gst_vid_colorize_get_property;
  gobject_class->finalize = gst_vid_colorize_finalize;

  const auto ready_only = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                   GST_PARAM_MUTABLE_READY);
  const auto playing = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                GST_PARAM_MUTABLE_PLAYING);
  g_object_class_install_property(
      gobject_class, PROP_MODEL,
      g_param_spec_string("model", "Model file",
                          "vidcolor model file for vccolorize (f) and vcrefine (g). Unset: the "
                          "VIDCOLOR_MODEL environment variable, else the installed default model",
                          nullptr, ready_only));
  g_object_class_install_property(
      gobject_class, PROP_DEVICE,
      g_param_spec_string("device", "Device",
                          "Where both networks run: cpu, cuda, cuda:N or auto", "auto", ready_only));
  g_object_class_install_property(
      gobject_class, PROP_THREADS,
      g_param_spec_int("threads", "Threads",
                       "LibTorch threads of vccolorize's and vcrefine's streaming threads, set "
                       "on both (0 = all cores; the two run at the same time, so more than 1 only "
                       "pays on a machine with cores to spare)",
                       0, 256, 1, playing));
  g_object_class_install_property(
      gobject_class, PROP_CANDIDATE,
      g_param_spec_int("candidate", "Candidate",
                       "Which of f's colorizations to use (-1 = auto: the model file's default "
                       "candidate when it names one, else the most saturated, locked after the "
                       "first frames)",
                       -1, 7, -1, playing));
  g_object_class_install_property(
      gobject_class, PROP_OUTPUT_FORMAT,
      g_param_spec_enum("output-format", "Output format",
                        "Format of the output (vccolorize's): auto = the input's own format, "
                        "colorimetry and luma samples; another Y'CbCr format forces it (the "
                        "R'G'B' values are vccolorize's alone: vcrefine refines Y'CbCr)",
                        GST_TYPE_VC_COLORIZE_OUTPUT_FORMAT, 0, playing));
  g_object_class_install_property(
      gobject_class, PROP_INFERENCE_SIZE,
      g_param_spec_int("inference-size", "Inference size",
                       "Short side f and g run at (0 = the model's, else 64 to 1080); smaller is "
                       "faster",
                       0, 1080, 0, ready_only));
  g_object_class_install_property(
      gobject_class, PROP_FLOW_BACKEND,
      g_param_spec_enum("flow-backend", "Flow backend", "vcflow's optical flow algorithm",
                        GST_TYPE_VC_FLOW_BACKEND, GST_VC_FLOW_BACKEND_DIS_FAST, playing));
  g_object_class_install_property(
      gobject_class, PROP_FLOW_SCALE,
      g_param_spec_double("flow-scale", "Flow scale", "vcflow's scale: flow on the luma resized by this",
                          0.05, 1.0, DEFAULT_FLOW_SCALE, playing));
  g_object_class_install_property(
      gobject_class, PROP_WINDOW,
      g_param_spec_uint("window", "Window",
                        "vcrefine's neighbours on each side (lambda); adds window x iterations "
                        "frames of latency",
                        1, 2, 1, ready_only));
  g_object_class_install_property(
      gobject_class, PROP_ITERATIONS,
      g_param_spec_uint("iterations", "Iterations",
                        "vcrefine's refinement passes; adds window x iterations frames of latency",
                        1, 4, 1, ready_only));
  g_object_class_install_property(
      gobject_class, PROP_ALPHA,
      g_param_spec_double("alpha", "Alpha", "vcrefine's confidence sharpness (eq. 4)", 0.01, 1000.0,
                          15.0, ready_only));
  g_object_class_install_property(
      gobject_class, PROP_PROCESSING_LATENCY,
      g_param_spec_int64("processing-latency", "Processing latency",
                         "vccolorize's and vcrefine's processing-latency: what each reports for "
                         "its network's computation in live pipelines (ns; -1 = one frame "
                         "duration each, 0 = none)",
                         VC_PROCESSING_LATENCY_AUTO, static_cast<gint64>(VC_PROCESSING_LATENCY_MAX),
                         VC_PROCESSING_LATENCY_AUTO, playing));
  g_object_class_install_property(
      gobject_class, PROP_QUEUE_SIZE,
      g_param_spec_uint("queue-size", "Queue size",
                        "Buffers each of the three queues between the stages holds", 1, 64,
                        DEFAULT_QUEUE_SIZE, ready_only));

  gst_element_class_set_static_metadata(
      element_class, "vidcolor video colorization", "Filter/Effect/Video/Bin",
      "Fully automatic video colorization: vcgray ! vccolorize ! vcflow ! vcrefine with queues",
      "vidcolor developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  element_class->change_state = GST_DEBUG_FUNCPTR(gst_vid_colorize_change_state);
}

static void gst_vid_colorize_init(GstVidColorize* self) {
  self->missing = new std::string();
  GstBin* bin = GST_BIN(self);
  GstElement* chain[N_CHILDREN];
  for (int i = 0; i < N_CHILDREN; ++i) {
    self->children[i] = gst_element_factory_make(kChildFactories[i], nullptr);
    chain[i] = self->children[i];
    if (chain[i] == nullptr) {
      *self->missing += std::string(self->missing->empty() ? "" : ", ") + kChildFactories[i];
      // A stand-in keeps the bin's shape (and its pads); the bin fails NULL->READY instead.
      chain[i] = gst_element_factory_make("identity", nullptr);
    }
    gst_bin_add(bin, chain[i]);
    if (i > 0) {
      self->queues[i - 1] = gst_element_factory_make("queue", nullptr);
      g_object_set(self->queues[i - 1], "max-size-buffers", DEFAULT_QUEUE_SIZE, "max-size-bytes", 0u,
                   "max-size-time", G_GUINT64_CONSTANT(0), nullptr);
      gst_bin_add(bin, self->queues[i - 1]);
      gst_element_link_many(chain[i - 1], self->queues[i - 1], chain[i], nullptr);
    }
  }
  if (!self->missing->empty()) GST_WARNING_OBJECT(self, "missing elements: %s", self->missing->c_str());
  if (self->children[FLOW] != nullptr)
    g_object_set(self->children[FLOW], "scale", DEFAULT_FLOW_SCALE, nullptr);

  GstPad* sink = gst_element_get_static_pad(chain[GRAY], "sink");
  gst_element_add_pad(GST_ELEMENT(self),
                      gst_ghost_pad_new_from_template("sink", sink, gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(self), "sink")));
  gst_object_unref(sink);
  GstPad* src = gst_element_get_static_pad(chain[REFINE], "src");
  gst_element_add_pad(GST_ELEMENT(self),
                      gst_ghost_pad_new_from_template("src", src, gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(self), "src")));
  gst_object_unref(src);
}
