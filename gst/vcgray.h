// vcgray: any common raw video to GRAY8 (or GRAY16_LE) luma, colorimetry-correct.
#pragma once

#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define GST_TYPE_VC_GRAY (gst_vc_gray_get_type())
G_DECLARE_FINAL_TYPE(GstVcGray, gst_vc_gray, GST, VC_GRAY, GstVideoFilter)

// Which luma weights to apply to R'G'B' input.
typedef enum {
  GST_VC_GRAY_MATRIX_AUTO,
  GST_VC_GRAY_MATRIX_BT601,
  GST_VC_GRAY_MATRIX_BT709,
  GST_VC_GRAY_MATRIX_BT2020,
} GstVcGrayMatrix;

#define GST_TYPE_VC_GRAY_MATRIX (gst_vc_gray_matrix_get_type())
GType gst_vc_gray_matrix_get_type(void);

G_END_DECLS
