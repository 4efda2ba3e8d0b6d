// Aggregation and formatting of vidcolor-eval results.
#include "report.hpp"

#include <cmath>
#include <cstdio>
#include <map>

namespace vceval {

std::vector<Variant> variants(int candidates, bool film) {
  std::vector<Variant> v{{"", "f+g"}, {"_f_only", "f only"}};
  if (!film) v.push_back({"_gray", "gray input"});
  for (int i = 0; i < candidates; ++i)
    v.push_back({"_candidate" + std::to_string(i), "candidate " + std::to_string(i)});
  return v;
}

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

// The colour metrics of one variant (colour_metrics.hpp); without truth only spread and tint.
void put_colour(nlohmann::json& j, const std::string& suffix, const vidcolor::ColourScores& s,
                bool film) {
  if (!film) {
    j["auc" + suffix] = number_or_null(s.auc);
    j["auc_rebalanced" + suffix] = number_or_null(s.auc_rebalanced);
    j["chroma_spread_ratio" + suffix] = number_or_null(s.chroma_spread_ratio);
    j["colorfulness_ratio" + suffix] = number_or_null(s.colorfulness_ratio);
  }
  j["chroma_spread" + suffix] = number_or_null(s.chroma_spread);
  j["tint" + suffix] = number_or_null(s.tint);
}

// The truth's own colour numbers (the same in every variant's accumulator).
void put_colour_truth(nlohmann::json& j, const std::vector<vidcolor::ColourScores>& colour) {
  if (colour.empty()) return;
  j["chroma_spread_gt"] = number_or_null(colour[0].chroma_spread_gt);
  j["tint_gt"] = number_or_null(colour[0].tint_gt);
}

nlohmann::json clip_json(const ClipResult& c, const Evaluation& e) {
  nlohmann::json j;
  j["name"] = c.name;
  j["path"] = c.path;
  j["frames"] = c.frames;
  j["width"] = c.width;
  j["height"] = c.height;
  j["fps"] = number_or_null(c.seconds > 0 ? c.frames / c.seconds : NAN);
  for (size_t i = 0; i < e.variants.size() && i < c.scores.size(); ++i) {
    put_scores(j, e.variants[i].key_suffix, c.scores[i], !e.film);
    if (i < c.colour.size()) put_colour(j, e.variants[i].key_suffix, c.colour[i], e.film);
  }
  if (!e.film) {
    put_scores(j, "_gt", c.ground_truth, false);
    put_colour_truth(j, c.colour);
  }
  return j;
}

}  // namespace

