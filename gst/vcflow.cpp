/**
 * SECTION:element-vcflow
 * @title: vcflow
 *
 * Computes dense optical flow between each frame and the one before it and attaches it to
 * the buffer as a #GstVcFlowMeta (public header `gst/vidcolor/vcflowmeta.h`): the backward
 * flow t→t−1, the forward flow t−1→t and, for each, a forward–backward consistency mask.
 * The video itself passes through untouched (same memory, same timestamps and flags).
 *
 * Flow runs on the luma plane (for R'G'B' input, luma computed with the colorimetry's
 * matrix), downscaled by #GstVcFlow:scale. The first frame after start, a flush, a
 * DISCONT buffer, a new stream or a caps change has no previous frame and carries no
 * meta. Adds no latency.
 *
 * #GstVcFlow:backend picks the algorithm; gst-inspect lists exactly the backends this
 * build has (the CUDA ones appear only when OpenCV was built with cudaoptflow).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc pattern=ball ! vcflow backend=dis-medium scale=0.5 ! fakesink
 * ]|
 */
#include "vcflow.h"

#include <cmath>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <vidcolor/core/color.hpp>
#include <vidcolor/infer/inference_runtime.hpp>
#include <vidcolor/flow/flow_pair.hpp>
#include <vidcolor/flow/optical_flow.hpp>

#include "fields.h"
#include "frame_codes.h"
#include "luma_matrix.h"
#include "vcflowmeta.h"
#include "vidcolor-config.h"

GST_DEBUG_CATEGORY_STATIC(gst_vc_flow_debug);
#define GST_CAT_DEFAULT gst_vc_flow_debug

#define DEFAULT_BACKEND GST_VC_FLOW_BACKEND_DIS_FAST
#define DEFAULT_SCALE 0.5
#define MIN_SCALE 0.05
#define MAX_SCALE 1.0

enum { PROP_0, PROP_BACKEND, PROP_SCALE };

namespace {

struct Settings {
  GstVcFlowBackend backend = DEFAULT_BACKEND;
  double scale = DEFAULT_SCALE;
};

// Streaming-thread state: created in start, dropped in stop.
struct State {
  std::unique_ptr<vidcolor::OpticalFlow> flow;
  GstVcFlowBackend flow_backend = DEFAULT_BACKEND;
  double flow_scale = 0.0;  // scale `prev` was made with
  // The previous picture's small luma per sequence (fields.h): [0] the previous frame or top
  // field, [1] the previous bottom field; empty = none.
  cv::Mat prev[2];
  VcPictureKind kind = VcPictureKind::Frame;  // what `prev` holds
  cv::Mat full_luma;                          // scratch for formats whose luma is not a plane
  std::vector<uint16_t> codes;                // scratch: luma codes of formats deeper than 8 bits
  vidcolor::Matrix matrix = vidcolor::Matrix::BT601;
};

struct Private {
  GMutex lock;  // guards settings
  Settings settings;
  State state;
  GstVideoInfo info;
  bool have_info = false;
};

}  // namespace

struct _GstVcFlow {
  GstBaseTransform parent;
  Private* priv;
};

#define FORMATS                                      \
  "{ GRAY8, GRAY16_LE, " VC_YUV_FORMATS              \
  ", RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, " \
  "ARGB, ABGR }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(VC_VIDEO_CAPS_WITH_FIELDS(FORMATS)));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(VC_VIDEO_CAPS_WITH_FIELDS(FORMATS)));

