// RefineEngine with small random models: output shapes, no neighbour / no trustworthy
// neighbour = unchanged, an identical still neighbour keeps the frame, the combination of
// neighbours against hand-computed values and independent of their order, the eq. 4 maps g
// receives (with the flow rescaled from its own size), chain_flows, and errors.
#include <gtest/gtest.h>

#include <memory>

#include "common/tiny_model.hpp"
#include "vidcolor/core/error.hpp"
#include "vidcolor/infer/refine_engine.hpp"

using namespace vidcolor;

namespace {

std::shared_ptr<const Model> random_model(int seed = 1) {
  torch::manual_seed(seed);
  return std::make_shared<const Model>(make_model(vctest::tiny_model_config()));
}

// g with its head fixed so that out = clamp(C^s + sigmoid(blend_bias) (w(C^t) - C^s)): no
// correction term, a known blend. blend_bias = -30 -> g returns C^s; +30 -> w(C^t).
std::shared_ptr<const Model> head_fixed_model(double blend_bias) {
  torch::manual_seed(2);
  Model m = make_model(vctest::tiny_model_config());
  torch::NoGradGuard no_grad;
  for (auto& p : m.g->named_parameters(true)) {
    if (p.key() == "head.weight") p.value().zero_();
    if (p.key() == "head.bias") {
      p.value().zero_();
      p.value()[0] = blend_bias;
    }
  }
  return std::make_shared<const Model>(std::move(m));
}

torch::Tensor constant_flow(int64_t h, int64_t w, double dx, double dy) {
  auto f = torch::empty({1, 2, h, w});
  f.select(1, 0).fill_(dx);
  f.select(1, 1).fill_(dy);
  return f;
}

// A smooth random-looking luma and chroma (real pictures are smooth; pure noise would make
// every resampling step dominate).
torch::Tensor smooth(int64_t c, int64_t h, int64_t w, double lo, double hi, int seed) {
  torch::manual_seed(seed);
  auto coarse = torch::rand({1, c, 4, 4});
  auto up =
      torch::nn::functional::interpolate(coarse, torch::nn::functional::InterpolateFuncOptions()
                                                     .size(std::vector<int64_t>{h, w})
                                                     .mode(torch::kBilinear)
                                                     .align_corners(false));
  return lo + (hi - lo) * up;
}

double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

}  // namespace

TEST(RefineEngine, OutputHasTheChromaPlaneShapeFor420And444) {
  RefineEngine engine(random_model(), torch::kCPU);
  const auto y = smooth(1, 48, 64, 0, 1, 3);
  for (int64_t sub : {1, 2}) {
    const auto c = smooth(2, 48 / sub, 64 / sub, -0.3, 0.3, 4);
    std::vector<RefineNeighbour> nb = {
        {smooth(1, 48, 64, 0, 1, 5), smooth(2, 48 / sub, 64 / sub, -0.3, 0.3, 6),
         constant_flow(24, 32, 1.0, 0.0), torch::ones({1, 1, 24, 32})},
        {smooth(1, 48, 64, 0, 1, 7), smooth(2, 48 / sub, 64 / sub, -0.3, 0.3, 8),
         constant_flow(12, 16, -0.5, 0.5), torch::Tensor()}};
    const auto out = engine.refine(y, c, nb);
    EXPECT_EQ(out.sizes(), c.sizes()) << "subsampling " << sub;
    EXPECT_EQ(out.scalar_type(), torch::kFloat32);
    EXPECT_LE(max_abs(out), 0.5);
    EXPECT_GT(max_abs(out - c), 1e-4) << "a random g should change something";
  }
}

TEST(RefineEngine, NoNeighbourLeavesTheFrameUnchanged) {
  RefineEngine engine(random_model(), torch::kCPU);
  const auto y = smooth(1, 48, 64, 0, 1, 3);
  const auto c = smooth(2, 24, 32, -0.3, 0.3, 4);
  EXPECT_TRUE(torch::equal(engine.refine(y, c, {}), c));
}

TEST(RefineEngine, NeighbourInvalidEverywhereLeavesTheFrameUnchanged) {
  RefineEngine engine(random_model(), torch::kCPU);
  const auto y = smooth(1, 48, 64, 0, 1, 3);
  const auto c = smooth(2, 24, 32, -0.3, 0.3, 4);
  RefineNeighbour n{smooth(1, 48, 64, 0, 1, 5), smooth(2, 24, 32, -0.3, 0.3, 6),
                    constant_flow(24, 32, 0.0, 0.0), torch::zeros({1, 1, 24, 32})};
  EXPECT_LT(max_abs(engine.refine(y, c, {n}) - c), 1e-6);
}

