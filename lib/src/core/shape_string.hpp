// Internal: a tensor's shape as text, for error messages ("[2, 3, 64, 64]").
#pragma once

#include <torch/torch.h>

#include <sstream>
#include <string>

namespace vidcolor {

inline std::string shape_str(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

}  // namespace vidcolor
