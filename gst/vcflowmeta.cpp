// VcFlowMeta registration, init/free/transform. See vcflowmeta.h for the contract.
#include "vcflowmeta.h"

#include <gst/video/video.h>

GType gst_vc_flow_meta_api_get_type(void) {
  static GType type = 0;
  // "video": describes the picture; "size"/"orientation": geometry-dependent, so elements
  // that scale call our transform and others that only copy video metas keep it. Not
  // "colorspace": a format conversion does not change where pixels move.
  static const gchar* tags[] = {GST_META_TAG_VIDEO_STR, GST_META_TAG_VIDEO_SIZE_STR,
                                GST_META_TAG_VIDEO_ORIENTATION_STR, nullptr};
  if (g_once_init_enter(&type)) {
    GType t = gst_meta_api_type_register(GST_VC_FLOW_META_API_NAME, tags);
    g_once_init_leave(&type, t);
  }
  return type;
}

static gboolean gst_vc_flow_meta_init(GstMeta* meta, gpointer params, GstBuffer* buffer) {
  GstVcFlowMeta* m = reinterpret_cast<GstVcFlowMeta*>(meta);
  m->width = m->height = m->frame_width = m->frame_height = 0;
  m->backward = m->forward = m->backward_valid = m->forward_valid = nullptr;
  (void)params;
  (void)buffer;
  return TRUE;
}

static void gst_vc_flow_meta_free(GstMeta* meta, GstBuffer* buffer) {
  GstVcFlowMeta* m = reinterpret_cast<GstVcFlowMeta*>(meta);
  g_clear_pointer(&m->backward, g_bytes_unref);
  g_clear_pointer(&m->forward, g_bytes_unref);
  g_clear_pointer(&m->backward_valid, g_bytes_unref);
  g_clear_pointer(&m->forward_valid, g_bytes_unref);
  (void)buffer;
}

static gboolean gst_vc_flow_meta_transform(GstBuffer* dest, GstMeta* meta, GstBuffer* buffer,
                                           GQuark type, gpointer data) {
  const GstVcFlowMeta* src = reinterpret_cast<const GstVcFlowMeta*>(meta);
  guint frame_width = src->frame_width, frame_height = src->frame_height;
  (void)buffer;

  if (GST_META_TRANSFORM_IS_COPY(type)) {
    const GstMetaTransformCopy* copy = static_cast<const GstMetaTransformCopy*>(data);
    if (copy->region) return FALSE;  // part of the bytes is not the frame any more
  } else if (GST_VIDEO_META_TRANSFORM_IS_SCALE(type)) {
    const GstVideoMetaTransform* scale = static_cast<const GstVideoMetaTransform*>(data);
    frame_width = static_cast<guint>(GST_VIDEO_INFO_WIDTH(scale->out_info));
    frame_height = static_cast<guint>(GST_VIDEO_INFO_HEIGHT(scale->out_info));
  } else {
    return FALSE;  // crop, flip, unknown: the flows would no longer match the picture
  }
  return gst_buffer_add_vc_flow_meta(dest, src->width, src->height, frame_width, frame_height,
                                     src->backward, src->forward, src->backward_valid,
                                     src->forward_valid) != nullptr;
}

const GstMetaInfo* gst_vc_flow_meta_get_info(void) {
  static const GstMetaInfo* info = nullptr;
  if (g_once_init_enter(&info)) {
    const GstMetaInfo* mi = gst_meta_register(GST_VC_FLOW_META_API_TYPE, GST_VC_FLOW_META_IMPL_NAME,
                                              sizeof(GstVcFlowMeta), gst_vc_flow_meta_init,
                                              gst_vc_flow_meta_free, gst_vc_flow_meta_transform);
    g_once_init_leave(&info, mi);
  }
  return info;
}

GstVcFlowMeta* gst_buffer_add_vc_flow_meta(GstBuffer* buffer, guint width, guint height,
                                           guint frame_width, guint frame_height, GBytes* backward,
                                           GBytes* forward, GBytes* backward_valid,
                                           GBytes* forward_valid) {
  g_return_val_if_fail(GST_IS_BUFFER(buffer), nullptr);
  g_return_val_if_fail(frame_width > 0 && frame_height > 0, nullptr);
  g_return_val_if_fail(
      gst_vc_flow_meta_sizes_valid(width, height, backward, forward, backward_valid, forward_valid),
      nullptr);

  GstVcFlowMeta* m =
      reinterpret_cast<GstVcFlowMeta*>(gst_buffer_add_meta(buffer, GST_VC_FLOW_META_INFO, nullptr));
  if (m == nullptr) return nullptr;
  m->width = width;
  m->height = height;
  m->frame_width = frame_width;
  m->frame_height = frame_height;
  m->backward = g_bytes_ref(backward);
  m->forward = g_bytes_ref(forward);
  m->backward_valid = g_bytes_ref(backward_valid);
  m->forward_valid = g_bytes_ref(forward_valid);
  return m;
}
