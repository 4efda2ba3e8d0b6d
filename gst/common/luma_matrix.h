// Which luma weights belong to a stream's colorimetry: shared by every element that
// computes luma from R'G'B' (vcgray, vcflow), so they agree on the same input.
#pragma once

#include <gst/video/video.h>

#include <vidcolor/core/color.hpp>

// The caps' matrix when it names one; for R'G'B' caps (matrix "rgb") the weights that belong
// to their primaries; BT.601 up to 576 lines and BT.709 above when nothing is known.
vidcolor::Matrix vc_luma_matrix_for(const GstVideoInfo* info);
