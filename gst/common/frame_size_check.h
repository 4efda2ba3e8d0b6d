/* One rule for GstVideoFilter-based elements (vcgray, vccolorize): GstVideoFilter drops a
 * buffer it cannot map with only a warning, so a stream of short buffers would silently lose
 * frames. A buffer smaller than its caps say is a broken stream: stop with an error instead. */
#pragma once

#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

/* For GstBaseTransform::submit_input_buffer. Returns TRUE when `input` can hold a frame of the
 * negotiated input caps (a buffer with a GstVideoMeta describes its own layout and is left to
 * the mapping); otherwise posts a STREAM/FORMAT error naming the sizes and returns FALSE. */
gboolean vc_video_filter_input_is_whole(GstVideoFilter* filter, GstBuffer* input);

G_END_DECLS
