// Metrics against values worked out by hand (the arithmetic is in the comments) and, for
// SSIM, against a direct per-window evaluation of Wang et al.'s formula.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "vidcolor/eval/clip_metrics.hpp"
#include "vidcolor/core/error.hpp"
#include "vidcolor/eval/metrics.hpp"

using namespace vidcolor;

namespace {

torch::Tensor filled(double v, int64_t h = 16, int64_t w = 16) {
  return torch::full({3, h, w}, v, torch::kDouble);
}

}  // namespace

// --- PSNR ------------------------------------------------------------------------------

TEST(Psnr, KnownMseGivesKnownPsnr) {
  // Every sample off by 0.1: MSE = 0.01, PSNR = 10 log10(1 / 0.01) = 20 dB.
  EXPECT_NEAR(mse(filled(0.5), filled(0.6)), 0.01, 1e-9);
  EXPECT_NEAR(psnr(filled(0.5), filled(0.6)), 20.0, 1e-5);
  // Off by 1/255 (one 8-bit step): 10 log10(255^2) = 48.1308 dB.
  EXPECT_NEAR(psnr(filled(0.0), filled(1.0 / 255.0)), 48.1308036, 1e-4);
}

TEST(Psnr, IsTheMeanOfPerImagePsnr) {
  // Image 0 at MSE 1e-2 (20 dB), image 1 at MSE 1e-4 (40 dB): mean 30 dB. The PSNR of the
  // pooled MSE would be 10 log10(1 / 0.00505) = 22.97 dB instead.
  auto a = torch::stack({filled(0.5), filled(0.5)});
  auto b = torch::stack({filled(0.6), filled(0.51)});
  EXPECT_NEAR(psnr(a, b), 30.0, 1e-4);
}

TEST(Psnr, IdenticalImagesAreCapped) {
  const auto x = torch::rand({2, 3, 8, 8});
  EXPECT_EQ(psnr(x, x), kPsnrCapDb);
  EXPECT_TRUE(std::isfinite(psnr(x, x)));
}

TEST(Psnr, RejectsMismatchedOrMalformedInput) {
  EXPECT_THROW(psnr(filled(0.5, 8, 8), filled(0.5, 8, 9)), Error);
  EXPECT_THROW(psnr(torch::zeros({1, 8, 8}), torch::zeros({1, 8, 8})), Error);
}

// --- SSIM ------------------------------------------------------------------------------

TEST(Ssim, IdenticalIsOne) {
  const auto x = torch::rand({2, 3, 20, 24});
  EXPECT_NEAR(ssim(x, x), 1.0, 1e-12);
}

TEST(Ssim, ConstantImagesReduceToTheLuminanceTerm) {
  // No variance anywhere: SSIM = (2 a b + C1) / (a^2 + b^2 + C1) with C1 = 0.01^2:
  // (2 * 0.2 * 0.6 + 1e-4) / (0.04 + 0.36 + 1e-4) = 0.2401 / 0.4001 = 0.600099975.
  EXPECT_NEAR(ssim(filled(0.2), filled(0.6)), 0.2401 / 0.4001, 1e-9);
}

TEST(Ssim, MatchesDirectWindowFormula) {
  // The formula evaluated window by window with the 11x11 Gaussian (sigma 1.5), valid
  // positions only, per channel, then averaged.
  torch::manual_seed(3);
  const int64_t h = 14, w = 13;
  const auto x = torch::rand({3, h, w}, torch::kDouble);
  const auto y = (x * 0.7 + 0.3 * torch::rand({3, h, w}, torch::kDouble)).clamp(0, 1);
  double g[11], gsum = 0;
  for (int i = 0; i < 11; ++i) gsum += g[i] = std::exp(-(i - 5) * (i - 5) / (2 * 1.5 * 1.5));
  const auto xa = x.accessor<double, 3>();
  const auto ya = y.accessor<double, 3>();
  double total = 0;
  int count = 0;
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i + 11 <= h; ++i)
      for (int j = 0; j + 11 <= w; ++j) {
        double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
        for (int u = 0; u < 11; ++u)
          for (int v = 0; v < 11; ++v) {
            const double wt = g[u] * g[v] / (gsum * gsum);
            const double a = xa[c][i + u][j + v], b = ya[c][i + u][j + v];
            mx += wt * a;
            my += wt * b;
            sxx += wt * a * a;
            syy += wt * b * b;
            sxy += wt * a * b;
          }
        const double vx = sxx - mx * mx, vy = syy - my * my, cxy = sxy - mx * my;
        const double c1 = 1e-4, c2 = 9e-4;
        total += (2 * mx * my + c1) * (2 * cxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2));
        ++count;
      }
  const double expected = total / count;
  EXPECT_LT(expected, 0.99);  // the case is not trivial
  EXPECT_NEAR(ssim(y, x), expected, 1e-9);
  EXPECT_NEAR(ssim(x.to(torch::kFloat), y.to(torch::kFloat)), expected, 1e-5);
}

