// ColorizeEngine: shapes, the input left alone, d different candidates, the fixed and the
// automatic candidate choice (on a model whose candidates are known constants), the lock,
// reset and scene cuts, the mosaic, the class decoding's overrides, and bad inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "vidcolor/core/color.hpp"
#include "vidcolor/infer/colorize_engine.hpp"
#include "lib/expect_error.hpp"
#include "vidcolor/core/error.hpp"

using namespace vidcolor;

namespace {

ModelConfig small_config() {
  ModelConfig c = ModelConfig::fast();
  c.inference_size = 32;
  return c;
}

std::shared_ptr<const Model> random_model(uint64_t seed = 11) {
  torch::manual_seed(seed);
  auto m = std::make_shared<Model>(make_model(small_config()));
  m->f->eval();
  m->g->eval();
  return m;
}

// Candidates whose chroma is a known constant: head weights 0, bias = atanh(2 c), so that
// 0.5 tanh(bias) = c. Index 1 is the most saturated on dark frames, index 3 on bright ones.
const std::vector<std::pair<float, float>> kConstantChroma = {
    {0.02f, 0.0f}, {-0.14f, 0.02f}, {0.0f, -0.03f}, {-0.04f, 0.28f}};

// The constant-chroma trick needs the plain head (2 channels per candidate, no class head);
// the classed head is covered by random_model().
std::shared_ptr<const Model> constant_model() {
  torch::manual_seed(5);
  ModelConfig config = small_config();
  config.chroma_classes = 0;
  auto m = std::make_shared<Model>(make_model(config));
  torch::NoGradGuard no_grad;
  auto params = m->f->named_parameters(true);
  params["head.weight"].zero_();
  torch::Tensor bias = params["head.bias"];
  for (size_t i = 0; i < kConstantChroma.size(); ++i) {
    bias[2 * i] = std::atanh(2.0f * kConstantChroma[i].first);
    bias[2 * i + 1] = std::atanh(2.0f * kConstantChroma[i].second);
  }
  m->f->eval();
  return m;
}

// color.hpp's saturation of candidate i on uniform luma y: what auto must maximise.
double reference_saturation(int i, float y) {
  const Rgb rgb = clamp01(ycc_to_rgb({y, kConstantChroma[i].first, kConstantChroma[i].second}));
  const float px[3] = {rgb.r, rgb.g, rgb.b};
  return mean_hsv_saturation(px, 1);
}

int reference_winner(float y) {
  int best = 0;
  for (int i = 1; i < 4; ++i)
    if (reference_saturation(i, y) > reference_saturation(best, y)) best = i;
  return best;
}

torch::Tensor uniform(float y, int64_t h = 36, int64_t w = 48) {
  return torch::full({1, 1, h, w}, y);
}

// Left columns dark (0.25), the right fraction `p` bright (0.75).
torch::Tensor split(double p, int64_t h = 36, int64_t w = 48) {
  torch::Tensor t = uniform(0.25f, h, w);
  const int64_t bright = std::llround(p * w);
  if (bright > 0) t.narrow(3, w - bright, bright).fill_(0.75f);
  return t;
}

using vctest::expect_error;

}  // namespace

TEST(ColorizeEngine, ShapesRangeAndInputUntouched) {
  ColorizeEngine engine(random_model(), torch::kCPU);
  EXPECT_EQ(engine.candidates(), 4);
  const torch::Tensor luma = torch::rand({1, 1, 50, 70});
  const torch::Tensor before = luma.clone();
  const torch::Tensor c = engine.colorize(luma);
  EXPECT_EQ(c.sizes(), (std::vector<int64_t>{1, 2, 50, 70}));
  EXPECT_EQ(c.scalar_type(), torch::kFloat32);
  EXPECT_LE(c.abs().max().item<float>(), 0.5f);
  EXPECT_TRUE(torch::equal(luma, before));
  const torch::Tensor all = engine.colorize_all(luma);
  EXPECT_EQ(all.sizes(), (std::vector<int64_t>{1, 4, 2, 50, 70}));
  const MosaicFrame m = engine.colorize_mosaic(luma);
  EXPECT_EQ(m.luma.sizes(), (std::vector<int64_t>{1, 1, 50, 70}));
  EXPECT_EQ(m.chroma.sizes(), (std::vector<int64_t>{1, 2, 50, 70}));
  EXPECT_TRUE(torch::equal(luma, before));
  // Odd and tiny sizes.
  EXPECT_EQ(engine.colorize(torch::rand({1, 1, 17, 33})).sizes(),
            (std::vector<int64_t>{1, 2, 17, 33}));
  EXPECT_EQ(engine.colorize(torch::rand({1, 1, 1, 1})).sizes(), (std::vector<int64_t>{1, 2, 1, 1}));
  // float64 input is accepted; the output is float32.
  EXPECT_EQ(engine.colorize(luma.to(torch::kFloat64)).scalar_type(), torch::kFloat32);
}

