// Tensor versions of the BT.601 conversions of color.hpp (same matrices), differentiable, for
// the losses and the training data: the networks predict chroma, the perceptual and bilateral
// terms and the data reader need R'G'B' (docs/ARCHITECTURE.md, "Color space").
#pragma once

#include <torch/torch.h>

namespace vidcolor {

// Y [N,1,H,W] + CbCr [N,2,H,W] -> R'G'B' [N,3,H,W] (not clamped, so gradients never vanish).
torch::Tensor ycc_to_rgb(const torch::Tensor& y, const torch::Tensor& cbcr);
// Y [N,1,H,W] + d candidates [N,d,2,H,W] -> [N,d,3,H,W].
torch::Tensor candidates_to_rgb(const torch::Tensor& y, const torch::Tensor& candidates);
// R'G'B' [N,3,H,W] -> Y'CbCr [N,3,H,W] (channel 0 = Y, 1 = Cb, 2 = Cr).
torch::Tensor rgb_to_ycc(const torch::Tensor& rgb);

}  // namespace vidcolor
