// frame_planes: luma planes to tensors, chroma to 8-bit planes (I420/NV12/Y444 layouts, odd
// sizes), R'G'B' that keeps the input luma, and the general codes path (any subsampling and
// siting, bit depth, range and matrix; the inverse; the LibTorch path).
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

// Decoded with another matrix (an R'G'B' source whose gray used BT.709 weights), the pixel's
// luma in that matrix is the input Y, and in-gamut chroma is the BT.601 colour moved along the
// gray axis (color.hpp's chroma_conversion).
TEST(FramePlanes, RgbKeepsLumaInTheSourcesMatrix) {
  torch::manual_seed(2);
  const int w = 32, h = 8;
  std::vector<uint8_t> y(w * h);
  for (int i = 0; i < w * h; ++i) y[i] = static_cast<uint8_t>(40 + (i * 13) % 170);
  const torch::Tensor c = (torch::rand({1, 2, h, w}) - 0.5) * 0.3;
  std::vector<uint8_t> rgb(w * h * 3);
  ycc_to_rgb8_plane(y.data(), w, c, {3, 0, 1, 2}, -1, rgb.data(), w * 3, Matrix::BT709);
  const LumaWeights k = luma_weights(Matrix::BT709);
  int max_err = 0;
  for (int i = 0; i < w * h; ++i) {
    const uint8_t* p = &rgb[i * 3];
    max_err = std::max(
        max_err,
        static_cast<int>(std::lround(std::abs(k.kr * p[0] + k.kg * p[1] + k.kb * p[2] - y[i]))));
  }
  EXPECT_LE(max_err, 1);
  // A mid-gray pixel with small chroma stays in gamut: R' - B' is the BT.601 colour's.
  const Rgb plain =
      ycc_to_rgb({y[0] / 255.0f, c[0][0][0][0].item<float>(), c[0][1][0][0].item<float>()});
  EXPECT_NEAR(rgb[0] - rgb[2], (plain.r - plain.b) * 255, 1.01);
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
                   ? ChromaPlanes8{v.data(), size_t(stride), v.data() + 1, size_t(stride), 2, sub,
                                   sub}
                   : ChromaPlanes8{
                         v.data(), size_t(stride), v.data() + stride * ph, size_t(stride), 1, sub,
                         sub};
      };
      chroma_to_planes8(c, planes(loops));
      chroma_to_planes8_torch(c, planes(torch_ops));
      for (size_t i = 0; i < loops.size(); ++i)
        EXPECT_NEAR(torch_ops[i], loops[i], 1)
            << "sub " << sub << " pixel_stride " << pixel_stride << " byte " << i;
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
    const Rgb plain = ycc_to_rgb(
        {y[i] / 255.0f, c[0][0][i / w][i % w].item<float>(), c[0][1][i / w][i % w].item<float>()});
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

namespace {

ChromaCoding coding_of(Matrix m, int depth, bool limited) {
  const float k = static_cast<float>(1 << (depth - 8));
  return limited
             ? ChromaCoding{m, 128 * k, 224 * k, (1 << depth) - 1}
             : ChromaCoding{m, 128 * k, depth == 8 ? 255.0f : static_cast<float>((1 << depth) - 1),
                            (1 << depth) - 1};
}

}  // namespace

// The networks' own space (8-bit full-range BT.601, centred 2 x 2 blocks) codes exactly what
// chroma_to_planes8 writes, up to float summation order.
TEST(ChromaCodes, NetworkSpaceMatchesThe8BitPlanes) {
  torch::manual_seed(5);
  const int w = 9, h = 7;
  const torch::Tensor c = (torch::rand({1, 2, h, w}) - 0.5) * 0.9;
  std::vector<uint8_t> u(5 * 4), v(5 * 4);
  chroma_to_planes8(c, {u.data(), 5, v.data(), 5, 1, 2, 2});
  std::vector<uint16_t> cb(5 * 4), cr(5 * 4);
  chroma_to_codes(c, ChromaCoding{}, ChromaLayout{2, 2, false, false}, cb.data(), cr.data(), 5);
  for (size_t i = 0; i < u.size(); ++i) {
    EXPECT_NEAR(cb[i], u[i], 1) << i;
    EXPECT_NEAR(cr[i], v[i], 1) << i;
  }
}

