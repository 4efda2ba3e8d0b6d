// Model files: save/load round trip, and each way a file can be wrong gives an Error naming
// the file and the tensor or field.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <cmath>
#include <fstream>
#include <limits>
#include <string>

#include "lib/expect_error.hpp"
#include "vidcolor/core/error.hpp"
#include "vidcolor/model/model_file.hpp"
#include "vidcolor/model/safetensors.hpp"

using namespace vidcolor;
namespace fs = std::filesystem;

namespace {

class ModelFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vidcolor-test-model-file-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    torch::manual_seed(7);
    model_ = make_model(ModelConfig::fast());
    model_.provenance = {{"data", "unit test"}, {"steps", 0}};
    good_ = path("good.safetensors");
    save_model(model_, good_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Writes a copy of the good file with its tensors and metadata edited.
  std::string variant(const std::string& name,
                      const std::function<void(std::map<std::string, torch::Tensor>&,
                                               std::map<std::string, std::string>&)>& edit) {
    SafetensorsFile f = read_safetensors(good_);
    edit(f.tensors, f.metadata);
    const std::string p = path(name);
    write_safetensors(p, f.tensors, f.metadata);
    return p;
  }

  void expect_error(const std::string& file, const std::string& problem) {
    vctest::expect_error([&] { load_model(file); }, {file, problem});
  }

  fs::path dir_;
  Model model_;
  std::string good_;
};

}  // namespace

TEST_F(ModelFile, RoundTrip) {
  Model loaded = load_model(good_);
  EXPECT_TRUE(loaded.config == model_.config);
  EXPECT_EQ(loaded.provenance, model_.provenance);
  EXPECT_FALSE(loaded.f->is_training());
  const auto a = model_tensors(model_), b = model_tensors(loaded);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) {
    ASSERT_EQ(b.count(name), 1u) << name;
    EXPECT_TRUE(torch::equal(t, b.at(name))) << name;
  }
  // And so the networks compute the same thing.
  torch::NoGradGuard no_grad;
  model_.f->eval();
  model_.g->eval();
  const torch::Tensor gray = torch::rand({1, 1, 32, 48});
  EXPECT_TRUE(torch::equal(model_.f->forward(gray), loaded.f->forward(gray)));
  const torch::Tensor y = torch::rand({1, 1, 16, 16}), c = torch::rand({1, 2, 16, 16}) - 0.5;
  const torch::Tensor w = torch::rand({1, 1, 16, 16});
  EXPECT_TRUE(torch::equal(model_.g->forward(y, c, c.flip({3}), w, w),
                           loaded.g->forward(y, c, c.flip({3}), w, w)));
}

TEST_F(ModelFile, DifferentWeightsAreNotEqualAfterLoad) {
  // Guards the round trip test: a different random model differs, so equality is not vacuous.
  torch::manual_seed(8);
  const Model other = make_model(ModelConfig::fast());
  const Model loaded = load_model(good_);
  EXPECT_FALSE(torch::equal(model_tensors(other).at("g.head.weight"),
                            model_tensors(loaded).at("g.head.weight")));
}

