// The paper's losses on tensors small enough to check by hand (values worked out in the
// comments), plus where their gradients go.
#include <gtest/gtest.h>

#include "vidcolor/core/error.hpp"
#include "vidcolor/model/ab_bins.hpp"
#include "vidcolor/train/losses.hpp"

using namespace vidcolor;

namespace {

torch::Tensor t4(std::vector<float> v, int64_t n, int64_t c, int64_t h, int64_t w) {
  return torch::tensor(v).view({n, c, h, w});
}

// φ = identity (one level: the image itself, weight 1), so Lp(x, y) = mean|x - y|.
class IdentityPhi : public PerceptualNet {
 public:
  std::vector<torch::Tensor> features(const torch::Tensor& x) override { return {x}; }
  std::vector<double> layer_weights() const override { return {1.0}; }
  void to(torch::Device) override {}
};

}  // namespace

TEST(ColorHelpers, PrimariesAndRoundTrip) {
  // Y = 0.299, Cb = -0.168736, Cr = 0.5 is pure red in full-range BT.601.
  const auto y = t4({0.299f, 0.5f}, 1, 1, 1, 2);
  const auto cbcr = t4({-0.168736f, 0.0f, 0.5f, 0.0f}, 1, 2, 1, 2);
  const auto rgb = ycc_to_rgb(y, cbcr);
  EXPECT_NEAR(rgb[0][0][0][0].item<float>(), 1.0f, 1e-4);
  EXPECT_NEAR(rgb[0][1][0][0].item<float>(), 0.0f, 1e-4);
  EXPECT_NEAR(rgb[0][2][0][0].item<float>(), 0.0f, 1e-4);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(rgb[0][c][0][1].item<float>(), 0.5f, 1e-6);  // gray
  const auto back = rgb_to_ycc(torch::rand({2, 3, 4, 5}));
  const auto again = rgb_to_ycc(ycc_to_rgb(back.narrow(1, 0, 1), back.narrow(1, 1, 2)));
  EXPECT_TRUE(torch::allclose(back, again, 1e-5, 1e-5));
  EXPECT_THROW(ycc_to_rgb(cbcr, y), Error);
}

TEST(ColorHelpers, CandidatesMatchPerCandidateConversion) {
  torch::manual_seed(4);
  const auto y = torch::rand({2, 1, 3, 4});
  const auto cand = torch::rand({2, 4, 2, 3, 4}) - 0.5;
  const auto rgb = candidates_to_rgb(y, cand);
  ASSERT_EQ(rgb.sizes(), (std::vector<int64_t>{2, 4, 3, 3, 4}));
  for (int i = 0; i < 4; ++i)
    // The two paths sum the same three products in a different order (a BLAS matmul, with FMA
    // under OpenBLAS, vs elementwise ops): equal to float32 rounding, not bit for bit.
    EXPECT_TRUE(torch::allclose(rgb.select(1, i), ycc_to_rgb(y, cand.select(1, i)), 1e-5, 1e-6));
}

TEST(BilateralLoss, HandValuesAndGradient) {
  // One channel, 2x2 crop, flat values p = [0, 1, 2, 4]; K = 1 graph 0<->1, 2<->3.
  // |0-1| + |1-0| + |2-4| + |4-2| = 6 over 4 terms = 1.5.
  auto pred = t4({0, 1, 2, 4}, 1, 1, 2, 2).requires_grad_(true);
  const auto knn = torch::tensor({1, 0, 3, 2}, torch::kInt64).view({1, 4, 1});
  auto loss = bilateral_loss(pred, knn);
  EXPECT_NEAR(loss.item<float>(), 1.5f, 1e-6);
  loss.backward();
  // d/dp0 (|p0-p1| + |p1-p0|) / 4 = (-1 - 1) / 4 = -0.5; p1: +0.5; p2: -0.5; p3: +0.5.
  const auto g = pred.grad().flatten();
  EXPECT_NEAR(g[0].item<float>(), -0.5f, 1e-6);
  EXPECT_NEAR(g[1].item<float>(), 0.5f, 1e-6);
  EXPECT_NEAR(g[2].item<float>(), -0.5f, 1e-6);
  EXPECT_NEAR(g[3].item<float>(), 0.5f, 1e-6);
}

TEST(BilateralLoss, TwoNeighboursTwoChannelsInt32) {
  // 1x3 crop, channels a = [0, 3, 6], b = [1, 1, 1]; K = 2: every pixel's two others.
  // a: |0-3|+|0-6| + |3-0|+|3-6| + |6-0|+|6-3| = 24; b: 0. Mean over 2*3*2 = 12 terms = 2.
  const auto pred = t4({0, 3, 6, 1, 1, 1}, 1, 2, 1, 3);
  const auto knn = torch::tensor({1, 2, 0, 2, 0, 1}, torch::kInt32).view({1, 3, 2});
  EXPECT_NEAR(bilateral_loss(pred, knn).item<float>(), 2.0f, 1e-6);
  // Candidates [N,d,C,H,W]: the mean of the candidates' losses (here 2 and 0).
  const auto cand = torch::stack({pred, torch::zeros_like(pred)}, 1);
  EXPECT_NEAR(bilateral_loss(cand, knn).item<float>(), 1.0f, 1e-6);
  EXPECT_THROW(bilateral_loss(pred, knn.view({1, 2, 3})), Error);
}

