// flow_luma / flow_pair: the chain's flow of one frame pair (see the header).
#include "vidcolor/flow/flow_pair.hpp"

#include <opencv2/imgproc.hpp>

#include "vidcolor/core/error.hpp"
#include "vidcolor/flow/flow_size.hpp"
#include "vidcolor/ops/warp.hpp"

namespace vidcolor {

cv::Mat flow_luma(const cv::Mat& gray8, double scale) {
  if (gray8.empty() || gray8.type() != CV_8UC1)
    throw Error("flow_pair.cpp: flow_luma needs a non-empty 8-bit gray (CV_8UC1) frame");
  const FlowSize fs = flow_size(gray8.cols, gray8.rows, scale);
  const cv::Size size(fs.width, fs.height);
  if (size == gray8.size()) return gray8.clone();
  cv::Mat small;
  // Area when shrinking: no aliasing of fine texture into the flow. Bilinear when a side
  // grows (a frame smaller than kMinFlowSide).
  cv::resize(
      gray8, small, size, 0, 0,
      size.width <= gray8.cols && size.height <= gray8.rows ? cv::INTER_AREA : cv::INTER_LINEAR);
  return small;
}

FlowLink flow_pair(OpticalFlow& flow, const cv::Mat& prev_luma, const cv::Mat& cur_luma) {
  FlowLink link;
  link.backward = flow_mat_to_tensor(flow.compute(cur_luma, prev_luma));  // F_{t->t-1}
  link.forward = flow_mat_to_tensor(flow.compute(prev_luma, cur_luma));   // F_{t-1->t}
  link.backward_valid = occlusion_mask(link.backward, link.forward);
  link.forward_valid = occlusion_mask(link.forward, link.backward);
  return link;
}

}  // namespace vidcolor