TEST(ColorizeEngine, InferenceSizeOption) {
  ColorizeEngine model_size(random_model(), torch::kCPU);
  int w = 0, h = 0;
  model_size.inference_dims(854, 480, &w, &h);
  EXPECT_EQ(h, 32);
  ColorizeEngine bigger(random_model(), torch::kCPU, {.candidate = -1, .inference_size = 64});
  bigger.inference_dims(854, 480, &w, &h);
  EXPECT_EQ(h, 64);
  EXPECT_EQ(w, 112);
}

TEST(ColorizeEngine, CandidatesDifferAndFixedCandidateIsHonoured) {
  const auto model = random_model();
  const torch::Tensor luma = torch::rand({1, 1, 40, 64});
  ColorizeEngine all_engine(model, torch::kCPU);
  const torch::Tensor all = all_engine.colorize_all(luma);
  for (int i = 0; i < 4; ++i)
    for (int j = i + 1; j < 4; ++j)
      EXPECT_GT((all[0][i] - all[0][j]).abs().max().item<float>(), 1e-3f) << i << " vs " << j;
  for (int k = 0; k < 4; ++k) {
    ColorizeEngine fixed(model, torch::kCPU, {.candidate = k});
    EXPECT_TRUE(fixed.locked());
    for (int frame = 0; frame < 2; ++frame) {
      const torch::Tensor c = fixed.colorize(luma);
      EXPECT_EQ(fixed.chosen_candidate(), k);
      EXPECT_LT((c[0] - all[0][k]).abs().max().item<float>(), 1e-5f) << "candidate " << k;
    }
  }
}

TEST(ColorizeEngine, SharedModelIsNotModified) {
  torch::manual_seed(2);
  auto m = std::make_shared<Model>(make_model(small_config()));
  ASSERT_TRUE(m->f->is_training());
  const torch::Tensor w = m->f->named_parameters(true)["head.weight"].clone();
  ColorizeEngine engine(m, torch::kCPU);
  engine.colorize(torch::rand({1, 1, 32, 32}));
  EXPECT_TRUE(m->f->is_training());  // the engine ran its own eval copy
  EXPECT_TRUE(torch::equal(m->f->named_parameters(true)["head.weight"], w));
}

TEST(ColorizeEngine, AutoPicksTheMostSaturatedAndLocks) {
  const int dark = reference_winner(0.25f), bright = reference_winner(0.75f);
  ASSERT_NE(dark, bright) << "the constructed case must tell the two apart";
  ColorizeEngine engine(constant_model(), torch::kCPU, {.candidate = -1, .auto_frames = 4});
  EXPECT_EQ(engine.chosen_candidate(), -1);
  for (int i = 0; i < 4; ++i) {
    EXPECT_FALSE(engine.locked());
    const torch::Tensor c = engine.colorize(uniform(0.25f));
    EXPECT_EQ(engine.chosen_candidate(), dark);
    EXPECT_NEAR(c[0][0].mean().item<float>(), kConstantChroma[dark].first, 1e-4);
    EXPECT_NEAR(c[0][1].mean().item<float>(), kConstantChroma[dark].second, 1e-4);
  }
  EXPECT_TRUE(engine.locked());
  // The picture brightens gradually (no cut) until `bright` would win: the lock holds.
  for (int step = 1; step <= 10; ++step) {
    engine.colorize(split(step / 10.0));
    EXPECT_FALSE(engine.last_was_scene_cut()) << "step " << step;
    EXPECT_EQ(engine.chosen_candidate(), dark) << "step " << step;
  }
  // ... and stays bright: the lock still holds, where an unlocked running choice flips.
  ColorizeEngine unlocked(constant_model(), torch::kCPU, {.candidate = -1, .auto_frames = 1000});
  for (int i = 0; i < 4; ++i) unlocked.colorize(uniform(0.25f));
  for (int step = 1; step <= 10; ++step) unlocked.colorize(split(step / 10.0));
  for (int i = 0; i < 20; ++i) {
    engine.colorize(split(1.0));
    unlocked.colorize(split(1.0));
  }
  EXPECT_EQ(engine.chosen_candidate(), dark);
  EXPECT_EQ(unlocked.chosen_candidate(), bright) << "control: without the lock it would flip";
  // reset (flush): chosen again on what comes now.
  engine.reset();
  EXPECT_FALSE(engine.locked());
  engine.colorize(uniform(0.75f));
  EXPECT_EQ(engine.chosen_candidate(), bright);
}

