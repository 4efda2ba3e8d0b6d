// The colour metrics (colour_metrics.hpp) against values computed by hand on frames of a few
// pixels whose Lab values are known: sRGB red is L 53.24, a 80.09, b 67.20 (chroma
// sqrt(80.09^2 + 67.20^2) = 104.55, in the ab bin (80, 70)); any gray has a = b = 0.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>
#include <cmath>
#include <vector>

#include "vidcolor/core/error.hpp"
#include "vidcolor/eval/colour_metrics.hpp"
#include "vidcolor/model/ab_bins.hpp"

using namespace vidcolor;

namespace {

constexpr double kRedA = 80.0925, kRedB = 67.2032;   // sRGB (1, 0, 0), D65
const double kRedChroma = std::hypot(kRedA, kRedB);  // 104.552: passes thresholds 105..150

// A [1,3,1,W] frame from a list of R'G'B' pixels.
torch::Tensor frame(const std::vector<std::array<double, 3>>& px) {
  auto t = torch::empty({1, 3, 1, static_cast<int64_t>(px.size())}, torch::kDouble);
  for (size_t i = 0; i < px.size(); ++i)
    for (int c = 0; c < 3; ++c) t[0][c][0][static_cast<int64_t>(i)] = px[i][c];
  return t.to(torch::kFloat);
}

const std::array<double, 3> kRed{1, 0, 0};
std::array<double, 3> gray(double v) { return {v, v, v}; }

// Zhang's rebalancing weight of a bin with prior p (mix 0.5 with uniform over 313 bins), up to
// the common scale, which cancels in the weighted AuC.
double weight(double p) { return 1.0 / (0.5 * p + 0.5 / 313.0); }

}  // namespace

TEST(ColourMetrics, PerfectPredictionScoresOne) {
  torch::manual_seed(3);
  const auto truth = torch::rand({2, 3, 8, 9});
  ColourAccumulator acc;
  acc.add_frame(truth, truth);
  const ColourScores s = acc.scores();
  EXPECT_EQ(s.frames, 2);
  EXPECT_EQ(s.pixels, 2 * 8 * 9);
  EXPECT_DOUBLE_EQ(s.auc, 1.0);
  EXPECT_DOUBLE_EQ(s.auc_rebalanced, 1.0);
  EXPECT_DOUBLE_EQ(s.chroma_spread_ratio, 1.0);
  EXPECT_DOUBLE_EQ(s.colorfulness_ratio, 1.0);
  EXPECT_DOUBLE_EQ(s.chroma_spread, s.chroma_spread_gt);
  EXPECT_DOUBLE_EQ(s.tint, s.tint_gt);
}

// Truth red, gray, gray; prediction three grays (none the truth's gray). Errors: 104.55 (passes
// t = 105..150: 46 of 151 thresholds), 0 and 0 (a neutral pixel has a = b = 0 exactly, whatever
// its lightness, so both pass every threshold).
TEST(ColourMetrics, AucOfThreePixelsByHand) {
  const auto truth = frame({kRed, gray(0.5), gray(0.5)});
  const auto pred = frame({gray(0.3), gray(0.2), gray(0.9)});
  ColourAccumulator acc;
  acc.add_frame(pred, truth);
  const ColourScores s = acc.scores();
  // Raw: c(t) = (2 + [t >= 105]) / 3, mean over 151 thresholds.
  EXPECT_NEAR(s.auc, (2.0 * 151 + 46) / (3.0 * 151), 1e-12);
  // Rebalanced: the truth's prior is 1/3 in bin (80, 70), 2/3 in bin (0, 0).
  const double wr = weight(1.0 / 3), wg = weight(2.0 / 3);
  EXPECT_NEAR(s.auc_rebalanced, (46 * wr + 151 * 2 * wg) / (151 * (wr + 2 * wg)), 1e-6);
  EXPECT_LT(s.auc_rebalanced, s.auc);  // the rare red pixel, which failed, counts more
  // The histogram behind it: red's bin has its pixel at ceil(e) = 105, gray's two at 0.
  const auto centres = ab_bin_centres();
  const auto h = acc.error_histogram();
  int64_t red_bin = -1, gray_bin = -1;
  for (int64_t q = 0; q < kAbBinCount; ++q) {
    if (centres[q][0].item<float>() == 80 && centres[q][1].item<float>() == 70) red_bin = q;
    if (centres[q][0].item<float>() == 0 && centres[q][1].item<float>() == 0) gray_bin = q;
  }
  ASSERT_GE(red_bin, 0);
  ASSERT_GE(gray_bin, 0);
  EXPECT_EQ(h[red_bin][105].item<double>(), 1.0);
  EXPECT_EQ(h[gray_bin][0].item<double>(), 2.0);
  EXPECT_EQ(h.sum().item<double>(), 3.0);
}

