#include "vidcolor/train/losses.hpp"

#include <cmath>
#include <sstream>

#include "vidcolor/core/error.hpp"
#include "vidcolor/model/ab_bins.hpp"
#include "core/shape_string.hpp"
#include "vidcolor/ops/warp.hpp"

namespace vidcolor {

namespace {

[[noreturn]] void fail(const std::string& what) { throw Error("losses: " + what); }

// [N,d,C,H,W] -> [N,d*C,H,W]; [N,C,H,W] unchanged. Candidates share one graph / one flow,
// so folding them into channels lets one gather / one warp serve all of them.
torch::Tensor fold_candidates(const torch::Tensor& t, const char* name) {
  if (t.dim() == 5) return t.flatten(1, 2);
  if (t.dim() != 4)
    fail(std::string(name) + " must be [N,C,H,W] or [N,d,C,H,W], got " + shape_str(t));
  return t;
}

}  // namespace

torch::Tensor bilateral_loss(const torch::Tensor& pred_in, const torch::Tensor& knn) {
  const torch::Tensor pred = fold_candidates(pred_in, "bilateral_loss: pred");
  const int64_t n = pred.size(0), c = pred.size(1), hw = pred.size(2) * pred.size(3);
  if (knn.dim() != 3 || knn.size(0) != n || knn.size(1) != hw)
    fail("bilateral_loss: knn must be [N,H*W,K] = [" + std::to_string(n) + "," +
         std::to_string(hw) + ",K], got " + shape_str(knn));
  if (knn.scalar_type() != torch::kInt64 && knn.scalar_type() != torch::kInt32)
    fail("bilateral_loss: knn must be int32 or int64");
  const int64_t k = knn.size(2);
  const torch::Tensor flat = pred.reshape({n, c, hw});
  // Neighbour values by one gather over the flattened pixels: [N,C,H*W*K].
  const torch::Tensor idx =
      knn.to(pred.device(), torch::kInt64).reshape({n, 1, hw * k}).expand({n, c, hw * k});
  const torch::Tensor neigh = flat.gather(2, idx).view({n, c, hw, k});
  return (flat.unsqueeze(3) - neigh).abs().mean();
}

torch::Tensor temporal_loss(const torch::Tensor& pred_t_in, const torch::Tensor& pred_t1_in,
                            const torch::Tensor& flow_t_to_t1, const torch::Tensor& mask) {
  const torch::Tensor pt = fold_candidates(pred_t_in, "temporal_loss: pred_t");
  const torch::Tensor pt1 = fold_candidates(pred_t1_in, "temporal_loss: pred_t1");
  if (!pt.sizes().equals(pt1.sizes()))
    fail("temporal_loss: pred_t " + shape_str(pred_t_in) + " and pred_t1 " + shape_str(pred_t1_in) +
         " differ");
  const int64_t n = pt.size(0), c = pt.size(1), h = pt.size(2), w = pt.size(3);
  if (mask.dim() != 4 || mask.size(0) != n || mask.size(1) != 1 || mask.size(2) != h ||
      mask.size(3) != w)
    fail("temporal_loss: mask must be [N,1,H,W] matching the prediction, got " + shape_str(mask));
  // warp() checks the flow's shape against the image.
  // The flow and the mask are ground-truth data: no gradient goes into them.
  const torch::Tensor warped = warp(pt1, flow_t_to_t1.detach().to(pt.scalar_type()));
  const torch::Tensor m = mask.to(pt.scalar_type()).detach();
  const torch::Tensor masked = ((pt - warped).abs() * m).sum();
  // Normalised by the valid pixels (at least one, so an all-occluded pair gives 0, not NaN).
  return masked / (m.sum().clamp_min(1.0) * static_cast<double>(c));
}

torch::Tensor refinement_loss(const torch::Tensor& refined, const torch::Tensor& target) {
  if (!refined.sizes().equals(target.sizes()))
    fail("refinement_loss: refined " + shape_str(refined) + " and target " + shape_str(target) +
         " differ");
  return (refined - target.detach()).abs().mean();
}

torch::Tensor refinement_consistency_loss(const torch::Tensor& refined, const torch::Tensor& c_s,
                                          const torch::Tensor& c_t_warped,
                                          const torch::Tensor& conf) {
  if (refined.dim() != 4 || !refined.sizes().equals(c_s.sizes()) ||
      !refined.sizes().equals(c_t_warped.sizes()))
    fail("refinement_consistency_loss: refined, c_s, c_t_warped must be one [N,C,H,W] shape");
  if (conf.dim() != 4 || conf.size(0) != refined.size(0) || conf.size(1) != 1 ||
      conf.size(2) != refined.size(2) || conf.size(3) != refined.size(3))
    fail("refinement_consistency_loss: conf must be [N,1,H,W], got " + shape_str(conf));
  // The anchors are targets here: g learns to follow them, f is not pulled towards g.
  const torch::Tensor w = conf.detach();
  return (w * (refined - c_t_warped.detach()).abs()).mean() +
         ((1.0 - w) * (refined - c_s.detach()).abs()).mean();
}

// ---- perceptual ------------------------------------------------------------------------------

torch::Tensor perceptual_distance(const std::vector<torch::Tensor>& fx,
                                  const std::vector<torch::Tensor>& fy,
                                  const std::vector<double>& weights) {
  if (fx.size() != fy.size() || fx.size() != weights.size() || fx.empty())
    fail("perceptual_distance: " + std::to_string(fx.size()) + " and " + std::to_string(fy.size()) +
         " feature levels for " + std::to_string(weights.size()) + " weights");
  torch::Tensor total;
  for (size_t l = 0; l < fx.size(); ++l) {
    if (!fx[l].sizes().equals(fy[l].sizes()))
      fail("perceptual_distance: level " + std::to_string(l) + " shapes " + shape_str(fx[l]) +
           " and " + shape_str(fy[l]) + " differ");
    const torch::Tensor d = (fx[l] - fy[l]).abs().flatten(1).mean(1) * weights[l];
    total = l == 0 ? d : total + d;
  }
  return total;
}

torch::Tensor perceptual_distance(PerceptualNet& phi, const torch::Tensor& x,
                                  const torch::Tensor& y) {
  return perceptual_distance(phi.features(x), phi.features(y), phi.layer_weights());
}

std::vector<double> diversity_betas(int64_t d) {
  if (d < 1) fail("diversity_betas: d must be >= 1, got " + std::to_string(d));
  std::vector<double> b;
  for (int64_t i = 1; i <= d; ++i) b.push_back(0.01 * std::ldexp(1.0, static_cast<int>(d - i)));
  return b;
}

DiversityLossResult diversity_loss(PerceptualNet& phi, const torch::Tensor& candidates,
                                   const torch::Tensor& target) {
  if (candidates.dim() != 5 || candidates.size(2) != 3)
    fail("diversity_loss: candidates must be [N,d,3,H,W], got " + shape_str(candidates));
  const int64_t n = candidates.size(0), d = candidates.size(1);
  const int64_t h = candidates.size(3), w = candidates.size(4);
  if (target.dim() != 4 || target.size(0) != n || target.size(1) != 3 || target.size(2) != h ||
      target.size(3) != w)
    fail("diversity_loss: target must be [N,3,H,W] matching " + shape_str(candidates) + ", got " +
         shape_str(target));
  std::vector<torch::Tensor> fy;
  {
    torch::NoGradGuard no_grad;
    fy = phi.features(target);
  }
  // The target's features once, broadcast over the d candidates of each sample.
  for (auto& f : fy) {
    // Detached too: a φ that passes its input through (level 0) would otherwise hand back the
    // target itself, still attached to its graph.
    f = f.detach();
    std::vector<int64_t> shape{n, d};
    for (int64_t i = 1; i < f.dim(); ++i) shape.push_back(f.size(i));
    f = f.unsqueeze(1).expand(shape).flatten(0, 1);
  }
  const auto fx = phi.features(candidates.reshape({n * d, 3, h, w}));
  const torch::Tensor dist = perceptual_distance(fx, fy, phi.layer_weights()).view({n, d});
  const auto betas = diversity_betas(d);
  const torch::Tensor beta =
      torch::tensor(std::vector<float>(betas.begin(), betas.end()), dist.options());
  auto [best_val, best_idx] = dist.min(1);
  const torch::Tensor loss = (best_val + (dist * beta).sum(1)).mean();
  return {loss, dist.detach(), best_idx};
}

torch::Tensor truth_ab_at(const torch::Tensor& rgb_truth, int64_t h, int64_t w) {
  if (rgb_truth.dim() != 4 || rgb_truth.size(1) != 3)
    throw Error("chroma classes: truth must be R'G'B' [N,3,H,W], got " + shape_str(rgb_truth));
  const torch::Tensor ab = rgb_to_lab(rgb_truth.detach()).narrow(1, 1, 2);
  if (ab.size(2) == h && ab.size(3) == w) return ab;
  return torch::adaptive_avg_pool2d(ab, {h, w});
}

torch::Tensor chroma_class_loss(const torch::Tensor& logits, const torch::Tensor& rgb_truth,
                                const torch::Tensor& class_weights) {
  if (logits.dim() != 4 || logits.size(1) != kAbBinCount || rgb_truth.dim() != 4 ||
      logits.size(0) != rgb_truth.size(0))
    throw Error("chroma classes: logits [N,313,h,w] and truth [N,3,H,W] needed, got " +
                shape_str(logits) + " and " + shape_str(rgb_truth));
  const torch::Tensor ab = truth_ab_at(rgb_truth, logits.size(2), logits.size(3));
  const AbSoftCode target = ab_soft_encode_sparse(ab);
  const torch::Tensor ce = -(target.weights.to(logits.scalar_type()) *
                             torch::log_softmax(logits, 1).gather(1, target.bins))
                                .sum(1);  // [N,h,w]
  if (!class_weights.defined()) return ce.mean();
  const torch::Tensor w =
      class_weights.to(logits.device(), logits.scalar_type()).index({ab_nearest_bin(ab)});
  return (w * ce).mean();
}

}  // namespace vidcolor