nlohmann::json to_json(const Evaluation& e, const nlohmann::json& run_info) {
  nlohmann::json out;
  out["clips"] = nlohmann::json::array();
  // Sum and count of every numeric metric key over the clips where it is defined.
  std::map<std::string, std::pair<double, int>> sums;
  int frames = 0;
  double seconds = 0.0;
  for (const auto& c : e.clips) {
    nlohmann::json j = clip_json(c, e);
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
  // The colour metrics pooled over every clip's frames and pixels, not means of clip means.
  for (size_t i = 0; i < e.variants.size() && i < e.overall_colour.size(); ++i) {
    const std::string& suffix = e.variants[i].key_suffix;
    put_colour(overall, suffix, e.overall_colour[i], e.film);
    if (e.film) continue;
    // Pooled as the colorfulness columns are: the ratio of the two overall means.
    const auto& num = overall["colorfulness" + suffix];
    const auto& den = overall["colorfulness_gt"];
    overall["colorfulness_ratio" + suffix] =
        num.is_number() && den.is_number() && den.get<double>() > 0
            ? number_or_null(num.get<double>() / den.get<double>())
            : nlohmann::json(nullptr);
  }
  if (!e.film) put_colour_truth(overall, e.overall_colour);
  overall["fps"] = number_or_null(seconds > 0 ? frames / seconds : NAN);
  overall["frames"] = frames;
  overall["clips"] = static_cast<int>(e.clips.size());
  out["overall"] = std::move(overall);
  out["variants"] = nlohmann::json::array();
  for (const auto& v : e.variants)
    out["variants"].push_back({{"key_suffix", v.key_suffix}, {"label", v.label}});
  out["film"] = e.film;
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
  const bool film = report.value("film", false);
  std::vector<Variant> vs;
  for (const auto& v : report["variants"]) vs.push_back({v["key_suffix"], v["label"]});
  auto block = [&](const std::string& title, const nlohmann::json& j) {
    os << title;
    if (j.contains("frames")) os << "  (" << j["frames"].get<int>() << " frames";
    if (j.contains("width")) os << ", " << j["width"].get<int>() << "x" << j["height"].get<int>();
    os << ", " << num(j, "fps", "%.2f") << " fps)\n";
    char line[240];
    if (film) {
      // No truth: the temporal metrics and the colour that needs none, in one table.
      const char* ffmt = "  %-12s %9s %11s %12s %8s %7s\n";
      std::snprintf(line, sizeof line, ffmt, "", "CDC", "warp err", "colorfulness", "spread",
                    "tint");
      os << line;
      for (const auto& v : vs) {
        const std::string& s = v.key_suffix;
        std::snprintf(
            line, sizeof line, ffmt, v.label.c_str(), num(j, "cdc" + s, "%.5f").c_str(),
            num(j, "warp_error" + s, "%.6f").c_str(), num(j, "colorfulness" + s, "%.2f").c_str(),
            num(j, "chroma_spread" + s, "%.2f").c_str(), num(j, "tint" + s, "%.2f").c_str());
        os << line;
      }
      return;
    }
    const char* fmt = "  %-12s %9s %7s %9s %11s %12s\n";
    std::snprintf(line, sizeof line, fmt, "", "PSNR dB", "SSIM", "CDC", "warp err", "colorfulness");
    os << line;
    for (const auto& v : vs) {
      const std::string& s = v.key_suffix;
      std::snprintf(line, sizeof line, fmt, v.label.c_str(), num(j, "psnr" + s, "%.2f").c_str(),
                    num(j, "ssim" + s, "%.4f").c_str(), num(j, "cdc" + s, "%.5f").c_str(),
                    num(j, "warp_error" + s, "%.6f").c_str(),
                    num(j, "colorfulness" + s, "%.2f").c_str());
      os << line;
    }
    std::snprintf(line, sizeof line, fmt, "ground truth", "", "", num(j, "cdc_gt", "%.5f").c_str(),
                  num(j, "warp_error_gt", "%.6f").c_str(),
                  num(j, "colorfulness_gt", "%.2f").c_str());
    os << line;
    // The colour metrics (colour_metrics.hpp); a second table so each stays readable.
    const char* cfmt = "  %-12s %7s %9s %12s %12s %8s %7s\n";
    std::snprintf(line, sizeof line, cfmt, "", "AuC", "AuC rebal", "spread ratio", "colorf ratio",
                  "spread", "tint");
    os << line;
    for (const auto& v : vs) {
      const std::string& s = v.key_suffix;
      std::snprintf(line, sizeof line, cfmt, v.label.c_str(), num(j, "auc" + s, "%.4f").c_str(),
                    num(j, "auc_rebalanced" + s, "%.4f").c_str(),
                    num(j, "chroma_spread_ratio" + s, "%.3f").c_str(),
                    num(j, "colorfulness_ratio" + s, "%.3f").c_str(),
                    num(j, "chroma_spread" + s, "%.2f").c_str(),
                    num(j, "tint" + s, "%.2f").c_str());
      os << line;
    }
    std::snprintf(line, sizeof line, cfmt, "ground truth", "", "", "", "",
                  num(j, "chroma_spread_gt", "%.2f").c_str(), num(j, "tint_gt", "%.2f").c_str());
    os << line;
  };
  for (const auto& c : report["clips"]) block(c["name"].get<std::string>(), c);
  block("OVERALL (" + std::to_string(report["overall"]["clips"].get<int>()) +
            " clips: colour metrics pooled over frames, others the mean over clips)",
        report["overall"]);
}

}  // namespace vceval
