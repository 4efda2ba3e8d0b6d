// Shapes, ranges and configuration of the networks f and g.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "vidcolor/core/error.hpp"
#include "vidcolor/core/color_tensors.hpp"
#include "vidcolor/model/ab_bins.hpp"
#include "vidcolor/model/networks.hpp"

using namespace vidcolor;

TEST(ModelConfig, JsonRoundTrip) {
  const ModelConfig q = ModelConfig::quality();
  EXPECT_EQ(ModelConfig::from_json(q.to_json()), q);
  EXPECT_FALSE(ModelConfig::from_json(ModelConfig::fast().to_json()) == q);
}

// g's own inference size: absent in older files (their JSON unchanged), round-trips when set,
// 0 or 16..4096; refine_size() falls back to f's.
TEST(ModelConfig, RefineInferenceSize) {
  ModelConfig c = ModelConfig::fast();
  EXPECT_FALSE(c.to_json().contains("refine_inference_size"));
  EXPECT_EQ(c.refine_size(), c.inference_size);
  c.refine_inference_size = 96;
  EXPECT_EQ(c.to_json().at("refine_inference_size"), 96);
  EXPECT_EQ(ModelConfig::from_json(c.to_json()), c);
  EXPECT_EQ(ModelConfig::from_json(c.to_json()).refine_size(), 96);
  EXPECT_FALSE(c == ModelConfig::fast());
  nlohmann::json j = c.to_json();
  j["refine_inference_size"] = 8;
  EXPECT_THROW(ModelConfig::from_json(j), Error);
  j["refine_inference_size"] = "small";
  EXPECT_THROW(ModelConfig::from_json(j), Error);
  int w = 0, h = 0;
  c.refine_inference_dims(854, 480, &w, &h);
  EXPECT_EQ(h, 96);
  EXPECT_EQ(w, 176);  // 170.8 rounded to a multiple of 16
  j["refine_inference_size"] = 0;
  EXPECT_EQ(ModelConfig::from_json(j).refine_size(), c.inference_size);
}

// The default candidate: absent unless set (older files keep their JSON), round-trips,
// -1..candidates-1.
TEST(ModelConfig, DefaultCandidate) {
  ModelConfig c = ModelConfig::fast();
  EXPECT_EQ(c.default_candidate, -1);
  EXPECT_FALSE(c.to_json().contains("default_candidate"));
  c.default_candidate = 2;
  EXPECT_EQ(c.to_json().at("default_candidate"), 2);
  EXPECT_EQ(ModelConfig::from_json(c.to_json()), c);
  nlohmann::json j = c.to_json();
  j["default_candidate"] = c.candidates;  // one past the last
  EXPECT_THROW(ModelConfig::from_json(j), Error);
  j["default_candidate"] = -2;
  EXPECT_THROW(ModelConfig::from_json(j), Error);
  j["default_candidate"] = -1;
  EXPECT_EQ(ModelConfig::from_json(j).default_candidate, -1);
}

TEST(ModelConfig, BadFieldsAreNamed) {
  nlohmann::json j = ModelConfig::fast().to_json();
  j.erase("candidates");
  try {
    ModelConfig::from_json(j);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("candidates"), std::string::npos);
  }
  j = ModelConfig::fast().to_json();
  j["colorizer_channels"] = "wide";
  EXPECT_THROW(ModelConfig::from_json(j), Error);
  j = ModelConfig::fast().to_json();
  j["colorizer_channels"] = std::vector<int>{8, 8};
  EXPECT_THROW(ModelConfig::from_json(j), Error);
  j = ModelConfig::fast().to_json();
  j["backbone"] = "vgg-42";
  EXPECT_THROW(ModelConfig::from_json(j), Error);
  EXPECT_THROW(ModelConfig::from_json(nlohmann::json::array()), Error);
}

TEST(ModelConfig, InferenceDimsAreMultiplesOf16AndKeepAspect) {
  ModelConfig c;
  int w = 0, h = 0;
  c.inference_dims(854, 480, &w, &h);
  EXPECT_EQ(h, 144);
  EXPECT_EQ(w, 256);
  c.inference_dims(100, 30, &w, &h);  // never upscaled beyond the input
  EXPECT_EQ(h, 32);
  EXPECT_EQ(w, 96);
  c.inference_dims(1, 1, &w, &h);
  EXPECT_EQ(w, 16);
  EXPECT_EQ(h, 16);
}