TEST_F(ModelFile, StandardSafetensorsLayoutAndMetadata) {
  std::ifstream in(good_, std::ios::binary);
  unsigned char len[8];
  in.read(reinterpret_cast<char*>(len), 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len[i];
  EXPECT_EQ(n % 8, 0u);
  std::string header(n, '\0');
  in.read(header.data(), static_cast<std::streamsize>(n));
  const auto h = nlohmann::json::parse(header);
  const auto& m = h.at("__metadata__");
  EXPECT_EQ(m.at("format"), "vidcolor-model");
  EXPECT_EQ(m.at("format_version"), "1");
  EXPECT_EQ(ModelConfig::from_json(nlohmann::json::parse(m.at("config").get<std::string>())),
            model_.config);
  EXPECT_EQ(nlohmann::json::parse(m.at("provenance").get<std::string>()).at("data"), "unit test");
  EXPECT_EQ(h.size(), model_tensors(model_).size() + 1);
  EXPECT_EQ(h.at("f.backbone.Conv1.weight").at("dtype"), "F32");
  EXPECT_EQ(h.at("f.backbone.bn_Conv1.num_batches_tracked").at("dtype"), "I64");

  const ModelFileInfo info = read_model_info(good_);
  EXPECT_EQ(info.tensor_count, model_tensors(model_).size());
  int64_t params = 0;
  for (const auto& p : model_.f->parameters()) params += p.numel();
  for (const auto& p : model_.g->parameters()) params += p.numel();
  EXPECT_EQ(info.parameter_count, params);
  EXPECT_EQ(info.metadata.at("format"), "vidcolor-model");
}

TEST_F(ModelFile, WrongShapeDtypeMissingUnexpected) {
  expect_error(variant("shape.safetensors",
                       [](auto& t, auto&) {
                         t["g.head.weight"] = torch::zeros({3, 7, 1, 1});
                       }),
               "tensor \"g.head.weight\" has shape [3, 7, 1, 1], expected [3, " +
                   std::to_string(model_.config.refiner_channels[0]) + ", 1, 1]");
  expect_error(
      variant("dtype.safetensors",
              [](auto& t, auto&) { t["g.head.bias"] = t["g.head.bias"].to(torch::kFloat64); }),
      "tensor \"g.head.bias\" has dtype F64, expected F32");
  expect_error(
      variant("missing.safetensors",
              [](auto& t, auto&) { t.erase("f.backbone.block_16_project_BN.running_var"); }),
      "tensor \"f.backbone.block_16_project_BN.running_var\" is missing");
  expect_error(
      variant("extra.safetensors", [](auto& t, auto&) { t["f.extra"] = torch::zeros({1}); }),
      "unexpected tensor \"f.extra\"");
}

// Right structure, garbage values: each non-finite kind is refused, naming the tensor.
TEST_F(ModelFile, NonFiniteWeights) {
  const std::vector<std::pair<std::string, double>> kinds = {
      {"nan", std::nan("")},
      {"inf", std::numeric_limits<double>::infinity()},
      {"-inf", -std::numeric_limits<double>::infinity()}};
  for (const auto& [kind, value] : kinds) {
    SCOPED_TRACE(kind);
    const std::string file = variant(kind + ".safetensors", [v = value](auto& t, auto&) {
      t["f.enc1.0.weight"] = t["f.enc1.0.weight"].clone();
      t["f.enc1.0.weight"].view(-1)[5] = v;
    });
    expect_error(file, "tensor \"f.enc1.0.weight\" holds NaN or infinite values");
  }
}

// f's class prior is the one tensor a classed file may lack (files of the morning of
// 2026-12-05): it loads as zeros; when present it is read like every other tensor.
TEST_F(ModelFile, ClassPriorIsOptional) {
  const Model without = load_model(variant("no-prior.safetensors", [](auto& t, auto&) {
    ASSERT_EQ(t.count("f.class_log_prior"), 1u);
    t.erase("f.class_log_prior");
  }));
  EXPECT_EQ(without.f->class_log_prior.abs().max().item<float>(), 0.0f);
  const Model with = load_model(variant("prior.safetensors", [](auto& t, auto&) {
    t["f.class_log_prior"] = torch::linspace(-1.0, 1.0, 313);
  }));
  EXPECT_TRUE(torch::equal(with.f->class_log_prior, torch::linspace(-1.0, 1.0, 313)));
}

TEST_F(ModelFile, WrongMetadata) {
  expect_error(variant("version.safetensors", [](auto&, auto& m) { m["format_version"] = "2"; }),
               "format version \"2\" is not supported");
  expect_error(variant("format.safetensors", [](auto&, auto& m) { m["format"] = "other"; }),
               "format is \"other\"");
  expect_error(variant("noformat.safetensors", [](auto&, auto& m) { m.erase("format"); }),
               "not a vidcolor model file");
  expect_error(variant("noversion.safetensors", [](auto&, auto& m) { m.erase("format_version"); }),
               "no \"format_version\"");
  expect_error(variant("config.safetensors", [](auto&, auto& m) { m["config"] = "{oops"; }),
               "\"config\" is not valid JSON");
  expect_error(variant("noconfig.safetensors", [](auto&, auto& m) { m.erase("config"); }),
               "no \"config\"");
  expect_error(variant("candidates.safetensors",
                       [](auto&, auto& m) {
                         auto c = nlohmann::json::parse(m["config"]);
                         c["candidates"] = 0;
                         m["config"] = c.dump();
                       }),
               "candidates");
  // A config with other channels than the tensors: caught as wrong shapes (or, for a much
  // larger config, before anything is built).
  expect_error(variant("channels.safetensors",
                       [](auto&, auto& m) {
                         auto c = nlohmann::json::parse(m["config"]);
                         c["refiner_channels"] = {16, 24, 40};
                         m["config"] = c.dump();
                       }),
               "has shape");
  expect_error(variant("huge.safetensors",
                       [](auto&, auto& m) {
                         auto c = nlohmann::json::parse(m["config"]);
                         c["colorizer_channels"] = {4096, 4096, 4096, 4096, 4096};
                         m["config"] = c.dump();
                       }),
               "config needs at least");
  expect_error(variant("provenance.safetensors", [](auto&, auto& m) { m["provenance"] = "[1]"; }),
               "\"provenance\" is not a JSON object");
}

TEST_F(ModelFile, NotAModelFile) {
  expect_error(path("absent.safetensors"), "cannot open");
  const std::string junk = path("junk.safetensors");
  std::ofstream(junk) << "this is not a model";
  expect_error(junk, "header length");
  const std::string plain = path("plain.safetensors");
  write_safetensors(plain, {{"x", torch::zeros({2})}});
  expect_error(plain, "not a vidcolor model file");
}