G_DEFINE_TYPE(GstVcFlow, gst_vc_flow, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE(vcflow, "vcflow", GST_RANK_NONE, GST_TYPE_VC_FLOW);

GType gst_vc_flow_backend_get_type(void) {
  static GType type = 0;
  // Filled from what this build has, so gst-inspect shows exactly the usable backends.
  static GEnumValue values[9];
  static const char* const kDescriptions[] = {"OpenCV DIS, ultrafast preset (CPU)",
                                              "OpenCV DIS, fast preset (CPU)",
                                              "OpenCV DIS, medium preset (CPU, most accurate DIS)",
                                              "OpenCV Farneback (CPU)",
                                              "NVIDIA optical flow hardware (OpenCV CUDA)",
                                              "Farneback (OpenCV CUDA)",
                                              "Brox (OpenCV CUDA)",
                                              "TV-L1 (OpenCV CUDA)"};
  if (g_once_init_enter(&type)) {
    guint n = 0;
    for (vidcolor::FlowBackend b : vidcolor::OpticalFlow::available()) {
      const int v = static_cast<int>(b);
      values[n].value = v;
      values[n].value_name = kDescriptions[v];
      values[n].value_nick = vidcolor::flow_backend_name(b);
      ++n;
    }
    values[n] = {0, nullptr, nullptr};
    GType t = g_enum_register_static("GstVcFlowBackend", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

static Settings read_settings(GstVcFlow* self) {
  g_mutex_lock(&self->priv->lock);
  const Settings s = self->priv->settings;
  g_mutex_unlock(&self->priv->lock);
  return s;
}

// Full-resolution 8-bit luma of the frame: a view of the Y plane when there is one,
// otherwise computed into `scratch`.
static cv::Mat frame_luma(GstVideoFrame* frame, State& st) {
  const GstVideoFormatInfo* finfo = frame->info.finfo;
  const int w = GST_VIDEO_FRAME_WIDTH(frame), h = GST_VIDEO_FRAME_HEIGHT(frame);
  const int stride = GST_VIDEO_FRAME_COMP_STRIDE(frame, 0);
  auto* data = static_cast<guint8*>(GST_VIDEO_FRAME_COMP_DATA(frame, 0));
  const GstVideoFormat fmt = GST_VIDEO_FRAME_FORMAT(frame);
  const int pstride = GST_VIDEO_FRAME_COMP_PSTRIDE(frame, 0);
  const int depth = GST_VIDEO_FORMAT_INFO_DEPTH(finfo, 0);
  if (!GST_VIDEO_FORMAT_INFO_IS_RGB(finfo) && depth == 8 && pstride == 1)
    return cv::Mat(h, w, CV_8UC1, data, static_cast<size_t>(stride));  // no copy

  st.full_luma.create(h, w, CV_8UC1);
  if (!GST_VIDEO_FORMAT_INFO_IS_RGB(finfo) && fmt != GST_VIDEO_FORMAT_GRAY16_LE && depth > 8) {
    // 10- or 16-bit Y'CbCr (planar, P010, P016, v210): the top 8 bits of each code are enough
    // for flow.
    vc_frame_read_luma(frame, st.codes);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        st.full_luma.at<guint8>(y, x) =
            static_cast<guint8>(st.codes[static_cast<size_t>(y) * w + x] >> (depth - 8));
    return st.full_luma;
  }
  for (int y = 0; y < h; ++y) {
    const guint8* row = data + static_cast<gsize>(y) * stride;
    guint8* dst = st.full_luma.ptr<guint8>(y);
    if (GST_VIDEO_FORMAT_INFO_IS_RGB(finfo)) {
      const guint8* base = static_cast<const guint8*>(GST_VIDEO_FRAME_PLANE_DATA(frame, 0)) +
                           static_cast<gsize>(y) * GST_VIDEO_FRAME_PLANE_STRIDE(frame, 0);
      const vidcolor::PackedRgbLayout layout{
          pstride, static_cast<int>(GST_VIDEO_FORMAT_INFO_POFFSET(finfo, 0)),
          static_cast<int>(GST_VIDEO_FORMAT_INFO_POFFSET(finfo, 1)),
          static_cast<int>(GST_VIDEO_FORMAT_INFO_POFFSET(finfo, 2))};
      vidcolor::rgb_row_to_gray8(base, layout, dst, w, st.matrix);
    } else if (fmt == GST_VIDEO_FORMAT_GRAY16_LE) {
      vidcolor::luma16_row_to_gray8(reinterpret_cast<const guint16*>(row), dst, w,
                                    vidcolor::Range::Full);
    } else {  // packed 4:2:2: luma every `pstride` bytes
      vidcolor::luma8_row_to_gray8(row, pstride, dst, w, vidcolor::Range::Full);
    }
  }
  return st.full_luma;
}

// [1,2,h,w] flow -> the meta's interleaved (dx, dy) floats, row by row.
static GBytes* flow_bytes(const torch::Tensor& flow) {
  const auto hwc = flow.squeeze(0).permute({1, 2, 0}).contiguous();
  return g_bytes_new(hwc.data_ptr<float>(), static_cast<gsize>(hwc.numel()) * sizeof(float));
}

static GBytes* mask_bytes(const torch::Tensor& mask) {
  const auto u8 = mask.squeeze().to(torch::kUInt8).contiguous();
  return g_bytes_new(u8.data_ptr<uint8_t>(), static_cast<gsize>(u8.numel()));
}

static void drop_previous(State& st) {
  st.prev[0].release();
  st.prev[1].release();
}

// The flows of one picture to the previous one of its sequence.
static vidcolor::FlowLink link_to_previous(State& st, const cv::Mat& prev, const cv::Mat& cur) {
  // The masks below are LibTorch ops. Left at its default (all cores), LibTorch would run
  // them as an OpenMP team whose worker then spins after each op, taking a core from the
  // other stages of the chain (measured: the whole chain ~15 % slower). They are small: one
  // thread.
  vidcolor::set_inference_threads(1);
  return vidcolor::flow_pair(*st.flow, prev, cur);
}

// Two fields' flows [1,c,h,w] as one [1,c,2h,w] whose lines alternate top, bottom: the
// meta of an interleaved frame is interleaved like its picture (vcflowmeta.h).
static torch::Tensor interleave_rows(const torch::Tensor& top, const torch::Tensor& bottom) {
  const auto s = top.sizes();
  return torch::stack({top, bottom}, 3).reshape({s[0], s[1], 2 * s[2], s[3]});
}

// Attaches the flows of `link` (at `cols` x `rows`) of a `width` x `height` picture.
static void attach_link(GstBuffer* buf, const vidcolor::FlowLink& link, int cols, int rows,
                        int width, int height) {
  GBytes* b = flow_bytes(link.backward);
  GBytes* f = flow_bytes(link.forward);
  GBytes* bv = mask_bytes(link.backward_valid);
  GBytes* fv = mask_bytes(link.forward_valid);
  gst_buffer_add_vc_flow_meta(buf, static_cast<guint>(cols), static_cast<guint>(rows),
                              static_cast<guint>(width), static_cast<guint>(height), b, f, bv, fv);
  g_bytes_unref(b);
  g_bytes_unref(f);
  g_bytes_unref(bv);
  g_bytes_unref(fv);
}

static GstFlowReturn gst_vc_flow_transform_ip(GstBaseTransform* trans, GstBuffer* buf) {
  GstVcFlow* self = GST_VC_FLOW(trans);
  Private* p = self->priv;
  State& st = p->state;
  if (!p->have_info) return GST_FLOW_NOT_NEGOTIATED;

  const Settings s = read_settings(self);
  try {
    if (!st.flow || st.flow_backend != s.backend) {
      st.flow =
          std::make_unique<vidcolor::OpticalFlow>(static_cast<vidcolor::FlowBackend>(s.backend));
      st.flow_backend = s.backend;
    }
    if (s.scale != st.flow_scale) {
      drop_previous(st);  // flows at two sizes cannot be paired
      st.flow_scale = s.scale;
    }
    if (GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DISCONT)) {
      GST_DEBUG_OBJECT(self, "DISCONT buffer %" GST_TIME_FORMAT ": no previous frame",
                       GST_TIME_ARGS(GST_BUFFER_PTS(buf)));
      drop_previous(st);
    }

    GstVideoFrame frame;
    if (!gst_video_frame_map(&frame, &p->info, buf, GST_MAP_READ)) {
      GST_ELEMENT_ERROR(
          self, STREAM, FORMAT, ("Cannot map the video frame"),
          ("vcflow.cpp: buffer of %" G_GSIZE_FORMAT " bytes does not hold a %dx%d %s frame",
           gst_buffer_get_size(buf), GST_VIDEO_INFO_WIDTH(&p->info),
           GST_VIDEO_INFO_HEIGHT(&p->info), GST_VIDEO_INFO_NAME(&p->info)));
      return GST_FLOW_ERROR;
    }
    // Flow between pictures (fields.h): a progressive frame and the one before, a field and
    // the previous field of the same parity.
    VcPictures pictures = vc_frame_pictures(&frame);
    // A frame of odd height has a top field one line taller: its flow is computed without
    // that last line, so both fields' flows have one size and interleave into one meta.
    if (pictures.count == 2) pictures.view[0].info.height = pictures.view[1].info.height;
    cv::Mat cur[2];
    try {
      // The luma at the flow size (the one rule, vidcolor/flow/flow_size.hpp); always a copy,
      // since `luma` may view the buffer, which is not ours to keep.
      for (int i = 0; i < pictures.count; ++i)
        cur[i] = vidcolor::flow_luma(frame_luma(&pictures.view[i], st), s.scale);
    } catch (...) {
      gst_video_frame_unmap(&frame);
      throw;
    }
    gst_video_frame_unmap(&frame);
    if (pictures.kind != st.kind) {
      // Mixed content switching between progressive and interlaced frames: frames and
      // fields are not pictures of one sequence.
      GST_DEBUG_OBJECT(self, "%s after %s: no previous picture",
                       vc_picture_kind_name(pictures.kind), vc_picture_kind_name(st.kind));
      drop_previous(st);
      st.kind = pictures.kind;
    }

    if (pictures.kind == VcPictureKind::Fields) {
      // One meta for both fields, once both have a previous field.
      if (!st.prev[0].empty() && !st.prev[1].empty()) {
        const vidcolor::FlowLink top = link_to_previous(st, st.prev[0], cur[0]);
        const vidcolor::FlowLink bottom = link_to_previous(st, st.prev[1], cur[1]);
        vidcolor::FlowLink both;
        both.backward = interleave_rows(top.backward, bottom.backward);
        both.forward = interleave_rows(top.forward, bottom.forward);
        both.backward_valid = interleave_rows(top.backward_valid, bottom.backward_valid);
        both.forward_valid = interleave_rows(top.forward_valid, bottom.forward_valid);
        attach_link(buf, both, cur[0].cols, 2 * cur[0].rows, GST_VIDEO_INFO_WIDTH(&p->info),
                    GST_VIDEO_INFO_HEIGHT(&p->info));
      }
    } else {
      cv::Mat& prev = st.prev[pictures.parity[0]];
      if (!prev.empty())
        attach_link(buf, link_to_previous(st, prev, cur[0]), cur[0].cols, cur[0].rows,
                    GST_VIDEO_FRAME_WIDTH(&pictures.view[0]),
                    GST_VIDEO_FRAME_HEIGHT(&pictures.view[0]));
    }
    for (int i = 0; i < pictures.count; ++i) st.prev[pictures.parity[i]] = cur[i];
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(
        self, LIBRARY, FAILED, ("Optical flow failed"),
        ("vcflow.cpp: backend %s: %s",
         vidcolor::flow_backend_name(static_cast<vidcolor::FlowBackend>(s.backend)), e.what()));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

static gboolean gst_vc_flow_set_caps(GstBaseTransform* trans, GstCaps* incaps, GstCaps* outcaps) {
  GstVcFlow* self = GST_VC_FLOW(trans);
  Private* p = self->priv;
  (void)outcaps;
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, incaps)) {
    GST_ERROR_OBJECT(self, "cannot parse caps %" GST_PTR_FORMAT, incaps);
    return FALSE;
  }
  // New caps: the previous frame may have another size or content; start again.
  drop_previous(p->state);
  p->info = info;
  p->have_info = true;
  p->state.matrix = vc_luma_matrix_for(&info);
  GST_INFO_OBJECT(self, "%s %dx%d", GST_VIDEO_INFO_NAME(&info), GST_VIDEO_INFO_WIDTH(&info),
                  GST_VIDEO_INFO_HEIGHT(&info));
  return TRUE;
}

static gboolean gst_vc_flow_sink_event(GstBaseTransform* trans, GstEvent* event) {
  GstVcFlow* self = GST_VC_FLOW(trans);
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_FLUSH_STOP:
    case GST_EVENT_STREAM_START:
      GST_DEBUG_OBJECT(self, "%s: dropping the previous frame", GST_EVENT_TYPE_NAME(event));
      drop_previous(self->priv->state);
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS(gst_vc_flow_parent_class)->sink_event(trans, event);
}

static gboolean gst_vc_flow_start(GstBaseTransform* trans) {
  GstVcFlow* self = GST_VC_FLOW(trans);
  const Settings s = read_settings(self);
  State& st = self->priv->state;
  st = State();
  try {
    st.flow =
        std::make_unique<vidcolor::OpticalFlow>(static_cast<vidcolor::FlowBackend>(s.backend));
    st.flow_backend = s.backend;
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, LIBRARY, INIT, ("Cannot create the optical flow backend"),
                      ("vcflow.cpp: %s", e.what()));
    return FALSE;
  }
  return TRUE;
}

static gboolean gst_vc_flow_stop(GstBaseTransform* trans) {
  GstVcFlow* self = GST_VC_FLOW(trans);
  self->priv->state = State();
  self->priv->have_info = false;
  return TRUE;
}

static void gst_vc_flow_set_property(GObject* object, guint prop_id, const GValue* value,
                                     GParamSpec* pspec) {
  GstVcFlow* self = GST_VC_FLOW(object);
  g_mutex_lock(&self->priv->lock);
  switch (prop_id) {
    case PROP_BACKEND:
      self->priv->settings.backend = static_cast<GstVcFlowBackend>(g_value_get_enum(value));
      break;
    case PROP_SCALE:
      self->priv->settings.scale = g_value_get_double(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  g_mutex_unlock(&self->priv->lock);
}

static void gst_vc_flow_get_property(GObject* object, guint prop_id, GValue* value,
                                     GParamSpec* pspec) {
  GstVcFlow* self = GST_VC_FLOW(object);
  g_mutex_lock(&self->priv->lock);
  switch (prop_id) {
    case PROP_BACKEND:
      g_value_set_enum(value, self->priv->settings.backend);
      break;
    case PROP_SCALE:
      g_value_set_double(value, self->priv->settings.scale);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  g_mutex_unlock(&self->priv->lock);
}

static void gst_vc_flow_finalize(GObject* object) {
  GstVcFlow* self = GST_VC_FLOW(object);
  g_mutex_clear(&self->priv->lock);
  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS(gst_vc_flow_parent_class)->finalize(object);
}

static void gst_vc_flow_class_init(GstVcFlowClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass* trans_class = GST_BASE_TRANSFORM_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(gst_vc_flow_debug, "vcflow", 0, "vidcolor optical flow");
  // Register the meta API now, so applications can look it up by name once the element
  // exists (see vcflowmeta.h).
  (void)gst_vc_flow_meta_get_info();

  gobject_class->set_property = gst_vc_flow_set_property;
  gobject_class->get_property = gst_vc_flow_get_property;
  gobject_class->finalize = gst_vc_flow_finalize;

  std::string backends;
  for (vidcolor::FlowBackend b : vidcolor::OpticalFlow::available())
    backends += std::string(backends.empty() ? "" : ", ") + vidcolor::flow_backend_name(b);
  const std::string backend_blurb =
      "Optical flow algorithm. This build has: " + backends +
      (VIDCOLOR_HAVE_CV_CUDAOPTFLOW ? "" : " (no CUDA backends: OpenCV without cudaoptflow)");
  // The blurb is built at run time, so GLib keeps its own copy (no G_PARAM_STATIC_BLURB).
  g_object_class_install_property(
      gobject_class, PROP_BACKEND,
      g_param_spec_enum("backend", "Backend", backend_blurb.c_str(), GST_TYPE_VC_FLOW_BACKEND,
                        DEFAULT_BACKEND,
                        static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_NAME |
                                                 G_PARAM_STATIC_NICK | GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property(
      gobject_class, PROP_SCALE,
      g_param_spec_double("scale", "Scale",
                          "Flow is computed on the luma resized by this factor (0.05 to 1; "
                          "each side at least 32 pixels or the frame's side). The meta carries "
                          "the flow at that size, in its own pixels",
                          MIN_SCALE, MAX_SCALE, DEFAULT_SCALE,
                          static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                   GST_PARAM_MUTABLE_PLAYING)));

  gst_element_class_set_static_metadata(
      element_class, "vidcolor optical flow", "Filter/Analyzer/Video",
      "Computes optical flow between consecutive frames (OpenCV) and attaches it with a "
      "forward-backward occlusion mask as VcFlowMeta; the video passes through untouched",
      "vidcolor developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  trans_class->transform_ip = GST_DEBUG_FUNCPTR(gst_vc_flow_transform_ip);
  trans_class->set_caps = GST_DEBUG_FUNCPTR(gst_vc_flow_set_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_vc_flow_sink_event);
  trans_class->start = GST_DEBUG_FUNCPTR(gst_vc_flow_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_vc_flow_stop);
  // Not passthrough: the meta is added to the buffer, so it must be writable. In-place
  // never touches the pixels: a non-writable input becomes a shallow copy sharing memory.
  trans_class->passthrough_on_same_caps = FALSE;
  trans_class->transform_ip_on_passthrough = FALSE;

  gst_type_mark_as_plugin_api(GST_TYPE_VC_FLOW_BACKEND, static_cast<GstPluginAPIFlags>(0));
}

static void gst_vc_flow_init(GstVcFlow* self) {
  self->priv = new Private();
  g_mutex_init(&self->priv->lock);
  gst_video_info_init(&self->priv->info);
  gst_base_transform_set_in_place(GST_BASE_TRANSFORM(self), TRUE);
  // A GAP buffer keeps its flag (see vcgray); its flow is computed like any other's.
  gst_base_transform_set_gap_aware(GST_BASE_TRANSFORM(self), TRUE);
}
