// Memory layout of a network's convolution weights.
#pragma once

#include <torch/nn/module.h>

namespace vidcolor {

// Stores every 4-D parameter of `module` (its convolution weights) channels-last (NHWC). The
// values stay the same; convolutions whose weight is channels-last run in that layout and hand
// it on to their outputs. On this CPU a training step of f with the diversity term is ~15 %
// faster so (docs/TRAINING.md, "Where an f step's time goes"), and the elements run f and g
// so on a CPU (inference_runtime.hpp); GPUs prefer it too.
void use_channels_last(torch::nn::Module& module);

}  // namespace vidcolor
