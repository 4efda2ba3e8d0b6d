// with_class_decoding: what the elements, vidcolor-eval and `vidcolor-model set` accept and
// refuse when they set the decoding of f's chroma classes.
#include <gtest/gtest.h>

#include "lib/expect_error.hpp"
#include "vidcolor/model/class_decoding.hpp"

using namespace vidcolor;
using vctest::expect_error;

namespace {

// A classed model whose f carries a class prior, as the trainer writes it.
Model classed_model(bool with_prior) {
  ModelConfig c = ModelConfig::fast();
  c.chroma_classes = 313;
  Model m = make_model(c);
  if (with_prior) {
    torch::NoGradGuard ng;
    m.f->class_log_prior.copy_(torch::linspace(-2.0, 2.0, 313));
  }
  return m;
}

// One setting each (designated initializers are C++20; GCC warns on them in C++17).
ClassDecoding temperature(double t) {
  ClassDecoding d;
  d.temperature = t;
  return d;
}
ClassDecoding debias(double b) {
  ClassDecoding d;
  d.debias = b;
  return d;
}
ClassDecoding mode_radius(double r) {
  ClassDecoding d;
  d.mode_radius = r;
  return d;
}

}  // namespace

TEST(ClassDecoding, SetsWhatIsGivenAndKeepsTheRest) {
  const Model m = classed_model(true);
  ClassDecoding d;
  EXPECT_EQ(with_class_decoding(m, d), m.config);  // nothing set: the model's own
  d.debias = 0.7;
  const ModelConfig c = with_class_decoding(m, d);
  EXPECT_DOUBLE_EQ(c.class_debias, 0.7);
  EXPECT_DOUBLE_EQ(c.class_temperature, m.config.class_temperature);
  EXPECT_DOUBLE_EQ(c.class_mode_radius, m.config.class_mode_radius);
  d.temperature = 0.5;
  d.mode_radius = 25;
  const ModelConfig all = with_class_decoding(m, d);
  EXPECT_DOUBLE_EQ(all.class_temperature, 0.5);
  EXPECT_DOUBLE_EQ(all.class_mode_radius, 25);
  EXPECT_EQ(all.inference_size, m.config.inference_size);
}

TEST(ClassDecoding, RefusesWhatCannotBeDecoded) {
  // A model that regresses its chroma has nothing to decode; without settings it is fine.
  ModelConfig plain = ModelConfig::fast();
  plain.chroma_classes = 0;
  const Model regressing = make_model(plain);
  EXPECT_EQ(with_class_decoding(regressing, {}), regressing.config);
  expect_error([&] { with_class_decoding(regressing, temperature(0.5)); }, "chroma classes");
  expect_error([&] { with_class_decoding(regressing, mode_radius(10)); }, "chroma classes");
  // Debias undoes the trainer's prior: an f without one has nothing to undo (0 is no undoing).
  const Model no_prior = classed_model(false);
  expect_error([&] { with_class_decoding(no_prior, debias(0.5)); }, "no class prior");
  EXPECT_DOUBLE_EQ(with_class_decoding(no_prior, debias(0.0)).class_debias, 0.0);
  EXPECT_DOUBLE_EQ(with_class_decoding(no_prior, temperature(0.6)).class_temperature, 0.6);
  // Out of the model file's ranges: the field is named.
  const Model m = classed_model(true);
  expect_error([&] { with_class_decoding(m, debias(1.5)); }, "class_debias");
  expect_error([&] { with_class_decoding(m, temperature(0.001)); }, "class_temperature");
  expect_error([&] { with_class_decoding(m, mode_radius(-1)); }, "class_mode_radius");
}
