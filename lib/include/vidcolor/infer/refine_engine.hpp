// Temporal refinement of one colorized frame with network g (paper §4.2): the neighbours'
// chroma is warped into the frame with optical flow, the confidence maps of eq. 4 are
// computed, g runs once per neighbour (all neighbours in one batched forward), and the
// per-neighbour results are combined and brought back to full resolution. LibTorch only.
//
// One call refines once; repeated passes (the paper's "apply g multiple times") are the
// caller's loop over a window of frames (vcrefine's `iterations`).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "vidcolor/core/chain_defaults.hpp"
#include "vidcolor/model/networks.hpp"

namespace vidcolor {

// A neighbour t of frame s (t = s - 1 or s + 1 for the paper's lambda = 1).
struct RefineNeighbour {
  torch::Tensor luma;    // Y^t [1,1,H,W] float in [0,1], the size of Y^s
  torch::Tensor chroma;  // C^t [1,2,Hc,Wc] float Cb, Cr in [-0.5,0.5], the size of C^s
  torch::Tensor flow;    // F_{s->t} [1,2,h,w] float, pixels of its own h x w (covering the
                         // whole picture; any size, resampled by resize_flow)
  torch::Tensor valid;   // optional [1,1,h,w] float/uint8, 1 where F_{s->t} is reliable
                         // (vcflow's forward-backward mask); undefined = valid everywhere
};

// What g receives for each neighbour, at inference size (for tests and diagnostics).
struct RefineInputs {
  torch::Tensor y_s;         // [1,1,h,w] Y^s
  torch::Tensor c_s;         // [1,2,h,w] C^s
  torch::Tensor c_t_warped;  // [N,2,h,w] w(C^t), one row per neighbour
  torch::Tensor conf_c;      // [N,1,h,w] W(w(C^t), C^s), eq. 4
  torch::Tensor conf_x;      // [N,1,h,w] W(w(X^t), X^s), eq. 4 on the gray pair
  torch::Tensor weight;      // [N,1,h,w] combination weight: conf_x * validity
};

// Composes two consecutive flows: F_{a->c}(x) = F_{a->b}(x) + F_{b->c}(x + F_{a->b}(x)),
// for neighbours further than one frame (lambda = 2). Both [1,2,*,*] covering the whole
// picture (flow_bc is resampled to flow_ab's size when they differ); the validity of the
// result is valid_ab * warp(valid_bc, F_{a->b}) (undefined masks count as all valid; the
// result's mask is always defined).
struct ChainedFlow {
  torch::Tensor flow;
  torch::Tensor valid;
};
ChainedFlow chain_flows(const torch::Tensor& flow_ab, const torch::Tensor& valid_ab,
                        const torch::Tensor& flow_bc, const torch::Tensor& valid_bc);

class RefineEngine {
 public:
  // g of `model` runs on `device` as the engine's own copy (channels-last on the CPU, half
  // precision on CUDA: measured on an H100, docs/BENCHMARKS.md);
  // alpha is eq. 4's; inference_size is the short side g runs at (0 = the model's
  // config: ModelConfig::refine_size()). Throws vidcolor::Error for alpha <= 0,
  // inference_size < 0, or a model without g.
  RefineEngine(std::shared_ptr<const Model> model, torch::Device device,
               double alpha = kConfidenceAlpha, int inference_size = 0);

  // Refines C^s with its neighbours. luma: Y^s [1,1,H,W] float in [0,1]; chroma: C^s
  // [1,2,Hc,Wc] (Hc x Wc = the chroma plane size: H x W for 4:4:4, about half for 4:2:0).
  // Returns the refined chroma [1,2,Hc,Wc] on chroma's device, clamped to [-0.5, 0.5].
  //
  // How (all at inference size h x w, from ModelConfig::inference_dims of H x W):
  //  1. Y^s, C^s and each neighbour's Y^t, C^t are area-downscaled; F_{s->t} and its mask
  //     are resampled (resize_flow, bilinear);
  //  2. w(C^t) = warp(C^t, F_{s->t}), w(X^t) likewise; conf_c = W(w(C^t), C^s) and
  //     conf_x = W(w(X^t), X^s) (eq. 4, alpha);
  //  3. g runs once on all neighbours stacked as a batch (N = number of neighbours);
  //  4. combine: out_lr = (sum_t weight_t g_t + eps C^s) / (sum_t weight_t + eps), with
  //     weight_t = conf_x_t * valid_t and eps = 1e-3. conf_x says whether the warp found
  //     the same gray pixel (conf_c measures the colour disagreement g is there to settle,
  //     so it must not decide whom to trust); the mask drops occluded pixels. With equal
  //     weights this is the plain average of the neighbours, it does not depend on their
  //     order, and where no neighbour is trustworthy it falls back to C^s;
  //  5. full resolution as a residual: out = C^s + guided_upsample(out_lr - C^s_lr,
  //     Y_lr, Y at Hc x Wc). C^s already has full-resolution chroma detail (vccolorize
  //     guided-upsampled it on the full luma); upsampling g's output itself would replace
  //     that detail with an inference-size picture, while g's change is smooth, so only
  //     the change is upsampled, guided by the luma so it stops at luma edges. g leaving
  //     a frame alone (out_lr = C^s_lr) leaves it bit-exact.
  // No neighbour: C^s is returned unchanged. Throws vidcolor::Error on bad shapes.
  torch::Tensor refine(const torch::Tensor& luma, const torch::Tensor& chroma,
                       const std::vector<RefineNeighbour>& neighbours) const;

  // Steps 1-2 alone (and the combination weights of step 4).
  RefineInputs prepare(const torch::Tensor& luma, const torch::Tensor& chroma,
                       const std::vector<RefineNeighbour>& neighbours) const;

  // Inference size for a H x W luma.
  void inference_dims(int width, int height, int* out_width, int* out_height) const;

  double alpha() const { return alpha_; }
  torch::Device device() const { return device_; }

 private:
  ModelConfig config_;
  RefinerNet g_{nullptr};
  torch::Device device_;
  double alpha_;
};

}  // namespace vidcolor
