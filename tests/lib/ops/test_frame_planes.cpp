// frame_planes: luma planes to tensors, chroma to 8-bit planes (I420/NV12/Y444 layouts, odd
// sizes), and R'G'B' that keeps the input luma.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "vidcolor/core/color.hpp"
#include "vidcolor/core/error.hpp"
#include "vidcolor/ops/frame_planes.hpp"

using namespace vidcolor;

TEST(FramePlanes, LumaPlanesToTensors) {
  const int w = 5, h = 3;
  std::vector<uint8_t> p8(8 * h, 77);  // stride 8 with padding
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) p8[y * 8 + x] = static_cast<uint8_t>(y * 50 + x * 10);
  const torch::Tensor t8 = gray8_plane_to_tensor(p8.data(), w, h, 8);
  EXPECT_EQ(t8.sizes(), (std::vector<int64_t>{1, 1, 3, 5}));
  EXPECT_FLOAT_EQ(t8[0][0][2][4].item<float>(), 140.0f / 255.0f);
  std::vector<uint16_t> p16(6 * h, 0);
  p16[6 * 2 + 4] = 65535;
  p16[6 * 1 + 1] = 257;
  const torch::Tensor t16 = gray16_plane_to_tensor(p16.data(), w, h, 12);
  EXPECT_FLOAT_EQ(t16[0][0][2][4].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(t16[0][0][1][1].item<float>(), 257.0f / 65535.0f);
  EXPECT_THROW(gray8_plane_to_tensor(p8.data(), w, h, 4), Error);
  EXPECT_THROW(gray8_plane_to_tensor(p8.data(), 0, h, 8), Error);
}

TEST(FramePlanes, ChromaSubsamplingAndLayouts) {
  const int w = 5, h = 3;  // odd both ways: 3 x 2 subsampled samples
  const torch::Tensor c = (torch::rand({1, 2, h, w}) - 0.5) * 0.9;
  auto expect8 = [&](int ch, int x0, int y0, int sx, int sy) {
    double sum = 0;
    int n = 0;
    for (int y = y0 * sy; y < std::min(h, (y0 + 1) * sy); ++y)
      for (int x = x0 * sx; x < std::min(w, (x0 + 1) * sx); ++x, ++n)
        sum += c[0][ch][y][x].item<double>();
    return static_cast<int>(std::lround(128.0 + 255.0 * sum / n));
  };
  // I420: two planes.
  std::vector<uint8_t> u(4 * 2, 0), v(4 * 2, 0);
  chroma_to_planes8(c, {u.data(), 4, v.data(), 4, 1, 2, 2});
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x) {
      EXPECT_NEAR(u[y * 4 + x], expect8(0, x, y, 2, 2), 1) << x << "," << y;
      EXPECT_NEAR(v[y * 4 + x], expect8(1, x, y, 2, 2), 1) << x << "," << y;
    }
  EXPECT_EQ(u[3], 0);  // padding untouched
  // NV12: interleaved, same values.
  std::vector<uint8_t> uv(8 * 2, 0);
  chroma_to_planes8(c, {uv.data(), 8, uv.data() + 1, 8, 2, 2, 2});
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x) {
      EXPECT_EQ(uv[y * 8 + 2 * x], u[y * 4 + x]);
      EXPECT_EQ(uv[y * 8 + 2 * x + 1], v[y * 4 + x]);
    }
  // Y444: every pixel.
  std::vector<uint8_t> u4(w * h), v4(w * h);
  chroma_to_planes8(c, {u4.data(), w, v4.data(), w, 1, 1, 1});
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) EXPECT_NEAR(u4[y * w + x], expect8(0, x, y, 1, 1), 1);
  // The extremes clamp.
  const torch::Tensor ext = torch::tensor({-0.5f, 0.5f}).view({1, 2, 1, 1});
  uint8_t a = 1, b = 1;
  chroma_to_planes8(ext, {&a, 1, &b, 1, 1, 1, 1});
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 255);
  EXPECT_THROW(chroma_to_planes8(torch::rand({1, 3, 2, 2}), {&a, 1, &b, 1, 1, 1, 1}), Error);
}

