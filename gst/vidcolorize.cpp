/**
 * SECTION:element-vidcolorize
 * @title: vidcolorize
 *
 * Fully automatic video colorization in one element: a bin of
 * `vcgray ! queue ! vccolorize ! queue ! vcflow ! queue ! vcrefine` with ghost pads. Any
 * raw video in (whatever vcgray accepts), colorized Y'CbCr out: by default the input's own
 * format (8-, 10- or 16-bit, planar, semi-planar, UYVY/YUY2, v210), colorimetry and chroma-site,
 * with its luma samples untouched (only the chroma is new); R'G'B' or 8-bit gray input gives
 * full-range BT.601 I420 unless downstream asks otherwise, 16-bit gray (GRAY16_LE) full-range
 * P016_LE, its 16 bits kept. #GstVidColorize:output-format
 * chooses another Y'CbCr format. The queues put each
 * stage in its own streaming thread, so f, the optical flow and g run on different cores
 * at the same time; they are short (#GstVidColorize:queue-size buffers), which bounds the
 * added latency and memory.
 *
 * The children are named `gray`, `colorize`, `flow` and `refine`, so any property of any of
 * them is set through GstChildProxy: `vidcolorize refine::iterations=2 colorize::mosaic=true`.
 * The bin's own properties are only those that cut across the children: model, device,
 * threads, inference-size and processing-latency, forwarded to both networks (vccolorize and
 * vcrefine); output-format, the format of the whole chain's output (made by vccolorize,
 * carried by vcflow and vcrefine); and queue-size. Each forwarded property's spec (type,
 * range, default, when it may change) is made from the children's specs, so it cannot
 * disagree with them; reading one reads it from the (first) child that has it. Everything
 * else is a child's own, under one name: `colorize::candidate`, `colorize::class-debias`,
 * `colorize::skip-borders` (f on the picture inside black letterbox / pillarbox bars, on by
 * default), `flow::backend`,
 * `flow::scale` (0.25 in the bin, not vcflow's own 0.5: the flow at g's resolution),
 * `refine::window`, `refine::iterations`, `refine::alpha`. The reported latency is the children's:
 * vcrefine adds window × iterations frames, and vccolorize and vcrefine each add their
 * #GstVidColorize:processing-latency (one frame duration by default), so a synchronising sink
 * after a live source does not find the frames late (measured: docs/BENCHMARKS.md).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=old-film.mp4 ! decodebin ! videoconvert ! \
 *     vidcolorize refine::iterations=2 ! videoconvert ! autovideosink
 * gst-launch-1.0 videotestsrc num-buffers=50 ! vidcolorize threads=2 refine::window=2 \
 *     colorize::candidate=1 ! videoconvert ! autovideosink
 * ]|
 */
#include "vidcolorize.h"

#include <string>
#include <vector>

#include <gst/video/video.h>

#include "fields.h"
#include "frame_codes.h"
#include "param_spec_copy.h"
#include "vccolorize.h"
#include "vcflow.h"
#include "vcgray.h"
#include "vcrefine.h"
#include "vidcolor/core/chain_defaults.hpp"

GST_DEBUG_CATEGORY_STATIC(gst_vid_colorize_debug);
#define GST_CAT_DEFAULT gst_vid_colorize_debug

#define DEFAULT_QUEUE_SIZE 3
// The chain's flow is for g, which runs at the networks' inference size (192x112 for 854x480
// with the shipped model): flow at a quarter of the frame (213x120) is at g's own resolution,
// and costs ~9 ms a frame instead of ~20 at vcflow's own default of 0.5 (docs/BENCHMARKS.md).
#define DEFAULT_FLOW_SCALE vidcolor::kChainFlowScale

// The chain, in order; queues go between consecutive elements. The children's names are
// what `vidcolorize refine::iterations=2` (GstChildProxy) finds.
enum Child { GRAY, COLORIZE, FLOW, REFINE, N_CHILDREN };
static const char* const kChildFactories[N_CHILDREN] = {"vcgray", "vccolorize", "vcflow",
                                                        "vcrefine"};
static const char* const kChildNames[N_CHILDREN] = {"gray", "colorize", "flow", "refine"};

struct Target {
  Child child;
  const char* property;
};

// A bin property and the child properties it sets (the first is read back). Its spec is made
// from the children's specs (param_spec_copy.h).
struct Forward {
  const char* name;
  const char* nick;
  std::vector<Target> targets;
  // For an enum: the bin's own type, a subset of the child's values (the same numbers), when
  // the chain reaches fewer values than the first child offers; nullptr keeps the child's.
  GType (*enum_type)(void) = nullptr;
};

