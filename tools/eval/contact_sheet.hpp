// One picture per evaluation run: a row per clip (its middle frame as gray | f+g | ground
// truth, or gray | f+g for film), each under a caption with the clip's headline numbers. The
// model card shows these sheets, so a reader sees the colour and the numbers side by side.
#pragma once

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include <string>
#include <vector>

namespace vceval {

struct SheetRow {
  std::string caption;
  std::vector<cv::Mat> panels;  // 8-bit BGR, one size per row
};

// The headline numbers of one clip (or the "overall" object) of vidcolor-eval's JSON report:
// PSNR and class-rebalanced AuC against the gray input's, chroma spread ratio and colorfulness
// ratio; for film (no truth) chroma spread, colorfulness, tint and CDC.
std::string sheet_caption(const std::string& name, const nlohmann::json& scores, bool film);

// Writes the rows, scaled to `panel_height` pixels, under a title line and the column names.
// JPEG or PNG by the file's extension. Throws vidcolor::Error if nothing can be written.
void write_contact_sheet(const std::string& path, const std::string& title,
                         const std::vector<std::string>& columns, const std::vector<SheetRow>& rows,
                         int panel_height = 160);

}  // namespace vceval