TEST(ColorizeEngine, SceneCutChoosesAgain) {
  const int dark = reference_winner(0.25f), bright = reference_winner(0.75f);
  ColorizeEngine engine(constant_model(), torch::kCPU, {.candidate = -1, .auto_frames = 2});
  for (int i = 0; i < 3; ++i) engine.colorize(uniform(0.75f));
  ASSERT_TRUE(engine.locked());
  ASSERT_EQ(engine.chosen_candidate(), bright);
  engine.colorize(uniform(0.25f));  // a cut: every pixel changes bin
  EXPECT_TRUE(engine.last_was_scene_cut());
  EXPECT_EQ(engine.chosen_candidate(), dark);
  EXPECT_FALSE(engine.locked());
  engine.colorize(uniform(0.25f));
  EXPECT_FALSE(engine.last_was_scene_cut());
  EXPECT_TRUE(engine.locked());
  // Cut detection off: the lock survives the same jump.
  ColorizeEngine no_cuts(constant_model(), torch::kCPU,
                         {.candidate = -1, .auto_frames = 2, .scene_cut_threshold = 2.0});
  for (int i = 0; i < 2; ++i) no_cuts.colorize(uniform(0.75f));
  no_cuts.colorize(uniform(0.25f));
  EXPECT_FALSE(no_cuts.last_was_scene_cut());
  EXPECT_EQ(no_cuts.chosen_candidate(), bright);
}

// A model whose config names a default candidate: auto shows that one from the first frame,
// through scene cuts and resets, even where another is more saturated; an explicit candidate
// still wins; a default the model cannot have is refused.
TEST(ColorizeEngine, AutoUsesTheModelsDefaultCandidate) {
  const int dark = reference_winner(0.25f), bright = reference_winner(0.75f);
  int quiet = 0;
  while (quiet == dark || quiet == bright) ++quiet;  // never the saturation rule's pick
  auto with_default = [](int k) {
    auto m = std::make_shared<Model>(*constant_model());
    m->config.default_candidate = k;
    return std::shared_ptr<const Model>(m);
  };
  ColorizeEngine engine(with_default(quiet), torch::kCPU, {.candidate = -1, .auto_frames = 2});
  EXPECT_EQ(engine.chosen_candidate(), quiet);
  EXPECT_TRUE(engine.locked());
  for (float y : {0.25f, 0.25f, 0.75f, 0.25f}) {  // includes two cuts
    const torch::Tensor c = engine.colorize(uniform(y));
    EXPECT_EQ(engine.chosen_candidate(), quiet);
    EXPECT_NEAR(c[0][0].mean().item<float>(), kConstantChroma[quiet].first, 1e-4);
    EXPECT_NEAR(c[0][1].mean().item<float>(), kConstantChroma[quiet].second, 1e-4);
  }
  engine.reset();
  engine.colorize(uniform(0.75f));
  EXPECT_EQ(engine.chosen_candidate(), quiet);
  // Control: the same model without a default follows the saturation rule.
  ColorizeEngine by_saturation(with_default(-1), torch::kCPU, {.candidate = -1});
  by_saturation.colorize(uniform(0.75f));
  EXPECT_EQ(by_saturation.chosen_candidate(), bright);
  // An explicit candidate overrides the model's default.
  ColorizeEngine fixed(with_default(quiet), torch::kCPU, {.candidate = bright});
  fixed.colorize(uniform(0.25f));
  EXPECT_EQ(fixed.chosen_candidate(), bright);
  expect_error([&] { ColorizeEngine bad(with_default(4), torch::kCPU); }, "default_candidate");
}