TEST(MobileNetV2, FeatureStridesAndChannels) {
  MobileNetV2 net(0.35);
  const std::vector<int64_t> expected = {8, 8, 16, 32, 112};
  EXPECT_EQ(net->feature_channels(), expected);
  torch::NoGradGuard ng;
  net->eval();
  const auto feats = net->forward(torch::rand({1, 3, 64, 96}) * 2 - 1);
  ASSERT_EQ(feats.size(), 5u);
  for (size_t i = 0; i < feats.size(); ++i) {
    EXPECT_EQ(feats[i].size(1), expected[i]);
    EXPECT_EQ(feats[i].size(2), 64 >> (i + 1));
    EXPECT_EQ(feats[i].size(3), 96 >> (i + 1));
  }
  // Keras layer names, so pretrained weights map one to one.
  const auto params = net->named_parameters();
  EXPECT_TRUE(params.contains("Conv1.weight"));
  EXPECT_TRUE(params.contains("block_16_project_BN.weight"));
  EXPECT_TRUE(net->named_buffers().contains("expanded_conv_depthwise_BN.running_var"));
}

TEST(ColorizerNet, DCandidatesOfChromaInRange) {
  ModelConfig c;
  c.candidates = 4;
  ColorizerNet f(c);
  f->eval();
  torch::NoGradGuard ng;
  const auto out = f->forward(torch::rand({2, 1, 48, 80}));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{2, 4, 2, 48, 80}));
  EXPECT_LE(out.abs().max().item<float>(), 0.5f);
  // The candidates differ (d distinct heads, not one output repeated).
  EXPECT_GT((out.select(1, 0) - out.select(1, 1)).abs().max().item<float>(), 0.0f);
}

// Chroma classes: absent from older files (their JSON unchanged), round-trip, 0 or 313.
TEST(ModelConfig, ChromaClasses) {
  ModelConfig c;
  EXPECT_EQ(c.chroma_classes, 0);
  EXPECT_FALSE(c.to_json().contains("chroma_classes"));
  EXPECT_EQ(ModelConfig::fast().chroma_classes, 313);
  c.chroma_classes = 313;
  c.class_temperature = 0.5;
  EXPECT_EQ(ModelConfig::from_json(c.to_json()), c);
  EXPECT_DOUBLE_EQ(ModelConfig::from_json(c.to_json()).class_temperature, 0.5);
  nlohmann::json j = c.to_json();
  j["chroma_classes"] = 100;
  EXPECT_THROW(ModelConfig::from_json(j), Error);
  j["chroma_classes"] = 313;
  j["class_temperature"] = 0.0;
  EXPECT_THROW(ModelConfig::from_json(j), Error);
  // The debias is written only when set, and must be 0..1.
  j["class_temperature"] = 0.5;
  EXPECT_FALSE(j.contains("class_debias"));
  c.class_debias = 0.75;
  EXPECT_DOUBLE_EQ(ModelConfig::from_json(c.to_json()).class_debias, 0.75);
  j["class_debias"] = 1.5;
  EXPECT_THROW(ModelConfig::from_json(j), Error);
  // So is the mode radius (0 = the annealed mean), and it must be 0..1000.
  j["class_debias"] = 0.5;
  EXPECT_FALSE(j.contains("class_mode_radius"));
  c.class_mode_radius = 30;
  EXPECT_DOUBLE_EQ(ModelConfig::from_json(c.to_json()).class_mode_radius, 30);
  j["class_mode_radius"] = -1;
  EXPECT_THROW(ModelConfig::from_json(j), Error);
}

// The backbone's input scale: absent from files that keep 1 (their JSON unchanged), round-trips,
// 1..4.
TEST(ModelConfig, BackboneInputScale) {
  ModelConfig c = ModelConfig::fast();
  EXPECT_FALSE(c.to_json().contains("backbone_input_scale"));
  c.backbone_input_scale = 2;
  EXPECT_EQ(c.to_json().at("backbone_input_scale"), 2.0);
  EXPECT_EQ(ModelConfig::from_json(c.to_json()), c);
  EXPECT_FALSE(c == ModelConfig::fast());
  nlohmann::json j = c.to_json();
  for (const double bad : {0.5, 0.0, 4.5}) {
    j["backbone_input_scale"] = bad;
    EXPECT_THROW(ModelConfig::from_json(j), Error) << bad;
  }
  j["backbone_input_scale"] = "double";
  EXPECT_THROW(ModelConfig::from_json(j), Error);
}

