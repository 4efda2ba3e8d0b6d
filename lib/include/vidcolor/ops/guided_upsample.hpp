// Guided upsampling of chroma (the fast guided filter, He & Sun 2015, "Fast Guided Filter",
// arXiv:1505.00996): the networks run at a reduced inference size, and their chroma is brought
// back to full resolution by a per-pixel linear model of the full-resolution luma, so color
// edges follow luma edges instead of bilinear blur (docs/ARCHITECTURE.md, "Inference size").
#pragma once

#include <torch/torch.h>

namespace vidcolor {

// src_lr [N,C,h,w], guide_lr [N,1,h,w] (the full-resolution guide brought to h x w, e.g. by
// area averaging), guide_hr [N,1,H,W] -> [N,C,H,W]. All floating point of one dtype and
// device. At low resolution, per (2 radius + 1)^2 window (clipped at the borders), the
// least-squares fit src = a * guide + b with ridge eps on a; a and b are box-averaged,
// bilinearly upsampled (half-pixel centres) and applied: out = a * guide_hr + b.
// A src that is a linear function of the guide is reproduced where the guide varies within
// every window (eps -> 0); a constant src stays constant. Throws vidcolor::Error for bad
// shapes, dtypes, devices, radius < 1 or eps <= 0.
// float32 on the CPU runs a plain-loop kernel (guided_upsample_cpu.cpp: the same arithmetic,
// several times faster than LibTorch's pooling/upsampling ops on one thread); everything else
// runs guided_upsample_torch.
torch::Tensor guided_upsample(const torch::Tensor& src_lr, const torch::Tensor& guide_lr,
                              const torch::Tensor& guide_hr, int radius = 1, double eps = 1e-3);

// The same filter in LibTorch ops, for any device and floating dtype (what GPUs run, and the
// reference the CPU kernel is tested against).
torch::Tensor guided_upsample_torch(const torch::Tensor& src_lr, const torch::Tensor& guide_lr,
                                    const torch::Tensor& guide_hr, int radius = 1,
                                    double eps = 1e-3);

}  // namespace vidcolor
