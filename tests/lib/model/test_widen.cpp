// Function-preserving widening of f (model/widen.hpp).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "vidcolor/core/error.hpp"
#include "vidcolor/model/widen.hpp"

using namespace vidcolor;

namespace {

// A trained-looking narrow model: the fast architecture with classes, seeded, a class prior
// and a debias, so every path of f's forward (class decode, residual candidates) is exercised.
Model narrow_model() {
  ModelConfig c = ModelConfig::fast();
  c.chroma_classes = 313;
  c.class_debias = 0.6;
  torch::manual_seed(5);
  Model m = make_model(c);
  torch::NoGradGuard ng;
  m.f->class_log_prior.copy_(torch::linspace(-2.0, 1.0, 313));
  m.f->eval();
  m.g->eval();
  return m;
}

}  // namespace

TEST(Widen, TheWiderFComputesWhatTheNarrowOneDid) {
  Model narrow = narrow_model();
  Model wide = widen_colorizer(narrow, {16, 32, 64, 64}, 3);
  EXPECT_EQ(wide.config.colorizer_channels, (std::vector<int>{16, 32, 64, 64}));
  const auto wide_params = wide.f->named_parameters();
  EXPECT_EQ(wide_params["enc1.0.weight"].size(0), 32);
  EXPECT_EQ(wide_params["dec2.0.weight"].size(1), 64 + 64);  // upsampled level 3 + skip
  EXPECT_EQ(wide_params["class_head.weight"].size(1), 64);
  torch::NoGradGuard ng;
  const torch::Tensor gray = torch::rand({2, 1, 64, 96});
  const ColorizerOutputs a = narrow.f->forward_outputs(gray), b = wide.f->forward_outputs(gray);
  EXPECT_LT((a.class_logits - b.class_logits).abs().max().item<float>(), 1e-4f);
  EXPECT_LT((a.candidates - b.candidates).abs().max().item<float>(), 1e-5f);
  // g and the backbone are the narrow model's.
  EXPECT_TRUE(torch::equal(wide.g->named_parameters()["head.weight"],
                           narrow.g->named_parameters()["head.weight"]));
  EXPECT_TRUE(torch::equal(wide.f->backbone->named_parameters()["Conv1.weight"],
                           narrow.f->backbone->named_parameters()["Conv1.weight"]));
  EXPECT_TRUE(torch::equal(wide.f->class_log_prior, narrow.f->class_log_prior));
}

// The new units are live: random on their input side (so they differ from each other), zero on
// their output side, and the loss has a gradient on that output side from the first step.
TEST(Widen, TheNewUnitsGetGradientFromTheFirstStep) {
  Model wide = widen_colorizer(narrow_model(), {16, 32, 64, 64}, 3);
  const auto p = wide.f->named_parameters();
  const torch::Tensor enc1 = p["enc1.0.weight"];                     // 24 -> 32 units
  EXPECT_GT(enc1.narrow(0, 24, 8).abs().sum().item<float>(), 0.0f);  // new units' inputs
  const torch::Tensor head_in = p["class_head.weight"].narrow(1, 32, 32);
  EXPECT_EQ(head_in.abs().max().item<float>(), 0.0f);  // new units' outputs start at zero
  wide.f->train();
  const ColorizerOutputs out = wide.f->forward_outputs(torch::rand({2, 1, 64, 64}));
  (out.class_logits.square().mean() + out.candidates.square().mean()).backward();
  EXPECT_GT(p["class_head.weight"].grad().narrow(1, 32, 32).abs().max().item<float>(), 0.0f);
  EXPECT_GT(p["head.weight"].grad().narrow(1, 12, 4).abs().max().item<float>(), 0.0f);
}

// The same seed gives the same wider model; widening by nothing is a copy.
TEST(Widen, SeededAndIdentityAtTheSameWidth) {
  Model narrow = narrow_model();
  const Model a = widen_colorizer(narrow, {16, 32, 64, 64}, 7);
  const Model b = widen_colorizer(narrow, {16, 32, 64, 64}, 7);
  for (const auto& [name, t] : model_tensors(a))
    EXPECT_TRUE(torch::equal(t, model_tensors(b).at(name))) << name;
  const Model same = widen_colorizer(narrow, narrow.config.colorizer_channels, 7);
  const auto narrow_tensors = model_tensors(narrow);
  for (const auto& [name, t] : model_tensors(same))
    EXPECT_TRUE(torch::equal(t, narrow_tensors.at(name))) << name;
}

TEST(Widen, RefusesFewerChannelsOrAnotherLevelCount) {
  Model narrow = narrow_model();  // 12/24/32/48
  try {
    widen_colorizer(narrow, {16, 16, 64, 64}, 0);
    FAIL() << "narrowed level 1";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("level 1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(widen_colorizer(narrow, {16, 32, 64}, 0), Error);
  EXPECT_THROW(widen_colorizer(narrow, {16, 32, 64, 64, 64}, 0), Error);
}