// f with the backbone on an upscaled view: the same weights and output shapes, other colours
// (the features differ), and the backbone's share of the cost grows with the scale squared
// while the U-Net's stays.
TEST(ColorizerNet, BackboneInputScaleGivesTheBackboneAnUpscaledView) {
  ModelConfig c = ModelConfig::fast();
  torch::manual_seed(6);
  ColorizerNet f1(c);
  c.backbone_input_scale = 2;
  ColorizerNet f2(c);
  {
    torch::NoGradGuard ng;
    const auto from = f1->named_parameters();
    for (auto& p : f2->named_parameters()) p.value().copy_(from[p.key()]);
  }
  f1->eval();
  f2->eval();
  torch::NoGradGuard ng;
  const torch::Tensor gray = torch::rand({1, 1, 48, 80});
  const torch::Tensor a = f1->forward(gray), b = f2->forward(gray);
  EXPECT_EQ(a.sizes(), b.sizes());
  EXPECT_GT((a - b).abs().max().item<float>(), 1e-4f);
  EXPECT_TRUE(torch::equal(b, f2->forward(gray)));

  ModelConfig c1 = ModelConfig::fast(), c2 = c1, c3 = c1;
  c2.backbone_input_scale = 2;
  c3.backbone_input_scale = 3;
  const double f1_flops = colorizer_flops(c1, 192, 112);
  const double more2 = colorizer_flops(c2, 192, 112) - f1_flops;
  const double more3 = colorizer_flops(c3, 192, 112) - f1_flops;
  EXPECT_GT(more2, 0.0);
  EXPECT_NEAR(more3 / more2, 8.0 / 3.0, 0.05);  // (9 - 1) / (4 - 1): the backbone's cost * s^2
}

namespace {
// f's candidate 0 decoded by hand from ab at the class map's size: bilinear to the gray frame's
// size, under its lightness, Lab -> R'G'B' -> CbCr.
torch::Tensor decode_by_hand(const torch::Tensor& ab_lr, const torch::Tensor& gray) {
  const torch::Tensor ab = torch::upsample_bilinear2d(ab_lr, {gray.size(2), gray.size(3)}, false);
  const torch::Tensor rgb = lab_to_rgb(torch::cat({gray_to_lightness(gray), ab}, 1));
  return rgb_to_ycc(rgb).narrow(1, 1, 2).clamp(-0.5, 0.5);
}
}  // namespace

// Debias: decoding adds class_debias * f's prior buffer to the logits before the annealed mean;
// the logits the trainer sees are unchanged.
TEST(ColorizerNet, ClassDebiasAddsThePriorBeforeDecoding) {
  ModelConfig c;
  c.chroma_classes = 313;
  c.class_temperature = 0.6;
  c.class_debias = 0.5;
  torch::manual_seed(4);
  ColorizerNet f(c);
  f->eval();
  torch::NoGradGuard ng;
  ASSERT_EQ(f->class_log_prior.sizes(), (std::vector<int64_t>{313}));
  EXPECT_EQ(f->class_log_prior.abs().max().item<float>(), 0.0f);  // unknown until trained
  f->class_log_prior.copy_(torch::linspace(-3.0, 3.0, 313));
  const torch::Tensor gray = torch::rand({1, 1, 32, 48});
  const ColorizerOutputs out = f->forward_outputs(gray);
  const torch::Tensor logits = out.class_logits + 0.5 * f->class_log_prior.view({1, -1, 1, 1});
  const torch::Tensor cbcr = decode_by_hand(ab_annealed_mean(logits, 0.6), gray);
  EXPECT_LT((out.candidates.select(1, 0) - cbcr).abs().max().item<float>(), 1e-5f);
  // Without the debias the same weights decode differently (the prior matters).
  c.class_debias = 0.0;
  ColorizerNet plain(c);
  plain->eval();
  for (const auto& p : f->named_parameters()) plain->named_parameters()[p.key()].copy_(p.value());
  plain->class_log_prior.copy_(f->class_log_prior);
  EXPECT_TRUE(torch::equal(plain->forward_outputs(gray).class_logits, out.class_logits));
  EXPECT_GT(
      (plain->forward(gray).select(1, 0) - out.candidates.select(1, 0)).abs().max().item<float>(),
      1e-3f);
}

// With a mode radius, candidate 0 decodes through ab_mode_mean instead (same logits, same debias),
// and differs from the annealed mean's.
TEST(ColorizerNet, ClassModeRadiusDecodesByTheModeMean) {
  ModelConfig c;
  c.chroma_classes = 313;
  c.class_temperature = 1.0;
  c.class_mode_radius = 20;
  torch::manual_seed(5);
  ColorizerNet f(c);
  f->eval();
  torch::NoGradGuard ng;
  const torch::Tensor gray = torch::rand({1, 1, 32, 48});
  const ColorizerOutputs out = f->forward_outputs(gray);
  const torch::Tensor by_mode = decode_by_hand(ab_mode_mean(out.class_logits, 1.0, 20.0), gray);
  EXPECT_LT((out.candidates.select(1, 0) - by_mode).abs().max().item<float>(), 1e-5f);
  const torch::Tensor by_mean = decode_by_hand(ab_annealed_mean(out.class_logits, 1.0), gray);
  EXPECT_GT((by_mode - by_mean).abs().max().item<float>(), 1e-4f);
}

