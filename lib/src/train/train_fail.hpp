// Internal: the one way the trainer's parts report an error, so that every message reads
// "vidcolor-train: ..." whichever file throws it.
#pragma once

#include <string>

#include "vidcolor/core/error.hpp"

namespace vidcolor::train_detail {

[[noreturn]] inline void fail(const std::string& what) { throw Error("vidcolor-train: " + what); }

}  // namespace vidcolor::train_detail
