// vccolorize: network f on gray video; d candidate colorizations, one chosen (or all as a
// mosaic); luma passes through exactly, only chroma is predicted.
#pragma once

#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define GST_TYPE_VC_COLORIZE (gst_vc_colorize_get_type())
G_DECLARE_FINAL_TYPE(GstVcColorize, gst_vc_colorize, GST, VC_COLORIZE, GstVideoFilter)

// The output-format property: 0 = auto (the source's format), else a GstVideoFormat value
// that vccolorize can write (the enum lists exactly those).
#define GST_TYPE_VC_COLORIZE_OUTPUT_FORMAT (gst_vc_colorize_output_format_get_type())
GType gst_vc_colorize_output_format_get_type(void);
// The Y'CbCr subset of it: what the whole chain (vccolorize ! vcflow ! vcrefine) can output.
#define GST_TYPE_VC_CHAIN_OUTPUT_FORMAT (gst_vc_chain_output_format_get_type())
GType gst_vc_chain_output_format_get_type(void);

G_END_DECLS