// With classes, candidate 0 is the annealed mean of the class logits (made full size, as CbCr
// under the frame's lightness); the others are residuals around it, and all stay in range.
TEST(ColorizerNet, ClassesGiveCandidateZeroByAnnealedMean) {
  ModelConfig c;
  c.chroma_classes = 313;
  c.class_temperature = 0.38;
  ColorizerNet f(c);
  f->eval();
  torch::NoGradGuard ng;
  const torch::Tensor gray = torch::rand({2, 1, 48, 80});
  const ColorizerOutputs out = f->forward_outputs(gray);
  EXPECT_EQ(out.candidates.sizes(), (std::vector<int64_t>{2, 4, 2, 48, 80}));
  ASSERT_TRUE(out.class_logits.defined());
  EXPECT_EQ(out.class_logits.sizes(), (std::vector<int64_t>{2, 313, 12, 20}));
  EXPECT_LE(out.candidates.abs().max().item<float>(), 0.5f);
  EXPECT_TRUE(torch::equal(f->forward(gray), out.candidates));
  // Decode by hand: the annealed mean, bilinear to full size, Lab -> R'G'B' -> CbCr.
  const torch::Tensor cbcr = decode_by_hand(ab_annealed_mean(out.class_logits, 0.38), gray);
  EXPECT_LT((out.candidates.select(1, 0) - cbcr).abs().max().item<float>(), 1e-5f);
  EXPECT_GT((out.candidates.select(1, 1) - out.candidates.select(1, 0)).abs().max().item<float>(),
            0.0f);
  // One candidate: the class decode alone, no regression head.
  c.candidates = 1;
  ColorizerNet f1(c);
  EXPECT_EQ(f1->forward(gray).sizes(), (std::vector<int64_t>{2, 1, 2, 48, 80}));
  EXPECT_EQ(f1->named_parameters().find("head.weight"), nullptr);
}

TEST(ColorizerNet, ShallowConfigsWork) {
  ModelConfig c;
  c.colorizer_channels = {8, 8, 8};
  c.candidates = 2;
  ColorizerNet f(c);
  f->eval();
  torch::NoGradGuard ng;
  EXPECT_EQ(f->forward(torch::rand({1, 1, 32, 32})).sizes(),
            (std::vector<int64_t>{1, 2, 2, 32, 32}));
}

TEST(RefinerNet, OutputShapeAndGradients) {
  ModelConfig c;
  RefinerNet g(c);
  const auto y = torch::rand({1, 1, 32, 48});
  const auto cs = (torch::rand({1, 2, 32, 48}) - 0.5).requires_grad_(true);
  const auto ct = torch::rand({1, 2, 32, 48}) - 0.5;
  const auto w = torch::rand({1, 1, 32, 48});
  const auto out = g->forward(y, cs, ct, w, w);
  EXPECT_EQ(out.sizes(), cs.sizes());
  out.sum().backward();
  EXPECT_GT(cs.grad().abs().sum().item<float>(), 0.0f);
  for (const auto& p : g->parameters()) EXPECT_TRUE(p.grad().defined());
}

TEST(Model, TensorNamesArePrefixedAndComplete) {
  const Model m = make_model(ModelConfig::fast());
  const auto tensors = model_tensors(m);
  EXPECT_TRUE(tensors.count("f.backbone.Conv1.weight"));
  EXPECT_TRUE(tensors.count("f.backbone.bn_Conv1.running_mean"));
  EXPECT_TRUE(tensors.count("f.head.weight"));
  EXPECT_TRUE(tensors.count("g.head.bias"));
  size_t params = 0;
  for (const auto& p : m.f->parameters()) (void)p, ++params;
  for (const auto& p : m.g->parameters()) (void)p, ++params;
  size_t buffers = 0;
  for (const auto& b : m.f->buffers()) (void)b, ++buffers;
  for (const auto& b : m.g->buffers()) (void)b, ++buffers;
  EXPECT_EQ(tensors.size(), params + buffers);
}

TEST(Flops, GrowWithResolutionAndWidth) {
  const double small = colorizer_flops(ModelConfig::fast(), 256, 144);
  EXPECT_NEAR(colorizer_flops(ModelConfig::fast(), 512, 288) / small, 4.0, 0.2);
  EXPECT_GT(colorizer_flops(ModelConfig::quality(), 256, 144), small);
  EXPECT_GT(refiner_flops(ModelConfig::fast(), 256, 144), 0.0);
}
