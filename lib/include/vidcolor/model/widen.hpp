// Function-preserving widening of f (Net2Net's "wider" transform, Chen, Goodfellow & Shlens,
// ICLR 2016, in its zero-init form): a trained f's U-Net gets more channels per level and starts
// out computing exactly what it computed before. The new units get a random (seeded) input side
// and a zero output side, so training gives them gradient from the first step on while the
// trained units keep their function. Used to test whether f is limited by its width without
// paying again for the training it already had.
#pragma once

#include <cstdint>
#include <vector>

#include "vidcolor/model/networks.hpp"

namespace vidcolor {

// A copy of `narrow` whose f has `channels` per U-Net level (as ModelConfig::colorizer_channels:
// as many levels, none narrower). Everything else (the backbone, the heads' outputs, the class
// prior, g, the config's operating point and the provenance) is copied unchanged. Throws
// vidcolor::Error naming the offending level.
Model widen_colorizer(const Model& narrow, const std::vector<int>& channels, uint64_t seed);

}  // namespace vidcolor
