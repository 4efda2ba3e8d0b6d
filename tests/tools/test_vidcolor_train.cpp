// vidcolor-train: the trainer (lib) and the tool (path in VIDCOLOR_TRAIN_TOOL) on a tiny real
// pack (4 BSDS500 crops + 3 DAVIS pairs at 64x64): the loss goes down when overfitting; the
// outputs (model, checkpoint, CSV, PNGs) are written and the model loads and colorizes in
// vccolorize's ColorizeEngine; f stays frozen while g trains; a resumed run computes
// bit-identically the step the uninterrupted run computes; two processes over c10d Gloo on
// 127.0.0.1 end with identical parameters.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "run_command.hpp"
#include "vidcolor-config.h"
#include "vidcolor/model/backbone_weights.hpp"
#include "vidcolor/infer/colorize_engine.hpp"
#include "vidcolor/train/distributed.hpp"
#include "vidcolor/core/error.hpp"
#include "vidcolor/model/model_file.hpp"
#include "vidcolor/train/pack_writer.hpp"
#include "vidcolor/model/safetensors.hpp"
#include "vidcolor/train/png_writer.hpp"
#include "vidcolor/train/train_plots.hpp"
#include "vidcolor/train/trainer.hpp"

using namespace vidcolor;
namespace fs = std::filesystem;

namespace {

fs::path shared_data() {
  const char* env = std::getenv("VIDCOLOR_SHARED_DATA");
  return env ? fs::path(env) : fs::path(VIDCOLOR_SHARED_DATA_DIR);
}

std::string backbone_json() {
  return (shared_data() / "weights" / "mobilenetv2-0.35" / "model.json").string();
}

using ToolRun = vctest::CommandResult;

// vidcolor-train with `env` (VAR=value ...) before it; stdout and stderr together.
ToolRun run_tool(const std::string& env, const std::string& args) {
  const char* tool = std::getenv("VIDCOLOR_TRAIN_TOOL");
  if (!tool) return {-1, "VIDCOLOR_TRAIN_TOOL is not set"};
  return vctest::run_command(env + " " + tool + " " + args + " 2>&1");
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

int free_port() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    close(s);
    return 29517;
  }
  close(s);
  return ntohs(a.sin_port);
}

bool same_tensors(const Model& a, const Model& b, const std::string& prefix, std::string* differs) {
  const auto ta = model_tensors(a), tb = model_tensors(b);
  for (const auto& [name, t] : ta) {
    if (name.rfind(prefix, 0) != 0) continue;
    if (!torch::equal(t, tb.at(name))) {
      *differs = name;
      return false;
    }
  }
  return true;
}

class TrainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const fs::path images = shared_data() / "images" / "bsds500";
    const fs::path frames = shared_data() / "videos" / "davis2016" / "car-shadow";
    if (!fs::is_directory(images) || !fs::is_directory(frames) || !fs::exists(backbone_json()))
      return;
    root_ = new fs::path(fs::temp_directory_path() /
                         ("vidcolor-test-train-" + std::to_string(getpid())));
    fs::remove_all(*root_);
    fs::create_directories(*root_);
    PackOptions o;
    o.image_dirs = {images.string()};
    o.frame_dirs = {frames.string()};
    o.crop = 64;
    o.max_images = 4;
    o.pairs_per_seq = 3;
    o.seed = 3;
    write_training_pack(o, (*root_ / "pack.safetensors").string());
  }
  static void TearDownTestSuite() {
    if (root_) fs::remove_all(*root_);
    delete root_;
    root_ = nullptr;
  }
  void SetUp() override {
    if (!root_) GTEST_SKIP() << "no BSDS500/DAVIS data or backbone weights under " << shared_data();
    torch::set_num_threads(1);
  }
  static std::string pack() { return (*root_ / "pack.safetensors").string(); }
  static fs::path dir(const std::string& name) { return *root_ / name; }

  // Small, fast options on the test pack.
  static TrainOptions options(const std::string& out, const std::string& stages) {
    TrainOptions o;
    o.pack = pack();
    o.stages = parse_stages(stages);
    o.backbone_weights = backbone_json();
    o.phi_weights = backbone_json();
    o.out_dir = dir(out).string();
    o.batch_size = 2;
    o.lr = 1e-3;
    o.seed = 5;
    o.samples = 3;
    return o;
  }
  // The parameters digest of run `o` stopped after `steps` and resumed to its end (in its own
  // out_dir): what a whole run must match when a resume continues it exactly.
  static std::string stopped_and_resumed(TrainOptions o, int64_t steps) {
    o.stop_after = steps;
    Trainer(o).run();
    o.stop_after = 0;
    o.resume = true;
    return Trainer(o).run().parameters_digest;
  }
  static fs::path* root_;
};
fs::path* TrainTest::root_ = nullptr;