TEST(TemporalLoss, HandValuesMaskAndGradient) {
  // 1x3 frames; flow dx = +1: warp(pred_t1)(x) = pred_t1(x+1), border clamped -> [1, 2, 2]
  // for pred_t1 = [5, 1, 2]. pred_t = [1, 2, 3]: |diff| = [0, 0, 1].
  auto pt = t4({1, 2, 3}, 1, 1, 1, 3).requires_grad_(true);
  auto pt1 = t4({5, 1, 2}, 1, 1, 1, 3).requires_grad_(true);
  auto flow = torch::zeros({1, 2, 1, 3});
  flow.select(1, 0).fill_(1.0);
  flow.requires_grad_(true);
  auto mask = t4({1, 0, 1}, 1, 1, 1, 3).requires_grad_(true);
  // mask [1, 0, 1]: (0 + 1) / 2 valid pixels = 0.5.
  auto loss = temporal_loss(pt, pt1, flow, mask);
  EXPECT_NEAR(loss.item<float>(), 0.5f, 1e-6);
  loss.backward();
  // Only pixel 2 differs: +1/2 into pred_t[2], -1/2 into pred_t1[2] (its clamped source).
  EXPECT_TRUE(torch::allclose(pt.grad().flatten(), torch::tensor({0.0f, 0.0f, 0.5f})));
  EXPECT_TRUE(torch::allclose(pt1.grad().flatten(), torch::tensor({0.0f, 0.0f, -0.5f})));
  // Flow and mask are ground-truth data.
  EXPECT_FALSE(flow.grad().defined());
  EXPECT_FALSE(mask.grad().defined());
  // Masking the one differing pixel out: 0; nothing valid: 0, not NaN.
  EXPECT_NEAR(temporal_loss(pt, pt1, flow, t4({1, 1, 0}, 1, 1, 1, 3)).item<float>(), 0.0f, 1e-7);
  EXPECT_EQ(temporal_loss(pt, pt1, flow, torch::zeros({1, 1, 1, 3})).item<float>(), 0.0f);
}

TEST(TemporalLoss, CandidatesComparedPairwise) {
  // Zero flow: candidate i of t against candidate i of t+1. Candidate 0 differs by 1 at every
  // pixel, candidate 1 equals -> mean over 2 channels... (1 + 0) / 2 = 0.5.
  const auto a = torch::zeros({1, 2, 1, 2, 2});
  auto b = a.clone();
  b.select(1, 0).fill_(1.0);
  const auto loss = temporal_loss(a, b, torch::zeros({1, 2, 2, 2}), torch::ones({1, 1, 2, 2}));
  EXPECT_NEAR(loss.item<float>(), 0.5f, 1e-6);
}

TEST(RefinementLoss, L1AndNoGradientIntoTarget) {
  // |0.1| + |0.2| + |-0.1| + |0.3| = 0.7 over 4 = 0.175.
  auto refined = t4({0.1f, 0.2f, -0.1f, 0.3f}, 1, 2, 1, 2).requires_grad_(true);
  auto target = torch::zeros({1, 2, 1, 2}).requires_grad_(true);
  auto loss = refinement_loss(refined, target);
  EXPECT_NEAR(loss.item<float>(), 0.175f, 1e-6);
  loss.backward();
  EXPECT_TRUE(
      torch::allclose(refined.grad().flatten(), torch::tensor({0.25f, 0.25f, -0.25f, 0.25f})));
  EXPECT_FALSE(target.grad().defined());
}

TEST(RefinementLoss, ConsistencyTerms) {
  // conf [1, 0.25], refined [0.2, 0.4], warped neighbour [0, 0], current [0.4, 0.4]:
  // mean(conf |r - w|) = (0.2 + 0.1) / 2 = 0.15; mean((1-conf) |r - c|) = (0 + 0) / 2 = 0.
  const auto r = t4({0.2f, 0.4f}, 1, 1, 1, 2);
  const auto loss = refinement_consistency_loss(
      r, t4({0.4f, 0.4f}, 1, 1, 1, 2), torch::zeros({1, 1, 1, 2}), t4({1.0f, 0.25f}, 1, 1, 1, 2));
  EXPECT_NEAR(loss.item<float>(), 0.15f, 1e-6);
}

TEST(DiversityLoss, Betas) {
  const auto b = diversity_betas(4);  // 0.01 * 2^(4-i): 0.08, 0.04, 0.02, 0.01
  ASSERT_EQ(b.size(), 4u);
  EXPECT_DOUBLE_EQ(b[0], 0.08);
  EXPECT_DOUBLE_EQ(b[3], 0.01);
}

