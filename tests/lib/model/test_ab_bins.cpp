// Zhang's 313 ab bins (model/ab_bins.hpp): the table, nearest bins, soft encoding, the
// rebalancing weights and the annealed mean, against values worked out by hand.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "vidcolor/core/error.hpp"
#include "vidcolor/model/ab_bins.hpp"

using namespace vidcolor;

namespace {

// ab [N,2,P,1] from a [P,2] list of points.
torch::Tensor as_ab(const torch::Tensor& points) { return points.t().unsqueeze(0).unsqueeze(-1); }

}  // namespace

// The table is OpenCV's pts_in_hull (samples/dnn/colorization.cpp, Debian's opencv-doc),
// pinned here by its sums (compared entry by entry when this test was written).
TEST(AbBins, CentresAreZhangsHull) {
  const auto c = ab_bin_centres().to(torch::kInt64);
  ASSERT_EQ(c.sizes(), (std::vector<int64_t>{313, 2}));
  const auto a = c.select(1, 0), b = c.select(1, 1);
  EXPECT_EQ(a.sum().item<int64_t>(), 4910);
  EXPECT_EQ(b.sum().item<int64_t>(), 2090);
  EXPECT_EQ((a * b).sum().item<int64_t>(), -348700);
  EXPECT_EQ((a * a).sum().item<int64_t>(), 916500);
  EXPECT_EQ((b * b).sum().item<int64_t>(), 961300);
  EXPECT_EQ(c[0][0].item<int64_t>(), -90);
  EXPECT_EQ(c[0][1].item<int64_t>(), 50);
  EXPECT_EQ(c[312][0].item<int64_t>(), 100);
  EXPECT_EQ(c[312][1].item<int64_t>(), 0);
  EXPECT_EQ(c[120][0].item<int64_t>(), 0);  // the neutral bin
  EXPECT_EQ(c[120][1].item<int64_t>(), 0);
  // All distinct points of the 10-grid.
  EXPECT_EQ(std::get<0>(torch::unique_dim(c, 0)).size(0), 313);
  EXPECT_TRUE(torch::equal(c.remainder(10), torch::zeros_like(c)));
}

TEST(AbBins, NearestBinOfACentreIsItselfAndOfANeighbourhoodToo) {
  const auto c = ab_bin_centres();
  EXPECT_TRUE(torch::equal(ab_nearest_bin(as_ab(c)).flatten(), torch::arange(313)));
  // Points within 4.9 of a centre on each axis are nearest to it (the grid's spacing is 10).
  torch::manual_seed(2);
  const auto jitter = (torch::rand({313, 2}) - 0.5) * 9.8;
  EXPECT_TRUE(torch::equal(ab_nearest_bin(as_ab(c + jitter)).flatten(), torch::arange(313)));
  // Double input too (the metrics' Lab is double), and a batch of frames keeps its shape.
  const auto two = torch::stack({as_ab(c)[0], as_ab(c)[0]}).to(torch::kDouble);
  EXPECT_EQ(ab_nearest_bin(two).sizes(), (std::vector<int64_t>{2, 313, 1}));
  // Outside the hull: the bin nearest to the grid point nearest the pixel, by brute force.
  const auto far = torch::tensor({{-115.f, -115.f}, {112.f, 109.f}, {-100.f, -100.f}});
  const auto got = ab_nearest_bin(as_ab(far)).flatten();
  const auto grid = (far / 10).round().clamp(-11, 11) * 10;
  const auto want = (grid.unsqueeze(1) - c.unsqueeze(0)).pow(2).sum(2).argmin(1);
  EXPECT_TRUE(torch::equal(got, want));
  EXPECT_TRUE(torch::equal(ab_bin_histogram(as_ab(c)), torch::ones({313}, torch::kDouble)));
  EXPECT_THROW(ab_nearest_bin(torch::zeros({1, 3, 2, 2})), Error);
}

