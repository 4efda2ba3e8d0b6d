// The one exception type of libvidcolor: its message names the file (if any) and the problem.
#pragma once

#include <stdexcept>

namespace vidcolor {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace vidcolor