// The LibTorch path (what GPU tensors take) writes what the loops write, for every layout,
// odd sizes, the clamp and NaN; it leaves padding alone.
TEST(FramePlanes, TorchPathMatchesLoops) {
  torch::manual_seed(3);
  const int w = 7, h = 5;
  torch::Tensor c = torch::rand({1, 2, h, w}) * 1.4 - 0.7;  // some samples clamp
  c[0][1][4][6] = std::nanf("");
  for (int sub : {1, 2}) {
    const int pw = (w + sub - 1) / sub, ph = (h + sub - 1) / sub, stride = 2 * pw + 3;
    for (int pixel_stride : {1, 2}) {
      std::vector<uint8_t> loops(stride * ph * 2, 7), torch_ops(stride * ph * 2, 7);
      auto planes = [&](std::vector<uint8_t>& v) {
        return pixel_stride == 2  // NV12-like: interleaved in one plane
                   ? ChromaPlanes8{v.data(), size_t(stride), v.data() + 1, size_t(stride), 2, sub, sub}
                   : ChromaPlanes8{v.data(), size_t(stride), v.data() + stride * ph, size_t(stride), 1, sub, sub};
      };
      chroma_to_planes8(c, planes(loops));
      chroma_to_planes8_torch(c, planes(torch_ops));
      for (size_t i = 0; i < loops.size(); ++i)
        EXPECT_NEAR(torch_ops[i], loops[i], 1) << "sub " << sub << " pixel_stride " << pixel_stride << " byte " << i;
    }
  }
  std::vector<uint8_t> u(w * h), v(w * h);
  chroma_to_planes8_torch(c, {u.data(), size_t(w), v.data(), size_t(w), 1, 1, 1});
  EXPECT_EQ(v[4 * w + 6], 128);  // NaN -> neutral
  uint8_t a = 0;
  EXPECT_THROW(chroma_to_planes8_torch(torch::rand({1, 3, 2, 2}), {&a, 1, &a, 1, 1, 1, 1}), Error);
}

// Every R'G'B' pixel's BT.601 luma is the input Y within rounding, also for chroma far out
// of gamut; in-gamut pixels are the plain conversion.
TEST(FramePlanes, RgbKeepsLuma) {
  torch::manual_seed(1);
  const int w = 64, h = 16;
  std::vector<uint8_t> y(w * h);
  for (int i = 0; i < w * h; ++i) y[i] = static_cast<uint8_t>((i * 37) % 256);
  const torch::Tensor c = torch::rand({1, 2, h, w}) - 0.5;
  std::vector<uint8_t> bgrx(w * h * 4, 0);
  ycc_to_rgb8_plane(y.data(), w, c, {4, 2, 1, 0}, 3, bgrx.data(), w * 4);
  int max_err = 0, in_gamut = 0;
  for (int i = 0; i < w * h; ++i) {
    const uint8_t* p = &bgrx[i * 4];
    const double lum = 0.299 * p[2] + 0.587 * p[1] + 0.114 * p[0];
    max_err = std::max(max_err, static_cast<int>(std::lround(std::abs(lum - y[i]))));
    EXPECT_EQ(p[3], 255);
    const Rgb plain = ycc_to_rgb({y[i] / 255.0f, c[0][0][i / w][i % w].item<float>(),
                                  c[0][1][i / w][i % w].item<float>()});
    if (plain.r >= 0 && plain.r <= 1 && plain.g >= 0 && plain.g <= 1 && plain.b >= 0 &&
        plain.b <= 1) {
      ++in_gamut;
      EXPECT_NEAR(p[2], plain.r * 255, 0.51);
      EXPECT_NEAR(p[1], plain.g * 255, 0.51);
      EXPECT_NEAR(p[0], plain.b * 255, 0.51);
    }
  }
  EXPECT_LE(max_err, 1);
  EXPECT_GT(in_gamut, 20);
  EXPECT_LT(in_gamut, w * h - 20);  // the case covers both
}