// At an interior centre the 5 nearest bins are itself (distance 0) and its 4 grid neighbours
// (distance 10): weights exp(0) and exp(-100 / (2 * 25)) = e^-2, so the centre gets
// 1 / (1 + 4 e^-2) = 0.64879.
TEST(AbBins, SoftEncodingSumsToOneAndPeaksAtTheNearestBin) {
  const auto c = ab_bin_centres();
  const auto enc = ab_soft_encode(as_ab(c[120].unsqueeze(0)));  // (0, 0)
  ASSERT_EQ(enc.sizes(), (std::vector<int64_t>{1, 313, 1, 1}));
  EXPECT_NEAR(enc.sum().item<double>(), 1.0, 1e-6);
  EXPECT_EQ(enc.flatten().argmax().item<int64_t>(), 120);
  EXPECT_NEAR(enc.flatten()[120].item<double>(), 1.0 / (1.0 + 4.0 * std::exp(-2.0)), 1e-6);
  EXPECT_EQ((enc > 0).sum().item<int64_t>(), 5);
  // Points within 4.9 of a centre on each axis: that centre is the nearest, and the peak.
  torch::manual_seed(4);
  const auto pts =
      c.index_select(0, torch::randint(313, {50})) + (torch::rand({50, 2}) - 0.5) * 9.8;
  const auto many = ab_soft_encode(as_ab(pts));
  EXPECT_TRUE(torch::allclose(many.sum(1), torch::ones({1, 50, 1}), 1e-5, 1e-6));
  EXPECT_TRUE(torch::equal(many.argmax(1), ab_nearest_bin(as_ab(pts))));
  EXPECT_THROW(ab_soft_encode(as_ab(pts), 0), Error);
}

// The windowed search must find what comparing with all 313 centres finds: the same distances
// bit for bit, each index at its distance, for points inside the gamut, near its edge, far
// outside it (where the window holds too few bins and the full search takes over), on centres
// and halfway between them (ties); and for every k up to the window's 25 and beyond.
TEST(AbBins, NearestBinsAreExactlyTheFullSearchs) {
  const auto c = ab_bin_centres();
  torch::manual_seed(9);
  const torch::Tensor pts = torch::cat({
      (torch::rand({3000, 2}) - 0.5) * 240,                           // the plane and beyond
      c.index_select(0, torch::randint(313, {200})),                  // on centres
      c.index_select(0, torch::randint(313, {200})) + 5,              // halfway (ties)
      torch::tensor({{-300.f, 0.f}, {0.f, 400.f}, {120.f, -120.f}}),  // far out
  });
  const auto full_d2 = (pts.unsqueeze(1) - c.unsqueeze(0)).pow(2).sum(2);
  for (const int64_t k : {1, 5, 25, 26, 313}) {
    SCOPED_TRACE(k);
    const auto [d2, idx] = ab_nearest_bins(pts, k);
    const auto [ref_d2, ref_idx] = full_d2.topk(k, 1, /*largest=*/false);
    ASSERT_EQ(d2.sizes(), ref_d2.sizes());
    EXPECT_TRUE(torch::equal(d2, ref_d2));
    EXPECT_TRUE(torch::equal(full_d2.gather(1, idx), d2));  // each index is at its distance
    // no bin twice in a row of the result
    const auto sorted = std::get<0>(idx.sort(1));
    if (k > 1) {
      EXPECT_FALSE((sorted.narrow(1, 1, k - 1) == sorted.narrow(1, 0, k - 1)).any().item<bool>());
    }
  }
  EXPECT_THROW(ab_nearest_bins(pts, 0), Error);
  EXPECT_THROW(ab_nearest_bins(pts.view({-1}), 5), Error);
}

TEST(AbBins, AnnealedMeanOfAOneHotLogitIsThatCentre) {
  const auto c = ab_bin_centres();
  auto logits = torch::zeros({1, 313, 1, 2});
  logits[0][283][0][0] = 100;  // (80, 70)
  logits[0][7][0][1] = 100;
  const auto ab = ab_annealed_mean(logits);
  EXPECT_NEAR(ab[0][0][0][0].item<double>(), 80, 1e-3);
  EXPECT_NEAR(ab[0][1][0][0].item<double>(), 70, 1e-3);
  EXPECT_NEAR(ab[0][0][0][1].item<double>(), c[7][0].item<double>(), 1e-3);
  EXPECT_NEAR(ab[0][1][0][1].item<double>(), c[7][1].item<double>(), 1e-3);
  // Equal logits: the mean of all centres at any temperature.
  const auto flat = ab_annealed_mean(torch::zeros({1, 313, 1, 1}), 1.0).flatten();
  EXPECT_TRUE(torch::allclose(flat, c.mean(0), 1e-4, 1e-4));
  EXPECT_THROW(ab_annealed_mean(logits, 0.0), Error);
}

