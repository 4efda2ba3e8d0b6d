#include "vidcolor/train/train_plots.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "vidcolor/core/error.hpp"

namespace vidcolor {

namespace {

// 5x8 glyphs, one byte per column (bit 0 = top row; row 7 holds the descenders of g, j, p,
// q, y), the classic public-domain LCD font.
struct Glyph {
  char c;
  uint8_t col[5];
};
constexpr Glyph kFont[] = {
    {' ', {0x00, 0x00, 0x00, 0x00, 0x00}}, {'0', {0x3E, 0x51, 0x49, 0x45, 0x3E}},
    {'1', {0x00, 0x42, 0x7F, 0x40, 0x00}}, {'2', {0x42, 0x61, 0x51, 0x49, 0x46}},
    {'3', {0x21, 0x41, 0x45, 0x4B, 0x31}}, {'4', {0x18, 0x14, 0x12, 0x7F, 0x10}},
    {'5', {0x27, 0x45, 0x45, 0x45, 0x39}}, {'6', {0x3C, 0x4A, 0x49, 0x49, 0x30}},
    {'7', {0x01, 0x71, 0x09, 0x05, 0x03}}, {'8', {0x36, 0x49, 0x49, 0x49, 0x36}},
    {'9', {0x06, 0x49, 0x49, 0x29, 0x1E}}, {'a', {0x20, 0x54, 0x54, 0x54, 0x78}},
    {'b', {0x7F, 0x48, 0x44, 0x44, 0x38}}, {'c', {0x38, 0x44, 0x44, 0x44, 0x20}},
    {'d', {0x38, 0x44, 0x44, 0x48, 0x7F}}, {'e', {0x38, 0x54, 0x54, 0x54, 0x18}},
    {'f', {0x08, 0x7E, 0x09, 0x01, 0x02}}, {'g', {0x18, 0xA4, 0xA4, 0xA4, 0x7C}},
    {'h', {0x7F, 0x08, 0x04, 0x04, 0x78}}, {'i', {0x00, 0x44, 0x7D, 0x40, 0x00}},
    {'j', {0x40, 0x80, 0x84, 0x7D, 0x00}}, {'k', {0x7F, 0x10, 0x28, 0x44, 0x00}},
    {'l', {0x00, 0x41, 0x7F, 0x40, 0x00}}, {'m', {0x7C, 0x04, 0x18, 0x04, 0x78}},
    {'n', {0x7C, 0x08, 0x04, 0x04, 0x78}}, {'o', {0x38, 0x44, 0x44, 0x44, 0x38}},
    {'p', {0xFC, 0x24, 0x24, 0x24, 0x18}}, {'q', {0x18, 0x24, 0x24, 0x18, 0xFC}},
    {'r', {0x7C, 0x08, 0x04, 0x04, 0x08}}, {'s', {0x48, 0x54, 0x54, 0x54, 0x20}},
    {'t', {0x04, 0x3F, 0x44, 0x40, 0x20}}, {'u', {0x3C, 0x40, 0x40, 0x20, 0x7C}},
    {'v', {0x1C, 0x20, 0x40, 0x20, 0x1C}}, {'w', {0x3C, 0x40, 0x30, 0x40, 0x3C}},
    {'x', {0x44, 0x28, 0x10, 0x28, 0x44}}, {'y', {0x9C, 0xA0, 0xA0, 0xA0, 0x7C}},
    {'z', {0x44, 0x64, 0x54, 0x4C, 0x44}}, {'.', {0x00, 0x60, 0x60, 0x00, 0x00}},
    {',', {0x00, 0x50, 0x30, 0x00, 0x00}}, {'-', {0x08, 0x08, 0x08, 0x08, 0x08}},
    {'+', {0x08, 0x08, 0x3E, 0x08, 0x08}}, {':', {0x00, 0x36, 0x36, 0x00, 0x00}},
    {'=', {0x14, 0x14, 0x14, 0x14, 0x14}}, {'_', {0x40, 0x40, 0x40, 0x40, 0x40}},
    {'/', {0x20, 0x10, 0x08, 0x04, 0x02}}, {'|', {0x00, 0x00, 0x7F, 0x00, 0x00}},
    {'(', {0x00, 0x1C, 0x22, 0x41, 0x00}}, {')', {0x00, 0x41, 0x22, 0x1C, 0x00}},
    {'%', {0x23, 0x13, 0x08, 0x64, 0x62}}, {'?', {0x02, 0x01, 0x51, 0x09, 0x06}},
};

const Glyph& glyph(char c) {
  if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  for (const Glyph& g : kFont)
    if (g.c == c) return g;
  return kFont[std::size(kFont) - 1];  // '?'
}

void check_canvas(const torch::Tensor& canvas) {
  if (canvas.dim() != 3 || canvas.size(2) != 3 || canvas.scalar_type() != torch::kUInt8 ||
      !canvas.is_cpu() || !canvas.is_contiguous())
    throw Error("train_plots: canvas must be a contiguous CPU uint8 [H,W,3] tensor");
}

void put(uint8_t* p, int64_t w, int64_t h, int x, int y, Rgb8 c) {
  if (x < 0 || y < 0 || x >= w || y >= h) return;
  uint8_t* q = p + (static_cast<int64_t>(y) * w + x) * 3;
  q[0] = c[0];
  q[1] = c[1];
  q[2] = c[2];
}

// Bresenham, one pixel wide.
void line(torch::Tensor& canvas, int x0, int y0, int x1, int y1, Rgb8 c) {
  uint8_t* p = canvas.data_ptr<uint8_t>();
  const int64_t w = canvas.size(1), h = canvas.size(0);
  const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
  const int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
  int err = dx + dy;
  for (;;) {
    put(p, w, h, x0, y0, c);
    if (x0 == x1 && y0 == y1) break;
    const int e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}

std::string fmt(double v) {
  char b[32];
  const double a = std::fabs(v);
  if (a != 0 && (a < 1e-3 || a >= 1e5))
    std::snprintf(b, sizeof b, "%.3e", v);
  else
    std::snprintf(b, sizeof b, "%.4f", v);
  return b;
}

// float [C,H,W] in [0,1] -> uint8 [H,W,3] (gray repeated).
torch::Tensor to_u8(const torch::Tensor& img) {
  torch::Tensor t = img.detach().to(torch::kCPU, torch::kFloat32);
  if (t.size(0) == 1) t = t.expand({3, -1, -1});
  return (t.clamp(0.0, 1.0) * 255.0).round().to(torch::kUInt8).permute({1, 2, 0}).contiguous();
}

}  // namespace

int draw_text(torch::Tensor& canvas, int x, int y, const std::string& text, Rgb8 color, int scale) {
  check_canvas(canvas);
  uint8_t* p = canvas.data_ptr<uint8_t>();
  const int64_t w = canvas.size(1), h = canvas.size(0);
  int cx = x;
  for (char ch : text) {
    const Glyph& g = glyph(ch);
    for (int col = 0; col < 5; ++col)
      for (int row = 0; row < 8; ++row)
        if (g.col[col] >> row & 1)
          for (int sy = 0; sy < scale; ++sy)
            for (int sx = 0; sx < scale; ++sx)
              put(p, w, h, cx + col * scale + sx, y + row * scale + sy, color);
    cx += 6 * scale;
  }
  return cx - x;
}

torch::Tensor sample_sheet(const std::vector<SampleRow>& rows, const std::string& title) {
  if (rows.empty()) throw Error("sample_sheet: no rows");
  const int64_t d = rows[0].candidates.size(0);
  const int64_t h = rows[0].truth.size(1), w = rows[0].truth.size(2);
  const int64_t pad = 4, head = 30;
  const int64_t cols = d + 3;
  const int64_t width = cols * (w + pad) + pad,
                height = head + static_cast<int64_t>(rows.size()) * (h + pad) + pad;
  torch::Tensor canvas = torch::full({height, width, 3}, 32, torch::kUInt8);
  const Rgb8 white{235, 235, 235};
  draw_text(canvas, static_cast<int>(pad), 4, title, white);
  std::vector<std::string> names{"gray"};
  for (int64_t i = 1; i <= d; ++i) names.push_back("f " + std::to_string(i));
  names.push_back("f+g");
  names.push_back("truth");
  for (int64_t c = 0; c < cols; ++c)
    draw_text(canvas, static_cast<int>(pad + c * (w + pad)), 17, names[c], white);
  for (size_t r = 0; r < rows.size(); ++r) {
    const SampleRow& row = rows[r];
    if (row.candidates.dim() != 4 || row.candidates.size(0) != d || row.truth.size(1) != h ||
        row.truth.size(2) != w)
      throw Error("sample_sheet: rows of different sizes");
    std::vector<torch::Tensor> cells{row.gray};
    for (int64_t i = 0; i < d; ++i) cells.push_back(row.candidates[i]);
    cells.push_back(row.refined);
    cells.push_back(row.truth);
    const int64_t y0 = head + static_cast<int64_t>(r) * (h + pad);
    for (int64_t c = 0; c < cols; ++c) {
      if (!cells[c].defined()) continue;
      const int64_t x0 = pad + c * (w + pad);
      canvas.narrow(0, y0, h).narrow(1, x0, w).copy_(to_u8(cells[c]));
    }
  }
  return canvas;
}

torch::Tensor loss_curves_image(const std::vector<LossSeries>& series,
                                const std::vector<double>& stage_starts,
                                const std::vector<std::string>& stage_names, int width,
                                int panel_height) {
  struct Panel {
    const LossSeries* s;
    std::vector<double> x, y;  // smoothed
  };
  std::vector<Panel> panels;
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin;
  for (const LossSeries& s : series) {
    Panel p{&s, {}, {}};
    std::vector<double> xs, ys;
    for (size_t i = 0; i < s.values.size() && i < s.steps.size(); ++i)
      if (std::isfinite(s.values[i])) {
        xs.push_back(s.steps[i]);
        ys.push_back(s.values[i]);
      }
    if (xs.empty()) continue;
    // Moving average (trailing window), so single noisy batches do not hide the trend.
    const size_t win = std::max<size_t>(1, xs.size() / 100);
    double acc = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      acc += ys[i];
      if (i >= win) acc -= ys[i - win];
      p.x.push_back(xs[i]);
      p.y.push_back(acc / static_cast<double>(std::min(i + 1, win)));
    }
    xmin = std::min(xmin, xs.front());
    xmax = std::max(xmax, xs.back());
    panels.push_back(std::move(p));
  }
  const int n = std::max<int>(1, static_cast<int>(panels.size()));
  torch::Tensor canvas = torch::full({n * panel_height, width, 3}, 255, torch::kUInt8);
  const Rgb8 black{20, 20, 20}, grid{200, 200, 200}, curve{200, 40, 40}, stage{90, 120, 200};
  if (panels.empty()) {
    draw_text(canvas, 8, 8, "no losses yet", black);
    return canvas;
  }
  if (xmax <= xmin) xmax = xmin + 1;
  const int left = 70, right = 10, top = 18, bottom = 16;
  const int pw = width - left - right, ph = panel_height - top - bottom;
  for (size_t k = 0; k < panels.size(); ++k) {
    const Panel& p = panels[k];
    const int y0 = static_cast<int>(k) * panel_height;
    double lo = *std::min_element(p.y.begin(), p.y.end());
    double hi = *std::max_element(p.y.begin(), p.y.end());
    if (hi - lo < 1e-12) {
      lo -= 0.5 * std::max(1e-6, std::fabs(lo));
      hi += 0.5 * std::max(1e-6, std::fabs(hi));
    }
    const auto px = [&](double x) {
      return left + static_cast<int>(std::lround((x - xmin) / (xmax - xmin) * (pw - 1)));
    };
    const auto py = [&](double v) {
      return y0 + top + static_cast<int>(std::lround((hi - v) / (hi - lo) * (ph - 1)));
    };
    // Frame, stage boundaries, curve, labels.
    line(canvas, left, y0 + top, left + pw - 1, y0 + top, grid);
    line(canvas, left, y0 + top + ph - 1, left + pw - 1, y0 + top + ph - 1, grid);
    line(canvas, left, y0 + top, left, y0 + top + ph - 1, grid);
    line(canvas, left + pw - 1, y0 + top, left + pw - 1, y0 + top + ph - 1, grid);
    for (size_t i = 0; i < stage_starts.size(); ++i) {
      const int x = px(std::clamp(stage_starts[i], xmin, xmax));
      line(canvas, x, y0 + top, x, y0 + top + ph - 1, stage);
      if (k == 0 && i < stage_names.size())
        draw_text(canvas, x + 2, y0 + top + 2, stage_names[i], stage);
    }
    for (size_t i = 1; i < p.x.size(); ++i)
      line(canvas, px(p.x[i - 1]), py(p.y[i - 1]), px(p.x[i]), py(p.y[i]), curve);
    if (p.x.size() == 1) line(canvas, px(p.x[0]), py(p.y[0]), px(p.x[0]) + 1, py(p.y[0]), curve);
    draw_text(canvas, left, y0 + 4, p.s->name + "  last " + fmt(p.y.back()), black);
    draw_text(canvas, 2, y0 + top, fmt(hi), black);
    draw_text(canvas, 2, y0 + top + ph - 8, fmt(lo), black);
    draw_text(canvas, left, y0 + top + ph + 3,
              "step " + std::to_string(static_cast<long long>(xmin)), black);
    const std::string last = "step " + std::to_string(static_cast<long long>(xmax));
    draw_text(canvas, left + pw - 6 * static_cast<int>(last.size()), y0 + top + ph + 3, last,
              black);
  }
  return canvas;
}

}  // namespace vidcolor
