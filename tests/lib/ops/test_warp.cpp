// warp / confidence / occlusion_mask / resize_flow against hand-computed values.
#include <gtest/gtest.h>

#include <algorithm>

#include "vidcolor/core/error.hpp"
#include "vidcolor/ops/warp.hpp"

using namespace vidcolor;

namespace {

torch::Tensor constant_flow(int64_t n, int64_t h, int64_t w, double dx, double dy) {
  auto f = torch::empty({n, 2, h, w});
  f.select(1, 0).fill_(dx);
  f.select(1, 1).fill_(dy);
  return f;
}

float px(const torch::Tensor& t, int64_t n, int64_t c, int64_t y, int64_t x) {
  return t.index({n, c, y, x}).item<float>();
}

}  // namespace

TEST(Warp, IntegerShiftMovesPixelsExactlyAndClampsAtTheBorder) {
  torch::manual_seed(1);
  const int64_t h = 5, w = 7;
  const auto img = torch::rand({2, 3, h, w});
  const auto out = warp(img, constant_flow(2, h, w, 2.0, -1.0));
  ASSERT_EQ(out.sizes(), img.sizes());
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
          // out(x) = img(x + F(x)), coordinates clamped into the image.
          const int64_t sy = std::clamp<int64_t>(y - 1, 0, h - 1);
          const int64_t sx = std::clamp<int64_t>(x + 2, 0, w - 1);
          EXPECT_NEAR(px(out, n, c, y, x), px(img, n, c, sy, sx), 1e-5)
              << "n" << n << " c" << c << " y" << y << " x" << x;
        }
}

TEST(Warp, BilinearMatchesHandComputedValues) {
  // 2x3 image:  0 10 40
  //            20 30 60
  const auto img = torch::tensor({0.f, 10.f, 40.f, 20.f, 30.f, 60.f}).view({1, 1, 2, 3});
  auto flow = torch::zeros({1, 2, 2, 3});
  // Pixel (y=0, x=0) samples (x=0.25, y=0.5):
  //   top 0*0.75 + 10*0.25 = 2.5, bottom 20*0.75 + 30*0.25 = 22.5 -> 12.5
  flow.index_put_({0, 0, 0, 0}, 0.25f);
  flow.index_put_({0, 1, 0, 0}, 0.5f);
  // Pixel (y=1, x=1) samples (x=1.5, y=0.25):
  //   top 10*0.5 + 40*0.5 = 25, bottom 30*0.5 + 60*0.5 = 45 -> 25*0.75 + 45*0.25 = 30
  flow.index_put_({0, 0, 1, 1}, 0.5f);
  flow.index_put_({0, 1, 1, 1}, -0.75f);
  // Pixel (y=0, x=2) samples (x=2.5 -> clamped 2, y=-3 -> clamped 0): 40
  flow.index_put_({0, 0, 0, 2}, 0.5f);
  flow.index_put_({0, 1, 0, 2}, -3.0f);
  // Pixel (y=1, x=0) samples (x=-10.5 -> 0, y=1.5 -> 1): 20
  flow.index_put_({0, 0, 1, 0}, -10.5f);
  flow.index_put_({0, 1, 1, 0}, 0.5f);
  const auto out = warp(img, flow);
  EXPECT_NEAR(px(out, 0, 0, 0, 0), 12.5f, 1e-4);
  EXPECT_NEAR(px(out, 0, 0, 1, 1), 30.0f, 1e-4);
  EXPECT_NEAR(px(out, 0, 0, 0, 2), 40.0f, 1e-4);
  EXPECT_NEAR(px(out, 0, 0, 1, 0), 20.0f, 1e-4);
  // Zero flow elsewhere: identity.
  EXPECT_NEAR(px(out, 0, 0, 0, 1), 10.0f, 1e-4);
  EXPECT_NEAR(px(out, 0, 0, 1, 2), 60.0f, 1e-4);
}

TEST(Warp, ZeroFlowIsIdentityAndOnePixelSidesWork) {
  torch::manual_seed(2);
  const auto img = torch::rand({1, 2, 4, 6});
  EXPECT_TRUE(torch::allclose(warp(img, torch::zeros({1, 2, 4, 6})), img, 1e-5, 1e-6));
  const auto row = torch::rand({1, 1, 1, 6});  // height 1: dy can only clamp
  const auto out = warp(row, constant_flow(1, 1, 6, 1.0, 3.0));
  for (int64_t x = 0; x < 6; ++x)
    EXPECT_NEAR(px(out, 0, 0, 0, x), px(row, 0, 0, 0, std::min<int64_t>(x + 1, 5)), 1e-5);
}

