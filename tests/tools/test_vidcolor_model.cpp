// vidcolor-model (path in VIDCOLOR_MODEL_TOOL): init converts the real pretrained backbone into
// a loadable model file, info reports it, and failures exit non-zero with a clear message.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "run_command.hpp"
#include "vidcolor-config.h"
#include "vidcolor/model/backbone_weights.hpp"
#include "vidcolor/model/model_file.hpp"

using namespace vidcolor;
namespace fs = std::filesystem;

namespace {

using ToolRun = vctest::CommandResult;

// vidcolor-model with `args`; stdout and stderr together.
ToolRun run(const std::string& args) {
  const char* tool = std::getenv("VIDCOLOR_MODEL_TOOL");
  if (!tool) return {-1, "VIDCOLOR_MODEL_TOOL is not set"};
  return vctest::run_command(std::string(tool) + " " + args + " 2>&1");
}

std::string backbone_json() {
  const char* env = std::getenv("VIDCOLOR_SHARED_DATA");
  const fs::path data = env ? fs::path(env) : fs::path(VIDCOLOR_SHARED_DATA_DIR);
  return (data / "weights" / "mobilenetv2-0.35" / "model.json").string();
}

class ModelTool : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::getenv("VIDCOLOR_MODEL_TOOL")) GTEST_SKIP() << "VIDCOLOR_MODEL_TOOL not set";
    if (!fs::exists(backbone_json())) GTEST_SKIP() << "no backbone weights";
    dir_ = fs::temp_directory_path() /
           ("vidcolor-test-model-tool-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string path(const std::string& n) const { return (dir_ / n).string(); }
  fs::path dir_;
};

}  // namespace

TEST_F(ModelTool, InitMakesALoadableModelWithThePretrainedBackbone) {
  const ToolRun r0 = run("init --backbone " + backbone_json() + " -o " + path("s0.safetensors"));
  ASSERT_EQ(r0.status, 0) << r0.output;
  const ToolRun r1 =
      run("init --backbone " + backbone_json() + " --seed 1 -o " + path("s1.safetensors"));
  ASSERT_EQ(r1.status, 0) << r1.output;

  Model m0 = load_model(path("s0.safetensors"));
  Model m1 = load_model(path("s1.safetensors"));
  EXPECT_TRUE(m0.config == ModelConfig::fast());
  EXPECT_EQ(m0.provenance.at("trained"), false);
  const auto t0 = model_tensors(m0), t1 = model_tensors(m1);

  // The backbone is the file's, converted: compare with an independent load.
  MobileNetV2 ref(0.35);
  load_mobilenetv2_tfjs(ref, backbone_json());
  for (const auto& p : ref->named_parameters(true))
    EXPECT_TRUE(torch::equal(t0.at("f.backbone." + p.key()), p.value())) << p.key();
  for (const auto& b : ref->named_buffers(true)) {
    if (b.key().find("running") != std::string::npos) {
      EXPECT_TRUE(torch::equal(t0.at("f.backbone." + b.key()), b.value())) << b.key();
    }
  }
  // The rest is random, per seed.
  EXPECT_FALSE(torch::equal(t0.at("f.head.weight"), t1.at("f.head.weight")));
  EXPECT_FALSE(torch::equal(t0.at("g.head.weight"), t1.at("g.head.weight")));
  EXPECT_TRUE(torch::equal(t0.at("f.backbone.Conv1.weight"), t1.at("f.backbone.Conv1.weight")));
}

