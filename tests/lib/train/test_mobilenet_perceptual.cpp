// The MobileNetV2-0.35 perceptual space: frozen, differentiable in its input, and weighted so
// that its levels contribute alike.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "vidcolor/train/mobilenet_perceptual.hpp"

using namespace vidcolor;

namespace {

std::string mobilenet_json() {
  const char* d = std::getenv("VIDCOLOR_SHARED_DATA");
  return std::string(d ? d : "../shared/data") + "/weights/mobilenetv2-0.35/model.json";
}

}  // namespace

TEST(PerceptualLoss, MobileNetIsFrozenAndGradientReachesInput) {
  torch::manual_seed(3);
  MobileNetPerceptual phi(MobileNetV2(0.35));
  auto x = torch::rand({2, 3, 32, 32}).requires_grad_(true);
  const auto y = torch::rand({2, 3, 32, 32});
  const auto feats = phi.features(x);
  ASSERT_EQ(feats.size(), 6u);
  EXPECT_EQ(feats[5].size(2), 1);  // stride 32
  const auto d = perceptual_distance(phi, x, y);
  ASSERT_EQ(d.sizes(), (std::vector<int64_t>{2}));
  d.sum().backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_GT(x.grad().abs().sum().item<float>(), 0.0f);
  for (const auto& p : phi.net()->parameters()) EXPECT_FALSE(p.grad().defined());
  EXPECT_FALSE(phi.net()->is_training());
  EXPECT_NEAR(perceptual_distance(phi, y, y)[0].item<float>(), 0.0f, 1e-7);
}

TEST(PerceptualLoss, PretrainedWeightsBalanceLevels) {
  if (!std::filesystem::exists(mobilenet_json())) GTEST_SKIP() << "no " << mobilenet_json();
  const auto phi = MobileNetPerceptual::from_tfjs(mobilenet_json());
  // A smooth colour image against its own gray: the default weights make each level's term
  // of a comparable size (within 10x of each other), as the authors' VGG weights do.
  const auto xs = torch::linspace(0, 1, 64);
  const auto gx = xs.view({1, 1, 1, 64}).expand({1, 1, 64, 64});
  const auto gy = xs.view({1, 1, 64, 1}).expand({1, 1, 64, 64});
  const auto rgb = torch::cat({gx, gy, 1 - gx}, 1);
  const auto gray = rgb_to_ycc(rgb).narrow(1, 0, 1).expand({1, 3, 64, 64});
  const auto fx = phi->features(rgb), fy = phi->features(gray);
  const auto w = phi->layer_weights();
  std::vector<double> terms;
  for (size_t l = 0; l < fx.size(); ++l)
    terms.push_back(w[l] * (fx[l] - fy[l]).abs().mean().item<double>());
  const double mx = *std::max_element(terms.begin(), terms.end());
  const double mn = *std::min_element(terms.begin(), terms.end());
  EXPECT_GT(mn, 0.0);
  EXPECT_LT(mx / mn, 10.0);
}
