// Chroma as classes (Zhang, Isola & Efros, "Colorful Image Colorization", ECCV 2016): the ab
// plane of CIE Lab cut into the 313 in-gamut bins of side 10, soft-encoded targets, class
// rebalancing from an empirical prior, and the annealed-mean decoding of a distribution over
// bins. f predicts such a distribution (networks.hpp); the trainer's classification term and the
// evaluation's class-rebalanced AuC use the same bins and weights.
#pragma once

#include <utility>

#include <torch/types.h>

namespace vidcolor {

constexpr int64_t kAbBinCount = 313;
constexpr double kAbBinSide = 10.0;

// The 313 bin centres, [313,2] float32 (a, b), in Zhang's order (a ascending, then b).
torch::Tensor ab_bin_centres();

// Nearest bin of each pixel: ab [N,2,H,W] (Lab units) -> [N,H,W] int64 in [0,313). Exact for ab
// inside the gamut hull; outside it, the bin nearest to the grid point nearest the pixel.
torch::Tensor ab_nearest_bin(const torch::Tensor& ab);

// Soft encoding of ab [N,2,H,W]: Gaussian weights (sigma in Lab units) on the k nearest bin
// centres, normalised to sum 1 -> [N,313,H,W] (float32).
torch::Tensor ab_soft_encode(const torch::Tensor& ab, int64_t k = 5, double sigma = 5.0);

// The k nearest bin centres of ab points [P,2] (float32): squared distances and bin indices,
// both [P,k], nearest first; exact (the bins are searched near each point, then all of them
// where that could miss one).
std::pair<torch::Tensor, torch::Tensor> ab_nearest_bins(const torch::Tensor& points, int64_t k);

// The same encoding kept sparse: for each pixel its k nearest bins and their weights, both
// [N,k,H,W] (int64 and float32). A loss reads the k log-probabilities with gather instead of
// multiplying a dense [N,313,H,W] target, which on a CPU cost more than the rest of the class
// loss together.
struct AbSoftCode {
  torch::Tensor bins, weights;
};
AbSoftCode ab_soft_encode_sparse(const torch::Tensor& ab, int64_t k = 5, double sigma = 5.0);

// Pixel counts per bin of ab [N,2,H,W] (nearest bin) -> [313] float64.
torch::Tensor ab_bin_histogram(const torch::Tensor& ab);

// Class-rebalancing weights from a prior (counts or probabilities, [313]): w ∝ 1 / ((1 - mix) p +
// mix / 313), scaled so that the prior's expectation of w is 1. Zhang trains with mix = 0.5 on a
// prior smoothed by a Gaussian of sigma 5 (pass smooth_sigma = 5); the evaluation's rebalanced
// AuC uses the evaluated truth's own prior, unsmoothed (smooth_sigma = 0).
torch::Tensor ab_rebalance_weights(const torch::Tensor& prior, double mix = 0.5,
                                   double smooth_sigma = 0.0);

// Annealed mean (Zhang eq. 5): softmax(logits / T) over the 313 bins, then the mean of the bin
// centres. logits [N,313,H,W] -> ab [N,2,H,W]. T = 1 is the mean, T -> 0 the mode; 0.38 is
// Zhang's choice between the two (vivid yet spatially consistent).
torch::Tensor ab_annealed_mean(const torch::Tensor& logits, double temperature = 0.38);

// The annealed distribution's mean near its mode. The annealed mean of a pixel that could be
// navy or maroon is purple, and of one that could be blue or orange a gray: a colour of neither.
// This finds the mode of the distribution's kernel density (a Gaussian of sigma `radius`, in Lab
// units), then takes the mean of the distribution weighted by that Gaussian around the mode. A
// radius much larger than the gamut gives the annealed mean; a radius below the bin side, the
// most probable bin. logits [N,313,H,W] -> ab [N,2,H,W].
torch::Tensor ab_mode_mean(const torch::Tensor& logits, double temperature, double radius);

}  // namespace vidcolor