TEST(DiversityLoss, HandValuesAndMinSendsGradientToBest) {
  // Target gray 0.5; C1 = (0.6, 0.5, 0.5): Lp = 0.1/3; C2 = (0.5, 0.5, 0.2): Lp = 0.3/3.
  // β = (0.02, 0.01) for d = 2: loss = 0.1/3 + 0.02*0.1/3 + 0.01*0.1 = 0.035.
  IdentityPhi phi;
  auto cand = torch::tensor({0.6f, 0.5f, 0.5f, 0.5f, 0.5f, 0.2f}).view({1, 2, 3, 1, 1});
  cand.requires_grad_(true);
  auto target = torch::full({1, 3, 1, 1}, 0.5f).requires_grad_(true);
  const auto r = diversity_loss(phi, cand, target);
  EXPECT_NEAR(r.loss.item<float>(), 0.035f, 1e-6);
  EXPECT_EQ(r.best[0].item<int64_t>(), 0);
  EXPECT_NEAR(r.distances[0][1].item<float>(), 0.1f, 1e-6);
  r.loss.backward();
  // C1 (the best) gets (1 + β1)/3 on its red channel; C2 only β2/3 (the ranking term).
  const auto g = cand.grad().view({2, 3});
  EXPECT_NEAR(g[0][0].item<float>(), 1.02f / 3, 1e-6);
  EXPECT_NEAR(g[1][2].item<float>(), -0.01f / 3, 1e-6);
  EXPECT_NEAR(g[1][0].item<float>(), 0.0f, 1e-7);
  EXPECT_FALSE(target.grad().defined());
}

TEST(DiversityLoss, BatchPicksBestPerSample) {
  IdentityPhi phi;
  // Sample 0: candidate 1 exact; sample 1: candidate 0 exact.
  const auto target = torch::rand({2, 3, 2, 2});
  auto cand = torch::stack({target + 0.3, target}, 1);
  cand.select(0, 1).copy_(torch::stack({target[1], target[1] + 0.3}, 0));
  const auto r = diversity_loss(phi, cand, target);
  EXPECT_EQ(r.best[0].item<int64_t>(), 1);
  EXPECT_EQ(r.best[1].item<int64_t>(), 0);
  // min terms 0; rankings: sample 0: β1*0.3 = 0.006; sample 1: β2*0.3 = 0.003 -> mean 0.0045.
  EXPECT_NEAR(r.loss.item<float>(), 0.0045f, 1e-6);
}

// The classification term: least when the logits put the soft-encoded truth's mass where it
// belongs, the rebalancing weights of the truth's bins scale each pixel, and the gradient
// reaches the logits.
TEST(ChromaClassLoss, SoftTargetCrossEntropyAndRebalancing) {
  // A 2x2 truth: two gray pixels (ab = 0) and two sRGB red ones, compared at 2x2 logits.
  torch::Tensor rgb = torch::zeros({1, 3, 2, 2});
  rgb.index_put_({0, torch::indexing::Slice(), 0}, 0.5);
  rgb.index_put_({0, 0, 1}, 1.0);
  const torch::Tensor ab = truth_ab_at(rgb, 2, 2);
  EXPECT_NEAR(ab[0][0][0][0].item<float>(), 0.0f, 0.05f);
  EXPECT_NEAR(ab[0][0][1][0].item<float>(), 80.1f, 0.2f);  // sRGB red: a = 80.1, b = 67.2
  EXPECT_NEAR(ab[0][1][1][0].item<float>(), 67.2f, 0.2f);
  const torch::Tensor target = ab_soft_encode(ab);
  const torch::Tensor good = (target.clamp_min(1e-6).log() * 1.0).requires_grad_(true);
  const torch::Tensor uniform = torch::zeros({1, 313, 2, 2});
  const torch::Tensor none;
  const torch::Tensor l_good = chroma_class_loss(good, rgb, none);
  const torch::Tensor l_uniform = chroma_class_loss(uniform, rgb, none);
  // Uniform logits: cross-entropy of any distribution against uniform is log 313.
  EXPECT_NEAR(l_uniform.item<float>(), std::log(313.0f), 1e-4f);
  // The truth's own distribution: its entropy, lower than log 313.
  const float entropy = -(target * target.clamp_min(1e-6).log()).sum(1).mean().item<float>();
  EXPECT_NEAR(l_good.item<float>(), entropy, 1e-3f);
  EXPECT_LT(l_good.item<float>(), l_uniform.item<float>());
  l_good.backward();
  EXPECT_GT(good.grad().abs().sum().item<float>(), 0.0f);
  // Weights: gray pixels weigh 1, red ones 3 -> the weighted mean of the uniform loss is
  // log 313 * (1 + 1 + 3 + 3) / 4.
  torch::Tensor w = torch::ones({313});
  w.index_put_({ab_nearest_bin(ab)[0][1][0].item<int64_t>()}, 3.0);
  EXPECT_NEAR(chroma_class_loss(uniform, rgb, w).item<float>(), std::log(313.0f) * 2.0f, 1e-3f);
  EXPECT_THROW(chroma_class_loss(torch::zeros({1, 300, 2, 2}), rgb, none), Error);
}
