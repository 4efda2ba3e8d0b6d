#include "contact_sheet.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdio>

#include "vidcolor/core/error.hpp"

namespace vceval {
namespace {

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr double kFontScale = 0.42;
constexpr int kLine = 20;  // caption line height in pixels
const cv::Scalar kBackground(30, 30, 30), kText(235, 235, 235);

// "%.2f" of a JSON number, "-" for null or missing (a metric undefined for this clip).
std::string fmt(const nlohmann::json& j, const char* key, const char* format) {
  if (!j.contains(key) || !j[key].is_number()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, format, j[key].get<double>());
  return buf;
}

void put_line(cv::Mat& canvas, const std::string& text, int x, int baseline_y) {
  cv::putText(canvas, text, {x, baseline_y}, kFont, kFontScale, kText, 1, cv::LINE_AA);
}

}  // namespace

std::string sheet_caption(const std::string& name, const nlohmann::json& s, bool film) {
  if (film)
    return name + "   chroma spread " + fmt(s, "chroma_spread", "%.1f") + "   colorfulness " +
           fmt(s, "colorfulness", "%.1f") + "   tint " + fmt(s, "tint", "%.1f") + "   CDC " +
           fmt(s, "cdc", "%.5f") + " (f alone " + fmt(s, "cdc_f_only", "%.5f") + ")";
  return name + "   PSNR " + fmt(s, "psnr", "%.2f") + " dB (gray " + fmt(s, "psnr_gray", "%.2f") +
         ")   AuC rebal. " + fmt(s, "auc_rebalanced", "%.3f") + " (gray " +
         fmt(s, "auc_rebalanced_gray", "%.3f") + ")   spread ratio " +
         fmt(s, "chroma_spread_ratio", "%.2f") + "   colorfulness ratio " +
         fmt(s, "colorfulness_ratio", "%.2f");
}

void write_contact_sheet(const std::string& path, const std::string& title,
                         const std::vector<std::string>& columns, const std::vector<SheetRow>& rows,
                         int panel_height) {
  if (rows.empty()) throw vidcolor::Error("contact sheet " + path + ": no clips");
  // Each row's panels scaled to the common height; the sheet as wide as its widest row.
  std::vector<cv::Mat> scaled;
  std::vector<int> column_x;  // where the first row's panels start: the column names go there
  int width = 0;
  for (const auto& r : rows) {
    std::vector<cv::Mat> panels;
    int x = 0;
    for (const auto& p : r.panels) {
      cv::Mat s;
      const int w =
          std::max(1, static_cast<int>(std::lround(p.cols * double(panel_height) / p.rows)));
      cv::resize(p, s, {w, panel_height}, 0, 0, cv::INTER_AREA);
      panels.push_back(s);
      if (scaled.empty()) column_x.push_back(x);
      x += w;
    }
    cv::Mat row;
    cv::hconcat(panels, row);
    width = std::max(width, row.cols);
    scaled.push_back(row);
  }
  // Wide enough for every caption too: the numbers are the point of the sheet.
  auto text_width = [](const std::string& t) {
    int baseline = 0;
    return cv::getTextSize(t, kFont, kFontScale, 1, &baseline).width + 8;
  };
  width = std::max(width, text_width(title));
  for (const auto& r : rows) width = std::max(width, text_width(r.caption));
  const int height = 2 * kLine + static_cast<int>(rows.size()) * (kLine + panel_height);
  cv::Mat canvas(height, width, CV_8UC3, kBackground);
  put_line(canvas, title, 4, kLine - 6);
  // Column names over the first row's panels (every row has the same columns).
  for (size_t c = 0; c < columns.size() && c < column_x.size(); ++c)
    put_line(canvas, columns[c], column_x[c] + 4, 2 * kLine - 6);
  int y = 2 * kLine;
  for (size_t i = 0; i < rows.size(); ++i) {
    put_line(canvas, rows[i].caption, 4, y + kLine - 6);
    y += kLine;
    scaled[i].copyTo(canvas(cv::Rect(0, y, scaled[i].cols, panel_height)));
    y += panel_height;
  }
  bool ok = false;
  try {
    ok = cv::imwrite(path, canvas, {cv::IMWRITE_JPEG_QUALITY, 88});
  } catch (const cv::Exception& e) {
    throw vidcolor::Error("contact sheet " + path + ": " + e.what());
  }
  if (!ok) throw vidcolor::Error("contact sheet " + path + ": cannot write the file");
}

}  // namespace vceval
