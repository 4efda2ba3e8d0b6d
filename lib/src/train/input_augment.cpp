// Augmentation of f's input luma: tone and grain (see the header).
#include "vidcolor/train/input_augment.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <string>

#include "vidcolor/core/error.hpp"

namespace vidcolor {

namespace {

// A double in [0, 1) from 53 bits of rng, by hand: std::uniform_real_distribution's algorithm is
// left open by the standard, and a step's batch must be the same on every standard library.
double unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// 8-bit steps in [0, 1], what vcgray hands f.
torch::Tensor quantise(const torch::Tensor& y) {
  return (y.clamp(0.0, 1.0) * 255.0).round() / 255.0;
}

// y with sample b replaced by change(b, y[b:b+1]) wherever keep(b) is false; y itself when
// every sample is kept. n draws (named `draws` in the error of `what`) for y's B samples.
template <class Keep, class Change>
torch::Tensor per_sample(const torch::Tensor& y, size_t n, const char* what, const char* draws,
                         Keep keep, Change change) {
  if (y.dim() < 1 || static_cast<int64_t>(n) != y.size(0))
    throw Error(std::string(what) + ": " + std::to_string(n) + " " + draws + " for a batch of " +
                (y.dim() < 1 ? std::string("no samples") : std::to_string(y.size(0))));
  bool all_kept = true;
  for (size_t b = 0; b < n && all_kept; ++b) all_kept = keep(b);
  if (all_kept) return y;
  std::vector<torch::Tensor> rows;
  rows.reserve(n);
  for (size_t b = 0; b < n; ++b) {
    const torch::Tensor s = y.narrow(0, static_cast<int64_t>(b), 1);
    rows.push_back(keep(b) ? s : change(b, s));
  }
  return torch::cat(rows, 0);
}

}  // namespace

std::vector<double> draw_tone_gammas(std::mt19937_64& rng, int64_t n, double max_gamma) {
  if (!(max_gamma >= 1 && max_gamma <= 4))
    throw Error("tone augmentation: the largest gamma must be in [1, 4], got " +
                std::to_string(max_gamma));
  std::vector<double> g(static_cast<size_t>(n), 1.0);
  if (max_gamma == 1) return g;
  const double span = std::log(max_gamma);
  for (double& x : g) x = std::exp((2 * unit(rng) - 1) * span);
  return g;
}

torch::Tensor apply_tone_gammas(const torch::Tensor& y, const std::vector<double>& gammas) {
  return per_sample(
      y, gammas.size(), "tone augmentation", "gammas", [&](size_t b) { return gammas[b] == 1.0; },
      [&](size_t b, const torch::Tensor& s) {
        if (!(gammas[b] > 0))
          throw Error("tone augmentation: gamma " + std::to_string(gammas[b]) + " is not positive");
        return quantise(s.clamp(0.0, 1.0).pow(gammas[b]));
      });
}

std::vector<Grain> draw_grains(std::mt19937_64& rng, int64_t n, double max_sigma) {
  if (!(max_sigma >= 0 && max_sigma <= 0.25))
    throw Error("grain augmentation: the largest sigma must be in [0, 0.25], got " +
                std::to_string(max_sigma));
  std::vector<Grain> g(static_cast<size_t>(n));
  if (max_sigma == 0) return g;
  for (Grain& x : g) {
    x.sigma = unit(rng) * max_sigma;
    x.seed = rng();
  }
  return g;
}

torch::Tensor apply_grains(const torch::Tensor& y, const std::vector<Grain>& grains) {
  return per_sample(
      y, grains.size(), "grain augmentation", "grains",
      [&](size_t b) { return grains[b].sigma == 0; },
      [&](size_t b, const torch::Tensor& s) {
        // The noise on the CPU from the sample's own generator, then to y's device.
        at::Generator gen = at::detail::createCPUGenerator(grains[b].seed);
        const torch::Tensor noise =
            at::normal(0.0, grains[b].sigma, s.sizes(), gen, torch::TensorOptions(torch::kFloat32));
        return quantise(s + noise.to(s.device(), s.scalar_type()));
      });
}

}  // namespace vidcolor
