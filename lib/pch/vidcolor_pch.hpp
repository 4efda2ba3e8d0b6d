// Precompiled header of libvidcolor and the plugin: LibTorch's API header is parsed once per
// target instead of once per file (its parse is ~17 s of a ~25 s compile on the CI machine).
// An include guard, not #pragma once: GCC compiles this file as a main file, where #pragma once
// warns.
#ifndef VIDCOLOR_PCH_HPP
#define VIDCOLOR_PCH_HPP

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#endif  // VIDCOLOR_PCH_HPP
