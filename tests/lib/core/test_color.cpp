#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "vidcolor/core/color.hpp"
#include "vidcolor/core/color_tensors.hpp"
#include "vidcolor/core/error.hpp"

using namespace vidcolor;

namespace {
const PackedRgbLayout kRGB{3, 0, 1, 2};
const PackedRgbLayout kBGRx{4, 2, 1, 0};

uint8_t gray_of(uint8_t r, uint8_t g, uint8_t b, Matrix m, Range range = Range::Full) {
  const uint8_t px[3] = {r, g, b};
  uint8_t out = 0;
  rgb_row_to_gray8(px, kRGB, &out, 1, m, range);
  return out;
}
}  // namespace

TEST(LumaWeights, SumToOne) {
  for (Matrix m : {Matrix::BT601, Matrix::BT709, Matrix::BT2020}) {
    const LumaWeights w = luma_weights(m);
    EXPECT_NEAR(w.kr + w.kg + w.kb, 1.0, 1e-9);
  }
}

TEST(RgbToGray, PrimariesPerMatrix) {
  // round(255 * k) for each primary, per ITU-R recommendation.
  EXPECT_EQ(gray_of(255, 0, 0, Matrix::BT601), 76);    // 76.245
  EXPECT_EQ(gray_of(0, 255, 0, Matrix::BT601), 150);   // 149.685
  EXPECT_EQ(gray_of(0, 0, 255, Matrix::BT601), 29);    // 29.07
  EXPECT_EQ(gray_of(255, 0, 0, Matrix::BT709), 54);    // 54.213
  EXPECT_EQ(gray_of(0, 255, 0, Matrix::BT709), 182);   // 182.376
  EXPECT_EQ(gray_of(0, 0, 255, Matrix::BT709), 18);    // 18.411
  EXPECT_EQ(gray_of(255, 0, 0, Matrix::BT2020), 67);   // 66.9885
  EXPECT_EQ(gray_of(0, 255, 0, Matrix::BT2020), 173);  // 172.89
  EXPECT_EQ(gray_of(0, 0, 255, Matrix::BT2020), 15);   // 15.1215
}

TEST(RgbToGray, NeutralColorsStayExact) {
  for (Matrix m : {Matrix::BT601, Matrix::BT709, Matrix::BT2020})
    for (int v = 0; v < 256; ++v)
      ASSERT_EQ(gray_of(v, v, v, m), v) << "matrix " << static_cast<int>(m);
}

TEST(RgbToGray, MatchesDoubleReferenceWithinHalfStep) {
  for (Matrix m : {Matrix::BT601, Matrix::BT709, Matrix::BT2020}) {
    const LumaWeights w = luma_weights(m);
    for (int r = 0; r < 256; r += 17)
      for (int g = 0; g < 256; g += 15)
        for (int b = 0; b < 256; b += 13) {
          const double ref = w.kr * r + w.kg * g + w.kb * b;
          // Rounding (0.5) plus the 16-bit quantisation of three weights (3 * 255 / 2^17).
          EXPECT_LE(std::abs(gray_of(r, g, b, m) - ref), 0.5 + 3.0 * 255 / 131072);
        }
  }
}

TEST(RgbToGray, LimitedRangeRgbExpands) {
  EXPECT_EQ(gray_of(16, 16, 16, Matrix::BT601, Range::Limited), 0);
  EXPECT_EQ(gray_of(235, 235, 235, Matrix::BT601, Range::Limited), 255);
  EXPECT_EQ(gray_of(0, 0, 0, Matrix::BT601, Range::Limited), 0);  // clamped
}

TEST(RgbToGray, PackedLayoutAndRow) {
  // BGRx row of three pixels: red, green, blue.
  const uint8_t row[12] = {0, 0, 255, 9, 0, 255, 0, 9, 255, 0, 0, 9};
  uint8_t out[3];
  rgb_row_to_gray8(row, kBGRx, out, 3, Matrix::BT601);
  EXPECT_EQ(out[0], 76);
  EXPECT_EQ(out[1], 150);
  EXPECT_EQ(out[2], 29);
}

TEST(RgbToGray, SixteenBitOutput) {
  const uint8_t px[3] = {255, 255, 255};
  uint16_t out = 0;
  rgb_row_to_gray16(px, kRGB, &out, 1, Matrix::BT709);
  EXPECT_EQ(out, 65535);
}