TEST(Ssim, RejectsImagesSmallerThanTheWindow) {
  EXPECT_THROW(ssim(filled(0.5, 10, 20), filled(0.5, 10, 20)), Error);
}

// --- Colorfulness ----------------------------------------------------------------------

TEST(Colorfulness, GrayIsZero) {
  const auto gray = torch::rand({2, 1, 9, 7}).expand({2, 3, 9, 7});
  EXPECT_NEAR(colorfulness(gray), 0.0, 1e-9);
}

TEST(Colorfulness, TwoPixelImageByHand) {
  // Pixels (255, 0, 0) and (0, 0, 255):
  //   rg = R - G = {255, 0}: mean 127.5, population sd 127.5
  //   yb = (R + G)/2 - B = {127.5, -255}: mean -63.75, sd 191.25
  //   M = sqrt(127.5^2 + 191.25^2) + 0.3 sqrt(127.5^2 + 63.75^2)
  //     = 229.8539 + 0.3 * 142.5493 = 272.6187
  auto img = torch::zeros({3, 1, 2});
  img[0][0][0] = 1.0;  // red
  img[2][0][1] = 1.0;  // blue
  EXPECT_NEAR(colorfulness(img), 272.61869388, 1e-4);
}

// --- CDC -------------------------------------------------------------------------------

TEST(Cdc, JsDivergenceByHand) {
  Histogram p{}, q{};
  // Disjoint supports: JS = ln 2.
  p[0] = 1.0;
  q[255] = 1.0;
  EXPECT_NEAR(js_divergence(p, q), std::log(2.0), 1e-12);
  // p = (1/2, 1/2), q = (1, 0), m = (3/4, 1/4):
  //   KL(p||m) = 1/2 ln(2/3) + 1/2 ln 2 = 1/2 ln(4/3);  KL(q||m) = ln(4/3)
  //   JS = 1/4 ln(4/3) + 1/2 ln(4/3) = 3/4 ln(4/3) = 0.2157616
  Histogram a{}, b{};
  a[0] = a[1] = 0.5;
  b[0] = 1.0;
  EXPECT_NEAR(js_divergence(a, b), 0.75 * std::log(4.0 / 3.0), 1e-12);
  EXPECT_NEAR(js_divergence(b, a), js_divergence(a, b), 1e-15);
  EXPECT_EQ(js_divergence(a, a), 0.0);
}

TEST(Cdc, HistogramsQuantiseToEightBit) {
  auto f = torch::zeros({3, 2, 2});
  f[0][0][0] = 1.0 / 255.0;  // bin 1
  f[0][0][1] = 1.0;          // bin 255
  f[1].fill_(0.5);           // round(127.5) = 128
  const auto h = channel_histograms(f);
  EXPECT_DOUBLE_EQ(h[0][0], 0.5);
  EXPECT_DOUBLE_EQ(h[0][1], 0.25);
  EXPECT_DOUBLE_EQ(h[0][255], 0.25);
  EXPECT_DOUBLE_EQ(h[1][128], 1.0);
  EXPECT_DOUBLE_EQ(h[2][0], 1.0);
}

TEST(Cdc, IdenticalFramesScoreZero) {
  const auto frame = torch::rand({3, 12, 10});
  EXPECT_EQ(cdc(frame.unsqueeze(0).expand({6, 3, 12, 10})), 0.0);
}

