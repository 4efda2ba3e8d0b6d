// The CPU kernel of guided_upsample (float32): the same arithmetic as the LibTorch-ops version
// in guided_upsample.cpp, in plain loops. LibTorch's avg_pool2d and upsample_bilinear2d on one
// CPU thread cost ~10 ms per 854x480 frame here, most of vccolorize's time outside f; these
// loops take a fraction of that (docs/BENCHMARKS.md).
#pragma once

#include <torch/torch.h>

namespace vidcolor::detail {

// Inputs already validated by guided_upsample: CPU float32, src_lr [N,C,h,w], guide_lr
// [N,1,h,w], guide_hr [N,1,H,W]. Returns [N,C,H,W] contiguous float32.
torch::Tensor guided_upsample_cpu(const torch::Tensor& src_lr, const torch::Tensor& guide_lr,
                                  const torch::Tensor& guide_hr, int radius, double eps);

}  // namespace vidcolor::detail
