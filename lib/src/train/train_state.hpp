// Internal: where a training run stands: what a checkpoint holds besides tensors, and the
// step and time arithmetic over the stages that the loop, the progress line and the
// provenance share.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "vidcolor/train/trainer.hpp"

namespace vidcolor::train_detail {

struct TrainState {
  int64_t step = 0;                 // global steps done
  size_t stage = 0;                 // current stage
  int64_t stage_step = 0;           // steps done in it
  double stage_seconds = 0;         // time spent in it
  int64_t fine_from = -1;           // stage step where its fine phase began (-1: not yet)
  std::vector<int64_t> stage_done;  // steps done of each finished stage
  double seconds_before = 0;        // wall time of earlier invocations

  void next_stage() {
    stage_done.push_back(stage_step);
    ++stage;
    stage_step = 0;
    stage_seconds = 0;
    fine_from = -1;
  }

  // Steps of the run: finished stages count what they did (a time budget may have ended
  // them early), the others what is planned.
  int64_t total_steps(const std::vector<StageSpec>& stages) const {
    int64_t t = 0;
    for (size_t i = 0; i < stages.size(); ++i)
      t += i < stage_done.size() ? stage_done[i] : stages[i].steps;
    return t;
  }

  // Seconds left at `steps_per_s`: each remaining stage's steps at that rate, capped by what
  // is left of its time budget (a stage of 100000@45 ends after 45 minutes, not 100000 steps).
  double eta_seconds(const std::vector<StageSpec>& stages, double steps_per_s) const {
    if (!(steps_per_s > 0)) return 0;
    double eta = 0;
    for (size_t i = stage; i < stages.size(); ++i) {
      const StageSpec& st = stages[i];
      const int64_t left = std::max<int64_t>(0, st.steps - (i == stage ? stage_step : 0));
      double t = static_cast<double>(left) / steps_per_s;
      if (st.max_minutes > 0)
        t = std::min(t, std::max(0.0, st.max_minutes * 60 - (i == stage ? stage_seconds : 0.0)));
      eta += t;
    }
    return eta;
  }
};

}  // namespace vidcolor::train_detail