TEST(LumaRange, LimitedEightBit) {
  const uint8_t in[5] = {0, 16, 126, 235, 255};
  uint8_t out[5];
  luma8_row_to_gray8(in, 1, out, 5, Range::Limited);
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[1], 0);
  EXPECT_EQ(out[2], 128);  // (126-16)*255/219 = 128.08
  EXPECT_EQ(out[3], 255);
  EXPECT_EQ(out[4], 255);
}

TEST(LumaRange, PixelStrideSkipsChroma) {
  // YUY2: Y0 U Y1 V
  const uint8_t yuy2[8] = {10, 99, 20, 98, 30, 97, 40, 96};
  uint8_t out[4];
  luma8_row_to_gray8(yuy2, 2, out, 4, Range::Full);
  EXPECT_EQ(out[0], 10);
  EXPECT_EQ(out[3], 40);
}

TEST(LumaRange, SixteenBit) {
  const uint16_t in[3] = {4096, 60160, 32128};
  uint8_t out8[3];
  uint16_t out16[3];
  luma16_row_to_gray8(in, out8, 3, Range::Limited);
  luma16_row_to_gray16(in, out16, 3, Range::Limited);
  EXPECT_EQ(out8[0], 0);
  EXPECT_EQ(out8[1], 255);
  EXPECT_EQ(out16[0], 0);
  EXPECT_EQ(out16[1], 65535);
  EXPECT_NEAR(out16[2], 32768, 1);
  luma16_row_to_gray16(in, out16, 3, Range::Full);
  EXPECT_EQ(out16[2], 32128);
}

TEST(Ycc, RoundTrip) {
  for (float r : {0.f, 0.3f, 1.f})
    for (float g : {0.f, 0.5f, 1.f})
      for (float b : {0.f, 0.7f, 1.f}) {
        const Rgb back = ycc_to_rgb(rgb_to_ycc({r, g, b}));
        EXPECT_NEAR(back.r, r, 1e-4);
        EXPECT_NEAR(back.g, g, 1e-4);
        EXPECT_NEAR(back.b, b, 1e-4);
      }
}

TEST(Ycc, GrayHasZeroChromaAndPrimariesHitTheRails) {
  const Ycc gray = rgb_to_ycc({0.4f, 0.4f, 0.4f});
  EXPECT_NEAR(gray.y, 0.4f, 1e-6);
  EXPECT_NEAR(gray.cb, 0.f, 1e-6);
  EXPECT_NEAR(gray.cr, 0.f, 1e-6);
  EXPECT_NEAR(rgb_to_ycc({0, 0, 1}).cb, 0.5f, 1e-6);
  EXPECT_NEAR(rgb_to_ycc({1, 0, 0}).cr, 0.5f, 1e-6);
}

TEST(LumaCodes, AnyDepthToGray) {
  const uint16_t codes[] = {64, 940, 502, 0, 1023};
  uint8_t g8[5];
  uint16_t g16[5];
  luma_codes_row_to_gray8(codes, g8, 5, 64.0f, 876.0f);
  luma_codes_row_to_gray16(codes, g16, 5, 64.0f, 876.0f);
  EXPECT_EQ(g8[0], 0);
  EXPECT_EQ(g8[1], 255);
  EXPECT_EQ(g8[2], std::lround(438.0 * 255 / 876));
  EXPECT_EQ(g8[3], 0);    // foot room clamps
  EXPECT_EQ(g8[4], 255);  // head room clamps
  EXPECT_EQ(g16[1], 65535);
  EXPECT_EQ(g16[2], std::lround(438.0 * 65535 / 876));
}

