// Augmentation of f's input: the gammas' range and symmetry, the curve and its 8-bit
// re-quantisation per sample, the identity at gamma 1; the grains' range, their noise's strength,
// independence and reproducibility; refused arguments.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "vidcolor/core/error.hpp"
#include "vidcolor/train/input_augment.hpp"

using namespace vidcolor;

TEST(ToneAugment, GammasAreLogUniformWithinTheRange) {
  std::mt19937_64 rng(7);
  const std::vector<double> g = draw_tone_gammas(rng, 4000, 2.0);
  ASSERT_EQ(g.size(), 4000u);
  double log_sum = 0;
  int darker = 0;
  for (double x : g) {
    EXPECT_GE(x, 0.5);
    EXPECT_LE(x, 2.0);
    log_sum += std::log(x);
    darker += x > 1;
  }
  // log-uniform on [-ln 2, ln 2]: mean 0 (sd of the mean ~0.006), half above 1.
  EXPECT_NEAR(log_sum / g.size(), 0.0, 0.03);
  EXPECT_NEAR(darker / 4000.0, 0.5, 0.04);
  // Both ends are reached: the draw spans the range, not a sliver of it.
  EXPECT_LT(*std::min_element(g.begin(), g.end()), 0.52);
  EXPECT_GT(*std::max_element(g.begin(), g.end()), 1.9);
}

TEST(ToneAugment, OffDrawsNothing) {
  std::mt19937_64 rng(7), untouched(7);
  const std::vector<double> g = draw_tone_gammas(rng, 5, 1.0);
  EXPECT_EQ(g, std::vector<double>(5, 1.0));
  EXPECT_EQ(rng(), untouched());  // the generator was not advanced
}

TEST(ToneAugment, SameGeneratorSameGammas) {
  std::mt19937_64 a(11), b(11), c(12);
  const auto ga = draw_tone_gammas(a, 8, 1.5);
  EXPECT_EQ(ga, draw_tone_gammas(b, 8, 1.5));
  EXPECT_NE(ga, draw_tone_gammas(c, 8, 1.5));
}

TEST(ToneAugment, EachSampleGetsItsCurveOnTheEightBitSteps) {
  // Two samples [2,1,1,3]: 0, 0.5, 1 and 0.2, 0.4, 0.8.
  const torch::Tensor y = torch::tensor({0.0f, 0.5f, 1.0f, 0.2f, 0.4f, 0.8f}).view({2, 1, 1, 3});
  const torch::Tensor out = apply_tone_gammas(y, {2.0, 0.5});
  ASSERT_EQ(out.sizes(), y.sizes());
  const auto q = [](double v) { return std::round(v * 255.0) / 255.0; };
  const std::vector<double> want = {
      0.0, q(0.25), 1.0, q(std::sqrt(0.2)), q(std::sqrt(0.4)), q(std::sqrt(0.8))};
  const torch::Tensor flat = out.flatten();
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(flat[static_cast<int64_t>(i)].item<double>(), want[i], 1e-6) << i;
  // Gamma > 1 darkens the mid-tones, < 1 lifts them; black and white stay.
  EXPECT_LT(out[0][0][0][1].item<double>(), 0.5);
  EXPECT_GT(out[1][0][0][0].item<double>(), 0.2);
}

TEST(ToneAugment, PairsShareOneCurveAcrossTheirFrames) {
  // [B,2,1,H,W]: both frames of a pair take the sample's gamma.
  const torch::Tensor y = torch::full({2, 2, 1, 2, 2}, 0.5);
  const torch::Tensor out = apply_tone_gammas(y, {2.0, 1.0});
  EXPECT_TRUE(torch::equal(out[0][0], out[0][1]));
  EXPECT_NEAR(out[0][0][0][0][0].item<double>(), std::round(0.25 * 255) / 255, 1e-6);
  EXPECT_TRUE(torch::equal(out[1], y[1]));
}

TEST(ToneAugment, GammaOneIsTheInputItself) {
  const torch::Tensor y = torch::rand({3, 1, 4, 4});
  const torch::Tensor out = apply_tone_gammas(y, {1.0, 1.0, 1.0});
  EXPECT_TRUE(out.is_same(y));  // no copy, no re-quantisation: a run without it is unchanged
}

