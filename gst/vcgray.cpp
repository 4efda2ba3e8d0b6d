/**
 * SECTION:element-vcgray
 * @title: vcgray
 *
 * Converts any common raw video format to full-range luma: GRAY8, or GRAY16_LE when the
 * input has more than 8 bits (GRAY16; 10- or 16-bit Y'CbCr such as I420_10LE, P010_10LE, v210,
 * P016_LE or Y444_16LE).
 * R'G'B' input is weighted with the luma coefficients of its colorimetry
 * (property #GstVcGray:matrix); Y'CbCr input copies its Y plane, expanding limited range,
 * without a round trip through RGB. GRAY8 full-range input passes through untouched.
 * This is the input X of the colorization network.
 *
 * The gray is for the networks only: each converted buffer carries the frame it came from
 * (a reference, in a meta private to the plugin), and the output caps name that frame's
 * format, colorimetry and chroma-site (fields vc-source-format, vc-source-colorimetry,
 * vc-source-chroma-site), so that vccolorize can output the input's own format with its
 * luma samples untouched. Elements that convert or scale the gray drop the meta.
 *
 * Timestamps and every buffer flag (GAP included) are kept; metas that describe the picture
 * (timecode, captions, AFD, bar data, SEI user data, ...) go with it, as through videoconvert.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc ! vcgray ! videoconvert ! autovideosink
 * ]|
 */
#include "vcgray.h"

#include <vidcolor/core/color.hpp>

#include <vector>

#include "fields.h"
#include "format_list.h"
#include "frame_codes.h"
#include "frame_size_check.h"
#include "meta_copy.h"
#include "luma_matrix.h"
#include "vcsourceframe.h"

GST_DEBUG_CATEGORY_STATIC(gst_vc_gray_debug);
#define GST_CAT_DEFAULT gst_vc_gray_debug

#define DEFAULT_MATRIX GST_VC_GRAY_MATRIX_AUTO

enum { PROP_0, PROP_MATRIX };

struct _GstVcGray {
  GstVideoFilter parent;

  GMutex lock;  // guards matrix_setting
  GstVcGrayMatrix matrix_setting;

  // Resolved in set_info, used by transform_frame (streaming thread only).
  vidcolor::Matrix matrix;
  vidcolor::Range in_range;
  std::vector<uint16_t>* codes;  // luma codes of formats read through frame_codes.h
};

// What vcgray reads, in the order it prefers upstream to offer them: gray as is, then Y'CbCr
// (luma copied), then R'G'B'.
#define SINK_FORMAT_LIST \
  "GRAY8, GRAY16_LE, " VC_YUV_FORMATS ", RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR"
#define SINK_FORMATS "{ " SINK_FORMAT_LIST " }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(VC_VIDEO_CAPS_WITH_FIELDS(SINK_FORMATS)));

static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS,
                            GST_STATIC_CAPS(VC_VIDEO_CAPS_WITH_FIELDS("{ GRAY8, GRAY16_LE }")));