// Co-sited samples take the triangle filter on their own pixel (MPEG-2's horizontal siting),
// centred ones the block mean; edges renormalise; 4 x subsampling works the same way.
TEST(ChromaCodes, SitingFilters) {
  const int w = 7;
  torch::Tensor c = torch::zeros({1, 2, 1, w});
  for (int x = 0; x < w; ++x) c[0][0][0][x] = 0.01f * (x + 1) * (x % 3 == 0 ? 10 : 1);
  const ChromaCoding exact{Matrix::BT601, 0.0f, 10000.0f, 65535};  // codes = 10000 c, no clamping
  auto row = [&](ChromaLayout l) {
    std::vector<uint16_t> cb(8), cr(8);
    chroma_to_codes(c.abs(), exact, l, cb.data(), cr.data(), 8);
    return cb;
  };
  std::vector<double> px(w);
  for (int x = 0; x < w; ++x) px[x] = 10000.0 * std::abs(c[0][0][0][x].item<double>());
  const std::vector<uint16_t> centred = row({2, 1, false, false});
  EXPECT_NEAR(centred[0], (px[0] + px[1]) / 2, 0.5);
  EXPECT_NEAR(centred[3], px[6], 0.5);  // the odd edge: one pixel
  const std::vector<uint16_t> cosited = row({2, 1, true, false});
  EXPECT_NEAR(cosited[0], (2 * px[0] + px[1]) / 3, 0.5);  // nothing left of pixel 0
  EXPECT_NEAR(cosited[1], (px[1] + 2 * px[2] + px[3]) / 4, 0.5);
  EXPECT_NEAR(cosited[3], (px[5] + 2 * px[6]) / 3, 0.5);
  const std::vector<uint16_t> four = row({4, 1, true, false});
  EXPECT_NEAR(four[1], (1 * px[1] + 2 * px[2] + 3 * px[3] + 4 * px[4] + 3 * px[5] + 2 * px[6]) / 15,
              0.5);
  // A flat plane stays flat whatever the filter (vertical co-siting too).
  const torch::Tensor flat = torch::full({1, 2, 5, 5}, 0.125);
  for (ChromaLayout l : {ChromaLayout{2, 2, true, true}, ChromaLayout{4, 4, false, false}}) {
    std::vector<uint16_t> cb(9), cr(9);
    chroma_to_codes(flat, exact, l, cb.data(), cr.data(), 3);
    const int n = l.sub_x == 2 ? 9 : 4;
    for (int i = 0; i < n; ++i) EXPECT_EQ(cb[l.sub_x == 2 ? i : (i / 2) * 3 + i % 2], 1250) << i;
  }
  uint16_t a = 0;
  EXPECT_THROW(chroma_to_codes(flat, exact, ChromaLayout{3, 1, false, false}, &a, &a, 1), Error);
  EXPECT_THROW(
      chroma_to_codes(flat, ChromaCoding{Matrix::BT601, 0, 0, 255}, ChromaLayout{}, &a, &a, 5),
      Error);
}

// Range and bit depth: 10-bit limited codes 512 + 896 c and clamp to 0..1023; full-range
// 10-bit 512 + 1023 c; another matrix converts first (gray stays neutral in every one).
TEST(ChromaCodes, RangeDepthAndMatrix) {
  // Cb = (0.25, -0.125, 0.9), Cr = (-0.125, 0, -0.9).
  const torch::Tensor c =
      torch::tensor({0.25f, -0.125f, 0.9f, -0.125f, 0.0f, -0.9f}).view({1, 2, 1, 3});
  std::vector<uint16_t> cb(3), cr(3);
  chroma_to_codes(c, coding_of(Matrix::BT601, 10, true), ChromaLayout{}, cb.data(), cr.data(), 3);
  EXPECT_EQ(cb[0], 512 + 224);
  EXPECT_EQ(cr[0], 512 - 112);
  EXPECT_EQ(cb[1], 512 - 112);
  EXPECT_EQ(cr[1], 512);
  EXPECT_EQ(cb[2], 1023);  // 0.9 clamps
  EXPECT_EQ(cr[2], 0);
  chroma_to_codes(c, coding_of(Matrix::BT601, 10, false), ChromaLayout{}, cb.data(), cr.data(), 3);
  EXPECT_EQ(cb[0], std::lround(512 + 1023 * 0.25));
  const ChromaConversion m = chroma_conversion(Matrix::BT601, Matrix::BT709);
  chroma_to_codes(c, coding_of(Matrix::BT709, 8, true), ChromaLayout{}, cb.data(), cr.data(), 3);
  EXPECT_EQ(cb[0], std::lround(128 + 224 * (m.m[0] * 0.25 + m.m[1] * -0.125)));
  EXPECT_EQ(cr[0], std::lround(128 + 224 * (m.m[2] * 0.25 + m.m[3] * -0.125)));
  const torch::Tensor gray = torch::zeros({1, 2, 1, 1});
  chroma_to_codes(gray, coding_of(Matrix::BT2020, 10, true), ChromaLayout{}, cb.data(), cr.data(),
                  1);
  EXPECT_EQ(cb[0], 512);
  EXPECT_EQ(cr[0], 512);
}