TEST(Warp, IsDifferentiableInImageAndFlow) {
  torch::manual_seed(3);
  auto img = torch::rand({1, 1, 6, 6}).requires_grad_(true);
  auto flow = (torch::rand({1, 2, 6, 6}) * 2 - 1).requires_grad_(true);
  warp(img, flow).sum().backward();
  ASSERT_TRUE(img.grad().defined());
  ASSERT_TRUE(flow.grad().defined());
  // Total weight of bilinear sampling is 1 per output pixel: gradients w.r.t. the image sum to H*W.
  EXPECT_NEAR(img.grad().sum().item<double>(), 36.0, 1e-3);
  EXPECT_GT(flow.grad().abs().sum().item<double>(), 0.0);
}

TEST(Warp, RejectsMismatchedShapes) {
  EXPECT_THROW(warp(torch::rand({1, 3, 4, 4}), torch::rand({1, 2, 4, 5})), Error);
  EXPECT_THROW(warp(torch::rand({1, 3, 4, 4}), torch::rand({1, 3, 4, 4})), Error);
  EXPECT_THROW(warp(torch::rand({2, 3, 4, 4}), torch::rand({1, 2, 4, 4})), Error);
}

TEST(Confidence, Eq4AgainstHandComputedValues) {
  // Two channels, three pixels. |a-b| per channel: (0.01, 0.03) -> mean 0.02 -> 1 - 15*0.02 = 0.7;
  // (0, 0) -> 1; (0.1, 0.1) -> 1 - 1.5 < 0 -> 0.
  const auto a = torch::tensor({0.50f, 0.2f, 0.1f, 0.20f, -0.3f, 0.0f}).view({1, 2, 1, 3});
  const auto b = torch::tensor({0.51f, 0.2f, 0.2f, 0.17f, -0.3f, -0.1f}).view({1, 2, 1, 3});
  const auto w = confidence(a, b);
  ASSERT_EQ(w.sizes(), (std::vector<int64_t>{1, 1, 1, 3}));
  EXPECT_NEAR(px(w, 0, 0, 0, 0), 0.7f, 1e-5);
  EXPECT_NEAR(px(w, 0, 0, 0, 1), 1.0f, 1e-6);
  EXPECT_EQ(px(w, 0, 0, 0, 2), 0.0f);
  // alpha is honoured: alpha 5 -> 1 - 5*0.02 = 0.9, 1 - 5*0.1 = 0.5.
  const auto w5 = confidence(a, b, 5.0);
  EXPECT_NEAR(px(w5, 0, 0, 0, 0), 0.9f, 1e-5);
  EXPECT_NEAR(px(w5, 0, 0, 0, 2), 0.5f, 1e-5);
  EXPECT_THROW(confidence(a, b.view({1, 1, 2, 3})), Error);
}

TEST(OcclusionMask, ConsistentFlowsAreValidInconsistentAreNot) {
  const int64_t h = 6, w = 8;
  const auto fst = constant_flow(1, h, w, 3.0, 1.0);
  EXPECT_TRUE(occlusion_mask(fst, constant_flow(1, h, w, -3.0, -1.0)).eq(1).all().item<bool>());
  // Same direction both ways: |F + B|^2 = 40 >= 0.01 * 20 + 0.5.
  EXPECT_TRUE(occlusion_mask(fst, constant_flow(1, h, w, 3.0, 1.0)).eq(0).all().item<bool>());
}

TEST(OcclusionMask, ThresholdMatchesSundaram) {
  const int64_t h = 4, w = 4;
  const auto zero = torch::zeros({1, 2, h, w});
  // F = 0, B = (0.6, 0): 0.36 < 0.01 * 0.36 + 0.5 -> valid.
  EXPECT_TRUE(occlusion_mask(zero, constant_flow(1, h, w, 0.6, 0)).eq(1).all().item<bool>());
  // F = 0, B = (1, 0): 1 >= 0.51 -> invalid.
  EXPECT_TRUE(occlusion_mask(zero, constant_flow(1, h, w, 1.0, 0)).eq(0).all().item<bool>());
  // The bound grows with the motion: F = (20, 0), B = (-19, 0): 1 < 0.01 * (400 + 361) + 0.5.
  EXPECT_TRUE(occlusion_mask(constant_flow(1, h, w, 20, 0), constant_flow(1, h, w, -19, 0))
                  .eq(1)
                  .all()
                  .item<bool>());
}