TEST(TrainStages, ParseAndPrint) {
  const auto s = parse_stages("f-images:20,f-video:10@1.5,g:5,joint:7");
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].kind, StageKind::FImages);
  EXPECT_EQ(s[1].kind, StageKind::FVideo);
  EXPECT_EQ(s[1].steps, 10);
  EXPECT_DOUBLE_EQ(s[1].max_minutes, 1.5);
  EXPECT_EQ(s[3].kind, StageKind::Joint);
  EXPECT_EQ(stages_to_string(s), "f-images:20,f-video:10@1.5,g:5,joint:7");
  EXPECT_THROW(parse_stages("f-images"), Error);
  EXPECT_THROW(parse_stages("colour:3"), Error);
  EXPECT_THROW(parse_stages("g:0"), Error);
  EXPECT_THROW(parse_stages("g:3@x"), Error);
}

TEST(TrainDevice, CudaWithoutCudaIsAClearError) {
  EXPECT_EQ(parse_train_device("cpu"), torch::Device(torch::kCPU));
  EXPECT_THROW(parse_train_device("gpu"), Error);
  if (!torch::cuda::is_available()) {
    try {
      parse_train_device("cuda:0");
      FAIL() << "no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("CUDA"), std::string::npos) << e.what();
    }
  }
}

