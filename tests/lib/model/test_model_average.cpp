// The weight average of models (model/model_average.hpp).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <string>

#include "lib/expect_error.hpp"
#include "vidcolor/core/error.hpp"
#include "vidcolor/model/model_average.hpp"

using namespace vidcolor;

namespace {

// The shipped kind of model (classes, a class prior), seeded: two seeds are two different sets
// of weights of one architecture, as two training runs from one start are.
Model seeded_model(uint64_t seed, double prior_low) {
  ModelConfig c = ModelConfig::fast();
  c.class_debias = 0.6;
  torch::manual_seed(seed);
  Model m = make_model(c);
  torch::NoGradGuard ng;
  m.f->class_log_prior.copy_(torch::linspace(prior_low, 1.0, 313));
  return m;
}

using vctest::expect_error;

}  // namespace

TEST(ModelAverage, EveryTensorIsTheMeanOfTheModels) {
  const Model a = seeded_model(1, -2.0), b = seeded_model(2, -4.0), c = seeded_model(3, -3.0);
  {  // BatchNorm statistics are tensors of the average too: make them differ.
    torch::NoGradGuard ng;
    for (auto& [name, t] : model_tensors(b))
      if (name.find("running_var") != std::string::npos) t.fill_(2.0);
  }
  const Model avg = average_models({a, b, c});
  EXPECT_EQ(avg.config.to_json(), a.config.to_json());
  const auto ta = model_tensors(a), tb = model_tensors(b), tc = model_tensors(c);
  int floating = 0, counters = 0;
  for (const auto& [name, t] : model_tensors(avg)) {
    if (t.is_floating_point()) {
      ++floating;
      const torch::Tensor want =
          (ta.at(name).to(torch::kFloat64) + tb.at(name).to(torch::kFloat64) +
           tc.at(name).to(torch::kFloat64)) /
          3.0;
      ASSERT_TRUE(torch::allclose(t.to(torch::kFloat64), want, 1e-6, 1e-7)) << name;
    } else {
      ++counters;
      EXPECT_TRUE(torch::equal(t, ta.at(name))) << name << ": the first model's";
    }
  }
  EXPECT_GT(floating, 100);
  EXPECT_GT(counters, 0) << "BatchNorm's batch counters are integer buffers";
  // Different seeds: the mean is none of the inputs.
  EXPECT_FALSE(
      torch::equal(model_tensors(avg).at("f.class_head.weight"), ta.at("f.class_head.weight")));
  // The class prior is averaged like the rest: linspace(-3, 1) is the mean of the three.
  EXPECT_TRUE(torch::allclose(avg.f->class_log_prior, torch::linspace(-3.0, 1.0, 313), 1e-5, 1e-6));
}

TEST(ModelAverage, TheAverageOfCopiesIsTheModel) {
  const Model a = seeded_model(4, -2.0);
  Model avg = average_models({a, a});
  const torch::Tensor x = torch::rand({1, 1, 64, 96});
  torch::NoGradGuard ng;
  Model a_eval = a;
  a_eval.f->eval();
  EXPECT_TRUE(torch::allclose(avg.f->forward(x), a_eval.f->forward(x), 1e-5, 1e-6));
}

TEST(ModelAverage, RefusesWhatIsNotOneArchitecture) {
  const Model a = seeded_model(1, -2.0);
  expect_error([&] { average_models({a}); }, "at least two models, got 1");
  expect_error([&] { average_models({}); }, "at least two models, got 0");
  Model other = seeded_model(2, -2.0);
  other.config.class_debias = 0.7;  // another operating point is another config
  expect_error([&] { average_models({a, other}); }, "model 1 has another config");
  ModelConfig wide = ModelConfig::fast();
  wide.colorizer_channels = {16, 32, 64, 64};
  expect_error([&] { average_models({a, make_model(wide)}); }, "another config");
}