// Chroma of one matrix in another keeps the luma sample: decoded with the new matrix, the
// pixel is the predicted colour moved along the gray axis until its new luma is the sample.
TEST(ChromaConversion, KeepsHueAtTheSameLumaSample) {
  auto decode = [](Matrix m, double y, double cb, double cr, double rgb[3]) {
    const LumaWeights w = luma_weights(m);
    rgb[0] = y + 2 * (1 - w.kr) * cr;
    rgb[2] = y + 2 * (1 - w.kb) * cb;
    rgb[1] = (y - w.kr * rgb[0] - w.kb * rgb[2]) / w.kg;
  };
  for (Matrix to : {Matrix::BT601, Matrix::BT709, Matrix::BT2020}) {
    const ChromaConversion m = chroma_conversion(Matrix::BT601, to);
    const LumaWeights w = luma_weights(to);
    for (double cb : {-0.3, 0.0, 0.2})
      for (double cr : {-0.1, 0.25}) {
        const double y = 0.45;
        double want[3], got[3];
        decode(Matrix::BT601, y, cb, cr, want);
        const double shift = w.kr * want[0] + w.kg * want[1] + w.kb * want[2] - y;
        decode(to, y, m.m[0] * cb + m.m[1] * cr, m.m[2] * cb + m.m[3] * cr, got);
        for (int k = 0; k < 3; ++k) EXPECT_NEAR(got[k], want[k] - shift, 1e-12) << k;
      }
    // The way back is the inverse.
    const ChromaConversion back = chroma_conversion(to, Matrix::BT601);
    EXPECT_NEAR(back.m[0] * m.m[0] + back.m[1] * m.m[2], 1.0, 1e-12);
    EXPECT_NEAR(back.m[0] * m.m[1] + back.m[1] * m.m[3], 0.0, 1e-12);
    EXPECT_NEAR(back.m[2] * m.m[0] + back.m[3] * m.m[2], 0.0, 1e-12);
    EXPECT_NEAR(back.m[2] * m.m[1] + back.m[3] * m.m[3], 1.0, 1e-12);
  }
  const ChromaConversion same = chroma_conversion(Matrix::BT709, Matrix::BT709);
  EXPECT_EQ(same.m[0], 1.0);
  EXPECT_EQ(same.m[1], 0.0);
  EXPECT_EQ(same.m[2], 0.0);
  EXPECT_EQ(same.m[3], 1.0);
}

TEST(Saturation, HandValues) {
  EXPECT_FLOAT_EQ(hsv_saturation({0, 0, 0}), 0.f);
  EXPECT_FLOAT_EQ(hsv_saturation({0.5f, 0.5f, 0.5f}), 0.f);
  EXPECT_FLOAT_EQ(hsv_saturation({1, 0, 0}), 1.f);
  EXPECT_FLOAT_EQ(hsv_saturation({0.8f, 0.4f, 0.2f}), 0.75f);
  const std::vector<float> px = {1, 0, 0, 0.5f, 0.5f, 0.5f};
  EXPECT_DOUBLE_EQ(mean_hsv_saturation(px.data(), 2), 0.5);
  EXPECT_DOUBLE_EQ(mean_hsv_saturation(px.data(), 0), 0.0);
}

// CIE Lab (D65, sRGB) of color_tensors.hpp against the published values of the sRGB primaries
// (e.g. Lindbloom's calculator: red 53.2408, 80.0925, 67.2032).
namespace {
torch::Tensor lab_of(double r, double g, double b, torch::Dtype dtype = torch::kDouble) {
  return rgb_to_lab(torch::tensor({r, g, b}, torch::kDouble).view({1, 3, 1, 1}).to(dtype))
      .flatten();
}
void expect_lab(const torch::Tensor& lab, double l, double a, double b, double tol) {
  EXPECT_NEAR(lab[0].item<double>(), l, tol);
  EXPECT_NEAR(lab[1].item<double>(), a, tol);
  EXPECT_NEAR(lab[2].item<double>(), b, tol);
}
}  // namespace

TEST(Lab, KnownValues) {
  for (auto dtype : {torch::kDouble, torch::kFloat}) {
    expect_lab(lab_of(1, 0, 0, dtype), 53.2408, 80.0925, 67.2032, 0.05);
    expect_lab(lab_of(0, 1, 0, dtype), 87.7347, -86.1827, 83.1793, 0.05);
    expect_lab(lab_of(0, 0, 1, dtype), 32.2970, 79.1875, -107.8602, 0.05);
    expect_lab(lab_of(1, 1, 1, dtype), 100, 0, 0, 0.05);
    expect_lab(lab_of(0, 0, 0, dtype), 0, 0, 0, 0.05);
    expect_lab(lab_of(0.5, 0.5, 0.5, dtype), 53.3890, 0, 0, 0.05);
  }
}