TEST(ColourMetrics, AucFromHandMadeHistograms) {
  auto h = torch::zeros({kAbBinCount, kAucMaxError + 2}, torch::kDouble);
  h[7][kAucMaxError + 1] = 4;  // every error above 150
  EXPECT_DOUBLE_EQ(auc_from_histogram(h), 0.0);
  h.zero_();
  h[7][kAucMaxError] = 1;  // e in (149, 150]: passes t = 150 only
  EXPECT_NEAR(auc_from_histogram(h), 1.0 / 151, 1e-15);
  h[9][0] = 1;  // plus one exact pixel in another bin
  EXPECT_NEAR(auc_from_histogram(h), (1.0 + 151) / (2 * 151), 1e-15);
  auto w = torch::ones({kAbBinCount}, torch::kDouble);
  w[7] = 3;  // bin 7 weighs 3: (3 * 1 + 151) / (4 * 151)
  EXPECT_NEAR(auc_from_histogram(h, w), (3.0 + 151) / (4 * 151), 1e-15);
  EXPECT_TRUE(std::isnan(auc_from_histogram(torch::zeros_like(h))));
  EXPECT_THROW(auc_from_histogram(torch::zeros({313, 151})), Error);
}

// Spread = sqrt(var a + var b): red and gray -> a in {80.09, 0}, b in {67.20, 0}, each variance
// (x/2)^2, so spread = chroma / 2. Tint = |mean ab| = chroma / 2 as well.
TEST(ColourMetrics, SpreadTintAndRatiosByHand) {
  const auto truth = frame({kRed, gray(0.5)});
  {
    ColourAccumulator self;
    self.add_frame(truth, truth);
    const ColourScores s = self.scores();
    EXPECT_NEAR(s.chroma_spread_gt, kRedChroma / 2, 0.01);
    EXPECT_NEAR(s.tint_gt, kRedChroma / 2, 0.01);
    EXPECT_DOUBLE_EQ(s.chroma_spread_ratio, 1.0);
  }
  {
    ColourAccumulator gray_out;
    gray_out.add_frame(frame({gray(0.4), gray(0.6)}), truth);
    const ColourScores s = gray_out.scores();
    EXPECT_EQ(s.chroma_spread, 0.0);
    EXPECT_EQ(s.chroma_spread_ratio, 0.0);
    EXPECT_EQ(s.tint, 0.0);
    EXPECT_EQ(s.colorfulness, 0.0);
    EXPECT_EQ(s.colorfulness_ratio, 0.0);
    EXPECT_GT(s.colorfulness_gt, 0.0);
  }
  {
    // A constant colour has no spread, and its tint is its chroma; its spread ratio against
    // the red-and-gray truth is 0.
    ColourAccumulator red;
    red.add_frame(frame({kRed, kRed}), truth);
    const ColourScores s = red.scores();
    EXPECT_NEAR(s.tint, kRedChroma, 0.01);
    EXPECT_NEAR(s.chroma_spread, 0.0, 1e-9);
    EXPECT_NEAR(s.chroma_spread_ratio, 0.0, 1e-9);
  }
}

// A gray truth frame has no spread ratio: with only such frames the ratio is NaN; mixed with
// a coloured one, the mean runs over the coloured frames only.
TEST(ColourMetrics, GrayTruthFramesHaveNoSpreadRatio) {
  const auto gray_truth = frame({gray(0.2), gray(0.7)});
  const auto colour_truth = frame({kRed, gray(0.5)});
  ColourAccumulator acc;
  acc.add_frame(colour_truth, gray_truth);
  EXPECT_TRUE(std::isnan(acc.scores().chroma_spread_ratio));
  acc.add_frame(colour_truth, colour_truth);
  EXPECT_DOUBLE_EQ(acc.scores().chroma_spread_ratio, 1.0);
  EXPECT_EQ(acc.scores().frames, 2);
}