// What vcrefine reads back and writes again is the same codes, for every matrix and depth.
TEST(ChromaCodes, ReadBackIsTheInverse) {
  const int w = 6, h = 3;
  for (Matrix mat : {Matrix::BT601, Matrix::BT709, Matrix::BT2020})
    for (int depth : {8, 10}) {
      const ChromaCoding coding = coding_of(mat, depth, true);
      const int lo = 16 << (depth - 8), hi = 240 << (depth - 8);
      std::vector<uint16_t> cb(w * h), cr(w * h), cb2(w * h), cr2(w * h);
      for (int i = 0; i < w * h; ++i) {
        cb[i] = static_cast<uint16_t>(lo + (i * 97) % (hi - lo));
        cr[i] = static_cast<uint16_t>(lo + (i * 61 + 5) % (hi - lo));
      }
      const torch::Tensor c = codes_to_chroma(cb.data(), cr.data(), w, w, h, coding);
      EXPECT_EQ(c.sizes(), (std::vector<int64_t>{1, 2, h, w}));
      chroma_to_codes(c, coding, ChromaLayout{}, cb2.data(), cr2.data(), w);
      EXPECT_EQ(cb2, cb) << static_cast<int>(mat) << " " << depth;
      EXPECT_EQ(cr2, cr) << static_cast<int>(mat) << " " << depth;
    }
}

TEST(ChromaCodes, TorchPathMatchesLoops) {
  torch::manual_seed(8);
  const int w = 11, h = 7;
  torch::Tensor c = torch::rand({1, 2, h, w}) * 1.2 - 0.6;
  c[0][1][6][10] = std::nanf("");
  for (ChromaLayout l : {ChromaLayout{1, 1, false, false}, ChromaLayout{2, 2, false, false},
                         ChromaLayout{2, 1, true, false}, ChromaLayout{2, 2, true, true},
                         ChromaLayout{4, 1, true, false}, ChromaLayout{4, 4, false, false}}) {
    const int cw = (w + l.sub_x - 1) / l.sub_x, ch = (h + l.sub_y - 1) / l.sub_y, stride = cw + 2;
    for (const ChromaCoding& coding : {ChromaCoding{}, coding_of(Matrix::BT709, 10, true)}) {
      std::vector<uint16_t> a(stride * ch * 2, 7), b(stride * ch * 2, 7);
      chroma_to_codes(c, coding, l, a.data(), a.data() + stride * ch, stride);
      chroma_to_codes_torch(c, coding, l, b.data(), b.data() + stride * ch, stride);
      for (size_t i = 0; i < a.size(); ++i)
        EXPECT_NEAR(a[i], b[i], 1)
            << l.sub_x << "x" << l.sub_y << " cosited " << l.cosited_x << " at " << i;
    }
  }
}

TEST(LumaCodes, RoundTripAndClamp) {
  const LumaCoding limited10{64.0f, 876.0f, 1023};
  std::vector<uint16_t> codes = {64, 100, 512, 940, 0, 1023};
  const torch::Tensor t = luma_codes_to_tensor(codes.data(), 3, 2, 3, limited10);
  EXPECT_FLOAT_EQ(t[0][0][0][0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(t[0][0][1][0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(t[0][0][1][1].item<float>(), 0.0f);  // foot room clamps
  std::vector<uint16_t> back(6);
  tensor_to_luma_codes(t, limited10, back.data(), 3);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(back[i], codes[i]);
  EXPECT_EQ(back[4], 64);
  EXPECT_EQ(back[5], 940);
  std::vector<uint8_t> g(256);
  for (int i = 0; i < 256; ++i) g[i] = static_cast<uint8_t>(i);
  std::vector<uint16_t> g16(256);
  tensor_to_luma_codes(gray8_plane_to_tensor(g.data(), 256, 1, 256), LumaCoding{}, g16.data(), 256);
  for (int i = 0; i < 256; ++i) ASSERT_EQ(g16[i], i) << "GRAY8 to 8-bit full range is exact";
}