// Property ids: 1 + the index here; then the bin's own.
static const std::vector<Forward>& forwards() {
  static const std::vector<Forward> table = {
      // What cuts across the children: both networks load the same model, run on the same
      // device, and report their computation alike.
      {"model", "Model", {{COLORIZE, "model"}, {REFINE, "model"}}},
      {"device", "Device", {{COLORIZE, "device"}, {REFINE, "device"}}},
      {"threads", "Threads", {{COLORIZE, "threads"}, {REFINE, "threads"}}},
      {"inference-size",
       "Inference size",
       {{COLORIZE, "inference-size"}, {REFINE, "inference-size"}}},
      {"processing-latency",
       "Processing latency",
       {{COLORIZE, "processing-latency"}, {REFINE, "processing-latency"}}},
      // The chain's output format: vccolorize makes it, vcflow and vcrefine carry it, so it
      // is the bin's as a whole. One child's other properties are reached as
      // `child::property` (GstChildProxy) only, one name each.
      // vcrefine carries Y'CbCr only, so the bin offers vccolorize's Y'CbCr formats.
      {"output-format",
       "Output format",
       {{COLORIZE, "output-format"}},
       gst_vc_chain_output_format_get_type},
  };
  return table;
}

static guint prop_queue_size() { return static_cast<guint>(forwards().size()) + 1; }

static const std::vector<Target>& targets_of(guint prop_id) {
  static const std::vector<Target> none;
  return prop_id >= 1 && prop_id <= forwards().size() ? forwards()[prop_id - 1].targets : none;
}

struct _GstVidColorize {
  GstBin parent;
  GstElement* children[N_CHILDREN];  // owned by the bin; NULL where the factory is missing
  GstElement* queues[N_CHILDREN - 1];
  std::string* missing;  // names of missing child factories (empty when complete)
};

G_DEFINE_TYPE(GstVidColorize, gst_vid_colorize, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE(vidcolorize, "vidcolorize", GST_RANK_NONE, GST_TYPE_VID_COLORIZE);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("video/x-raw; video/x-raw(" GST_CAPS_FEATURE_FORMAT_INTERLACED
                    "), interlace-mode = (string) alternate"));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS,
                            GST_STATIC_CAPS(VC_VIDEO_CAPS_WITH_FIELDS("{ " VC_YUV_FORMATS " }")));

static void gst_vid_colorize_set_property(GObject* object, guint prop_id, const GValue* value,
                                          GParamSpec* pspec) {
  GstVidColorize* self = GST_VID_COLORIZE(object);
  if (prop_id == prop_queue_size()) {
    for (GstElement* q : self->queues)
      g_object_set(q, "max-size-buffers", g_value_get_uint(value), nullptr);
    return;
  }
  const std::vector<Target>& targets = targets_of(prop_id);
  if (targets.empty()) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    return;
  }
  for (const Target& t : targets) {
    GstElement* child = self->children[t.child];
    // A child without the property (another version) is skipped, not a critical.
    if (child == nullptr || !g_object_class_find_property(G_OBJECT_GET_CLASS(child), t.property))
      continue;
    if (G_VALUE_HOLDS_ENUM(value))  // the bin's enum type may be a subset of the child's
      g_object_set(child, t.property, g_value_get_enum(value), nullptr);
    else
      g_object_set_property(G_OBJECT(child), t.property, value);
  }
}

static void gst_vid_colorize_get_property(GObject* object, guint prop_id, GValue* value,
                                          GParamSpec* pspec) {
  GstVidColorize* self = GST_VID_COLORIZE(object);
  if (prop_id == prop_queue_size()) {
    guint n = 0;
    g_object_get(self->queues[0], "max-size-buffers", &n, nullptr);
    g_value_set_uint(value, n);
    return;
  }
  const std::vector<Target>& targets = targets_of(prop_id);
  if (targets.empty()) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    return;
  }
  for (const Target& t : targets) {
    GstElement* child = self->children[t.child];
    if (child != nullptr && g_object_class_find_property(G_OBJECT_GET_CLASS(child), t.property)) {
      if (G_VALUE_HOLDS_ENUM(value)) {  // the bin's enum type may be a subset of the child's
        gint v = 0;
        g_object_get(child, t.property, &v, nullptr);
        g_value_set_enum(value, v);
      } else {
        g_object_get_property(G_OBJECT(child), t.property, value);
      }
      return;
    }
  }
  g_param_value_set_default(pspec, value);  // no child has it: report the default
}

