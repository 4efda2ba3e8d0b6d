#include "vidcolor/train/lr_schedule.hpp"

#include <cmath>

#include "vidcolor/core/error.hpp"

namespace vidcolor {

LrSchedule lr_schedule_from_name(const std::string& name) {
  if (name == "constant") return LrSchedule::Constant;
  if (name == "cosine") return LrSchedule::Cosine;
  throw Error("unknown learning-rate schedule '" + name + "' (constant or cosine)");
}

const char* lr_schedule_name(LrSchedule s) {
  return s == LrSchedule::Cosine ? "cosine" : "constant";
}

double lr_factor(LrSchedule s, int64_t stage_step, int64_t stage_steps) {
  if (stage_steps < 1 || stage_step < 0 || stage_step >= stage_steps)
    throw Error("lr_factor: step " + std::to_string(stage_step) + " is outside a stage of " +
                std::to_string(stage_steps) + " steps");
  if (s == LrSchedule::Constant) return 1.0;
  const double pi = std::acos(-1.0);
  return 0.5 * (1.0 + std::cos(pi * static_cast<double>(stage_step) / stage_steps));
}

}  // namespace vidcolor
