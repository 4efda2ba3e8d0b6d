#include "fields.h"

namespace {

// Labels `v` (a view of one picture) as what it now is: a progressive frame, without the
// interlace flags of the buffer it views.
void mark_progressive(GstVideoFrame* v) {
  v->info.interlace_mode = GST_VIDEO_INTERLACE_MODE_PROGRESSIVE;
  v->flags = static_cast<GstVideoFrameFlags>(
      v->flags & ~(GST_VIDEO_FRAME_FLAG_INTERLACED | GST_VIDEO_FRAME_FLAG_TFF |
                   GST_VIDEO_FRAME_FLAG_RFF | GST_VIDEO_FRAME_FLAG_ONEFIELD));
}

// The progressive view of field `parity` (0 top, 1 bottom) of an interleaved frame.
GstVideoFrame interleaved_field(const GstVideoFrame* frame, int parity) {
  GstVideoFrame v = *frame;
  GstVideoInfo& info = v.info;
  const int h = GST_VIDEO_INFO_HEIGHT(&frame->info);
  info.height = (h + 1 - parity) / 2;  // the top field has the odd line of an odd height
  for (guint p = 0; p < GST_VIDEO_INFO_N_PLANES(&info); ++p) {
    v.data[p] = static_cast<guint8*>(frame->data[p]) + parity * info.stride[p];
    info.stride[p] *= 2;
  }
  mark_progressive(&v);
  return v;
}

// An alternate-mode buffer as a progressive picture: its caps height is the frame's, its
// memory one field's (GST_VIDEO_INFO_FIELD_HEIGHT lines).
GstVideoFrame alternate_field(const GstVideoFrame* frame) {
  GstVideoFrame v = *frame;
  v.info.height = GST_VIDEO_INFO_FIELD_HEIGHT(&frame->info);
  mark_progressive(&v);
  return v;
}

}  // namespace

gboolean vc_caps_features_mappable(const GstCapsFeatures* features) {
  if (features == nullptr || gst_caps_features_is_any(features)) return TRUE;
  for (guint i = 0; i < gst_caps_features_get_size(features); ++i) {
    const gchar* f = gst_caps_features_get_nth(features, i);
    if (g_strcmp0(f, GST_CAPS_FEATURE_MEMORY_SYSTEM_MEMORY) != 0 &&
        g_strcmp0(f, GST_CAPS_FEATURE_FORMAT_INTERLACED) != 0)
      return FALSE;
  }
  return TRUE;
}

GstCapsFeatures* vc_caps_features_kept(const GstCapsFeatures* features) {
  if (features == nullptr || gst_caps_features_is_any(features) ||
      !gst_caps_features_contains(features, GST_CAPS_FEATURE_FORMAT_INTERLACED))
    return nullptr;
  return gst_caps_features_copy(features);
}

VcPictureKind vc_frame_kind(const GstVideoFrame* frame) {
  if (GST_VIDEO_INFO_INTERLACE_MODE(&frame->info) == GST_VIDEO_INTERLACE_MODE_ALTERNATE)
    return VcPictureKind::Field;
  // gst_video_frame_map sets INTERLACED for every interleaved frame and for the mixed-mode
  // frames whose buffer is flagged so.
  if (GST_VIDEO_FRAME_IS_INTERLACED(frame) && GST_VIDEO_FRAME_HEIGHT(frame) >= 2)
    return VcPictureKind::Fields;
  return VcPictureKind::Frame;
}

VcPictures vc_frame_pictures(const GstVideoFrame* frame) {
  VcPictures p;
  p.kind = vc_frame_kind(frame);
  // An alternate buffer without a field flag is taken as a top field.
  p.parity[0] = p.kind == VcPictureKind::Field && GST_VIDEO_FRAME_IS_BOTTOM_FIELD(frame) ? 1 : 0;
  p.parity[1] = 1;
  return vc_frame_pictures_as(frame, p);
}

VcPictures vc_frame_pictures_as(const GstVideoFrame* frame, const VcPictures& like) {
  VcPictures p = like;
  switch (like.kind) {
    case VcPictureKind::Frame:
      p.count = 1;
      p.view[0] = *frame;
      break;
    case VcPictureKind::Fields:
      p.count = 2;
      p.view[0] = interleaved_field(frame, 0);
      p.view[1] = interleaved_field(frame, 1);
      break;
    case VcPictureKind::Field:
      p.count = 1;
      p.view[0] = alternate_field(frame);
      break;
  }
  return p;
}

const char* vc_picture_kind_name(VcPictureKind kind) {
  switch (kind) {
    case VcPictureKind::Frame:
      return "frame";
    case VcPictureKind::Fields:
      return "two fields";
    case VcPictureKind::Field:
      return "one field";
  }
  return "?";
}