TEST_F(ModelTool, InfoReportsTheFile) {
  ASSERT_EQ(
      run("init --backbone " + backbone_json() + " --config quality -o " + path("q.safetensors"))
          .status,
      0);
  const ToolRun r = run("info " + path("q.safetensors"));
  ASSERT_EQ(r.status, 0) << r.output;
  const Model m = load_model(path("q.safetensors"));
  int64_t params = 0;
  for (const auto& p : m.f->parameters()) params += p.numel();
  for (const auto& p : m.g->parameters()) params += p.numel();
  EXPECT_NE(r.output.find("format: vidcolor-model"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("format_version: 1"), std::string::npos) << r.output;
  EXPECT_NE(
      r.output.find("\"inference_size\": " + std::to_string(ModelConfig::quality().inference_size)),
      std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("tensors: " + std::to_string(model_tensors(m).size())), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("parameters: " + std::to_string(params) + " "), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("model: loads"), std::string::npos) << r.output;
}

TEST_F(ModelTool, CombineTakesFFromOneFileAndGFromTheOther) {
  ASSERT_EQ(
      run("init --backbone " + backbone_json() + " --seed 1 -o " + path("a.safetensors")).status,
      0);
  ASSERT_EQ(
      run("init --backbone " + backbone_json() + " --seed 2 -o " + path("b.safetensors")).status,
      0);
  const ToolRun r = run("combine --f " + path("a.safetensors") + " --g " + path("b.safetensors") +
                        " -o " + path("ab.safetensors"));
  ASSERT_EQ(r.status, 0) << r.output;
  const Model a = load_model(path("a.safetensors")), b = load_model(path("b.safetensors")),
              ab = load_model(path("ab.safetensors"));
  const auto ta = model_tensors(a), tb = model_tensors(b), tab = model_tensors(ab);
  for (const auto& [name, t] : tab) {
    const torch::Tensor& want = name.rfind("f.", 0) == 0 ? ta.at(name) : tb.at(name);
    EXPECT_TRUE(torch::equal(t, want)) << name;
  }
  EXPECT_EQ(ab.provenance.at("f_from").at("provenance").at("seed"), 1);
  EXPECT_EQ(ab.provenance.at("g_from").at("provenance").at("seed"), 2);

  // Different architectures cannot be combined.
  ASSERT_EQ(
      run("init --backbone " + backbone_json() + " --config quality -o " + path("q.safetensors"))
          .status,
      0);
  const ToolRun bad = run("combine --f " + path("a.safetensors") + " --g " + path("q.safetensors") +
                          " -o " + path("x.safetensors"));
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.output.find("different architectures"), std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(path("x.safetensors")));
  EXPECT_EQ(run("combine --f " + path("a.safetensors") + " -o " + path("y.safetensors")).status, 2);

  // f's own architecture does not have to match: a classed f takes the g of a plain-head model.
  ModelConfig plain = load_model(path("b.safetensors")).config;
  plain.chroma_classes = 0;
  torch::manual_seed(3);
  save_model(make_model(plain), path("plain.safetensors"));
  const ToolRun mixed = run("combine --f " + path("a.safetensors") + " --g " +
                            path("plain.safetensors") + " -o " + path("mixed.safetensors"));
  ASSERT_EQ(mixed.status, 0) << mixed.output;
  EXPECT_EQ(load_model(path("mixed.safetensors")).config.chroma_classes, a.config.chroma_classes);
}

