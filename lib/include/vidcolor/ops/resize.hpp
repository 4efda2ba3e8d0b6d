// Resizing of [N,C,H,W] planes the way the engines bring frames to and from the networks'
// inference size: area averaging when shrinking both sides (no aliasing), bilinear with
// half-pixel centres otherwise.
#pragma once

#include <torch/torch.h>

namespace vidcolor {

// x [N,C,H,W] floating point -> [N,C,h,w]; x itself when the size already matches. Shrinking
// is LibTorch's "area" mode (adaptive average pooling: output i averages inputs
// [floor(i*H/h), ceil((i+1)*H/h))); on the CPU for float32 without gradients it runs a
// separable plain-loop kernel with the same windows (LibTorch's takes ~1 ms per 854x480 plane
// on one core, several times more than the loop).
torch::Tensor resize_planes(const torch::Tensor& x, int64_t h, int64_t w);

}  // namespace vidcolor
