// vcrefine: temporal refinement of colorized video with network g over a sliding window.
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define GST_TYPE_VC_REFINE (gst_vc_refine_get_type())
G_DECLARE_FINAL_TYPE(GstVcRefine, gst_vc_refine, GST, VC_REFINE, GstElement)

G_END_DECLS