// average: the mean of the files' tensors (model/model_average.hpp, tested there), their
// provenance kept; files of different configs or fewer than two refused.
TEST_F(ModelTool, AverageIsTheMeanOfTheFiles) {
  for (int seed : {1, 2})
    ASSERT_EQ(run("init --backbone " + backbone_json() + " --seed " + std::to_string(seed) +
                  " -o " + path("s" + std::to_string(seed) + ".safetensors"))
                  .status,
              0);
  const ToolRun r = run("average " + path("s1.safetensors") + " " + path("s2.safetensors") +
                        " -o " + path("avg.safetensors"));
  ASSERT_EQ(r.status, 0) << r.output;
  const Model a = load_model(path("s1.safetensors")), b = load_model(path("s2.safetensors")),
              avg = load_model(path("avg.safetensors"));
  const auto ta = model_tensors(a), tb = model_tensors(b);
  for (const auto& [name, t] : model_tensors(avg)) {
    if (t.is_floating_point()) {
      EXPECT_TRUE(torch::allclose(t, (ta.at(name) + tb.at(name)) / 2, 1e-6, 1e-7)) << name;
    }
  }
  ASSERT_EQ(avg.provenance.at("mean_of").size(), 2u);
  EXPECT_EQ(avg.provenance.at("mean_of")[1].at("provenance").at("seed"), 2);

  ASSERT_EQ(
      run("set " + path("s2.safetensors") + " --inference-size 96 -o " + path("s96.safetensors"))
          .status,
      0);
  const ToolRun bad = run("average " + path("s1.safetensors") + " " + path("s96.safetensors") +
                          " -o " + path("x.safetensors"));
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.output.find("another config"), std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(path("x.safetensors")));
  EXPECT_EQ(run("average " + path("s1.safetensors") + " -o " + path("y.safetensors")).status, 2);
}

// set: same networks, new operating point, validated; the old config kept in the provenance.
TEST_F(ModelTool, SetChangesTheOperatingPointOnly) {
  ASSERT_EQ(
      run("init --backbone " + backbone_json() + " --seed 1 -o " + path("a.safetensors")).status,
      0);
  const ToolRun r = run("set " + path("a.safetensors") + " --refine-inference-size 96 -o " +
                        path("s.safetensors"));
  ASSERT_EQ(r.status, 0) << r.output;
  const Model a = load_model(path("a.safetensors")), s = load_model(path("s.safetensors"));
  EXPECT_EQ(s.config.refine_inference_size, 96);
  EXPECT_EQ(s.config.inference_size, a.config.inference_size);
  const auto ta = model_tensors(a), ts = model_tensors(s);
  for (const auto& [name, t] : ts) EXPECT_TRUE(torch::equal(t, ta.at(name))) << name;
  EXPECT_EQ(s.provenance.at("config_before"), a.config.to_json());
  EXPECT_EQ(s.provenance.at("from").at("provenance").at("seed"), 1);
  // A g from a file with another operating point still combines (same architecture).
  EXPECT_EQ(run("combine --f " + path("a.safetensors") + " --g " + path("s.safetensors") + " -o " +
                path("as.safetensors"))
                .status,
            0);
  EXPECT_EQ(load_model(path("as.safetensors")).config.refine_inference_size, 0);  // A's
  const ToolRun bad = run("set " + path("a.safetensors") + " --refine-inference-size 8 -o " +
                          path("t.safetensors"));
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.output.find("refine_inference_size"), std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(path("t.safetensors")));
  EXPECT_EQ(run("set " + path("a.safetensors") + " -o " + path("t.safetensors")).status,
            2);  // nothing to set
  EXPECT_EQ(
      run("set " + path("a.safetensors") + " --inference-size big -o " + path("t.safetensors"))
          .status,
      2);

  // The class temperature is an operating point of a classed f too.
  ASSERT_EQ(
      run("set " + path("a.safetensors") + " --class-temperature 0.6 -o " + path("t6.safetensors"))
          .status,
      0);
  EXPECT_DOUBLE_EQ(load_model(path("t6.safetensors")).config.class_temperature, 0.6);
  EXPECT_EQ(
      run("set " + path("a.safetensors") + " --class-temperature -1 -o " + path("t7.safetensors"))
          .status,
      2);
  EXPECT_EQ(
      run("set " + path("a.safetensors") + " --class-temperature 20 -o " + path("t7.safetensors"))
          .status,
      1);
  EXPECT_FALSE(fs::exists(path("t7.safetensors")));

  // The class debias needs the prior the trainer writes into f; a fresh model has none.
  const ToolRun no_prior =
      run("set " + path("a.safetensors") + " --class-debias 0.5 -o " + path("d5.safetensors"));
  EXPECT_EQ(no_prior.status, 1);
  EXPECT_NE(no_prior.output.find("no class prior"), std::string::npos) << no_prior.output;
  Model trained = load_model(path("a.safetensors"));
  {
    torch::NoGradGuard ng;
    trained.f->class_log_prior.copy_(torch::linspace(-2.0, 2.0, 313));
  }
  save_model(trained, path("trained.safetensors"));
  ASSERT_EQ(
      run("set " + path("trained.safetensors") + " --class-debias 0.5 -o " + path("d5.safetensors"))
          .status,
      0);
  const Model d5 = load_model(path("d5.safetensors"));
  EXPECT_DOUBLE_EQ(d5.config.class_debias, 0.5);
  EXPECT_TRUE(torch::equal(d5.f->class_log_prior, trained.f->class_log_prior));
  EXPECT_EQ(
      run("set " + path("trained.safetensors") + " --class-debias 2 -o " + path("d6.safetensors"))
          .status,
      2);

  // The mode radius: set, kept with the rest, cleared with 0, refused out of range.
  ASSERT_EQ(
      run("set " + path("d5.safetensors") + " --class-mode-radius 25 -o " + path("r25.safetensors"))
          .status,
      0);
  const Model r25 = load_model(path("r25.safetensors"));
  EXPECT_DOUBLE_EQ(r25.config.class_mode_radius, 25);
  EXPECT_DOUBLE_EQ(r25.config.class_debias, 0.5);
  ASSERT_EQ(
      run("set " + path("r25.safetensors") + " --class-mode-radius 0 -o " + path("r0.safetensors"))
          .status,
      0);
  EXPECT_EQ(load_model(path("r0.safetensors")).config, d5.config);
  EXPECT_EQ(
      run("set " + path("d5.safetensors") + " --class-mode-radius -3 -o " + path("r-3.safetensors"))
          .status,
      2);
  EXPECT_FALSE(fs::exists(path("r-3.safetensors")));

  // The backbone's input scale: set with the weights untouched, refused out of 1..4.
  ASSERT_EQ(run("set " + path("d5.safetensors") + " --backbone-input-scale 2 -o " +
                path("b2.safetensors"))
                .status,
            0);
  const Model b2 = load_model(path("b2.safetensors"));
  EXPECT_DOUBLE_EQ(b2.config.backbone_input_scale, 2);
  EXPECT_DOUBLE_EQ(b2.config.class_debias, 0.5);
  const auto t5 = model_tensors(d5), tb2 = model_tensors(b2);
  for (const auto& [name, t] : tb2) EXPECT_TRUE(torch::equal(t, t5.at(name))) << name;
  EXPECT_EQ(run("set " + path("d5.safetensors") + " --backbone-input-scale 0.5 -o " +
                path("b05.safetensors"))
                .status,
            2);
  EXPECT_FALSE(fs::exists(path("b05.safetensors")));
}

