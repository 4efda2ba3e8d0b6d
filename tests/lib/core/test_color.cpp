#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "vidcolor/core/color.hpp"

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
  EXPECT_EQ(gray_of(255, 0, 0, Matrix::BT601), 76);   // 76.245
  EXPECT_EQ(gray_of(0, 255, 0, Matrix::BT601), 150);  // 149.685
  EXPECT_EQ(gray_of(0, 0, 255, Matrix::BT601), 29);   // 29.07
  EXPECT_EQ(gray_of(255, 0, 0, Matrix::BT709), 54);   // 54.213
  EXPECT_EQ(gray_of(0, 255, 0, Matrix::BT709), 182);  // 182.376
  EXPECT_EQ(gray_of(0, 0, 255, Matrix::BT709), 18);   // 18.411
  EXPECT_EQ(gray_of(255, 0, 0, Matrix::BT2020), 67);  // 66.9885
  EXPECT_EQ(gray_of(0, 255, 0, Matrix::BT2020), 173); // 172.89
  EXPECT_EQ(gray_of(0, 0, 255, Matrix::BT2020), 15);  // 15.1215
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

TEST(Saturation, HandValues) {
  EXPECT_FLOAT_EQ(hsv_saturation({0, 0, 0}), 0.f);
  EXPECT_FLOAT_EQ(hsv_saturation({0.5f, 0.5f, 0.5f}), 0.f);
  EXPECT_FLOAT_EQ(hsv_saturation({1, 0, 0}), 1.f);
  EXPECT_FLOAT_EQ(hsv_saturation({0.8f, 0.4f, 0.2f}), 0.75f);
  const std::vector<float> px = {1, 0, 0, 0.5f, 0.5f, 0.5f};
  EXPECT_DOUBLE_EQ(mean_hsv_saturation(px.data(), 2), 0.5);
  EXPECT_DOUBLE_EQ(mean_hsv_saturation(px.data(), 0), 0.0);
}