// Two bins 60 apart with p 0.6 and 0.4, radius 20: the Gaussian between them is exp(-60² / (2 ·
// 20²)) = e^-4.5, so the density is 0.6 + 0.4 e^-4.5 = 0.604 at the first, 0.4 + 0.6 e^-4.5 at
// the second, and below 0.55 at every bin between (0.6 e^-0.125 + 0.4 e^-3.125 = 0.547 at the
// nearest): the mode is the first bin, and the mean around it gives the second the weight
// 0.4 e^-4.5 / (0.6 + 0.4 e^-4.5) = 0.0074. The annealed mean gives it 0.4.
TEST(AbBins, ModeMeanOfTwoBinsByHand) {
  const auto c = ab_bin_centres();
  const auto find = [&](double a, double b) {
    return ((c.select(1, 0) - a).abs() + (c.select(1, 1) - b).abs()).argmin().item<int64_t>();
  };
  const int64_t maroon = find(40, 20), navy = find(40, -40);
  ASSERT_LT((c[maroon] - torch::tensor({40.0f, 20.0f})).abs().max().item<float>(), 1e-6f);
  ASSERT_LT((c[navy] - torch::tensor({40.0f, -40.0f})).abs().max().item<float>(), 1e-6f);
  auto logits = torch::full({1, 313, 1, 1}, -1e4);
  logits[0][maroon][0][0] = std::log(0.6);
  logits[0][navy][0][0] = std::log(0.4);
  const double e = std::exp(-4.5), w_navy = 0.4 * e / (0.6 + 0.4 * e);
  const auto ab = ab_mode_mean(logits, 1.0, 20.0).flatten();
  EXPECT_NEAR(ab[0].item<double>(), 40.0, 1e-3);
  EXPECT_NEAR(ab[1].item<double>(), 20.0 - 60.0 * w_navy, 1e-3);
  const auto mean = ab_annealed_mean(logits, 1.0).flatten();
  EXPECT_NEAR(mean[1].item<double>(), 20.0 - 60.0 * 0.4, 1e-3);
  // The weaker bin made the stronger: the mode follows.
  logits[0][navy][0][0] = std::log(0.7);
  EXPECT_NEAR(ab_mode_mean(logits, 1.0, 20.0).flatten()[1].item<double>(),
              -40.0 + 60.0 * (0.6 * e / (0.7 + 0.6 * e)), 1e-3);
}

// Against the definition written out in double precision, pixel by pixel, on random
// distributions at several radii and temperatures.
TEST(AbBins, ModeMeanEqualsTheDenseKernel) {
  const auto c = ab_bin_centres().to(torch::kDouble);
  torch::manual_seed(8);
  const auto logits = torch::randn({2, 313, 3, 5}) * 3;
  for (const double radius : {8.0, 20.0, 45.0})
    for (const double t : {0.5, 1.0}) {
      const auto p =
          torch::softmax(logits.to(torch::kDouble) / t, 1).permute({0, 2, 3, 1}).reshape({-1, 313});
      const auto kernel =
          torch::exp(-(c.unsqueeze(1) - c.unsqueeze(0)).pow(2).sum(2) / (2 * radius * radius));
      const auto mode = torch::matmul(p, kernel).argmax(1);
      const auto w = p * kernel.index_select(0, mode);
      const auto want =
          (torch::matmul(w, c) / w.sum(1, true)).view({2, 3, 5, 2}).permute({0, 3, 1, 2});
      const auto got = ab_mode_mean(logits, t, radius).to(torch::kDouble);
      EXPECT_LT((got - want).abs().max().item<double>(), 1e-3) << "radius " << radius << " T " << t;
    }
}

