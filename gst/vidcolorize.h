// vidcolorize: the whole chain (vcgray ! vccolorize ! vcflow ! vcrefine, with queues) as
// one bin, for the one-element pipeline.
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_VID_COLORIZE (gst_vid_colorize_get_type())
G_DECLARE_FINAL_TYPE(GstVidColorize, gst_vid_colorize, GST, VID_COLORIZE, GstBin)

G_END_DECLS