// VIDCOLOR_DIST_BACKEND=nccl is refused with a clear error where it cannot run (no NCCL in this
// build, or NCCL but a CPU device), even in a world of one; an unknown backend is refused by name.
TEST(Distributed, ExplicitNcclIsRefusedWhereItCannotRun) {
  DistributedEnv env;
  env.backend = "nccl";
  const auto message = [&env](const torch::Device& d) -> std::string {
    try {
      make_collective(env, d);
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  if (!nccl_available()) {
    const std::string m = message(torch::Device(torch::kCUDA, 0));
    EXPECT_NE(m.find("VIDCOLOR_DIST_BACKEND=nccl but this build has no c10d NCCL"),
              std::string::npos)
        << m;
  }
  const std::string m = message(torch::Device(torch::kCPU));
  EXPECT_NE(m.find(nccl_available() ? "needs a CUDA training device" : "has no c10d NCCL"),
            std::string::npos)
      << m;
  env.backend = "auto";
  EXPECT_EQ(make_collective(env, torch::Device(torch::kCUDA, 0))->backend(), "none");

  ASSERT_EQ(setenv("VIDCOLOR_DIST_BACKEND", "nccl", 1), 0);
  EXPECT_EQ(DistributedEnv::from_environment().backend, "nccl");
  ASSERT_EQ(setenv("VIDCOLOR_DIST_BACKEND", "mpi", 1), 0);
  try {
    DistributedEnv::from_environment();
    ADD_FAILURE() << "no error for mpi";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("VIDCOLOR_DIST_BACKEND='mpi'"), std::string::npos)
        << e.what();
  }
  unsetenv("VIDCOLOR_DIST_BACKEND");
  EXPECT_EQ(DistributedEnv::from_environment().backend, "auto");
}

TEST(TrainPlots, TextAndCurvesDrawPixels) {
  torch::Tensor c = torch::zeros({20, 80, 3}, torch::kUInt8);
  EXPECT_EQ(draw_text(c, 1, 1, "step 12", {255, 0, 0}), 42);
  EXPECT_GT(c.select(2, 0).gt(0).sum().item<int64_t>(), 30);
  EXPECT_EQ(c.select(2, 1).sum().item<int64_t>(), 0);
  LossSeries s{"loss", {1, 2, 3, 4}, {4, 3, NAN, 1}};
  const torch::Tensor img =
      loss_curves_image({s, {"empty", {1}, {NAN}}}, {1}, {"f-images"}, 300, 100);
  EXPECT_EQ(img.size(0), 100);  // one panel: the all-NaN series is left out
  EXPECT_EQ(img.size(1), 300);
  // The red curve is drawn.
  const torch::Tensor red = img.select(2, 0).gt(150) & img.select(2, 1).lt(80);
  EXPECT_GT(red.sum().item<int64_t>(), 50);
}

// f-images on 4 crops, batch 4: overfitting drives the loss down; outputs are complete.
TEST_F(TrainTest, OverfitsTinySetAndWritesOutputs) {
  TrainOptions o = options("overfit", "f-images:30");
  o.batch_size = 4;
  o.lr = 2e-3;
  o.checkpoint_every = 15;
  std::vector<double> losses;
  o.progress = [&](const TrainProgress& p) { losses.push_back(p.losses.total); };
  Trainer t(o);
  const TrainResult r = t.run();
  ASSERT_EQ(losses.size(), 30u);
  EXPECT_TRUE(r.finished);
  EXPECT_EQ(r.steps, 30);
  const double first = (losses[0] + losses[1] + losses[2]) / 3;
  const double last = (losses[27] + losses[28] + losses[29]) / 3;
  std::printf("loss: first 3 steps %.4f, last 3 steps %.4f, %.1f s\n", first, last, r.seconds);
  EXPECT_LT(last, 0.85 * first);

  // The model loads, f's backbone is still the pretrained one, provenance says what happened.
  const Model m = load_model(r.model_path);
  MobileNetV2 pretrained(0.35);
  load_mobilenetv2_tfjs(pretrained, backbone_json());
  const auto want = pretrained->named_parameters();
  for (const auto& p : m.f->backbone->named_parameters())
    ASSERT_TRUE(torch::equal(p.value(), want[p.key()])) << p.key();
  EXPECT_EQ(m.provenance.at("steps"), 30);
  EXPECT_EQ(m.provenance.at("finished"), true);
  EXPECT_EQ(m.provenance.at("stages")[0].at("stage"), "f-images");
  EXPECT_EQ(m.provenance.at("pack").at("images"), "4");
  EXPECT_TRUE(m.provenance.at("final_losses").contains("diversity"));
  EXPECT_TRUE(m.provenance.at("final_losses").contains("bilateral"));

  const fs::path d = dir("overfit");
  EXPECT_TRUE(fs::exists(d / "checkpoint.safetensors"));
  const std::string csv = read_file(d / "train-log.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 31);  // header + 30 steps
  EXPECT_EQ(csv.rfind("step,stage,crop,loss,bilateral,diversity,temporal,refine,refine_consistency,"
                      "classes,lr,seconds",
                      0),
            0u);
  if (png_supported()) {
    EXPECT_TRUE(fs::exists(d / "samples-00000015.png"));
    EXPECT_TRUE(fs::exists(d / "samples-00000030.png"));
    EXPECT_GT(fs::file_size(d / "loss-curves.png"), 1000u);
  }
  // A second run into the same folder without --resume is refused.
  EXPECT_THROW(Trainer(options("overfit", "f-images:1")), Error);
}

// g learns while f is frozen; f-video steps change f but not g.
TEST_F(TrainTest, StagesTrainTheirNetworks) {
  TrainOptions o = options("stages-a", "f-video:2");
  const Model before = load_model([&] {
    TrainOptions z = options("stages-0", "f-images:1");
    z.lr = 1e-30;  // a model file of the initial state, practically unchanged
    return Trainer(z).run().model_path;
  }());
  Trainer a(o);
  const TrainResult ra = a.run();
  const Model fa = load_model(ra.model_path);
  std::string which;
  EXPECT_FALSE(same_tensors(before, fa, "f.", &which));
  EXPECT_TRUE(same_tensors(before, fa, "g.", &which)) << which;
  EXPECT_FALSE(std::isnan(ra.final_losses.temporal));

  TrainOptions og = options("stages-b", "g:2");
  og.init_model = ra.model_path;
  const TrainResult rg = Trainer(og).run();
  const Model fg = load_model(rg.model_path);
  EXPECT_TRUE(same_tensors(fa, fg, "f.", &which)) << which;
  EXPECT_FALSE(same_tensors(fa, fg, "g.", &which));
  EXPECT_FALSE(std::isnan(rg.final_losses.refine));
  EXPECT_TRUE(std::isnan(rg.final_losses.diversity));
}

// --fresh-g: the init file's f stays, g starts anew (an identity g's saturated head has no
// gradient, so it could not be trained again otherwise).
TEST_F(TrainTest, FreshGKeepsFAndRestartsG) {
  const std::string init = Trainer(options("fresh-0", "f-images:1")).run().model_path;
  TrainOptions o = options("fresh-a", "g:1");
  o.init_model = init;
  o.fresh_g = true;
  o.lr = 1e-30;  // the saved model is the initial state
  const Model a = load_model(Trainer(o).run().model_path), before = load_model(init);
  std::string which;
  EXPECT_TRUE(same_tensors(before, a, "f.", &which)) << which;
  EXPECT_FALSE(same_tensors(before, a, "g.", &which));
  // Seeded: the same seed gives the same fresh g.
  o.out_dir = dir("fresh-b").string();
  const Model b = load_model(Trainer(o).run().model_path);
  EXPECT_TRUE(same_tensors(a, b, "g.", &which)) << which;
  // Without --init it means nothing: refused rather than ignored.
  TrainOptions bad = options("fresh-c", "g:1");
  bad.fresh_g = true;
  EXPECT_THROW(Trainer{bad}, Error);
}

// A stage with a time budget ends by it: the ETA counts that budget, not its step count.
TEST_F(TrainTest, EtaHonoursStageTimeBudgets) {
  TrainOptions o = options("eta", "f-images:1000000@0.05");  // 3 s, far fewer than 10^6 steps
  double max_eta = 0;
  int calls = 0;
  o.progress = [&](const TrainProgress& p) {
    max_eta = std::max(max_eta, p.eta_s);
    ++calls;
  };
  const TrainResult r = Trainer(o).run();
  EXPECT_LT(r.steps, 1000000);
  ASSERT_GT(calls, 0);
  EXPECT_GT(max_eta, 0.0);
  EXPECT_LE(max_eta, 3.0);
}

// Uninterrupted 4 steps vs. 3 steps + checkpoint + resume for the 4th: bit-identical. The
// stages cover image and pair steps, g and f jointly, and coarse sub-crops.
TEST_F(TrainTest, ResumeGivesTheSameNextStep) {
  const std::string stages = "f-video:2,joint:2";
  auto opts = [&](const std::string& out) {
    TrainOptions o = options(out, stages);
    o.coarse_size = 32;
    o.coarse_fraction = 0.5;
    return o;
  };
  const TrainResult whole = Trainer(opts("resume-whole")).run();
  ASSERT_TRUE(whole.finished);

  TrainOptions first = opts("resume-split");
  first.stop_after = 3;
  const TrainResult part = Trainer(first).run();
  EXPECT_FALSE(part.finished);
  EXPECT_EQ(part.stopped_by, "stop-after");
  EXPECT_EQ(part.steps, 3);
  EXPECT_NE(part.parameters_digest, whole.parameters_digest);

  TrainOptions second = opts("resume-split");
  second.resume = true;
  Trainer t(second);
  EXPECT_EQ(t.step(), 3);
  const TrainResult rest = t.run();
  EXPECT_TRUE(rest.finished);
  EXPECT_EQ(rest.steps, 4);
  EXPECT_EQ(rest.parameters_digest, whole.parameters_digest);
  std::string which;
  EXPECT_TRUE(same_tensors(load_model(whole.model_path), load_model(rest.model_path), "", &which))
      << which;
  // The CSV has each step once.
  const std::string csv = read_file(dir("resume-split") / "train-log.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5);
  EXPECT_NE(csv.find("\n1,f-video,32,"), std::string::npos) << csv;  // coarse first half
  EXPECT_NE(csv.find("\n2,f-video,64,"), std::string::npos) << csv;

  // Resuming with other options is refused, naming the option.
  TrainOptions other = opts("resume-split");
  other.resume = true;
  other.lr = 1e-2;
  try {
    Trainer x(other);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("\"lr\""), std::string::npos) << e.what();
  }
}

TEST_F(TrainTest, PackWithoutGraphsTrainsLikeThePackWithThem) {
  // The suite's pack rewritten without "image_knn": the trainer builds the graphs at load (on
  // this CPU with the pack writer's KD-tree, so the same graphs) and the same steps follow.
  SafetensorsFile f = read_safetensors(pack());
  ASSERT_EQ(f.tensors.erase("image_knn"), 1u);
  const std::string small = (dir("noknn") / "pack.safetensors").string();
  fs::create_directories(dir("noknn"));
  write_safetensors(small, f.tensors, f.metadata);
  const TrainResult with = Trainer(options("knn-stored", "f-images:3")).run();
  TrainOptions o = options("knn-built", "f-images:3");
  o.pack = small;
  const TrainResult built = Trainer(o).run();
  EXPECT_EQ(built.parameters_digest, with.parameters_digest);
  const Model m = load_model(built.model_path);
  EXPECT_EQ(m.provenance.at("losses").at("knn").at("built_at_load"), true);
  EXPECT_EQ(load_model(with.model_path).provenance.at("losses").at("knn").at("built_at_load"),
            false);
}

// --diversity-samples: covering the whole batch (or more) is the plain term, bit for bit; fewer
// samples is another step. The provenance records it.
TEST_F(TrainTest, DiversityOnFewerSamplesIsItsOwnStep) {
  auto run = [&](const std::string& out, int64_t n) {
    TrainOptions o = options(out, "f-images:2");
    o.diversity_samples = n;
    return Trainer(o).run();
  };
  const TrainResult all = run("div-all", 0), two = run("div-2", 2), many = run("div-9", 9),
                    one = run("div-1", 1);
  EXPECT_EQ(two.parameters_digest, all.parameters_digest);  // batch 2
  EXPECT_EQ(many.parameters_digest, all.parameters_digest);
  EXPECT_NE(one.parameters_digest, all.parameters_digest);
  EXPECT_EQ(load_model(one.model_path).provenance.at("diversity_samples"), 1);
}

// --class-rebalance: the mix with uniform sets how hard rare colours are pushed, and f's stored
// prior (what decoding's class_debias undoes) follows it: its spread shrinks as the mix grows
// and vanishes at 1 (no rebalancing). A different mix is a different step.
TEST_F(TrainTest, ClassRebalanceMixSetsTheWeightsAndTheStoredPrior) {
  auto run = [&](const std::string& out, double mix) {
    TrainOptions o = options(out, "f-images:1");
    o.config.chroma_classes = 313;
    o.class_rebalance_mix = mix;
    return Trainer(o).run();
  };
  const TrainResult zhang = run("mix-05", 0.5), weak = run("mix-08", 0.8), none = run("mix-1", 1);
  auto prior_spread = [](const TrainResult& r) {
    const Model m = load_model(r.model_path);
    const torch::Tensor p = m.f->class_log_prior;
    return (p.max() - p.min()).item<double>();
  };
  EXPECT_GT(prior_spread(zhang), prior_spread(weak));
  EXPECT_GT(prior_spread(weak), 0.1);
  EXPECT_LT(prior_spread(none), 1e-5);
  EXPECT_NE(zhang.parameters_digest, weak.parameters_digest);
  EXPECT_EQ(load_model(weak.model_path).provenance.at("class_rebalance_mix"), 0.8);
}

// --tone-gamma: f's input through a random curve per sample is another run (1 is the plain
// one, bit for bit); the provenance records it and a resume continues it exactly.
TEST_F(TrainTest, ToneGammaAugmentsFsInput) {
  auto opts = [&](const std::string& out, double g) {
    TrainOptions o = options(out, "f-images:2");
    o.tone_gamma = g;
    return o;
  };
  const TrainResult plain = Trainer(options("tone-plain", "f-images:2")).run();
  const TrainResult one = Trainer(opts("tone-1", 1.0)).run();
  const TrainResult toned = Trainer(opts("tone-2", 2.0)).run();
  EXPECT_EQ(one.parameters_digest, plain.parameters_digest);
  EXPECT_NE(toned.parameters_digest, plain.parameters_digest);
  EXPECT_EQ(load_model(toned.model_path).provenance.at("tone_gamma"), 2.0);

  EXPECT_EQ(stopped_and_resumed(opts("tone-2-split", 2.0), 1), toned.parameters_digest);
}

// --grain: likewise; 0 is the plain run bit for bit, and a resume redraws each step's grain.
TEST_F(TrainTest, GrainAugmentsFsInput) {
  auto opts = [&](const std::string& out, double grain) {
    TrainOptions o = options(out, "f-images:2");
    o.grain = grain;
    return o;
  };
  const TrainResult plain = Trainer(options("grain-plain", "f-images:2")).run();
  EXPECT_EQ(Trainer(opts("grain-0", 0.0)).run().parameters_digest, plain.parameters_digest);
  const TrainResult grained = Trainer(opts("grain-005", 0.05)).run();
  EXPECT_NE(grained.parameters_digest, plain.parameters_digest);
  EXPECT_EQ(load_model(grained.model_path).provenance.at("grain"), 0.05);
  EXPECT_EQ(stopped_and_resumed(opts("grain-005-split", 0.05), 1), grained.parameters_digest);
}

// --lr-schedule cosine: each stage's rate falls from --lr along a cosine, and the CSV logs the
// rate each step took; constant keeps --lr. A cosine run is its own run, recorded in the
// provenance, and a resume takes the curve up where it stopped.
TEST_F(TrainTest, CosineScheduleDecaysEachStage) {
  auto opts = [&](const std::string& out, LrSchedule s) {
    TrainOptions o = options(out, "f-images:4,g:2");
    o.lr_schedule = s;
    return o;
  };
  auto logged_rates = [&](const std::string& out) {
    std::istringstream csv(read_file(dir(out) / "train-log.csv"));
    std::string line;
    std::getline(csv, line);  // the header
    std::vector<double> rates;
    while (std::getline(csv, line)) {
      const size_t end = line.rfind(','), start = line.rfind(',', end - 1);
      rates.push_back(std::stod(line.substr(start + 1, end - start - 1)));
    }
    return rates;
  };
  const TrainResult constant = Trainer(opts("lr-constant", LrSchedule::Constant)).run();
  const TrainResult cosine = Trainer(opts("lr-cosine", LrSchedule::Cosine)).run();
  EXPECT_NE(cosine.parameters_digest, constant.parameters_digest);

  const double r2 = std::sqrt(2.0);
  const std::vector<double> want = {1, (2 + r2) / 4, 0.5, (2 - r2) / 4, 1, 0.5};  // f, then g
  const std::vector<double> got = logged_rates("lr-cosine"), flat = logged_rates("lr-constant");
  ASSERT_EQ(got.size(), want.size());
  ASSERT_EQ(flat.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(got[i], 1e-3 * want[i], 1e-8) << "step " << i + 1;
    EXPECT_NEAR(flat[i], 1e-3, 1e-12) << "step " << i + 1;
  }
  EXPECT_EQ(load_model(cosine.model_path).provenance.at("optimizer").at("lr_schedule"), "cosine");
  EXPECT_EQ(load_model(constant.model_path).provenance.at("optimizer").at("lr_schedule"),
            "constant");
  EXPECT_EQ(stopped_and_resumed(opts("lr-cosine-split", LrSchedule::Cosine), 3),
            cosine.parameters_digest);
}

// --backbone-lr-scale: the fine-tuned backbone is Adam's second group at lr * scale. At 0 the
// backbone stays as loaded and the rest takes exactly the frozen run's steps; in between it is
// its own run, apart from the full rate's.
TEST_F(TrainTest, BackboneLearningRateScale) {
  auto run = [&](const std::string& out, bool finetune, double scale) {
    TrainOptions o = options(out, "f-images:2");
    o.finetune_backbone = finetune;
    o.backbone_lr_scale = scale;
    return Trainer(o).run();
  };
  const TrainResult frozen = run("bb-frozen", false, 1), still = run("bb-0", true, 0),
                    slow = run("bb-01", true, 0.1), full = run("bb-1", true, 1);
  EXPECT_EQ(still.parameters_digest, frozen.parameters_digest);
  EXPECT_NE(slow.parameters_digest, frozen.parameters_digest);
  EXPECT_NE(slow.parameters_digest, full.parameters_digest);
  EXPECT_EQ(load_model(slow.model_path).provenance.at("backbone").at("lr_scale"), 0.1);

  // Both groups' Adam state survives a resume: stopped after one step and resumed, the run
  // ends where the whole run did.
  TrainOptions split = options("bb-01-split", "f-images:2");
  split.finetune_backbone = true;
  split.backbone_lr_scale = 0.1;
  EXPECT_EQ(stopped_and_resumed(split, 1), slow.parameters_digest);
}

TEST_F(TrainTest, RejectsBadOptions) {
  TrainOptions o = options("bad", "f-images:1");
  o.coarse_size = 40;  // not a multiple of 16
  EXPECT_THROW(Trainer{o}, Error);
  o = options("bad", "f-images:1");
  o.device = "cuda:7";
  if (!torch::cuda::is_available()) {
    EXPECT_THROW(Trainer{o}, Error);
  }
  o = options("bad", "f-images:1");
  o.pack = (dir("bad") / "missing.safetensors").string();
  EXPECT_THROW(Trainer{o}, Error);
  o = options("bad", "f-images:1");
  o.backbone_lr_scale = -0.5;
  EXPECT_THROW(Trainer{o}, Error);
  o = options("bad", "f-images:1");
  o.class_rebalance_mix = 0;  // all prior, no uniform: rare bins would get infinite weight
  EXPECT_THROW(Trainer{o}, Error);
  o = options("bad", "f-images:1");
  o.tone_gamma = 0.5;  // the range is [1/G, G]: G < 1 would be an empty range
  EXPECT_THROW(Trainer{o}, Error);
  o = options("bad", "f-images:1");
  o.grain = -0.1;
  EXPECT_THROW(Trainer{o}, Error);
}

// The tool: trains, reports, writes a model that loads; refuses bad arguments clearly.
TEST_F(TrainTest, ToolTrainsAndReports) {
  if (!std::getenv("VIDCOLOR_TRAIN_TOOL")) GTEST_SKIP() << "VIDCOLOR_TRAIN_TOOL not set";
  const fs::path out = dir("tool");
  const ToolRun r =
      run_tool("", "--pack " + pack() +
                       " --stages f-images:2,g:1 --batch 2 --threads 1 "
                       "--backbone-weights " +
                       fs::path(backbone_json()).parent_path().string() + " --out " + out.string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("steps/s"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ETA"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("finished"), std::string::npos) << r.output;
  const Model m = load_model((out / "model.safetensors").string());
  EXPECT_NE(m.provenance.at("command").get<std::string>().find("vidcolor-train --pack"),
            std::string::npos);
  EXPECT_EQ(m.provenance.at("steps"), 3);
  // What vccolorize runs takes the trained model and colorizes a frame.
  ColorizeEngine engine(std::make_shared<const Model>(m), torch::Device(torch::kCPU));
  const torch::Tensor chroma = engine.colorize(torch::rand({1, 1, 96, 160}));
  EXPECT_EQ(chroma.sizes(), torch::IntArrayRef({1, 2, 96, 160}));
  EXPECT_TRUE(torch::isfinite(chroma).all().item<bool>());

  const ToolRun cuda =
      run_tool("", "--pack " + pack() + " --device cuda --out " + dir("tool-cuda").string());
  if (!torch::cuda::is_available()) {
    EXPECT_EQ(cuda.status, 1) << cuda.output;
    EXPECT_NE(cuda.output.find("CUDA"), std::string::npos) << cuda.output;
  }
  // An explicit NCCL request the build or device cannot serve fails before any training.
  const ToolRun nccl = run_tool("VIDCOLOR_DIST_BACKEND=nccl",
                                "--pack " + pack() + " --out " + dir("tool-nccl").string());
  EXPECT_EQ(nccl.status, 1) << nccl.output;
  EXPECT_NE(nccl.output.find("VIDCOLOR_DIST_BACKEND=nccl"), std::string::npos) << nccl.output;
  const ToolRun bad =
      run_tool("", "--pack " + pack() + " --stages paint:3 --out " + dir("tool-bad").string());
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find("unknown stage"), std::string::npos) << bad.output;
  const ToolRun none = run_tool("", "--out " + dir("tool-none").string());
  EXPECT_EQ(none.status, 2);
  EXPECT_NE(none.output.find("no data"), std::string::npos) << none.output;
}

// Two ranks over c10d Gloo on loopback, each on its half of the pack: after the steps both
// hold the same parameters (gradients averaged), and only rank 0 wrote outputs.
TEST_F(TrainTest, TwoProcessesOverGlooStayInStep) {
  if (!std::getenv("VIDCOLOR_TRAIN_TOOL")) GTEST_SKIP() << "VIDCOLOR_TRAIN_TOOL not set";
  if (!gloo_available()) GTEST_SKIP() << "this build has no c10d Gloo";
  const char* tool = std::getenv("VIDCOLOR_TRAIN_TOOL");
  const fs::path out = dir("gloo");
  const std::string port = std::to_string(free_port());
  const std::string args = " --pack " + pack() +
                           " --stages f-images:2,g:1 --batch 1 --threads 1 --backbone-weights " +
                           backbone_json() + " --out " + out.string();
  const auto rank_cmd = [&](int r) {
    const fs::path log = dir("gloo-rank" + std::to_string(r) + ".log");
    return "(RANK=" + std::to_string(r) + " LOCAL_RANK=" + std::to_string(r) +
           " WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + port + " timeout 120 " + tool +
           args + " >" + log.string() + " 2>&1; echo $? >" + log.string() + ".rc)";
  };
  const std::string cmd = rank_cmd(0) + " & " + rank_cmd(1) + " & wait";
  ASSERT_EQ(std::system(("sh -c '" + cmd + "'").c_str()), 0);
  const std::string log0 = read_file(dir("gloo-rank0.log")),
                    log1 = read_file(dir("gloo-rank1.log"));
  ASSERT_EQ(read_file(dir("gloo-rank0.log.rc")), "0\n") << log0;
  ASSERT_EQ(read_file(dir("gloo-rank1.log.rc")), "0\n") << log1;
  const std::regex digest("rank ([01]) parameters fnv1a64 ([0-9a-f]{16})");
  std::smatch m0, m1;
  ASSERT_TRUE(std::regex_search(log0, m0, digest)) << log0;
  ASSERT_TRUE(std::regex_search(log1, m1, digest)) << log1;
  EXPECT_EQ(m0[1], "0");
  EXPECT_EQ(m1[1], "1");
  EXPECT_EQ(m0[2], m1[2]) << "ranks diverged";
  EXPECT_NE(log0.find("2 processes over gloo"), std::string::npos) << log0;
  EXPECT_EQ(log1.find("steps/s"), std::string::npos) << "rank 1 printed progress:\n" << log1;
  const Model m = load_model((out / "model.safetensors").string());
  EXPECT_EQ(model_digest(m), m0[2].str());
  EXPECT_EQ(m.provenance.at("world_size"), 2);
  EXPECT_EQ(m.provenance.at("global_batch"), 2);
}

// scripts/train-local.sh: the same run as N one-thread processes of this machine, launched,
// logged and awaited by the script; a rank that fails makes the script fail with its reason.
TEST_F(TrainTest, TrainLocalRunsOneProcessPerCore) {
  const char* tool = std::getenv("VIDCOLOR_TRAIN_TOOL");
  const char* src = std::getenv("VIDCOLOR_SOURCE_DIR");
  if (!tool || !src) GTEST_SKIP() << "VIDCOLOR_TRAIN_TOOL or VIDCOLOR_SOURCE_DIR not set";
  if (!gloo_available()) GTEST_SKIP() << "this build has no c10d Gloo";
  const std::string script =
      "VIDCOLOR_TRAIN=" + std::string(tool) + " timeout 120 " + src + "/scripts/train-local.sh";
  const fs::path out = dir("local");
  const std::string args = " --pack " + pack() +
                           " --stages f-images:2 --batch 1 --backbone-weights " + backbone_json() +
                           " --out " + out.string();
  const vctest::CommandResult r = vctest::run_command(script + " --ranks 2" + args + " 2>&1");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("2 processes over gloo"), std::string::npos) << r.output;
  const std::regex digest("rank ([01]) parameters fnv1a64 ([0-9a-f]{16})");
  std::smatch m0, m1;
  const std::string log0 = read_file(out / "rank-0.log"), log1 = read_file(out / "rank-1.log");
  ASSERT_TRUE(std::regex_search(log0, m0, digest)) << log0;
  ASSERT_TRUE(std::regex_search(log1, m1, digest)) << log1;
  EXPECT_EQ(m0[2], m1[2]) << "ranks diverged";
  EXPECT_NE(log0.find("1 threads"), std::string::npos) << log0;
  EXPECT_EQ(load_model((out / "model.safetensors").string()).provenance.at("world_size"), 2);

  const vctest::CommandResult bad =
      vctest::run_command(script + " --ranks 2 --pack " + (out / "none.safetensors").string() +
                          " --stages f-images:2 --out " + dir("local-bad").string() + " 2>&1");
  EXPECT_NE(bad.status, 0) << bad.output;
  EXPECT_NE(bad.output.find("none.safetensors"), std::string::npos) << bad.output;
  EXPECT_NE(vctest::run_command(script + " --ranks 2 --stages f-images:2 2>&1").status,
            0);  // no --out
}

}  // namespace