TEST(RefineEngine, IdenticalStillNeighbourKeepsTheFrame) {
  const auto y = smooth(1, 48, 64, 0, 1, 3);
  const auto c = smooth(2, 24, 32, -0.3, 0.3, 4);
  const RefineNeighbour same{y, c, constant_flow(24, 32, 0.0, 0.0), torch::Tensor()};
  // Whatever g's blend weight, blending C^s with itself is C^s: only the correction term
  // (zero here) could move it.
  for (double bias : {-30.0, 0.0, 30.0}) {
    RefineEngine engine(head_fixed_model(bias), torch::kCPU);
    EXPECT_LT(max_abs(engine.refine(y, c, {same, same}) - c), 1e-5) << "blend bias " << bias;
  }
  // A random g moves it at most by its bounded correction (0.1 tanh).
  RefineEngine engine(random_model(), torch::kCPU);
  EXPECT_LT(max_abs(engine.refine(y, c, {same}) - c), 0.1 + 1e-3);
}

TEST(RefineEngine, CombinationIsTheGrayConfidenceWeightedAverage) {
  // g returns w(C^t) exactly (blend 1, no correction). Constant planes, zero motion: each
  // neighbour's weight is conf_x = 1 - 15 |Y^t - Y^s|, hand-computed below.
  RefineEngine engine(head_fixed_model(30.0), torch::kCPU);
  const int64_t h = 32, w = 48;
  const auto y = torch::full({1, 1, h, w}, 0.5f);
  const auto c = torch::full({1, 2, h / 2, w / 2}, 0.0f);
  auto chroma = [&](float cb, float cr) {
    auto t = torch::empty({1, 2, h / 2, w / 2});
    t.select(1, 0).fill_(cb);
    t.select(1, 1).fill_(cr);
    return t;
  };
  const RefineNeighbour a{torch::full({1, 1, h, w}, 0.52f), chroma(0.2f, -0.1f),
                          constant_flow(h, w, 0, 0), torch::Tensor()};  // weight 1 - 0.3 = 0.7
  const RefineNeighbour b{torch::full({1, 1, h, w}, 0.46f), chroma(-0.1f, 0.3f),
                          constant_flow(h, w, 0, 0), torch::Tensor()};  // weight 1 - 0.6 = 0.4
  const double wa = 0.7, wb = 0.4, eps = 1e-3;
  const double cb = (wa * 0.2 + wb * -0.1) / (wa + wb + eps);
  const double cr = (wa * -0.1 + wb * 0.3) / (wa + wb + eps);
  const auto out = engine.refine(y, c, {a, b});
  EXPECT_NEAR(out.select(1, 0).min().item<double>(), cb, 1e-4);
  EXPECT_NEAR(out.select(1, 0).max().item<double>(), cb, 1e-4);
  EXPECT_NEAR(out.select(1, 1).min().item<double>(), cr, 1e-4);
  EXPECT_NEAR(out.select(1, 1).max().item<double>(), cr, 1e-4);
  // The validity mask multiplies the weight: a invalid -> b alone.
  RefineNeighbour a_masked = a;
  a_masked.valid = torch::zeros({1, 1, h, w});
  const auto only_b = engine.refine(y, c, {a_masked, b});
  EXPECT_NEAR(only_b.select(1, 0).mean().item<double>(), wb * -0.1 / (wb + eps), 1e-4);
  EXPECT_NEAR(only_b.select(1, 1).mean().item<double>(), wb * 0.3 / (wb + eps), 1e-4);
}

TEST(RefineEngine, CombinationDoesNotDependOnNeighbourOrder) {
  RefineEngine engine(random_model(7), torch::kCPU);
  const auto y = smooth(1, 48, 64, 0, 1, 3);
  const auto c = smooth(2, 24, 32, -0.3, 0.3, 4);
  const RefineNeighbour prev{smooth(1, 48, 64, 0, 1, 5), smooth(2, 24, 32, -0.3, 0.3, 6),
                             constant_flow(24, 32, 1.5, 0.0), torch::Tensor()};
  const RefineNeighbour next{smooth(1, 48, 64, 0, 1, 7), smooth(2, 24, 32, -0.3, 0.3, 8),
                             constant_flow(24, 32, -1.0, 0.5), torch::ones({1, 1, 24, 32})};
  const auto ab = engine.refine(y, c, {prev, next});
  const auto ba = engine.refine(y, c, {next, prev});
  EXPECT_LT(max_abs(ab - ba), 1e-6);
  // And it is a combination of both: neither neighbour alone gives it.
  EXPECT_GT(max_abs(ab - engine.refine(y, c, {prev})), 1e-4);
  EXPECT_GT(max_abs(ab - engine.refine(y, c, {next})), 1e-4);
}