TEST(Cdc, HandMadeClip) {
  // A: every channel all 0 -> histogram (1, 0, ...). B: half the pixels 1/255 -> (1/2, 1/2).
  // JS(A, B) = j = 3/4 ln(4/3) per channel (see JsDivergenceByHand).
  auto a = torch::zeros({3, 4, 4});
  auto b = torch::zeros({3, 4, 4});
  b.narrow(1, 0, 2).fill_(1.0 / 255.0);
  const double j = 0.75 * std::log(4.0 / 3.0);
  // Two frames A B: only k = 1 has a pair -> CDC = j (weights renormalised).
  EXPECT_NEAR(cdc(torch::stack({a, b})), j, 1e-12);
  // Frames A A B A A:
  //   k = 1: pairs (A,A) (A,B) (B,A) (A,A) -> j/2
  //   k = 2: pairs (0,2)=(A,B) (1,3)=(A,A) (2,4)=(B,A) -> 2j/3
  //   k = 4: pair (0,4)=(A,A) -> 0
  //   CDC = 1/3 (j/2 + 2j/3 + 0) = 7j/18
  EXPECT_NEAR(cdc(torch::stack({a, a, b, a, a})), 7.0 * j / 18.0, 1e-12);
}

TEST(Cdc, AccumulatorMatchesBatchAndNeedsTwoFrames) {
  const auto clip = torch::rand({7, 3, 6, 5});
  CdcAccumulator acc;
  EXPECT_TRUE(std::isnan(acc.value()));
  acc.add(clip[0]);
  EXPECT_TRUE(std::isnan(acc.value()));
  acc.add(clip.narrow(0, 1, 6));
  EXPECT_EQ(acc.frames(), 7u);
  EXPECT_DOUBLE_EQ(acc.value(), cdc(clip));
  EXPECT_GT(acc.value(), 0.0);
}

// --- Warp error ------------------------------------------------------------------------

TEST(WarpError, PerfectlyWarpedSequenceIsZero) {
  // frame_t(x) = I(x + t): the content moves one pixel left per frame, so pixel x of frame t
  // sits at x + 1 in frame t - 1: F_{t->t-1} = (+1, 0), F_{t-1->t} = (-1, 0). I is constant
  // from column W-2 on, so the clamped right border warps exactly too.
  torch::manual_seed(5);
  const int64_t t = 4, h = 9, w = 12;
  auto base = torch::rand({3, h, w + t}, torch::kDouble);
  base.narrow(2, w - 2, t + 2).copy_(base.narrow(2, w - 2, 1).expand({3, h, t + 2}));
  std::vector<torch::Tensor> frames;
  for (int64_t i = 0; i < t; ++i) frames.push_back(base.narrow(2, i, w));
  const auto clip = torch::stack(frames);
  auto back = torch::zeros({t - 1, 2, h, w}, torch::kDouble);
  back.select(1, 0).fill_(1.0);
  const auto fwd = -back;
  EXPECT_NEAR(warp_error(clip, back, fwd), 0.0, 1e-12);
  // Without the motion compensation the same clip is far from 0.
  EXPECT_GT(warp_error(clip, torch::zeros_like(back), torch::zeros_like(back)), 1e-3);
}

TEST(WarpError, MaskedPairByHand) {
  // Zero flow; cur = prev + 0.1 on the left half, + 0.3 on the right half.
  const auto prev = torch::rand({3, 6, 8}) * 0.5;
  auto cur = prev.clone();
  cur.narrow(2, 0, 4).add_(0.1);
  cur.narrow(2, 4, 4).add_(0.3);
  const auto flow = torch::zeros({1, 2, 6, 8});
  auto mask = torch::zeros({1, 1, 6, 8});
  mask.narrow(3, 0, 4).fill_(1.0);
  // Only the left half counts: mean of 0.1^2 over its pixels and channels = 0.01.
  EXPECT_NEAR(warp_error_pair(prev, cur, flow, mask), 0.01, 1e-6);
  // Everything counts: (0.01 + 0.09) / 2 = 0.05.
  EXPECT_NEAR(warp_error_pair(prev, cur, flow, torch::ones({1, 1, 6, 8})), 0.05, 1e-6);
  // No valid pixel: 0, as the reference script.
  EXPECT_EQ(warp_error_pair(prev, cur, flow, torch::zeros({1, 1, 6, 8})), 0.0);
}