TEST(ToneAugment, RefusesBadArguments) {
  std::mt19937_64 rng(1);
  EXPECT_THROW(draw_tone_gammas(rng, 2, 0.5), Error);
  EXPECT_THROW(draw_tone_gammas(rng, 2, 5.0), Error);
  EXPECT_THROW(draw_tone_gammas(rng, 2, std::nan("")), Error);
  const torch::Tensor y = torch::rand({2, 1, 2, 2});
  EXPECT_THROW(apply_tone_gammas(y, {1.5}), Error);
  EXPECT_THROW(apply_tone_gammas(y, {1.5, 0.0}), Error);
  EXPECT_THROW(apply_tone_gammas(y, {1.5, -1.0}), Error);
}

TEST(GrainAugment, SigmasAreUniformWithinTheRangeAndOffDrawsNothing) {
  std::mt19937_64 rng(3);
  const std::vector<Grain> g = draw_grains(rng, 2000, 0.08);
  double sum = 0;
  for (const Grain& x : g) {
    EXPECT_GE(x.sigma, 0.0);
    EXPECT_LT(x.sigma, 0.08);
    sum += x.sigma;
  }
  EXPECT_NEAR(sum / g.size(), 0.04, 0.003);  // uniform: mean 0.04, sd of the mean ~0.0005
  EXPECT_NE(g[0].seed, g[1].seed);
  std::mt19937_64 a(3), untouched(3);
  for (const Grain& x : draw_grains(a, 4, 0.0)) EXPECT_EQ(x.sigma, 0.0);
  EXPECT_EQ(a(), untouched());
}

TEST(GrainAugment, NoiseOfTheSigmaOnTheEightBitSteps) {
  // Mid-gray samples: the noise's sd is the sample's sigma; a sigma of 0 leaves its sample.
  const torch::Tensor y = torch::full({3, 1, 64, 64}, 0.5);
  const torch::Tensor out = apply_grains(y, {{0.05, 1}, {0.0, 2}, {0.1, 3}});
  ASSERT_EQ(out.sizes(), y.sizes());
  EXPECT_NEAR((out[0] - 0.5).std().item<double>(), 0.05, 0.004);
  EXPECT_TRUE(torch::equal(out[1], y[1]));
  EXPECT_NEAR((out[2] - 0.5).std().item<double>(), 0.1, 0.006);
  EXPECT_NEAR(out[2].mean().item<double>(), 0.5, 0.01);  // no bias
  for (int64_t b : {0, 2}) EXPECT_TRUE(torch::equal(out[b], (out[b] * 255).round() / 255)) << b;
  EXPECT_GE(out.min().item<double>(), 0.0);
  EXPECT_LE(out.max().item<double>(), 1.0);
}

TEST(GrainAugment, SeededAndIndependentAcrossFrames) {
  const torch::Tensor y = torch::full({1, 2, 1, 16, 16}, 0.5);
  const torch::Tensor a = apply_grains(y, {{0.05, 9}}), b = apply_grains(y, {{0.05, 9}}),
                      c = apply_grains(y, {{0.05, 10}});
  EXPECT_TRUE(torch::equal(a, b));               // the same seed: the same batch on a resume
  EXPECT_FALSE(torch::equal(a, c));              // another seed: other grain
  EXPECT_FALSE(torch::equal(a[0][0], a[0][1]));  // the two frames of a pair: their own grain
  const torch::Tensor clean = torch::rand({2, 1, 4, 4});
  EXPECT_TRUE(apply_grains(clean, {{0.0, 1}, {0.0, 2}}).is_same(clean));
}

TEST(GrainAugment, RefusesBadArguments) {
  std::mt19937_64 rng(1);
  EXPECT_THROW(draw_grains(rng, 2, -0.01), Error);
  EXPECT_THROW(draw_grains(rng, 2, 0.3), Error);
  EXPECT_THROW(draw_grains(rng, 2, std::nan("")), Error);
  EXPECT_THROW(apply_grains(torch::rand({2, 1, 2, 2}), {{0.1, 1}}), Error);
}
