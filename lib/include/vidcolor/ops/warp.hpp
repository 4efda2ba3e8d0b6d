// Backward warping, confidence maps (eq. 4) and flow consistency: the tensor side of the
// temporal half of the paper (§4.1). Conventions in docs/ARCHITECTURE.md: a flow is
// [N,2,H,W] float (channel 0 = dx, 1 = dy) in pixels of the tensor it is applied to, and
// F_{s->t}(x) says where pixel x of frame s is in frame t.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "vidcolor/core/chain_defaults.hpp"

namespace vidcolor {

// Backward warp: out(x) = image(x + flow(x)), bilinear, coordinates outside the image
// clamped to the border. image [N,C,H,W], flow [N,2,H,W] (same N, H, W; float). So
// warp(I_t, F_{s->t}) brings frame t into frame s. Differentiable in image and flow.
// Throws vidcolor::Error on mismatched shapes.
torch::Tensor warp(const torch::Tensor& image, const torch::Tensor& flow);

// Confidence map of eq. 4: W(A, B) = max(1 - alpha * mean_c |A - B|, 0) -> [N,1,H,W].
// a and b [N,C,H,W] of the same shape.
torch::Tensor confidence(const torch::Tensor& a, const torch::Tensor& b,
                         double alpha = kConfidenceAlpha);

// Forward-backward consistency (Sundaram et al., ECCV 2010): with F = flow_st and
// B = warp(flow_ts, flow_st), pixel x of s is valid when
//   |F + B|^2 < 0.01 (|F|^2 + |B|^2) + 0.5.
// flow_st, flow_ts [N,2,H,W] (pixels) -> [N,1,H,W] float, 1 = valid, 0 = occluded/unreliable.
torch::Tensor occlusion_mask(const torch::Tensor& flow_st, const torch::Tensor& flow_ts);

// Resamples a flow to h x w (bilinear, half-pixel centres: align_corners = false, the
// mapping cv::resize uses, so a flow computed on a cv::resize'd frame comes back exactly)
// and scales dx by w / W and dy by h / H, so the vectors are in pixels of the new size.
torch::Tensor resize_flow(const torch::Tensor& flow, int64_t h, int64_t w);

}  // namespace vidcolor