TEST(WarpError, ClipIsTheMeanOverPairs) {
  // Static flow (all pixels consistent); steps of 0.1 then 0.2: (0.01 + 0.04) / 2 = 0.025.
  const auto f0 = torch::full({3, 5, 5}, 0.2, torch::kDouble);
  const auto clip = torch::stack({f0, f0 + 0.1, f0 + 0.3});
  const auto zero = torch::zeros({2, 2, 5, 5}, torch::kDouble);
  // (The warp samples in float, so frame values carry float rounding, ~1e-8 relative.)
  EXPECT_NEAR(warp_error(clip, zero, zero), 0.025, 1e-7);
  EXPECT_TRUE(
      std::isnan(warp_error(clip.narrow(0, 0, 1), zero.narrow(0, 0, 0), zero.narrow(0, 0, 0))));
  EXPECT_THROW(warp_error(clip, zero.narrow(0, 0, 1), zero), Error);
}

// --- ClipMetrics -----------------------------------------------------------------------

TEST(ClipMetrics, AccumulatesLikeTheMetricsOnTheWholeClip) {
  torch::manual_seed(9);
  const int64_t t = 5, h = 16, w = 18;
  const auto gt = torch::rand({t, 3, h, w}, torch::kDouble);
  const auto gray = (0.299 * gt.select(1, 0) + 0.587 * gt.select(1, 1) + 0.114 * gt.select(1, 2))
                        .unsqueeze(1)
                        .expand({t, 3, h, w});
  auto back = torch::zeros({t - 1, 2, h, w}, torch::kDouble);
  back.select(1, 0).fill_(0.5);
  const auto fwd = -back;
  ClipMetrics m({"gray", "gt"});
  for (int64_t i = 0; i < t; ++i) {
    const auto b = i ? back.narrow(0, i - 1, 1) : torch::Tensor();
    const auto f = i ? fwd.narrow(0, i - 1, 1) : torch::Tensor();
    m.add(gt[i], {gray[i], gt[i]}, b, f);
  }
  EXPECT_EQ(m.frames(), 5u);
  const auto g = m.scores(0);
  EXPECT_NEAR(g.psnr, psnr(gray, gt), 1e-9);
  EXPECT_NEAR(g.ssim, ssim(gray, gt), 1e-9);
  EXPECT_NEAR(g.cdc, cdc(gray), 1e-12);
  EXPECT_NEAR(g.warp_error, warp_error(gray, back, fwd), 1e-12);
  EXPECT_NEAR(g.colorfulness, 0.0, 1e-9);
  // The ground truth as a variant: perfect fidelity, the ground truth's own temporal scores.
  const auto s = m.scores(1);
  const auto ref = m.ground_truth_scores();
  EXPECT_EQ(s.psnr, kPsnrCapDb);
  EXPECT_NEAR(s.ssim, 1.0, 1e-12);
  EXPECT_EQ(s.cdc, ref.cdc);
  EXPECT_EQ(s.warp_error, ref.warp_error);
  EXPECT_NEAR(ref.warp_error, warp_error(gt, back, fwd), 1e-12);
  EXPECT_NEAR(ref.colorfulness, colorfulness(gt), 1e-9);
}

TEST(ClipMetrics, RejectsMalformedFrames) {
  ClipMetrics m({"a"});
  const auto f = torch::rand({3, 12, 12});
  EXPECT_THROW(m.add(f, {}, {}, {}), Error);
  m.add(f, {f}, {}, {});
  // The second frame needs flows, and the same size.
  EXPECT_THROW(m.add(f, {f}, {}, {}), Error);
  const auto z = torch::zeros({1, 2, 12, 12});
  EXPECT_THROW(m.add(torch::rand({3, 12, 13}), {torch::rand({3, 12, 13})}, z, z), Error);
  m.add(f, {f}, z, z);
  EXPECT_EQ(m.frames(), 2u);
  EXPECT_NEAR(m.scores(0).warp_error, 0.0, 1e-12);
}
