// Tone augmentation of f's input luma (see the header).
#include "vidcolor/train/tone_augment.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "vidcolor/core/error.hpp"

namespace vidcolor {

std::vector<double> draw_tone_gammas(std::mt19937_64& rng, int64_t n, double max_gamma) {
  if (!(max_gamma >= 1 && max_gamma <= 4))
    throw Error("tone augmentation: the largest gamma must be in [1, 4], got " +
                std::to_string(max_gamma));
  std::vector<double> g(static_cast<size_t>(n), 1.0);
  if (max_gamma == 1) return g;
  const double span = std::log(max_gamma);
  // The draw by hand, not std::uniform_real_distribution, whose algorithm the standard leaves
  // open: a step's batch must be the same on every standard library (trainer.hpp).
  for (double& x : g) {
    const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;  // [0, 1)
    x = std::exp((2 * u - 1) * span);
  }
  return g;
}

torch::Tensor apply_tone_gammas(const torch::Tensor& y, const std::vector<double>& gammas) {
  if (y.dim() < 1 || static_cast<int64_t>(gammas.size()) != y.size(0))
    throw Error("tone augmentation: " + std::to_string(gammas.size()) + " gammas for a batch of " +
                (y.dim() < 1 ? std::string("no samples") : std::to_string(y.size(0))));
  if (std::all_of(gammas.begin(), gammas.end(), [](double g) { return g == 1.0; })) return y;
  std::vector<torch::Tensor> rows;
  rows.reserve(gammas.size());
  for (size_t b = 0; b < gammas.size(); ++b) {
    if (!(gammas[b] > 0))
      throw Error("tone augmentation: gamma " + std::to_string(gammas[b]) + " is not positive");
    const torch::Tensor s = y.narrow(0, static_cast<int64_t>(b), 1);
    rows.push_back(gammas[b] == 1.0
                       ? s
                       : (s.clamp(0.0, 1.0).pow(gammas[b]) * 255.0).round().clamp(0.0, 255.0) /
                             255.0);
  }
  return torch::cat(rows, 0);
}

}  // namespace vidcolor
