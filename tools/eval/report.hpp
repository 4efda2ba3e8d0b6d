// vidcolor-eval's results: per clip and overall, as one JSON object or a text table.
#pragma once

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

#include "vidcolor/eval/clip_metrics.hpp"

namespace vceval {

// The variants every clip is scored for, in this order. "" is f + g (the full model: its
// keys carry no suffix), then the ablations.
struct Variant {
  const char* key_suffix;  // "" -> "psnr", "_f_only" -> "psnr_f_only", ...
  const char* label;       // for the text table
};
inline const std::vector<Variant>& variants() {
  static const std::vector<Variant> v{{"", "f+g"}, {"_f_only", "f only"}, {"_gray", "gray input"}};
  return v;
}

struct ClipResult {
  std::string name, path;
  int frames = 0, width = 0, height = 0;
  double seconds = 0.0;                 // time spent colorizing (f, flow, g), not reading/scoring
  std::vector<vidcolor::ClipScores> scores;  // one per variants()
  vidcolor::ClipScores ground_truth;
};

// {"overall": {...}, "clips": [...]}: per clip and overall (mean over clips of each metric,
// skipping clips where it is undefined, e.g. CDC of a single image; fps = all frames / all
// colorizing time). Keys "psnr", "ssim", "cdc", "warp_error", "colorfulness" (f + g) and the
// same with "_f_only", "_gray" and (temporal ones and colorfulness) "_gt"; plus "fps",
// "frames". Undefined values are null.
nlohmann::json to_json(const std::vector<ClipResult>& clips, const nlohmann::json& run_info);

// Human-readable table of the same numbers.
void print_table(std::ostream& os, const nlohmann::json& report);

}  // namespace vceval