TEST(RefineEngine, ConfidenceMapsOfWarpedNeighbourAgainstHandComputedValues) {
  // Inference size = frame size (32 x 48, multiples of 16), so no resampling of pictures.
  RefineEngine engine(random_model(), torch::kCPU, 15.0, 32);
  const int64_t h = 32, w = 48;
  // Frame s: a horizontal ramp. Neighbour t: the same moved 2 pixels right, plus offsets
  // (Cb +0.02, Cr 0; luma +0.05): t(x) = s(x - 2) + offset, so F_{s->t} = +2 in x. The flow
  // is given at half size (dx = 1 there), which resize_flow must turn into dx = 2.
  const auto ramp = torch::linspace(0.1, 0.9, w).view({1, 1, 1, w}).expand({1, 1, h, w});
  const auto y_s = ramp.clone();
  const auto c_s = torch::cat({ramp - 0.5, 0.3 - 0.5 * ramp}, 1);
  auto shift2 = [](const torch::Tensor& t) {
    auto o = t.clone();
    o.narrow(3, 2, t.size(3) - 2).copy_(t.narrow(3, 0, t.size(3) - 2));
    return o;
  };
  auto c_t = shift2(c_s);
  c_t.select(1, 0).add_(0.02);
  RefineNeighbour n{shift2(y_s) + 0.05, c_t, constant_flow(h / 2, w / 2, 1.0, 0.0),
                    torch::ones({1, 1, h / 2, w / 2})};
  n.valid.narrow(3, 0, 4).zero_();  // the left 4 columns of the flow (8 of the frame) invalid
  const RefineInputs in = engine.prepare(y_s, c_s, {n});
  ASSERT_EQ(in.conf_c.sizes(), (std::vector<int64_t>{1, 1, h, w}));
  // Away from the right border (where the warp clamps) and the resampled mask edge:
  const auto interior = [&](const torch::Tensor& t) { return t.narrow(3, 10, w - 14); };
  // conf_c = 1 - 15 * mean(|0.02|, |0|) = 0.85; conf_x = 1 - 15 * 0.05 = 0.25.
  EXPECT_NEAR(interior(in.conf_c).min().item<double>(), 0.85, 1e-4);
  EXPECT_NEAR(interior(in.conf_c).max().item<double>(), 0.85, 1e-4);
  EXPECT_NEAR(interior(in.conf_x).min().item<double>(), 0.25, 1e-4);
  EXPECT_NEAR(interior(in.conf_x).max().item<double>(), 0.25, 1e-4);
  EXPECT_LT(max_abs(interior(in.c_t_warped) -
                    interior(c_s + torch::tensor({0.02f, 0.f}).view({1, 2, 1, 1}))),
            1e-5);
  // weight = conf_x * mask: 0 on the masked columns, 0.25 in the interior.
  EXPECT_LT(max_abs(in.weight.narrow(3, 0, 7)), 1e-6);
  EXPECT_NEAR(interior(in.weight).min().item<double>(), 0.25, 1e-4);
  // A gray difference of 1/15 or more gives zero confidence (the clamp of eq. 4).
  RefineNeighbour far = n;
  far.luma = shift2(y_s) + 0.1;
  EXPECT_EQ(interior(engine.prepare(y_s, c_s, {far}).conf_x).max().item<double>(), 0.0);
}

TEST(ChainFlows, ConstantFlowsAddAndMasksMultiply) {
  const auto ab = constant_flow(8, 10, 1.0, -2.0);
  const auto bc = constant_flow(8, 10, 0.5, 1.0);
  auto vbc = torch::ones({1, 1, 8, 10});
  vbc.index_put_({0, 0, 3, 6}, 0.0f);  // a -> b moves (+1, -2): pixel (5, 5) of a lands here
  const ChainedFlow ac = chain_flows(ab, torch::Tensor(), bc, vbc);
  EXPECT_LT(max_abs(ac.flow - constant_flow(8, 10, 1.5, -1.0)), 1e-6);
  EXPECT_NEAR(ac.valid.index({0, 0, 5, 5}).item<float>(), 0.0, 1e-5);
  EXPECT_NEAR(ac.valid.sum().item<float>(), 8 * 10 - 1, 1e-3);
}