// A neutral pixel has a = b = 0 exactly, in float and double: a gray output must score a chroma
// spread and tint of exactly 0 (eval/colour_metrics.hpp), not rounding noise of the matrix.
TEST(Lab, NeutralsHaveExactlyZeroChroma) {
  for (auto dtype : {torch::kDouble, torch::kFloat}) {
    const auto ramp = torch::linspace(0, 1, 256, dtype).view({1, 1, 16, 16}).expand({1, 3, 16, 16});
    const auto lab = rgb_to_lab(ramp);
    EXPECT_EQ(lab.slice(1, 1, 3).abs().max().item<double>(), 0.0);
    // L of a neutral is gray_to_lightness of its value.
    EXPECT_TRUE(
        torch::allclose(lab.slice(1, 0, 1), gray_to_lightness(ramp.slice(1, 0, 1)), 1e-5, 1e-3));
  }
}

TEST(Lab, RoundTrip) {
  torch::manual_seed(7);
  const auto rgb = torch::rand({2, 3, 8, 8}, torch::kDouble);
  EXPECT_LT((lab_to_rgb(rgb_to_lab(rgb)) - rgb).abs().max().item<double>(), 1e-9);
  const auto rgbf = rgb.to(torch::kFloat);
  EXPECT_LT((lab_to_rgb(rgb_to_lab(rgbf)) - rgbf).abs().max().item<double>(), 2e-4);
  // Out-of-gamut Lab saturates into [0, 1].
  const auto wild = lab_to_rgb(torch::tensor({50.0, 120.0, -120.0}).view({1, 3, 1, 1}));
  EXPECT_GE(wild.min().item<double>(), 0.0);
  EXPECT_LE(wild.max().item<double>(), 1.0);
  EXPECT_THROW(rgb_to_lab(torch::zeros({1, 2, 2, 2})), Error);
}

// The plain CPU loop (no gradient) and the tensor ops (what runs with gradients or on a GPU)
// are one conversion: they agree, values outside [0, 1] clamped in both.
TEST(Lab, PlainLoopMatchesTensorPath) {
  torch::manual_seed(8);
  const auto rgb = torch::rand({2, 3, 9, 7}, torch::kDouble) * 1.2 - 0.1;
  for (auto dtype : {torch::kDouble, torch::kFloat}) {
    const auto x = rgb.to(dtype);
    const auto plain = rgb_to_lab(x);
    const auto ops = rgb_to_lab(x.clone().requires_grad_()).detach();
    EXPECT_LT((plain - ops).abs().max().item<double>(), dtype == torch::kDouble ? 1e-9 : 1e-3);
  }
}

// Out-of-gamut Lab keeps its lightness and hue and loses only chroma, with finite gradients
// (per-channel clamping, the earlier conversion, moved L by up to 1.2 and the hue of the dark
// warm sample by more than 8 degrees).
TEST(Lab, OutOfGamutKeepsLightnessAndHue) {
  const auto lab = torch::tensor({50.0, 120.0, -120.0,  // far out, magenta-blue
                                  15.0, 30.0, 45.0,     // dark and warm: out of gamut
                                  90.0, -60.0, 90.0,    // bright yellow-green, out
                                  60.0, 20.0, 20.0},    // in gamut
                                 torch::kDouble)
                       .view({4, 3, 1, 1})
                       .requires_grad_(true);
  const auto rgb = lab_to_rgb(lab);
  EXPECT_GE(rgb.min().item<double>(), 0.0);
  EXPECT_LE(rgb.max().item<double>(), 1.0);
  const auto back = rgb_to_lab(rgb.detach());
  const auto in = lab.detach();
  for (int i = 0; i < 4; ++i) {
    const double l0 = in[i][0].item<double>(), a0 = in[i][1].item<double>(),
                 b0 = in[i][2].item<double>();
    const double l1 = back[i][0].item<double>(), a1 = back[i][1].item<double>(),
                 b1 = back[i][2].item<double>();
    EXPECT_NEAR(l1, l0, 1e-5) << "sample " << i;
    const double hue_change = std::remainder(std::atan2(b1, a1) - std::atan2(b0, a0), 2 * M_PI);
    EXPECT_LT(std::abs(hue_change), 8.0 * M_PI / 180) << "sample " << i;  // degrees
    EXPECT_LE(std::hypot(a1, b1), std::hypot(a0, b0) + 1e-6) << "sample " << i;
    if (i < 3) {
      EXPECT_LT(std::hypot(a1, b1), std::hypot(a0, b0) - 1) << "sample " << i;
    }
  }
  EXPECT_NEAR(back[3][1].item<double>(), 20.0, 1e-6);  // in gamut: untouched
  rgb.sum().backward();
  EXPECT_TRUE(torch::isfinite(lab.grad()).all().item<bool>());
}