// The mode is that of the density, not the most probable bin: a blue spread over nine bins (0.6
// in all) beats a single gray bin of 0.4, so the pixel is blue, where the most probable bin is
// gray. A radius far above the gamut gives the annealed mean; bad arguments are refused.
TEST(AbBins, ModeMeanFollowsTheDensityAndTendsToTheMean) {
  const auto c = ab_bin_centres();
  const auto near = [&](double a, double b) {
    return ((c.select(1, 0) - a).pow(2) + (c.select(1, 1) - b).pow(2)).le(15 * 15);
  };
  const auto blue = near(0, -40).nonzero().flatten();  // (0,-40) and its 8 neighbours
  ASSERT_EQ(blue.numel(), 9);
  const auto gray = near(0, 0).logical_and((c.abs().sum(1) == 0)).nonzero().flatten();
  ASSERT_EQ(gray.numel(), 1);
  auto prob = torch::full({313}, 1e-9);
  prob.index_fill_(0, blue, 0.6 / 9);
  prob.index_fill_(0, gray, 0.4);
  const auto logits = prob.log().view({1, 313, 1, 1});
  const auto ab = ab_mode_mean(logits, 1.0, 15.0).flatten();
  EXPECT_NEAR(ab[0].item<double>(), 0.0, 0.5);
  EXPECT_LT(ab[1].item<double>(), -35.0);  // blue, near (0, -40)
  const auto mean = ab_annealed_mean(logits, 1.0).flatten();
  EXPECT_NEAR(mean[1].item<double>(), -24.0, 0.5);  // 0.6 · -40: a dull blue
  // Random distributions: a huge radius is the annealed mean.
  torch::manual_seed(3);
  const auto random = torch::randn({2, 313, 3, 4}) * 2;
  EXPECT_TRUE(
      torch::allclose(ab_mode_mean(random, 0.7, 1e5), ab_annealed_mean(random, 0.7), 1e-3, 1e-3));
  EXPECT_EQ(ab_mode_mean(random, 0.7, 20).sizes(), (std::vector<int64_t>{2, 2, 3, 4}));
  EXPECT_THROW(ab_mode_mean(random, 0.7, 0.0), Error);
  EXPECT_THROW(ab_mode_mean(random, 0.0, 20.0), Error);
  EXPECT_THROW(ab_mode_mean(random.view({2, 313, 12}), 0.7, 20.0), Error);
}

// w ∝ 1 / (0.5 p + 0.5 / 313), scaled so that sum p w = 1: rarer bins weigh more, an empty bin
// most; a uniform prior gives w = 1 everywhere.
TEST(AbBins, RebalanceWeightsHaveExpectationOneAndFavourRareBins) {
  torch::manual_seed(6);
  auto counts = torch::rand({313}, torch::kDouble) * 100;
  counts.slice(0, 0, 20).zero_();
  const auto w = ab_rebalance_weights(counts, 0.5, 0.0).to(torch::kDouble);
  const auto p = counts / counts.sum();
  EXPECT_NEAR((p * w).sum().item<double>(), 1.0, 1e-5);
  // Strictly decreasing in p: sorted by prior, the weights run the other way.
  const auto order = p.argsort();
  const auto ws = w.index_select(0, order);
  EXPECT_TRUE((ws.slice(0, 1) <= ws.slice(0, 0, -1)).all().item<bool>());
  EXPECT_GT(w[0].item<double>(), w[order[-1]].item<double>());
  // By hand: prior 1/4 and 3/4 on two bins: w = k / (0.5 p + 0.5/313).
  auto two = torch::zeros({313}, torch::kDouble);
  two[3] = 1;
  two[5] = 3;
  const auto w2 = ab_rebalance_weights(two).to(torch::kDouble);
  const double u = 0.5 / 313, k = 1.0 / (0.25 / (0.125 + u) + 0.75 / (0.375 + u));
  EXPECT_NEAR(w2[3].item<double>(), k / (0.125 + u), 1e-5);
  EXPECT_NEAR(w2[5].item<double>(), k / (0.375 + u), 1e-5);
  EXPECT_NEAR(w2[0].item<double>(), k / u, 1e-2);
  EXPECT_TRUE(torch::allclose(ab_rebalance_weights(torch::ones({313})), torch::ones({313})));
  // Zhang's smoothed prior: still positive and finite.
  const auto ws5 = ab_rebalance_weights(counts, 0.5, 5.0);
  EXPECT_TRUE((ws5 > 0).all().item<bool>() && torch::isfinite(ws5).all().item<bool>());
  EXPECT_THROW(ab_rebalance_weights(torch::zeros({313})), Error);
  EXPECT_THROW(ab_rebalance_weights(torch::ones({312})), Error);
}