TEST(OcclusionMask, FlagsOnlyThePixelsWhoseBackwardFlowDisagrees) {
  const int64_t h = 6, w = 10;
  const auto fst = constant_flow(1, h, w, 2.0, 0.0);
  auto fts = constant_flow(1, h, w, -2.0, 0.0);
  // Pixels of t at column 7 point elsewhere; pixels of s at column 5 land on them.
  fts.index_put_({0, 0, torch::indexing::Slice(), 7}, 3.0f);
  const auto m = occlusion_mask(fst, fts);
  ASSERT_EQ(m.sizes(), (std::vector<int64_t>{1, 1, h, w}));
  for (int64_t x = 0; x < w; ++x)
    for (int64_t y = 0; y < h; ++y) {
      // Column 8 and 9 land at 10, 11 -> clamped to column 9, which is consistent.
      EXPECT_EQ(px(m, 0, 0, y, x), x == 5 ? 0.0f : 1.0f) << "x" << x;
    }
}

TEST(ResizeFlow, ScalesVectorsPerAxis) {
  const auto f = constant_flow(1, 8, 10, 2.0, 3.0);
  const auto r = resize_flow(f, 16, 5);
  ASSERT_EQ(r.sizes(), (std::vector<int64_t>{1, 2, 16, 5}));
  EXPECT_TRUE(r.select(1, 0).sub(1.0).abs().max().item<float>() < 1e-5);  // 2 * 5/10
  EXPECT_TRUE(r.select(1, 1).sub(6.0).abs().max().item<float>() < 1e-5);  // 3 * 16/8
  EXPECT_TRUE(torch::equal(resize_flow(f, 8, 10), f));
  EXPECT_THROW(resize_flow(f, 0, 5), Error);
}

TEST(ResizeFlow, ResamplesWithHalfPixelCentres) {
  // dx = 0.5 * x on 8 columns, upsampled to 16: new column j sits at old (j + 0.5)/2 - 0.5,
  // where the field is 0.5 * that, and the vector doubles: (j + 0.5)/2 - 0.5 (edges clamp).
  auto f = torch::zeros({1, 2, 1, 8});
  f.select(1, 0).copy_(torch::arange(8).to(torch::kFloat).mul(0.5).view({1, 1, 8}));
  const auto r = resize_flow(f, 1, 16);
  for (int64_t j = 1; j < 15; ++j)
    EXPECT_NEAR(px(r, 0, 0, 0, j), (j + 0.5) / 2.0 - 0.5, 1e-5) << "j" << j;
}

// The CPU kernel (float32) against the same definition in LibTorch ops on random flows that
// leave the frame, batches and odd sizes; gradients keep the LibTorch path.
TEST(OcclusionMask, CpuKernelMatchesTheDefinition) {
  torch::manual_seed(11);
  for (auto size : {std::vector<int64_t>{1, 2, 240, 427}, std::vector<int64_t>{2, 2, 5, 3},
                    std::vector<int64_t>{1, 2, 1, 1}}) {
    // A smooth field (so B read at x + F(x) is near -F(x)) that leaves the frame in places.
    const torch::Tensor f = torch::nn::functional::interpolate(
        torch::randn({size[0], 2, 3, 3}) * 3.0, torch::nn::functional::InterpolateFuncOptions()
                                                    .size(std::vector<int64_t>{size[2], size[3]})
                                                    .mode(torch::kBilinear)
                                                    .align_corners(false));
    // The backward flow: roughly -f (consistent) plus noise, so both outcomes occur.
    const torch::Tensor b = -f + torch::randn(size) * 0.6;
    const torch::Tensor fast = occlusion_mask(f, b);
    const torch::Tensor back = warp(b, f);
    const torch::Tensor ref =
        (f + back)
            .pow(2)
            .sum(1, true)
            .lt(0.01 * (f.pow(2).sum(1, true) + back.pow(2).sum(1, true)) + 0.5)
            .to(torch::kFloat32);
    ASSERT_EQ(fast.sizes(), ref.sizes());
    // Values within float rounding of the bound may fall either way.
    EXPECT_LE((fast - ref).abs().sum().item<double>(), 2.0 + 1e-4 * ref.numel());
    if (ref.numel() > 1000) {
      const double valid = ref.mean().item<double>();
      EXPECT_GT(valid, 0.1);
      EXPECT_LT(valid, 0.9);
    }
  }
  const torch::Tensor nan_flow = torch::full({1, 2, 3, 3}, std::nan(""));
  EXPECT_EQ(occlusion_mask(nan_flow, torch::zeros({1, 2, 3, 3})).sum().item<double>(), 0.0);
}
