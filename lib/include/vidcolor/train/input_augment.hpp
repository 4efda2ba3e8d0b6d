// Augmentation of f's input luma, per sample: a gamma curve (tone) and Gaussian grain, so f
// learns colours that do not hang on one tone curve or on a clean picture.
//
// Why: old film is graded and printed with other curves than the photos f learns from (f's
// colour for a light-gray suit flips between red and navy with the input's gamma alone:
// models/MODEL_CARD.md, "Film tone"), and grain at f's own scale washes its colours out to sepia
// (the card's limits: chroma spread 9.4 -> 7.7 on held-out LFW photos). Only f's input changes:
// the losses keep the true luma, so a candidate is still judged as the colour of the picture as
// it was shot.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <random>
#include <vector>

namespace vidcolor {

// n gammas, log-uniform in [1 / max_gamma, max_gamma] (so darker and lighter curves are
// equally likely); all exactly 1 when max_gamma == 1, without drawing from rng. Throws
// vidcolor::Error unless 1 <= max_gamma <= 4.
std::vector<double> draw_tone_gammas(std::mt19937_64& rng, int64_t n, double max_gamma);

// y [B,...] BT.601 luma in [0, 1] -> y^gamma[b] per sample b, re-quantised to the 8-bit steps
// of vcgray's GRAY8 (what f sees at inference). A gamma of exactly 1 leaves its sample as is (all
// of them: y itself is returned). Throws vidcolor::Error when gammas.size() != B or a gamma is not
// positive.
torch::Tensor apply_tone_gammas(const torch::Tensor& y, const std::vector<double>& gammas);

// Grain of each of n samples: its standard deviation (luma units, 1 = white), uniform in
// [0, max_sigma], and the seed of its noise. All sigmas 0 when max_sigma == 0, without drawing
// from rng. Throws vidcolor::Error unless 0 <= max_sigma <= 0.25.
struct Grain {
  double sigma = 0;
  uint64_t seed = 0;
};
std::vector<Grain> draw_grains(std::mt19937_64& rng, int64_t n, double max_sigma);

// y [B,...] in [0, 1] + sigma[b] * N(0, 1) per pixel of sample b (the noise from its own seed,
// so a step's batch is recomputed exactly; the frames of a pair get independent noise, as film
// grain is), clamped to [0, 1] and re-quantised to 8-bit steps. A sigma of 0 leaves its sample
// as is (all of them: y itself is returned). Throws vidcolor::Error when grains.size() != B.
torch::Tensor apply_grains(const torch::Tensor& y, const std::vector<Grain>& grains);

}  // namespace vidcolor