static GstStateChangeReturn gst_vid_colorize_change_state(GstElement* element,
                                                          GstStateChange transition) {
  GstVidColorize* self = GST_VID_COLORIZE(element);
  if (transition == GST_STATE_CHANGE_NULL_TO_READY && !self->missing->empty()) {
    GST_ELEMENT_ERROR(
        self, CORE, MISSING_PLUGIN, ("Missing element(s): %s", self->missing->c_str()),
        ("vidcolorize.cpp: the vidcolor plugin of this build lacks %s", self->missing->c_str()));
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

  // Each forwarded property's spec is the children's (type, range, default, mutability):
  // the element types are this plugin's own, so their classes are at hand.
  const GType child_types[N_CHILDREN] = {GST_TYPE_VC_GRAY, GST_TYPE_VC_COLORIZE, GST_TYPE_VC_FLOW,
                                         GST_TYPE_VC_REFINE};
  GObjectClass* child_classes[N_CHILDREN];
  for (int i = 0; i < N_CHILDREN; ++i)
    child_classes[i] = G_OBJECT_CLASS(g_type_class_ref(child_types[i]));
  guint id = 1;
  for (const Forward& f : forwards()) {
    std::vector<GParamSpec*> specs;
    std::string blurb;
    for (const Target& t : f.targets) {
      GParamSpec* spec = g_object_class_find_property(child_classes[t.child], t.property);
      g_assert(spec != nullptr);
      specs.push_back(spec);
      blurb +=
          std::string(blurb.empty() ? "Sets " : " and ") + kChildNames[t.child] + "::" + t.property;
    }
    blurb += std::string(". ") + kChildFactories[f.targets[0].child] + ": " +
             g_param_spec_get_blurb(specs[0]);
    GParamSpec* spec = vc_param_spec_copy(specs, f.name, f.nick, blurb.c_str());
    if (f.enum_type != nullptr) {
      GParamSpec* copied = spec;
      g_param_spec_ref_sink(copied);
      spec = g_param_spec_enum(f.name, f.nick, blurb.c_str(), f.enum_type(),
                               G_PARAM_SPEC_ENUM(copied)->default_value,
                               static_cast<GParamFlags>(copied->flags));
      g_param_spec_unref(copied);
    }
    g_object_class_install_property(gobject_class, id++, spec);
  }
  for (GObjectClass* c : child_classes) g_type_class_unref(c);
  const auto ready_only = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                   GST_PARAM_MUTABLE_READY);
  g_object_class_install_property(
      gobject_class, prop_queue_size(),
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
    self->children[i] = gst_element_factory_make(kChildFactories[i], kChildNames[i]);
    chain[i] = self->children[i];
    if (chain[i] == nullptr) {
      *self->missing += std::string(self->missing->empty() ? "" : ", ") + kChildFactories[i];
      // A stand-in keeps the bin's shape (and its pads); the bin fails NULL->READY instead.
      chain[i] = gst_element_factory_make("identity", kChildNames[i]);
    }
    gst_bin_add(bin, chain[i]);
    if (i > 0) {
      self->queues[i - 1] = gst_element_factory_make("queue", nullptr);
      g_object_set(self->queues[i - 1], "max-size-buffers", DEFAULT_QUEUE_SIZE, "max-size-bytes",
                   0u, "max-size-time", G_GUINT64_CONSTANT(0), nullptr);
      gst_bin_add(bin, self->queues[i - 1]);
      gst_element_link_many(chain[i - 1], self->queues[i - 1], chain[i], nullptr);
    }
  }
  if (!self->missing->empty())
    GST_WARNING_OBJECT(self, "missing elements: %s", self->missing->c_str());
  if (self->children[FLOW] != nullptr)
    g_object_set(self->children[FLOW], "scale", DEFAULT_FLOW_SCALE, nullptr);

  GstPad* sink = gst_element_get_static_pad(chain[GRAY], "sink");
  gst_element_add_pad(
      GST_ELEMENT(self),
      gst_ghost_pad_new_from_template(
          "sink", sink, gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(self), "sink")));
  gst_object_unref(sink);
  GstPad* src = gst_element_get_static_pad(chain[REFINE], "src");
  gst_element_add_pad(
      GST_ELEMENT(self),
      gst_ghost_pad_new_from_template(
          "src", src, gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(self), "src")));
  gst_object_unref(src);
}
