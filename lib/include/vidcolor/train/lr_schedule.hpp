// The learning rate over a stage: constant, or a cosine from the base rate down towards 0.
//
// Why: a fine-tune from a shipped file at a constant rate drifts (models/MODEL_CARD.md, "A finer
// view for the backbone": better at steps 3,000 to 4,000, gone by 4,500); a rate that decays over
// the stage settles the weights at its end instead of wandering around a minimum, the usual
// schedule of a fine-tune (Loshchilov & Hutter, "SGDR", ICLR 2017, without restarts).
// Measured at this project's CPU budget (docs/TRAINING.md, run log cos33, bisc-37): within noise
// of the constant rate at equal steps, so it is an option, not the default.
#pragma once

#include <cstdint>
#include <string>

namespace vidcolor {

enum class LrSchedule { Constant, Cosine };

// "constant" or "cosine"; throws vidcolor::Error for anything else.
LrSchedule lr_schedule_from_name(const std::string& name);
const char* lr_schedule_name(LrSchedule s);

// The factor on the base rate for the step with 0-based index stage_step of a stage of
// stage_steps steps: 1 for Constant; for Cosine 0.5 (1 + cos(pi * stage_step / stage_steps)),
// 1 at the first step, 0.5 halfway, falling towards 0 at the last. Throws vidcolor::Error unless
// 0 <= stage_step < stage_steps.
double lr_factor(LrSchedule s, int64_t stage_step, int64_t stage_steps);

}  // namespace vidcolor