TEST(ChainFlows, SecondFlowAtAnotherSizeIsRescaledFirst) {
  // b -> c at twice the size: (1, 2) pixels there are (0.5, 1) pixels at a -> b's size.
  const ChainedFlow ac = chain_flows(constant_flow(8, 10, 1.0, 0.0), torch::Tensor(),
                                     constant_flow(16, 20, 1.0, 2.0), torch::ones({1, 1, 16, 20}));
  EXPECT_EQ(ac.flow.sizes(), (std::vector<int64_t>{1, 2, 8, 10}));
  EXPECT_LT(max_abs(ac.flow - constant_flow(8, 10, 1.5, 1.0)), 1e-5);
  EXPECT_EQ(ac.valid.sizes(), (std::vector<int64_t>{1, 1, 8, 10}));
}

TEST(ChainFlows, FollowsTheFirstFlowIntoTheSecond) {
  // b -> c is a ramp in x (dx = 0.1 x_b); a -> b moves 3 pixels right, so
  // F_{a->c}(x) = 3 + 0.1 (x + 3) away from the right border.
  const int64_t w = 20;
  const auto ab = constant_flow(4, w, 3.0, 0.0);
  auto bc = torch::zeros({1, 2, 4, w});
  bc.select(1, 0).copy_(0.1 * torch::arange(w, torch::kFloat32).view({1, 1, w}).expand({1, 4, w}));
  const ChainedFlow ac = chain_flows(ab, torch::Tensor(), bc, torch::Tensor());
  for (int64_t x = 0; x < w - 3; ++x)
    EXPECT_NEAR(ac.flow.index({0, 0, 2, x}).item<double>(), 3.0 + 0.1 * (x + 3), 1e-5) << x;
  EXPECT_NEAR(ac.valid.min().item<float>(), 1.0, 1e-5);
}

TEST(RefineEngine, RejectsBadArguments) {
  const auto model = random_model();
  EXPECT_THROW(RefineEngine(model, torch::kCPU, 0.0), Error);
  EXPECT_THROW(RefineEngine(model, torch::kCPU, 15.0, -1), Error);
  EXPECT_THROW(RefineEngine(nullptr, torch::kCPU), Error);
  RefineEngine engine(model, torch::kCPU);
  const auto y = torch::rand({1, 1, 32, 32});
  const auto c = torch::zeros({1, 2, 16, 16});
  EXPECT_THROW(engine.refine(y, torch::zeros({1, 3, 16, 16}), {}), Error);
  const RefineNeighbour wrong_size{torch::rand({1, 1, 32, 48}), torch::zeros({1, 2, 16, 24}),
                                   constant_flow(16, 16, 0, 0), torch::Tensor()};
  EXPECT_THROW(engine.refine(y, c, {wrong_size}), Error);
  const RefineNeighbour bad_flow{y, c, torch::zeros({1, 3, 16, 16}), torch::Tensor()};
  EXPECT_THROW(engine.refine(y, c, {bad_flow}), Error);
  const RefineNeighbour bad_mask{y, c, constant_flow(16, 16, 0, 0), torch::ones({1, 1, 8, 8})};
  EXPECT_THROW(engine.refine(y, c, {bad_mask}), Error);
  try {
    engine.refine(y, c, {bad_flow});
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("neighbour 0 flow"), std::string::npos) << e.what();
  }
}

// g runs at the model's refine_inference_size when it has one (f's size otherwise); an explicit
// inference size wins over both.
TEST(RefineEngine, RunsAtTheModelsRefineInferenceSize) {
  int w = 0, h = 0;
  RefineEngine plain(random_model(), torch::kCPU);
  plain.inference_dims(320, 240, &w, &h);
  EXPECT_EQ(h, 32);
  torch::manual_seed(1);
  ModelConfig c = vctest::tiny_model_config();
  c.refine_inference_size = 16;
  auto m = std::make_shared<const Model>(make_model(c));
  RefineEngine smaller(m, torch::kCPU);
  smaller.inference_dims(320, 240, &w, &h);
  EXPECT_EQ(h, 16);
  EXPECT_EQ(w, 16);  // 21.3 rounded to a multiple of 16
  const torch::Tensor luma = torch::rand({1, 1, 240, 320});
  const torch::Tensor chroma = torch::rand({1, 2, 120, 160}) - 0.5;
  const RefineInputs in =
      smaller.prepare(luma, chroma, {{luma, chroma, torch::zeros({1, 2, 60, 80}), {}}});
  EXPECT_EQ(in.c_t_warped.sizes(), (std::vector<int64_t>{1, 2, 16, 16}));
  RefineEngine explicit_size(m, torch::kCPU, 15.0, 48);
  explicit_size.inference_dims(320, 240, &w, &h);
  EXPECT_EQ(h, 48);
}
