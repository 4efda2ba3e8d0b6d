#include "vcsourceframe.h"

GType vc_source_frame_meta_api_get_type(void) {
  static GType type = 0;
  // Tied to the pixels, their colour space, size and orientation: see the header.
  static const gchar* tags[] = {GST_META_TAG_VIDEO_STR, GST_META_TAG_VIDEO_COLORSPACE_STR,
                                GST_META_TAG_VIDEO_SIZE_STR, GST_META_TAG_VIDEO_ORIENTATION_STR,
                                nullptr};
  if (g_once_init_enter(&type)) {
    GType t = gst_meta_api_type_register("VcSourceFrameMetaAPI", tags);
    g_once_init_leave(&type, t);
  }
  return type;
}

static gboolean vc_source_frame_meta_init(GstMeta* meta, gpointer params, GstBuffer* buffer) {
  auto* m = reinterpret_cast<VcSourceFrameMeta*>(meta);
  m->buffer = nullptr;
  gst_video_info_init(&m->info);
  (void)params;
  (void)buffer;
  return TRUE;
}

static void vc_source_frame_meta_free(GstMeta* meta, GstBuffer* buffer) {
  auto* m = reinterpret_cast<VcSourceFrameMeta*>(meta);
  gst_clear_buffer(&m->buffer);
  (void)buffer;
}

// A whole copy of the gray buffer is the same picture: the source goes with it. Anything
// else (a region, a scale, a conversion) no longer matches it.
static gboolean vc_source_frame_meta_transform(GstBuffer* dest, GstMeta* meta, GstBuffer* buffer,
                                               GQuark type, gpointer data) {
  (void)buffer;
  if (!GST_META_TRANSFORM_IS_COPY(type)) return FALSE;
  if (static_cast<const GstMetaTransformCopy*>(data)->region) return FALSE;
  const auto* m = reinterpret_cast<const VcSourceFrameMeta*>(meta);
  return vc_buffer_add_source_frame_meta(dest, m->buffer, &m->info) != nullptr;
}

const GstMetaInfo* vc_source_frame_meta_get_info(void) {
  static const GstMetaInfo* info = nullptr;
  if (g_once_init_enter(&info)) {
    const GstMetaInfo* mi = gst_meta_register(
        VC_SOURCE_FRAME_META_API_TYPE, "VcSourceFrameMeta", sizeof(VcSourceFrameMeta),
        vc_source_frame_meta_init, vc_source_frame_meta_free, vc_source_frame_meta_transform);
    g_once_init_leave(&info, mi);
  }
  return info;
}

VcSourceFrameMeta* vc_buffer_add_source_frame_meta(GstBuffer* buffer, GstBuffer* source,
                                                   const GstVideoInfo* info) {
  g_return_val_if_fail(GST_IS_BUFFER(buffer) && GST_IS_BUFFER(source) && info != nullptr, nullptr);
  auto* m = reinterpret_cast<VcSourceFrameMeta*>(
      gst_buffer_add_meta(buffer, vc_source_frame_meta_get_info(), nullptr));
  if (m == nullptr) return nullptr;
  m->buffer = gst_buffer_ref(source);
  m->info = *info;
  return m;
}

void vc_source_fields_set(GstStructure* s, const GstStructure* source, const GstVideoInfo* info) {
  gst_structure_set(s, VC_SOURCE_FORMAT_FIELD, G_TYPE_STRING, GST_VIDEO_INFO_NAME(info), nullptr);
  // The resolved values (defaults included), so the output states exactly what the input
  // meant even where the input caps left them out.
  gchar* colorimetry = gst_video_colorimetry_to_string(&info->colorimetry);
  if (colorimetry != nullptr)
    gst_structure_set(s, VC_SOURCE_COLORIMETRY_FIELD, G_TYPE_STRING, colorimetry, nullptr);
  g_free(colorimetry);
  // The caps' own siting when they name one: GStreamer 1.22's gst_video_info_from_caps()
  // replaces it by the default siting when the caps name no colorimetry (avdec_h264's
  // `chroma-site=mpeg2` would come out as `jpeg`, and the new chroma be made for it).
  GstVideoChromaSite site_value = info->chroma_site;
  if (const gchar* named = gst_structure_get_string(source, "chroma-site")) {
    const GstVideoChromaSite parsed = gst_video_chroma_site_from_string(named);
    if (parsed != GST_VIDEO_CHROMA_SITE_UNKNOWN) site_value = parsed;
  }
  gchar* site = gst_video_chroma_site_to_string(site_value);
  if (site != nullptr)
    gst_structure_set(s, VC_SOURCE_CHROMA_SITE_FIELD, G_TYPE_STRING, site, nullptr);
  g_free(site);
}

void vc_source_fields_remove(GstStructure* s) {
  gst_structure_remove_fields(s, VC_SOURCE_FORMAT_FIELD, VC_SOURCE_COLORIMETRY_FIELD,
                              VC_SOURCE_CHROMA_SITE_FIELD, nullptr);
}