TEST(ColorizeEngine, MosaicShowsEachCandidateInItsCell) {
  ColorizeEngine engine(constant_model(), torch::kCPU);
  const int64_t H = 17, W = 33;  // odd: cells 8/9 rows and 16/17 columns
  const torch::Tensor luma = torch::rand({1, 1, H, W}) * 0.5 + 0.25;
  const MosaicFrame m = engine.colorize_mosaic(luma);
  const int64_t ys[3] = {0, H / 2, H}, xs[3] = {0, W / 2, W};
  for (int i = 0; i < 4; ++i) {
    const int64_t r = i / 2, c = i % 2;
    const torch::Tensor cell =
        m.chroma[0].narrow(1, ys[r], ys[r + 1] - ys[r]).narrow(2, xs[c], xs[c + 1] - xs[c]);
    EXPECT_NEAR(cell[0].min().item<float>(), kConstantChroma[i].first, 1e-4) << "cell " << i;
    EXPECT_NEAR(cell[0].max().item<float>(), kConstantChroma[i].first, 1e-4) << "cell " << i;
    EXPECT_NEAR(cell[1].mean().item<float>(), kConstantChroma[i].second, 1e-4) << "cell " << i;
    // The cell's luma is the frame scaled to the cell: same mean brightness.
    const torch::Tensor lc =
        m.luma[0][0].narrow(0, ys[r], ys[r + 1] - ys[r]).narrow(1, xs[c], xs[c + 1] - xs[c]);
    EXPECT_NEAR(lc.mean().item<float>(), luma.mean().item<float>(), 0.03) << "cell " << i;
  }
  EXPECT_EQ(engine.chosen_candidate(), -1);  // the mosaic does not choose
}

// The class-decoding options give what the model file would give had it named that operating
// point (vidcolor-model set --class-temperature/--class-debias writes exactly that): the same
// weights, another decoding. A prior that is not flat, so that the debias matters.
TEST(ColorizeEngine, ClassDecodingOverridesTheModelsOperatingPoint) {
  torch::manual_seed(23);
  auto base = std::make_shared<Model>(make_model(small_config()));
  ASSERT_EQ(base->config.chroma_classes, 313);
  {
    torch::NoGradGuard no_grad;
    base->f->class_log_prior.copy_(torch::linspace(-4.0, 2.0, 313));
  }
  base->f->eval();
  base->g->eval();
  auto as_file = std::make_shared<Model>(*base);  // the same networks, another config
  as_file->config.class_temperature = 0.6;
  as_file->config.class_debias = 0.9;
  ASSERT_NE(base->config.class_temperature, 0.6);
  ASSERT_NE(base->config.class_debias, 0.9);

  const torch::Tensor luma = torch::rand({1, 1, 36, 48});
  ColorizeOptions o;
  o.candidate = 0;
  const torch::Tensor from_file = ColorizeEngine(as_file, torch::kCPU, o).colorize(luma).clone();
  const torch::Tensor own = ColorizeEngine(base, torch::kCPU, o).colorize(luma).clone();
  o.class_temperature = 0.6;
  o.class_debias = 0.9;
  ColorizeEngine overridden(base, torch::kCPU, o);
  EXPECT_EQ(overridden.options().class_debias, 0.9);
  const torch::Tensor out = overridden.colorize(luma).clone();
  EXPECT_TRUE(torch::equal(out, from_file));
  EXPECT_GT((out - own).abs().max().item<float>(), 1e-3f) << "the override changed nothing";
  // Each override alone moves the output too, and -1 / 0 keep the file's.
  o.class_temperature = 0.0;
  EXPECT_FALSE(torch::equal(ColorizeEngine(base, torch::kCPU, o).colorize(luma), own));
  o.class_debias = -1.0;
  EXPECT_TRUE(torch::equal(ColorizeEngine(base, torch::kCPU, o).colorize(luma), own));
  o.class_temperature = 0.6;
  EXPECT_FALSE(torch::equal(ColorizeEngine(base, torch::kCPU, o).colorize(luma), own));
}

