// The weight average of several models of one architecture (a "model soup", Wortsman et al.,
// ICML 2022; stochastic weight averaging, Izmailov et al., UAI 2018, when the models are
// checkpoints of one run). Runs fine-tuned from the same start stay in one basin, so their
// average is a model of its own, usually at least as good as each; here it also removes the part
// of a checkpoint's validation score that is the luck of its seed (docs/TRAINING.md, "How large
// a difference the validation clips resolve").
#pragma once

#include <vector>

#include "vidcolor/model/networks.hpp"

namespace vidcolor {

// A model whose every floating-point parameter and buffer (f and g; BatchNorm statistics and
// f's class prior included) is the element-wise mean of the `models`' tensors of that name;
// integer buffers (BatchNorm's batch counters) are the first model's. The config (architecture
// and operating point) is the first model's, and every model must have the same config; the
// provenance is left empty for the caller. Throws vidcolor::Error for fewer than two models,
// configs that differ (naming both), or a tensor whose name or shape differs.
Model average_models(const std::vector<Model>& models);

}  // namespace vidcolor
