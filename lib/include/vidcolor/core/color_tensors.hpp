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

// CIE L*a*b* (D65 white, sRGB primaries and transfer) for the colour metrics and the chroma
// classes of f (model/ab_bins.hpp): the field measures colorization error and quantises chroma
// there (Zhang et al. 2016), because equal steps of ab are roughly equal steps to the eye.
// R'G'B' [N,3,H,W] in [0,1] (clamped first) -> Lab [N,3,H,W]: L in [0,100], a and b ~[-110,110].
torch::Tensor rgb_to_lab(const torch::Tensor& rgb);
// Lab [N,3,H,W] -> R'G'B' [N,3,H,W] in [0,1]. An out-of-gamut colour keeps its L and hue and
// loses chroma until it fits (the line to the gray of its luminance, in linear RGB).
torch::Tensor lab_to_rgb(const torch::Tensor& lab);
// L* of a gray frame: Y' [N,1,H,W] in [0,1] taken as R' = G' = B' (the L of a neutral pixel).
torch::Tensor gray_to_lightness(const torch::Tensor& y);

}  // namespace vidcolor