TEST(ColorizeEngine, ClassDecodingOptionsAreChecked) {
  const auto model = random_model();
  auto with = [&](double temperature, double debias) {
    ColorizeOptions o;
    o.class_temperature = temperature;
    o.class_debias = debias;
    return [&model, o] { ColorizeEngine(model, torch::kCPU, o); };
  };
  expect_error(with(0.0, -0.5), "class_debias must be 0..1");
  expect_error(with(0.0, 1.5), "class_debias");
  expect_error(with(0.001, -1.0), "class_temperature must be 0.01..10");
  expect_error(with(11.0, -1.0), "class_temperature");
  expect_error(with(-1.0, -1.0), "class_temperature");
  // A model that regresses its chroma has nothing to decode: an override is an error, not a
  // silent no-op; the defaults are fine.
  ColorizeOptions o;
  ColorizeEngine(constant_model(), torch::kCPU, o);
  o.class_debias = 0.5;
  expect_error([&] { ColorizeEngine(constant_model(), torch::kCPU, o); }, "chroma classes");
}

// skip_borders (the default): f runs on the picture inside black bars, exactly as on the
// picture alone, and the bars get neutral chroma; off, f sees the bars too.
TEST(ColorizeEngine, SkipBordersRunsFOnThePictureOnly) {
  const auto model = random_model();
  torch::manual_seed(9);
  const torch::Tensor picture = torch::rand({1, 1, 48, 64}) * 0.7 + 0.3;
  torch::Tensor frame = torch::zeros({1, 1, 48, 96});
  frame.narrow(3, 16, 64).copy_(picture);
  const torch::Tensor framed = ColorizeEngine(model, torch::kCPU).colorize(frame);
  const torch::Tensor alone = ColorizeEngine(model, torch::kCPU).colorize(picture);
  EXPECT_TRUE(torch::equal(framed.narrow(3, 16, 64), alone));
  EXPECT_EQ(framed.narrow(3, 0, 16).abs().max().item<float>(), 0.0f);
  EXPECT_EQ(framed.narrow(3, 80, 16).abs().max().item<float>(), 0.0f);
  // colorize_all: each candidate alike.
  const torch::Tensor all = ColorizeEngine(model, torch::kCPU).colorize_all(frame);
  const torch::Tensor all_alone = ColorizeEngine(model, torch::kCPU).colorize_all(picture);
  EXPECT_TRUE(torch::equal(all.narrow(4, 16, 64), all_alone));
  EXPECT_EQ(all.narrow(4, 0, 16).abs().max().item<float>(), 0.0f);

  ColorizeOptions whole;
  whole.skip_borders = false;
  const torch::Tensor seen = ColorizeEngine(model, torch::kCPU, whole).colorize(frame);
  EXPECT_GT(seen.narrow(3, 0, 16).abs().max().item<float>(), 0.0f);
  EXPECT_FALSE(torch::equal(seen.narrow(3, 16, 64), alone));
}

TEST(ColorizeEngine, BadInputsAndOptions) {
  const auto model = random_model();
  ColorizeEngine engine(model, torch::kCPU);
  expect_error([&] { engine.colorize(torch::rand({1, 40, 40})); }, "[1,1,H,W]");
  expect_error([&] { engine.colorize(torch::rand({2, 1, 40, 40})); }, "[2, 1, 40, 40]");
  expect_error([&] { engine.colorize(torch::rand({1, 3, 40, 40})); }, "[1,1,H,W]");
  expect_error([&] { engine.colorize(torch::zeros({1, 1, 40, 40}, torch::kUInt8)); }, "Byte");
  expect_error([&] { engine.colorize(torch::Tensor()); }, "undefined");
  expect_error([&] { engine.colorize(torch::rand({1, 1, 0, 40})); }, "[1,1,H,W]");
  expect_error([&] { ColorizeEngine(model, torch::kCPU, {.candidate = 4}); }, "0..3");
  expect_error([&] { ColorizeEngine(model, torch::kCPU, {.candidate = -2}); }, "candidate");
  expect_error([&] { ColorizeEngine(model, torch::kCPU, {.candidate = -1, .inference_size = 8}); },
               "inference_size");
  expect_error([&] { ColorizeEngine(model, torch::kCPU, {.candidate = -1, .auto_frames = 0}); },
               "auto_frames");
  expect_error([&] { ColorizeEngine(nullptr, torch::kCPU); }, "no model");
}
