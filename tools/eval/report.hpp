// vidcolor-eval's results: per clip and overall, as one JSON object or a text table.
#pragma once

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

#include "vidcolor/eval/clip_metrics.hpp"
#include "vidcolor/eval/colour_metrics.hpp"

namespace vceval {

// One colorization every clip is scored for. Its keys are the metric's name plus the suffix.
struct Variant {
  std::string key_suffix;  // "" -> "psnr", "_f_only" -> "psnr_f_only", ...
  std::string label;       // for the text table
};

// The variants, in this order: "" f + g (the full model: its keys carry no suffix),
// "_f_only" f alone (the candidate the run chose: auto or --candidate), "_gray" the gray input
// (not with film: its colour is 0 by construction), then "_candidate<i>" f alone with its
// candidate i for i < candidates (0 when the run scores no candidates).
std::vector<Variant> variants(int candidates, bool film);

struct ClipResult {
  std::string name, path;
  int frames = 0, width = 0, height = 0;
  double seconds = 0.0;  // time spent colorizing (f, flow, g), not reading/scoring
  std::vector<vidcolor::ClipScores> scores;  // one per variant
  vidcolor::ClipScores ground_truth;
  std::vector<vidcolor::ColourScores> colour;  // one per variant (empty: no colour keys)
};

struct Evaluation {
  std::vector<Variant> variants;
  bool film = false;  // clips without truth: no fidelity or truth keys
  std::vector<ClipResult> clips;
  // Per variant, the colour accumulators of all clips merged: the pooled overall numbers.
  std::vector<vidcolor::ColourScores> overall_colour;
};

// {"overall": {...}, "clips": [...], "variants": [{"key_suffix", "label"}...], "film", "run"}.
// Keys per variant (suffix appended): "psnr", "ssim" (not film), "cdc", "warp_error",
// "colorfulness", and the colour metrics of lib/include/vidcolor/eval/colour_metrics.hpp:
// "auc", "auc_rebalanced", "chroma_spread", "chroma_spread_ratio", "colorfulness_ratio",
// "tint" (film: only "chroma_spread" and "tint"). The truth's own: "cdc_gt", "warp_error_gt",
// "colorfulness_gt", "chroma_spread_gt", "tint_gt" (not film). Plus "fps", "frames".
// Overall: the colour metrics pooled over all clips' frames and pixels (AuC over all pixels with
// the prior of all truth pixels; spreads, tints and the spread ratio means over all frames),
// the colorfulness ratio the ratio of the overall colorfulness columns; every other metric the
// mean over clips where it is defined (e.g. no CDC for a single image); fps = all frames / all
// colorizing time. Undefined values are null.
nlohmann::json to_json(const Evaluation& evaluation, const nlohmann::json& run_info);

// Human-readable table of the same numbers.
void print_table(std::ostream& os, const nlohmann::json& report);

}  // namespace vceval
