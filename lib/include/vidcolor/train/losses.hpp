// The training losses of the paper (§4, §5): bilateral (eq. 2), temporal of f (eq. 3),
// refinement of g (eq. 5) and the ranked diversity loss (eq. 7) over a perceptual distance.
//
// Conventions (docs/ARCHITECTURE.md): networks predict full-range BT.601 chroma (Cb, Cr) in
// [-0.5, 0.5] next to the input luma Y in [0, 1]; R'G'B' is in [0, 1]; flows are [N,2,H,W]
// in pixels, F_{s->t}(x) = where pixel x of s is in t. Every loss returns a 0-dim tensor
// (mean over the batch), differentiable in the prediction; targets, KNN graphs, flows and
// masks are data (no gradient is asked of them).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "vidcolor/core/color_tensors.hpp"  // ycc_to_rgb, candidates_to_rgb, rgb_to_ycc

namespace vidcolor {

// ---- bilateral loss (eq. 2) ----------------------------------------------------------------

// Mean over pixels p, their K neighbours q and channels of |pred_p - pred_q|.
// pred [N,C,H,W] (chroma; or [N,d,C,H,W] candidates, each candidate regularised alike).
// knn [N,H*W,K] integer (int32 or int64), flat indices y*W + x into the same crop, found in
// the bilateral space of the ground truth (see knn_graph.hpp; a pixel is not its own
// neighbour). Throws vidcolor::Error on mismatched shapes.
torch::Tensor bilateral_loss(const torch::Tensor& pred, const torch::Tensor& knn);

// ---- temporal loss of f (eq. 3) -------------------------------------------------------------

// || (pred_t - warp(pred_t1, flow_t_to_t1)) * mask ||_1, averaged over the valid pixels
// (sum of masked |diff| / (channels * sum(mask))), so a mostly occluded pair neither
// dominates nor vanishes. pred_t, pred_t1 [N,C,H,W] or [N,d,C,H,W] (candidate i of t is
// compared with candidate i of t+1). flow_t_to_t1 [N,2,H,W]; mask [N,1,H,W], 1 = valid
// (e.g. occlusion_mask(F_{t->t+1}, F_{t+1->t}) of warp.hpp, computed on the ground truth).
torch::Tensor temporal_loss(const torch::Tensor& pred_t, const torch::Tensor& pred_t1,
                            const torch::Tensor& flow_t_to_t1, const torch::Tensor& mask);

// ---- refinement loss of g (eq. 5) ----------------------------------------------------------

// Mean L1 between g's refined chroma [N,2,H,W] and the ground-truth chroma [N,2,H,W].
torch::Tensor refinement_loss(const torch::Tensor& refined, const torch::Tensor& target);

// The authors' code adds two confidence-weighted terms to eq. 5: pull the output towards the
// warped neighbour where the pair agrees (conf ~ 1) and towards the current colorization where
// it does not: mean(conf * |refined - c_t_warped|) + mean((1 - conf) * |refined - c_s|).
// All chroma [N,2,H,W], conf [N,1,H,W] (e.g. W(X^t, X^s) of eq. 4). Optional: eq. 5 alone
// already supervises g with the ground truth; these terms only speed up learning the blend,
// so the trainer gives them a small weight (or 0).
torch::Tensor refinement_consistency_loss(const torch::Tensor& refined, const torch::Tensor& c_s,
                                          const torch::Tensor& c_t_warped,
                                          const torch::Tensor& conf);

// ---- chroma classes of f (Zhang et al. 2016) ------------------------------------------------

// Class-rebalanced cross-entropy of f's class logits [N,313,h,w] against the ground truth:
// the truth's ab (CIE Lab of rgb_truth [N,3,H,W], area-averaged to h x w) soft-encoded on the 5
// nearest bins (sigma 5), each pixel weighted by class_weights[its nearest bin] ([313], from
// ab_rebalance_weights of the training prior; an undefined tensor = no rebalancing). Mean over
// pixels. Rebalancing is what keeps rare, saturated colours from losing to the desaturated
// bins that dominate natural images.
torch::Tensor chroma_class_loss(const torch::Tensor& logits, const torch::Tensor& rgb_truth,
                                const torch::Tensor& class_weights);

// The truth's ab at the logits' resolution, as chroma_class_loss sees it: [N,2,h,w].
torch::Tensor truth_ab_at(const torch::Tensor& rgb_truth, int64_t h, int64_t w);

// ---- perceptual distance -------------------------------------------------------------------

// A frozen feature extractor φ for the perceptual distance. Implementations: MobileNetV2-0.35
// (MobileNetPerceptual, mobilenet_perceptual.hpp); a VGG-19 one plugs in by implementing this
// interface (its torch module loaded with backbone_weights.hpp's load_keras_weights).
class PerceptualNet {
 public:
  virtual ~PerceptualNet() = default;
  // R'G'B' [N,3,H,W] in [0, 1] -> the feature maps compared by Lp, level 0 being the input as
  // the network sees it. Differentiable in rgb01; the network's own weights are frozen.
  virtual std::vector<torch::Tensor> features(const torch::Tensor& rgb01) = 0;
  // One weight per feature map of features(), balancing their magnitudes.
  virtual std::vector<double> layer_weights() const = 0;
  virtual void to(torch::Device device) = 0;
};

// Lp(x, y) = Σ_l w_l mean|φ_l(x) - φ_l(y)| per sample: x, y R'G'B' [N,3,H,W] in [0, 1] -> [N].
torch::Tensor perceptual_distance(PerceptualNet& phi, const torch::Tensor& x,
                                  const torch::Tensor& y);

// Same from features already computed (e.g. the target's, computed once for d candidates).
torch::Tensor perceptual_distance(const std::vector<torch::Tensor>& fx,
                                  const std::vector<torch::Tensor>& fy,
                                  const std::vector<double>& weights);

// ---- ranked diversity loss (eq. 7) ---------------------------------------------------------

// β_i = 0.01 * 2^(d - i), i = 1..d: decreasing, as the authors' code (PAPER_NOTES.md).
std::vector<double> diversity_betas(int64_t d);

struct DiversityLossResult {
  torch::Tensor loss;       // 0-dim: mean over N of min_i Lp_i + Σ_i β_i Lp_i
  torch::Tensor distances;  // [N,d] Lp(C_i, Y), detached (for logging)
  torch::Tensor best;       // [N] int64, argmin_i (the candidate the min term trains)
};

// candidates R'G'B' [N,d,3,H,W], target R'G'B' [N,3,H,W], both in [0, 1]. The target's
// features are computed without gradient.
DiversityLossResult diversity_loss(PerceptualNet& phi, const torch::Tensor& candidates,
                                   const torch::Tensor& target);

}  // namespace vidcolor