G_DEFINE_TYPE(GstVcGray, gst_vc_gray, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE(vcgray, "vcgray", GST_RANK_NONE, GST_TYPE_VC_GRAY);

GType gst_vc_gray_matrix_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_VC_GRAY_MATRIX_AUTO,
       "From the input colorimetry (primaries of RGB input; BT.601 up to 576 lines and BT.709 "
       "above when unknown)",
       "auto"},
      {GST_VC_GRAY_MATRIX_BT601, "ITU-R BT.601 (0.299, 0.587, 0.114)", "bt601"},
      {GST_VC_GRAY_MATRIX_BT709, "ITU-R BT.709 (0.2126, 0.7152, 0.0722)", "bt709"},
      {GST_VC_GRAY_MATRIX_BT2020, "ITU-R BT.2020 (0.2627, 0.6780, 0.0593)", "bt2020"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstVcGrayMatrix", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

// TRUE when the structure's "format" field allows `name` (an absent field allows anything).
static gboolean structure_allows_format(const GstStructure* s, const gchar* name) {
  const GValue* v = gst_structure_get_value(s, "format");
  if (v == nullptr) return TRUE;
  if (G_VALUE_HOLDS_STRING(v)) return g_strcmp0(g_value_get_string(v), name) == 0;
  if (GST_VALUE_HOLDS_LIST(v)) {
    for (guint i = 0; i < gst_value_list_get_size(v); ++i) {
      const GValue* item = gst_value_list_get_value(v, i);
      if (G_VALUE_HOLDS_STRING(item) && g_strcmp0(g_value_get_string(item), name) == 0) return TRUE;
    }
  }
  return FALSE;
}

static int format_depth(const gchar* name) {
  const GstVideoFormatInfo* finfo = gst_video_format_get_info(gst_video_format_from_string(name));
  return finfo != nullptr ? static_cast<int>(GST_VIDEO_FORMAT_INFO_DEPTH(finfo, 0)) : 8;
}

// TRUE when the structure allows one of `formats` with more than 8 bits of luma.
static gboolean allows_deep_format(const GstStructure* s,
                                   const std::vector<const gchar*>& formats) {
  for (const gchar* f : formats)
    if (format_depth(f) > 8 && structure_allows_format(s, f)) return TRUE;
  return FALSE;
}

static GstCaps* gst_vc_gray_transform_caps(GstBaseTransform* trans, GstPadDirection direction,
                                           GstCaps* caps, GstCaps* filter) {
  static const std::vector<const gchar*> kSinkFormats = vc_format_list(SINK_FORMAT_LIST);
  GstCaps* result = gst_caps_new_empty();

  for (guint i = 0; i < gst_caps_get_size(caps); ++i) {
    const GstStructure* s = gst_caps_get_structure(caps, i);
    GstCapsFeatures* features = gst_caps_get_features(caps, i);
    if (!vc_caps_features_mappable(features)) continue;  // we map system memory only

    std::vector<const gchar*> formats;
    // Downstream asking for the gray of one source (vcgray's own output fields): only that.
    const gchar* source = gst_structure_get_string(s, VC_SOURCE_FORMAT_FIELD);
    if (direction == GST_PAD_SINK) {
      // Sink caps -> what we can output: input of more than 8 bits keeps its precision first.
      if (allows_deep_format(s, kSinkFormats)) formats.push_back("GRAY16_LE");
      formats.push_back("GRAY8");
    } else {
      const gboolean gray8 = structure_allows_format(s, "GRAY8");
      for (const gchar* f : kSinkFormats) {
        const gboolean from_gray =
            gray8 || (structure_allows_format(s, "GRAY16_LE") && format_depth(f) > 8);
        if (from_gray && (source == nullptr || g_strcmp0(source, f) == 0)) formats.push_back(f);
      }
    }
    if (formats.empty()) continue;

    GstStructure* out = gst_structure_copy(s);
    gst_structure_remove_fields(out, "format", "colorimetry", "chroma-site", nullptr);
    vc_source_fields_remove(out);
    vc_structure_set_formats(out, formats);
    if (direction == GST_PAD_SRC && source != nullptr) {
      // The source's own colorimetry and siting, so the round trip is the same caps.
      const gchar* c = gst_structure_get_string(s, VC_SOURCE_COLORIMETRY_FIELD);
      const gchar* site = gst_structure_get_string(s, VC_SOURCE_CHROMA_SITE_FIELD);
      if (c != nullptr) gst_structure_set(out, "colorimetry", G_TYPE_STRING, c, nullptr);
      if (site != nullptr) gst_structure_set(out, "chroma-site", G_TYPE_STRING, site, nullptr);
    }
    // Fixed input caps (negotiation proper): name the source for vccolorize.
    GstVideoInfo in_info;
    if (direction == GST_PAD_SINK && gst_caps_is_fixed(caps) &&
        gst_video_info_from_caps(&in_info, caps))
      vc_source_fields_set(out, s, &in_info);
    // Alternate-mode fields (format:Interlaced) give gray fields.
    result = gst_caps_merge_structure_full(result, out, vc_caps_features_kept(features));
  }

  if (filter != nullptr) {
    GstCaps* tmp = gst_caps_intersect_full(filter, result, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref(result);
    result = tmp;
  }
  GST_DEBUG_OBJECT(trans, "%s caps %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
                   direction == GST_PAD_SINK ? "sink" : "src", caps, result);
  return result;
}

static vidcolor::Matrix resolve_matrix(GstVcGrayMatrix setting, const GstVideoInfo* in) {
  switch (setting) {
    case GST_VC_GRAY_MATRIX_BT601:
      return vidcolor::Matrix::BT601;
    case GST_VC_GRAY_MATRIX_BT709:
      return vidcolor::Matrix::BT709;
    case GST_VC_GRAY_MATRIX_BT2020:
      return vidcolor::Matrix::BT2020;
    case GST_VC_GRAY_MATRIX_AUTO:
    default:
      break;
  }
  return vc_luma_matrix_for(in);
}

static gboolean gst_vc_gray_set_info(GstVideoFilter* filter, GstCaps* incaps, GstVideoInfo* in_info,
                                     GstCaps* outcaps, GstVideoInfo* out_info) {
  GstVcGray* self = GST_VC_GRAY(filter);
  if (GST_VIDEO_INFO_WIDTH(in_info) <= 0 || GST_VIDEO_INFO_HEIGHT(in_info) <= 0) {
    GST_ELEMENT_ERROR(
        self, STREAM, FORMAT,
        ("Invalid frame size %dx%d", GST_VIDEO_INFO_WIDTH(in_info), GST_VIDEO_INFO_HEIGHT(in_info)),
        (nullptr));
    return FALSE;
  }
  g_mutex_lock(&self->lock);
  const GstVcGrayMatrix setting = self->matrix_setting;
  g_mutex_unlock(&self->lock);

  self->matrix = resolve_matrix(setting, in_info);
  self->in_range = in_info->colorimetry.range == GST_VIDEO_COLOR_RANGE_16_235
                       ? vidcolor::Range::Limited
                       : vidcolor::Range::Full;

  const GstVideoFormat in_fmt = GST_VIDEO_INFO_FORMAT(in_info);
  const GstVideoFormat out_fmt = GST_VIDEO_INFO_FORMAT(out_info);
  const gboolean passthrough =
      in_fmt == out_fmt && self->in_range == vidcolor::Range::Full &&
      (in_fmt == GST_VIDEO_FORMAT_GRAY8 || in_fmt == GST_VIDEO_FORMAT_GRAY16_LE);
  // Passthrough buffers are their own source frame; others carry it (vcsourceframe.h).
  gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(filter), passthrough);
  GST_INFO_OBJECT(self, "%s -> %s, matrix %d, %s range%s", gst_video_format_to_string(in_fmt),
                  gst_video_format_to_string(out_fmt), static_cast<int>(self->matrix),
                  self->in_range == vidcolor::Range::Full ? "full" : "limited",
                  passthrough ? ", passthrough" : "");
  (void)incaps;
  (void)outcaps;
  return TRUE;
}

// Y'CbCr whose luma is not 8-bit samples (GRAY16 has its own path).
static gboolean needs_unpacking(const GstVideoFrame* in) {
  return GST_VIDEO_FRAME_FORMAT(in) != GST_VIDEO_FORMAT_GRAY16_LE &&
         GST_VIDEO_FORMAT_INFO_DEPTH(in->info.finfo, 0) > 8;
}

// Converts one picture (fields.h: the frame, or one field of it).
static void convert_picture(GstVcGray* self, const GstVideoFrame* in, GstVideoFrame* out) {
  const GstVideoFormatInfo* finfo = in->info.finfo;
  const gint width = GST_VIDEO_FRAME_WIDTH(in);
  const gint height = GST_VIDEO_FRAME_HEIGHT(in);
  const gboolean out16 = GST_VIDEO_FRAME_FORMAT(out) == GST_VIDEO_FORMAT_GRAY16_LE;
  const gint in_stride = GST_VIDEO_FRAME_COMP_STRIDE(in, 0);
  const gint out_stride = GST_VIDEO_FRAME_PLANE_STRIDE(out, 0);
  guint8* out_data = static_cast<guint8*>(GST_VIDEO_FRAME_PLANE_DATA(out, 0));

  if (GST_VIDEO_FORMAT_INFO_IS_RGB(finfo)) {
    // Packed R'G'B' in any byte order: component offsets come from the format description.
    const guint8* base = static_cast<const guint8*>(GST_VIDEO_FRAME_PLANE_DATA(in, 0));
    const vidcolor::PackedRgbLayout layout{
        GST_VIDEO_FRAME_COMP_PSTRIDE(in, 0),
        static_cast<int>(GST_VIDEO_FORMAT_INFO_POFFSET(finfo, 0)),
        static_cast<int>(GST_VIDEO_FORMAT_INFO_POFFSET(finfo, 1)),
        static_cast<int>(GST_VIDEO_FORMAT_INFO_POFFSET(finfo, 2))};
    for (gint y = 0; y < height; ++y) {
      const guint8* row = base + static_cast<gsize>(y) * in_stride;
      guint8* dst = out_data + static_cast<gsize>(y) * out_stride;
      vidcolor::rgb_row_to_gray8(row, layout, dst, width, self->matrix, self->in_range);
    }
    return;
  }

  // Y'CbCr and gray: the luma component is copied (range-expanded), never recomputed.
  if (needs_unpacking(in)) {
    // More than 8 bits in a plane of its own or packed (v210): the format's unpacker gives
    // the codes, GStreamer's range offsets their meaning.
    vc_frame_read_luma(in, *self->codes);
    const vidcolor::LumaCoding coding = vc_luma_coding(&in->info);
    for (gint y = 0; y < height; ++y) {
      const uint16_t* row = self->codes->data() + static_cast<gsize>(y) * width;
      guint8* dst = out_data + static_cast<gsize>(y) * out_stride;
      if (out16)
        vidcolor::luma_codes_row_to_gray16(row, reinterpret_cast<guint16*>(dst), width,
                                           coding.offset, coding.scale);
      else
        vidcolor::luma_codes_row_to_gray8(row, dst, width, coding.offset, coding.scale);
    }
    return;
  }
  const guint8* luma = static_cast<const guint8*>(GST_VIDEO_FRAME_COMP_DATA(in, 0));
  if (GST_VIDEO_FRAME_FORMAT(in) == GST_VIDEO_FORMAT_GRAY16_LE) {
    for (gint y = 0; y < height; ++y) {
      const guint16* row =
          reinterpret_cast<const guint16*>(luma + static_cast<gsize>(y) * in_stride);
      guint8* dst = out_data + static_cast<gsize>(y) * out_stride;
      if (out16)
        vidcolor::luma16_row_to_gray16(row, reinterpret_cast<guint16*>(dst), width, self->in_range);
      else
        vidcolor::luma16_row_to_gray8(row, dst, width, self->in_range);
    }
    return;
  }
  const gint pstride = GST_VIDEO_FRAME_COMP_PSTRIDE(in, 0);
  for (gint y = 0; y < height; ++y) {
    vidcolor::luma8_row_to_gray8(luma + static_cast<gsize>(y) * in_stride, pstride,
                                 out_data + static_cast<gsize>(y) * out_stride, width,
                                 self->in_range);
  }
}

static GstFlowReturn gst_vc_gray_transform_frame(GstVideoFilter* filter, GstVideoFrame* in,
                                                 GstVideoFrame* out) {
  GstVcGray* self = GST_VC_GRAY(filter);
  // Every converted Y'CbCr frame names its source: vccolorize writes the output's luma from
  // it (R'G'B' has no luma samples to keep).
  if (!GST_VIDEO_FORMAT_INFO_IS_RGB(in->info.finfo))
    vc_buffer_add_source_frame_meta(out->buffer, in->buffer, &in->info);
  // Line by line, so interleaved fields need no care; an alternate-mode buffer holds one
  // field, fewer lines than its caps' height (fields.h).
  const VcPictures gray_in = vc_frame_pictures(in);
  VcPictures gray_out = vc_frame_pictures_as(out, gray_in);
  for (int i = 0; i < gray_in.count; ++i)
    convert_picture(self, &gray_in.view[i], &gray_out.view[i]);
  return GST_FLOW_OK;
}

// Metas that describe the picture rather than its samples go with it (meta_copy.h).
static gboolean gst_vc_gray_transform_meta(GstBaseTransform* trans, GstBuffer* outbuf,
                                           GstMeta* meta, GstBuffer* inbuf) {
  (void)trans;
  (void)outbuf;
  (void)inbuf;
  return vc_meta_survives_colour_change(meta->info->api);
}

// Short buffers are an error, not a silently dropped frame (frame_size_check.h).
static GstFlowReturn gst_vc_gray_submit_input_buffer(GstBaseTransform* trans, gboolean is_discont,
                                                     GstBuffer* input) {
  if (!vc_video_filter_input_is_whole(GST_VIDEO_FILTER(trans), input)) {
    gst_buffer_unref(input);
    return GST_FLOW_ERROR;
  }
  return GST_BASE_TRANSFORM_CLASS(gst_vc_gray_parent_class)
      ->submit_input_buffer(trans, is_discont, input);
}

static void gst_vc_gray_set_property(GObject* object, guint prop_id, const GValue* value,
                                     GParamSpec* pspec) {
  GstVcGray* self = GST_VC_GRAY(object);
  switch (prop_id) {
    case PROP_MATRIX:
      g_mutex_lock(&self->lock);
      self->matrix_setting = static_cast<GstVcGrayMatrix>(g_value_get_enum(value));
      g_mutex_unlock(&self->lock);
      // Takes effect on the next caps; ask for a renegotiation so it applies now.
      gst_base_transform_reconfigure_src(GST_BASE_TRANSFORM(self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_vc_gray_get_property(GObject* object, guint prop_id, GValue* value,
                                     GParamSpec* pspec) {
  GstVcGray* self = GST_VC_GRAY(object);
  switch (prop_id) {
    case PROP_MATRIX:
      g_mutex_lock(&self->lock);
      g_value_set_enum(value, self->matrix_setting);
      g_mutex_unlock(&self->lock);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_vc_gray_finalize(GObject* object) {
  GstVcGray* self = GST_VC_GRAY(object);
  g_mutex_clear(&self->lock);
  delete self->codes;
  G_OBJECT_CLASS(gst_vc_gray_parent_class)->finalize(object);
}

static void gst_vc_gray_class_init(GstVcGrayClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass* trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  GstVideoFilterClass* filter_class = GST_VIDEO_FILTER_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(gst_vc_gray_debug, "vcgray", 0, "vidcolor luma extraction");
  (void)vc_source_frame_meta_get_info();

  gobject_class->set_property = gst_vc_gray_set_property;
  gobject_class->get_property = gst_vc_gray_get_property;
  gobject_class->finalize = gst_vc_gray_finalize;

  g_object_class_install_property(
      gobject_class, PROP_MATRIX,
      g_param_spec_enum("matrix", "Matrix",
                        "Luma weights applied to R'G'B' input (Y'CbCr input copies its Y plane)",
                        GST_TYPE_VC_GRAY_MATRIX, DEFAULT_MATRIX,
                        static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                 GST_PARAM_MUTABLE_PLAYING)));

  gst_element_class_set_static_metadata(
      element_class, "vidcolor gray", "Filter/Converter/Video",
      "Converts any common raw video to full-range GRAY8 (or GRAY16_LE) luma with the input's "
      "colorimetry: the grayscale input of the vidcolor colorizer",
      "vidcolor developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  trans_class->transform_caps = GST_DEBUG_FUNCPTR(gst_vc_gray_transform_caps);
  trans_class->passthrough_on_same_caps = FALSE;
  trans_class->submit_input_buffer = GST_DEBUG_FUNCPTR(gst_vc_gray_submit_input_buffer);
  trans_class->transform_meta = GST_DEBUG_FUNCPTR(gst_vc_gray_transform_meta);
  filter_class->set_info = GST_DEBUG_FUNCPTR(gst_vc_gray_set_info);
  filter_class->transform_frame = GST_DEBUG_FUNCPTR(gst_vc_gray_transform_frame);

  gst_type_mark_as_plugin_api(GST_TYPE_VC_GRAY_MATRIX, static_cast<GstPluginAPIFlags>(0));
}

static void gst_vc_gray_init(GstVcGray* self) {
  g_mutex_init(&self->lock);
  self->matrix_setting = DEFAULT_MATRIX;
  self->matrix = vidcolor::Matrix::BT601;
  self->in_range = vidcolor::Range::Full;
  self->codes = new std::vector<uint16_t>();
  // A GAP buffer is converted like any other and keeps its flag (BaseTransform clears it
  // otherwise): the chain keeps every buffer flag.
  gst_base_transform_set_gap_aware(GST_BASE_TRANSFORM(self), TRUE);
}
