#include "vidcolor/core/color.hpp"

#include <algorithm>
#include <cmath>

namespace vidcolor {

LumaWeights luma_weights(Matrix m) {
  switch (m) {
    case Matrix::BT709:
      return {0.2126, 0.7152, 0.0722};
    case Matrix::BT2020:
      return {0.2627, 0.6780, 0.0593};
    case Matrix::BT601:
    default:
      return {0.299, 0.587, 0.114};
  }
}

namespace {

constexpr int kFracBits = 16;
constexpr int32_t kOne = 1 << kFracBits;

// Integer weights that sum to exactly 1.0 so white stays white and gray stays gray.
struct FixedWeights {
  int32_t r, g, b;
};

FixedWeights fixed_weights(Matrix m, double scale) {
  const LumaWeights w = luma_weights(m);
  const int32_t one = static_cast<int32_t>(std::lround(kOne * scale));
  FixedWeights f{static_cast<int32_t>(std::lround(w.kr * kOne * scale)), 0,
                 static_cast<int32_t>(std::lround(w.kb * kOne * scale))};
  f.g = one - f.r - f.b;
  return f;
}

// Limited range (16..235 for 8 bit) expands by 255/219 around 16.
constexpr double kLimitedScale = 255.0 / 219.0;

template <typename Out, int kOutMax>
void rgb_row_to_gray(const uint8_t* src, PackedRgbLayout l, Out* dst, int width, Matrix m,
                     Range in_range) {
  const double out_scale = static_cast<double>(kOutMax) / 255.0;
  const bool limited = in_range == Range::Limited;
  const FixedWeights w = fixed_weights(m, out_scale * (limited ? kLimitedScale : 1.0));
  const int32_t offset = limited ? 16 : 0;
  for (int x = 0; x < width; ++x, src += l.pixel_stride) {
    const int64_t acc = static_cast<int64_t>(w.r) * (src[l.r] - offset) +
                        static_cast<int64_t>(w.g) * (src[l.g] - offset) +
                        static_cast<int64_t>(w.b) * (src[l.b] - offset) + (kOne / 2);
    const int64_t v = acc >> kFracBits;
    dst[x] = static_cast<Out>(std::clamp<int64_t>(v, 0, kOutMax));
  }
}

}  // namespace

void rgb_row_to_gray8(const uint8_t* src, PackedRgbLayout layout, uint8_t* dst, int width, Matrix m,
                      Range in_range) {
  rgb_row_to_gray<uint8_t, 255>(src, layout, dst, width, m, in_range);
}

void rgb_row_to_gray16(const uint8_t* src, PackedRgbLayout layout, uint16_t* dst, int width,
                       Matrix m, Range in_range) {
  rgb_row_to_gray<uint16_t, 65535>(src, layout, dst, width, m, in_range);
}

void luma8_row_to_gray8(const uint8_t* src, int src_pixel_stride, uint8_t* dst, int width,
                        Range in_range) {
  if (in_range == Range::Full) {
    for (int x = 0; x < width; ++x) dst[x] = src[x * src_pixel_stride];
    return;
  }
  // (Y - 16) * 255 / 219, rounded, clamped; a table is exact and fast.
  uint8_t lut[256];
  for (int v = 0; v < 256; ++v) {
    const long r = std::lround((v - 16) * kLimitedScale);
    lut[v] = static_cast<uint8_t>(std::clamp<long>(r, 0, 255));
  }
  for (int x = 0; x < width; ++x) dst[x] = lut[src[x * src_pixel_stride]];
}

namespace {
// 16-bit limited range: 16..235 scaled by 256 (4096..60160), per the GStreamer convention.
inline double luma16_to_full_unit(uint16_t v, Range r) {
  if (r == Range::Full) return v / 65535.0;
  return (v - 4096.0) / (60160.0 - 4096.0);
}
}  // namespace

void luma16_row_to_gray8(const uint16_t* src, uint8_t* dst, int width, Range in_range) {
  for (int x = 0; x < width; ++x) {
    const long r = std::lround(luma16_to_full_unit(src[x], in_range) * 255.0);
    dst[x] = static_cast<uint8_t>(std::clamp<long>(r, 0, 255));
  }
}

void luma16_row_to_gray16(const uint16_t* src, uint16_t* dst, int width, Range in_range) {
  if (in_range == Range::Full) {
    std::copy(src, src + width, dst);
    return;
  }
  for (int x = 0; x < width; ++x) {
    const long r = std::lround(luma16_to_full_unit(src[x], in_range) * 65535.0);
    dst[x] = static_cast<uint16_t>(std::clamp<long>(r, 0, 65535));
  }
}

ChromaConversion chroma_conversion(Matrix from, Matrix to) {
  // Decoding with `from`: R' - Y' = 2 (1 - kr) Cr, B' - Y' = 2 (1 - kb) Cb, and G' - Y' from
  // kr R' + kg G' + kb B' = Y'. Encoding with `to`: Cb = (B' - Y'_to) / (2 (1 - kb)),
  // Cr = (R' - Y'_to) / (2 (1 - kr)). Composing both on the difference from gray.
  if (from == to) return {{1.0, 0.0, 0.0, 1.0}};  // exactly: no rounding noise on the codes
  const LumaWeights f = luma_weights(from), t = luma_weights(to);
  // A_from: columns Cb, Cr -> rows R', G', B' (offsets from the luma).
  const double a[3][2] = {{0.0, 2.0 * (1.0 - f.kr)},
                          {-2.0 * f.kb * (1.0 - f.kb) / f.kg, -2.0 * f.kr * (1.0 - f.kr) / f.kg},
                          {2.0 * (1.0 - f.kb), 0.0}};
  // C_to: rows Cb, Cr <- columns R', G', B'.
  const double c[2][3] = {{-t.kr / (2.0 * (1.0 - t.kb)), -t.kg / (2.0 * (1.0 - t.kb)), 0.5},
                          {0.5, -t.kg / (2.0 * (1.0 - t.kr)), -t.kb / (2.0 * (1.0 - t.kr))}};
  ChromaConversion out{};
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      out.m[2 * i + j] = c[i][0] * a[0][j] + c[i][1] * a[1][j] + c[i][2] * a[2][j];
  return out;
}

namespace {
template <typename Out, long kOutMax>
void luma_codes_row_to_gray(const uint16_t* src, Out* dst, int width, float offset, float scale) {
  const double k = static_cast<double>(kOutMax) / scale;
  for (int x = 0; x < width; ++x) {
    const long r = std::lround((src[x] - offset) * k);
    dst[x] = static_cast<Out>(std::clamp<long>(r, 0, kOutMax));
  }
}
}  // namespace

void luma_codes_row_to_gray8(const uint16_t* src, uint8_t* dst, int width, float offset,
                             float scale) {
  luma_codes_row_to_gray<uint8_t, 255>(src, dst, width, offset, scale);
}

void luma_codes_row_to_gray16(const uint16_t* src, uint16_t* dst, int width, float offset,
                              float scale) {
  luma_codes_row_to_gray<uint16_t, 65535>(src, dst, width, offset, scale);
}

// Full-range BT.601: Y = .299 R + .587 G + .114 B; Cb = (B - Y) / 1.772; Cr = (R - Y) / 1.402.
const float kRgbToYcc601[9] = {0.299f,     0.587f,     0.114f,       //
                               -0.168736f, -0.331264f, 0.5f,         //
                               0.5f,       -0.418688f, -0.081312f};  //
const float kYccToRgb601[9] = {1.0f, 0.0f,       1.402f,             //
                               1.0f, -0.344136f, -0.714136f,         //
                               1.0f, 1.772f,     0.0f};              //

Ycc rgb_to_ycc(Rgb c) {
  const float* m = kRgbToYcc601;
  return {m[0] * c.r + m[1] * c.g + m[2] * c.b, m[3] * c.r + m[4] * c.g + m[5] * c.b,
          m[6] * c.r + m[7] * c.g + m[8] * c.b};
}

Rgb ycc_to_rgb(Ycc c) {
  const float* m = kYccToRgb601;
  return {m[0] * c.y + m[1] * c.cb + m[2] * c.cr, m[3] * c.y + m[4] * c.cb + m[5] * c.cr,
          m[6] * c.y + m[7] * c.cb + m[8] * c.cr};
}

Rgb clamp01(Rgb c) {
  return {std::clamp(c.r, 0.0f, 1.0f), std::clamp(c.g, 0.0f, 1.0f), std::clamp(c.b, 0.0f, 1.0f)};
}

float hsv_saturation(Rgb c) {
  const float mx = std::max({c.r, c.g, c.b});
  const float mn = std::min({c.r, c.g, c.b});
  return mx <= 0.0f ? 0.0f : (mx - mn) / mx;
}

double mean_hsv_saturation(const float* rgb, size_t n) {
  if (n == 0) return 0.0;
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i)
    sum += hsv_saturation({rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]});
  return sum / static_cast<double>(n);
}

}  // namespace vidcolor
