#include "meta_copy.h"

#include <gst/video/video.h>

#include "vcflowmeta.h"

gboolean vc_meta_survives_colour_change(GType api) {
  static const gchar* const geometry_tags[] = {GST_META_TAG_VIDEO_STR, GST_META_TAG_VIDEO_SIZE_STR,
                                               GST_META_TAG_VIDEO_ORIENTATION_STR, nullptr};
  if (api == GST_VC_FLOW_META_API_TYPE) return FALSE;
  const gchar* const* tags = gst_meta_api_type_get_tags(api);
  for (guint i = 0; tags != nullptr && tags[i] != nullptr; ++i)
    if (!g_strv_contains(geometry_tags, tags[i])) return FALSE;
  return TRUE;
}
