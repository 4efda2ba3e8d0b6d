// Precompiled header of libvidcolor and the plugin: LibTorch's API header is parsed once per
// target instead of once per file (its parse is ~17 s of a ~25 s compile on the CI machine).
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>
