#include "frame_size_check.h"

#include <gst/video/video.h>

gboolean vc_video_filter_input_is_whole(GstVideoFilter* filter, GstBuffer* input) {
  if (!filter->negotiated || gst_buffer_get_video_meta(input) != nullptr ||
      gst_buffer_get_size(input) >= GST_VIDEO_INFO_SIZE(&filter->in_info))
    return TRUE;
  GST_ELEMENT_ERROR(filter, STREAM, FORMAT, ("Buffer too small for its caps"),
                    ("%" G_GSIZE_FORMAT " bytes, but a %dx%d %s frame needs %" G_GSIZE_FORMAT,
                     gst_buffer_get_size(input), GST_VIDEO_INFO_WIDTH(&filter->in_info),
                     GST_VIDEO_INFO_HEIGHT(&filter->in_info), GST_VIDEO_INFO_NAME(&filter->in_info),
                     GST_VIDEO_INFO_SIZE(&filter->in_info)));
  return FALSE;
}
