// Tone augmentation of f's input luma: each sample's gray input is passed through its own
// gamma curve, so f learns colours that do not hang on one tone curve.
//
// Why: old film is graded and printed with other curves than the photos f learns from, and f's
// colour for a light-gray suit flips between red and navy with the input's gamma alone
// (models/MODEL_CARD.md, "Film tone"). Only f's input changes: the losses keep the true luma,
// so a candidate is still judged as the colour of the picture as it was shot.
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

}  // namespace vidcolor
