// vcflow: optical flow between consecutive frames, attached as VcFlowMeta; video untouched.
#pragma once

#include <gst/base/gstbasetransform.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define GST_TYPE_VC_FLOW (gst_vc_flow_get_type())
G_DECLARE_FINAL_TYPE(GstVcFlow, gst_vc_flow, GST, VC_FLOW, GstBaseTransform)

// Same values as vidcolor::FlowBackend. The registered enum lists only the backends of
// this build (the CUDA ones need OpenCV with cudaoptflow).
typedef enum {
  GST_VC_FLOW_BACKEND_DIS_ULTRAFAST,
  GST_VC_FLOW_BACKEND_DIS_FAST,
  GST_VC_FLOW_BACKEND_DIS_MEDIUM,
  GST_VC_FLOW_BACKEND_FARNEBACK,
  GST_VC_FLOW_BACKEND_CUDA_NVIDIA,
  GST_VC_FLOW_BACKEND_CUDA_FARNEBACK,
  GST_VC_FLOW_BACKEND_CUDA_BROX,
  GST_VC_FLOW_BACKEND_CUDA_TVL1,
} GstVcFlowBackend;

#define GST_TYPE_VC_FLOW_BACKEND (gst_vc_flow_backend_get_type())
GType gst_vc_flow_backend_get_type(void);

G_END_DECLS