// set --default-candidate: the candidate auto shows, validated against the model's d
// (4 for the fast config), -1 clears it; combine keeps A's.
TEST_F(ModelTool, SetDefaultCandidate) {
  ASSERT_EQ(
      run("init --backbone " + backbone_json() + " --seed 1 -o " + path("a.safetensors")).status,
      0);
  const ToolRun r =
      run("set " + path("a.safetensors") + " --default-candidate 2 -o " + path("d.safetensors"));
  ASSERT_EQ(r.status, 0) << r.output;
  const Model d = load_model(path("d.safetensors"));
  EXPECT_EQ(d.config.default_candidate, 2);
  EXPECT_EQ(d.config.inference_size, load_model(path("a.safetensors")).config.inference_size);
  EXPECT_EQ(run("combine --f " + path("a.safetensors") + " --g " + path("d.safetensors") + " -o " +
                path("ad.safetensors"))
                .status,
            0);
  EXPECT_EQ(load_model(path("ad.safetensors")).config.default_candidate, -1);  // A's
  ASSERT_EQ(
      run("set " + path("d.safetensors") + " --default-candidate -1 -o " + path("n.safetensors"))
          .status,
      0);
  EXPECT_EQ(load_model(path("n.safetensors")).config.default_candidate, -1);
  const ToolRun bad =
      run("set " + path("a.safetensors") + " --default-candidate 4 -o " + path("t.safetensors"));
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.output.find("default_candidate"), std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(path("t.safetensors")));
  EXPECT_EQ(
      run("set " + path("a.safetensors") + " --default-candidate x -o " + path("t.safetensors"))
          .status,
      2);
}

