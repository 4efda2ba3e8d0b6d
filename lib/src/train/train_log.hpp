// Internal: the run's history of loss terms, kept in memory (the loss curves, the final
// means) and in out/train-log.csv, one row per step:
//   step,stage,crop,loss,bilateral,diversity,temporal,refine,refine_consistency,classes,lr,seconds
// (empty cells = terms not part of the step). And the progress report built from it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "train/train_state.hpp"
#include "vidcolor/train/train_plots.hpp"
#include "vidcolor/train/trainer.hpp"

namespace vidcolor::train_detail {

struct HistoryRow {
  int64_t step;
  std::string stage;
  int64_t crop;
  std::vector<double> values;  // StepLosses::names() order
  double lr, seconds;
};

class TrainLog {
 public:
  // Starts the CSV at `csv` (rank 0 only: the others keep no log). Resuming, the rows of the
  // old file up to `step` (the checkpoint's) are kept and the later ones dropped: they will
  // be redone. Throws vidcolor::Error when the file cannot be written.
  void open(const std::filesystem::path& csv, bool resume, int64_t step);
  void append(const HistoryRow& r);

  // Means of each term over the last n rows (NaN for a term none of them has).
  StepLosses recent_means(size_t n) const;

  // The rows as loss_curves_image draws them: one series per term, and where each stage
  // begins.
  std::vector<LossSeries> series() const;
  void stage_starts(std::vector<double>* steps, std::vector<std::string>* names) const;

 private:
  std::filesystem::path csv_;
  std::vector<HistoryRow> rows_;
};

// The progress report after a step: `invocation_s` seconds and `invocation_steps` steps in
// this invocation give the rate, which with the stages' budgets (and the invocation's
// max_minutes, 0 = none) gives the ETA.
TrainProgress progress_report(const TrainState& state, const std::vector<StageSpec>& stages,
                              const std::string& stage, int64_t crop, const StepLosses& losses,
                              double seconds_now, double invocation_s, int64_t invocation_steps,
                              double max_minutes);

}  // namespace vidcolor::train_detail
