// Aggregation and formatting of vidcolor-eval results.
#include "report.hpp"

#include <cmath>
#include <cstdio>
#include <map>

namespace vceval {

namespace {

nlohmann::json number_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

void put_scores(nlohmann::json& j, const std::string& suffix, const vidcolor::ClipScores& s,
                bool with_fidelity) {
  if (with_fidelity) {
    j["psnr" + suffix] = number_or_null(s.psnr);
    j["ssim" + suffix] = number_or_null(s.ssim);
  }
  j["cdc" + suffix] = number_or_null(s.cdc);
  j["warp_error" + suffix] = number_or_null(s.warp_error);
  j["colorfulness" + suffix] = number_or_null(s.colorfulness);
}

nlohmann::json clip_json(const ClipResult& c) {
  nlohmann::json j;
  j["name"] = c.name;
  j["path"] = c.path;
  j["frames"] = c.frames;
  j["width"] = c.width;
  j["height"] = c.height;
  j["fps"] = number_or_null(c.seconds > 0 ? c.frames / c.seconds : NAN);
  for (size_t i = 0; i < variants().size() && i < c.scores.size(); ++i)
    put_scores(j, variants()[i].key_suffix, c.scores[i], true);
  put_scores(j, "_gt", c.ground_truth, false);
  return j;
}

}  // namespace

nlohmann::json to_json(const std::vector<ClipResult>& clips, const nlohmann::json& run_info) {
  nlohmann::json out;
  out["clips"] = nlohmann::json::array();
  // Sum and count of every numeric metric key over the clips where it is defined.
  std::map<std::string, std::pair<double, int>> sums;
  int frames = 0;
  double seconds = 0.0;
  for (const auto& c : clips) {
    nlohmann::json j = clip_json(c);
    for (const auto& [k, v] : j.items()) {
      if (k == "frames" || k == "width" || k == "height" || k == "fps" || !v.is_number()) continue;
      auto& s = sums[k];
      s.first += v.get<double>();
      s.second += 1;
    }
    // Keys that are null in every clip still belong in "overall" (as null).
    for (const auto& [k, v] : j.items())
      if (v.is_null() && k != "fps") sums.emplace(k, std::make_pair(0.0, 0));
    frames += c.frames;
    seconds += c.seconds;
    out["clips"].push_back(std::move(j));
  }
  nlohmann::json overall = nlohmann::json::object();
  for (const auto& [k, s] : sums)
    overall[k] = s.second > 0 ? nlohmann::json(s.first / s.second) : nlohmann::json(nullptr);
  overall["fps"] = number_or_null(seconds > 0 ? frames / seconds : NAN);
  overall["frames"] = frames;
  overall["clips"] = static_cast<int>(clips.size());
  out["overall"] = std::move(overall);
  out["run"] = run_info;
  return out;
}

void print_table(std::ostream& os, const nlohmann::json& report) {
  auto num = [](const nlohmann::json& j, const std::string& k, const char* fmt) {
    char buf[32];
    if (!j.contains(k) || !j[k].is_number()) return std::string("-");
    std::snprintf(buf, sizeof buf, fmt, j[k].get<double>());
    return std::string(buf);
  };
  auto block = [&](const std::string& title, const nlohmann::json& j) {
    os << title;
    if (j.contains("frames")) os << "  (" << j["frames"].get<int>() << " frames";
    if (j.contains("width")) os << ", " << j["width"].get<int>() << "x" << j["height"].get<int>();
    os << ", " << num(j, "fps", "%.2f") << " fps)\n";
    char line[200];
    std::snprintf(line, sizeof line, "  %-12s %9s %7s %9s %11s %12s\n", "", "PSNR dB", "SSIM",
                  "CDC", "warp err", "colorfulness");
    os << line;
    for (const auto& v : variants()) {
      const std::string s = v.key_suffix;
      std::snprintf(line, sizeof line, "  %-12s %9s %7s %9s %11s %12s\n", v.label,
                    num(j, "psnr" + s, "%.2f").c_str(), num(j, "ssim" + s, "%.4f").c_str(),
                    num(j, "cdc" + s, "%.5f").c_str(), num(j, "warp_error" + s, "%.6f").c_str(),
                    num(j, "colorfulness" + s, "%.2f").c_str());
      os << line;
    }
    std::snprintf(line, sizeof line, "  %-12s %9s %7s %9s %11s %12s\n", "ground truth", "", "",
                  num(j, "cdc_gt", "%.5f").c_str(), num(j, "warp_error_gt", "%.6f").c_str(),
                  num(j, "colorfulness_gt", "%.2f").c_str());
    os << line;
  };
  for (const auto& c : report["clips"]) block(c["name"].get<std::string>(), c);
  block("OVERALL (mean over " + std::to_string(report["overall"]["clips"].get<int>()) + " clips)",
        report["overall"]);
}

}  // namespace vceval