// Pooled, not a mean of means: merging two clips' accumulators is adding all their frames to
// one; the rebalancing prior then covers both clips' truth.
TEST(ColourMetrics, MergePoolsFramesAndPrior) {
  const auto t1 = frame({kRed, gray(0.5), gray(0.5)});
  const auto p1 = frame({gray(0.3), gray(0.2), gray(0.9)});
  const auto t2 = frame({gray(0.1)});
  const auto p2 = frame({kRed});
  ColourAccumulator a, b, both;
  a.add_frame(p1, t1);
  b.add_frame(p2, t2);
  both.add_frame(p1, t1);
  both.add_frame(p2, t2);
  ColourAccumulator merged;
  merged.merge(a);
  merged.merge(b);
  EXPECT_TRUE(torch::equal(merged.error_histogram(), both.error_histogram()));
  const ColourScores m = merged.scores(), s = both.scores();
  EXPECT_DOUBLE_EQ(m.auc, s.auc);
  EXPECT_DOUBLE_EQ(m.auc_rebalanced, s.auc_rebalanced);
  EXPECT_DOUBLE_EQ(m.chroma_spread_ratio, s.chroma_spread_ratio);
  EXPECT_EQ(m.frames, 2);
  // Pixels: 2 of 4 pass every threshold, the failed red passes 46, the red on gray passes 46.
  EXPECT_NEAR(m.auc, (2.0 * 151 + 46 + 46) / (4.0 * 151), 1e-12);
  EXPECT_NE(m.auc, (a.scores().auc + b.scores().auc) / 2);
  // Prior 1/4 red, 3/4 gray: the red-truth pixel weighs wr, the three gray-truth ones wg.
  const double wr = weight(0.25), wg = weight(0.75);
  EXPECT_NEAR(m.auc_rebalanced, (46 * wr + (2 * 151 + 46) * wg) / (151 * (wr + 3 * wg)), 1e-6);
}

// A batch [N,3,H,W] scores as its N frames one by one.
TEST(ColourMetrics, BatchIsFramesInOrder) {
  torch::manual_seed(5);
  const auto truth = torch::rand({3, 3, 6, 7}), pred = torch::rand({3, 3, 6, 7});
  ColourAccumulator batch, single;
  batch.add_frame(pred, truth);
  for (int i = 0; i < 3; ++i) single.add_frame(pred[i], truth[i]);
  EXPECT_TRUE(torch::equal(batch.error_histogram(), single.error_histogram()));
  EXPECT_NEAR(batch.scores().chroma_spread_ratio, single.scores().chroma_spread_ratio, 1e-12);
  EXPECT_NEAR(batch.scores().tint, single.scores().tint, 1e-12);
  EXPECT_EQ(batch.scores().frames, 3);
}

// Film mode: no truth -> only spread, tint and colorfulness; truth and no truth never mix.
TEST(ColourMetrics, WithoutTruth) {
  ColourAccumulator film;
  film.add_frame(frame({kRed, kRed}));
  film.add_frame(frame({gray(0.5), gray(0.1)}));
  const ColourScores s = film.scores();
  EXPECT_FALSE(film.has_truth());
  EXPECT_EQ(s.frames, 2);
  EXPECT_NEAR(s.tint, kRedChroma / 2, 0.01);  // mean of 104.55 and 0
  EXPECT_NEAR(s.chroma_spread, 0.0, 1e-9);
  EXPECT_GT(s.colorfulness, 0.0);
  EXPECT_TRUE(std::isnan(s.auc) && std::isnan(s.auc_rebalanced) &&
              std::isnan(s.chroma_spread_ratio));
  EXPECT_TRUE(std::isnan(s.colorfulness_ratio) && std::isnan(s.tint_gt));
  EXPECT_THROW(film.add_frame(frame({kRed}), frame({kRed})), Error);
  ColourAccumulator with_truth;
  with_truth.add_frame(frame({kRed}), frame({kRed}));
  EXPECT_THROW(with_truth.merge(film), Error);
  EXPECT_TRUE(std::isnan(ColourAccumulator().scores().chroma_spread));
}

TEST(ColourMetrics, RejectsMalformedFrames) {
  ColourAccumulator acc;
  EXPECT_THROW(acc.add_frame(torch::rand({1, 1, 4, 4}), torch::rand({1, 1, 4, 4})), Error);
  EXPECT_THROW(acc.add_frame(torch::rand({1, 3, 4, 4}), torch::rand({1, 3, 4, 5})), Error);
  EXPECT_THROW(acc.add_frame(torch::rand({2, 3, 4, 4}), torch::rand({1, 3, 4, 4})), Error);
  EXPECT_THROW(acc.add_frame(torch::full({1, 3, 2, 2}, NAN), torch::rand({1, 3, 2, 2})), Error);
  EXPECT_THROW(acc.add_frame(torch::ones({1, 3, 2, 2}, torch::kInt32)), Error);
  // An output scored against a frame without bins (not from truth_colour_frame).
  EXPECT_THROW(
      acc.add_frame(colour_frame(torch::rand({3, 2, 2})), colour_frame(torch::rand({3, 2, 2}))),
      Error);
}