TEST_F(ModelTool, FailuresExitNonZeroWithAClearMessage) {
  const ToolRun no_backbone =
      run("init --backbone " + path("none/model.json") + " -o " + path("x.safetensors"));
  EXPECT_EQ(no_backbone.status, 1);
  EXPECT_NE(no_backbone.output.find(path("none/model.json")), std::string::npos)
      << no_backbone.output;
  EXPECT_FALSE(fs::exists(path("x.safetensors")));

  EXPECT_EQ(run("init --backbone " + backbone_json()).status, 2);  // no -o
  EXPECT_EQ(run("init --backbone " + backbone_json() + " --config big -o y").status, 2);
  EXPECT_EQ(run("frobnicate").status, 2);

  // A truncated model file: info names it and the problem.
  ASSERT_EQ(run("init --backbone " + backbone_json() + " -o " + path("m.safetensors")).status, 0);
  const auto size = fs::file_size(path("m.safetensors"));
  fs::resize_file(path("m.safetensors"), size - 100);
  const ToolRun info = run("info " + path("m.safetensors"));
  EXPECT_EQ(info.status, 1);
  EXPECT_NE(info.output.find(path("m.safetensors")), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("past the end"), std::string::npos) << info.output;
}

// widen on the shipped model: a wider f with the same outputs, the rest unchanged; bad channel
// lists are refused with the reason.
TEST_F(ModelTool, WidenKeepsWhatTheShippedModelComputes) {
  const char* src = std::getenv("VIDCOLOR_SOURCE_DIR");
  if (!src) GTEST_SKIP() << "VIDCOLOR_SOURCE_DIR not set";
  const std::string shipped = (fs::path(src) / "models" / "vidcolor-default.safetensors").string();
  const ToolRun r =
      run("widen " + shipped + " --f-channels 16,32,64,64 --seed 3 -o " + path("w.safetensors"));
  ASSERT_EQ(r.status, 0) << r.output;
  Model narrow = load_model(shipped), wide = load_model(path("w.safetensors"));
  EXPECT_EQ(wide.config.colorizer_channels, (std::vector<int>{16, 32, 64, 64}));
  EXPECT_EQ(wide.config.class_debias, narrow.config.class_debias);
  EXPECT_EQ(wide.provenance.at("seed"), 3);
  EXPECT_EQ(wide.provenance.at("from").at("file"), shipped);
  torch::NoGradGuard ng;
  const torch::Tensor gray = torch::rand({1, 1, 64, 80});
  EXPECT_LT((wide.f->forward(gray) - narrow.f->forward(gray)).abs().max().item<float>(), 1e-5f);

  const ToolRun narrower =
      run("widen " + shipped + " --f-channels 8,32,64,64 -o " + path("n.safetensors"));
  EXPECT_EQ(narrower.status, 1);
  EXPECT_NE(narrower.output.find("level 0"), std::string::npos) << narrower.output;
  EXPECT_FALSE(fs::exists(path("n.safetensors")));
  EXPECT_EQ(run("widen " + shipped + " --f-channels 16,x,64,64 -o " + path("x.safetensors")).status,
            2);
  EXPECT_EQ(run("widen " + shipped + " -o " + path("x.safetensors")).status, 2);  // no channels
}
