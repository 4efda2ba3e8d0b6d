// One frame pair's flows and masks as the element chain computes them (OpenCV part of
// libvidcolor): the luma at the flow size (flow_size.hpp's rule), then F_{t->t-1} and
// F_{t-1->t} and their Sundaram forward-backward masks. vcflow attaches exactly this as its
// meta; VideoColorizer links its frames with it, so vidcolor-eval scores the chain's flows.
#pragma once

#include <opencv2/core.hpp>

#include "vidcolor/flow/flow_link.hpp"
#include "vidcolor/flow/optical_flow.hpp"

namespace vidcolor {

// The 8-bit luma (CV_8UC1, any size) at flow_size(cols, rows, scale): area-averaged when
// shrinking both sides, bilinear otherwise; an owned copy when the size is already right
// (the input may view memory the caller does not own for long). Throws vidcolor::Error on an
// empty or non-CV_8UC1 input.
cv::Mat flow_luma(const cv::Mat& gray8, double scale);

// The flows between two consecutive flow lumas of one size: backward = flow.compute(cur, prev)
// (F_{t->t-1}), forward = flow.compute(prev, cur) (F_{t-1->t}), each as a [1,2,h,w] tensor, and
// their masks occlusion_mask(backward, forward) and occlusion_mask(forward, backward)
// ([1,1,h,w] float, 1 = valid).
FlowLink flow_pair(OpticalFlow& flow, const cv::Mat& prev_luma, const cv::Mat& cur_luma);

}  // namespace vidcolor
