// vidcolor-eval end to end: two short real DAVIS clips at a small size through a tiny random
// model. Checks the JSON report (every key, finite), that its gray-input PSNR is the metric
// computed here directly on the same gray frames, the PNG strips, the colour metrics (ranges
// and the values a gray output must have: no model quality is asserted), the per-candidate
// rows and --film on a real black-and-white clip.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "run_command.hpp"
#include "vidcolor/core/color.hpp"
#include "vidcolor/eval/metrics.hpp"
#include "vidcolor/model/model_file.hpp"
#include "vidcolor/model/networks.hpp"

namespace fs = std::filesystem;

namespace {

constexpr int kFrames = 3;
constexpr int kSize = 64;
const std::array<const char*, 2> kClips{"camel", "goat"};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

class VidcolorEval : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = env("VIDCOLOR_SHARED_DATA");
    exe_ = env("VIDCOLOR_EVAL");
    ASSERT_FALSE(exe_.empty()) << "VIDCOLOR_EVAL is not set";
    ASSERT_TRUE(fs::is_directory(fs::path(data_) / "videos/davis2016")) << data_;
    tmp_ = fs::temp_directory_path() / ("vidcolor-eval-test-" + std::to_string(::getpid()));
    fs::create_directories(tmp_);
    // A tiny random model, saved as a real model file.
    vidcolor::ModelConfig c = vidcolor::ModelConfig::fast();
    c.candidates = 2;
    c.colorizer_channels = {4, 6, 8};
    c.refiner_channels = {4, 6};
    c.inference_size = 32;
    torch::manual_seed(1);
    model_ = (tmp_ / "tiny.safetensors").string();
    vidcolor::save_model(vidcolor::make_model(c), model_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }
  std::string clip(const char* name) const {
    return (fs::path(data_) / "videos/davis2016" / name).string();
  }
  std::string film_clip() const { return (fs::path(data_) / "bw/v04").string(); }
  // The JSON report for kFrames frames of the first clip at kSize with `extra_args`; an empty
  // object (and a test failure) when the tool fails.
  nlohmann::json eval_first_clip(const std::string& extra_args) const {
    return eval_first_clip(extra_args, model_);
  }
  nlohmann::json eval_first_clip(const std::string& extra_args, const std::string& model) const {
    const std::string cmd = exe_ + " --json --model " + model + " --clips " + clip(kClips[0]) +
                            " --max-frames " + std::to_string(kFrames) + " --size " +
                            std::to_string(kSize) + " --threads 1 " + extra_args + " 2>" +
                            (tmp_ / "stderr.txt").string();
    const vctest::CommandResult r = vctest::run_command(cmd);
    EXPECT_EQ(r.status, 0) << cmd << "\n" << r.output;
    return r.status == 0 ? nlohmann::json::parse(r.output) : nlohmann::json();
  }

  std::string data_, exe_, model_;
  fs::path tmp_;
};

// PSNR of the gray input for one clip, computed independently of the tool: the first
// kFrames frames, resized with cv::INTER_AREA to short side kSize, BT.601 luma in all three
// channels against the resized color frame.
double gray_psnr_of_clip(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  double sum = 0;
  for (int i = 0; i < kFrames; ++i) {
    const cv::Mat full = cv::imread(files[static_cast<size_t>(i)], cv::IMREAD_COLOR);
    const int w = static_cast<int>(std::lround(full.cols * static_cast<double>(kSize) / full.rows));
    cv::Mat bgr;
    cv::resize(full, bgr, cv::Size(w, kSize), 0, 0, cv::INTER_AREA);
    auto gt = torch::empty({3, bgr.rows, bgr.cols}, torch::kDouble);
    auto gray = torch::empty({3, bgr.rows, bgr.cols}, torch::kDouble);
    auto g = gt.accessor<double, 3>();
    auto y = gray.accessor<double, 3>();
    for (int r = 0; r < bgr.rows; ++r) {
      std::vector<uint8_t> luma(static_cast<size_t>(bgr.cols));
      vidcolor::rgb_row_to_gray8(bgr.ptr<uint8_t>(r), {3, 2, 1, 0}, luma.data(), bgr.cols,
                                 vidcolor::Matrix::BT601);
      for (int c = 0; c < bgr.cols; ++c) {
        const auto px = bgr.at<cv::Vec3b>(r, c);
        for (int ch = 0; ch < 3; ++ch) {
          g[ch][r][c] = px[2 - ch] / 255.0;
          y[ch][r][c] = luma[static_cast<size_t>(c)] / 255.0;
        }
      }
    }
    sum += vidcolor::psnr(gray, gt);
  }
  return sum / kFrames;
}

}  // namespace

TEST_F(VidcolorEval, JsonReportOnTwoRealClips) {
  const fs::path out = tmp_ / "strips";
  const std::string cmd = exe_ + " --json --model " + model_ + " --clips " + clip(kClips[0]) + " " +
                          clip(kClips[1]) + " --max-frames " + std::to_string(kFrames) +
                          " --size " + std::to_string(kSize) + " --threads 1 --out " +
                          out.string() + " 2>" + (tmp_ / "stderr.txt").string();
  const vctest::CommandResult r = vctest::run_command(cmd);
  ASSERT_EQ(r.status, 0) << cmd << "\n" << r.output;
  const std::string& stdout_text = r.output;
  nlohmann::json j;
  ASSERT_NO_THROW(j = nlohmann::json::parse(stdout_text)) << stdout_text;

  // The overall keys the issue asks for, all finite.
  ASSERT_TRUE(j.contains("overall"));
  for (const char* k : {"psnr", "psnr_gray", "ssim", "cdc", "cdc_f_only", "warp_error",
                        "warp_error_f_only", "colorfulness", "fps"}) {
    ASSERT_TRUE(j["overall"].contains(k)) << k;
    ASSERT_TRUE(j["overall"][k].is_number()) << k << ": " << j["overall"][k];
    EXPECT_TRUE(std::isfinite(j["overall"][k].get<double>())) << k;
  }
  EXPECT_GT(j["overall"]["fps"].get<double>(), 0.0);
  // Gray has no color; any model's output has some; the ground truth has plenty.
  EXPECT_NEAR(j["overall"]["colorfulness_gray"].get<double>(), 0.0, 1e-9);
  EXPECT_GT(j["overall"]["colorfulness_gt"].get<double>(), 1.0);

  ASSERT_EQ(j["clips"].size(), kClips.size());
  double gray_sum = 0;
  for (size_t i = 0; i < kClips.size(); ++i) {
    const auto& c = j["clips"][i];
    EXPECT_EQ(c["name"], kClips[i]);
    EXPECT_EQ(c["frames"], kFrames);
    EXPECT_EQ(c["height"], kSize);
    for (const auto& [k, v] : c.items()) {
      if (k == "name" || k == "path") continue;
      EXPECT_TRUE(v.is_number()) << kClips[i] << " " << k << ": " << v;
    }
    // psnr_gray is the metric on the gray frames, computed here without the tool. The tool
    // holds frames as float (x / 255), this test as double: they agree to ~1e-7 dB, while a
    // different resize, crop or luma would move it by far more than the tolerance.
    const double direct = gray_psnr_of_clip(clip(kClips[i]));
    EXPECT_NEAR(c["psnr_gray"].get<double>(), direct, 1e-5) << kClips[i];
    gray_sum += direct;
    // A PNG strip per clip: 4 panels wide, first/middle/last frame rows.
    const cv::Mat strip = cv::imread((out / (std::string(kClips[i]) + ".png")).string());
    ASSERT_FALSE(strip.empty()) << kClips[i];
    EXPECT_EQ(strip.cols, 4 * c["width"].get<int>());
    EXPECT_EQ(strip.rows, 3 * kSize);
  }
  EXPECT_NEAR(j["overall"]["psnr_gray"].get<double>(), gray_sum / kClips.size(), 1e-5);
  // The contact sheet: a title and column line, then per clip a caption line and its middle
  // frame as gray | f+g | truth (160 px high), at least as wide as those three panels.
  const cv::Mat sheet = cv::imread((out / "contact-sheet.png").string());
  ASSERT_FALSE(sheet.empty());
  EXPECT_EQ(sheet.rows, 2 * 20 + static_cast<int>(kClips.size()) * (20 + 160));
  const int panel_w = static_cast<int>(
      std::lround(j["clips"][0]["width"].get<int>() * 160.0 / j["clips"][0]["height"].get<int>()));
  EXPECT_GE(sheet.cols, 3 * panel_w);

  // The colour metrics, for every row: f+g, f only, gray and the tiny model's 2 candidates.
  ASSERT_EQ(j["variants"].size(), 5u);
  EXPECT_EQ(j["variants"][4]["key_suffix"], "_candidate1");
  for (const nlohmann::json* r : {&j["overall"], &j["clips"][0], &j["clips"][1]}) {
    for (const char* s : {"", "_f_only", "_gray", "_candidate0", "_candidate1"}) {
      const std::string suffix = s;
      for (const char* k : {"auc", "auc_rebalanced", "chroma_spread", "chroma_spread_ratio",
                            "colorfulness_ratio", "tint", "psnr", "colorfulness"})
        ASSERT_TRUE((*r)[k + suffix].is_number()) << k << suffix << ": " << (*r)[k + suffix];
      for (const char* k : {"auc", "auc_rebalanced"}) {
        EXPECT_GE((*r)[k + suffix].get<double>(), 0.0) << k << suffix;
        EXPECT_LE((*r)[k + suffix].get<double>(), 1.0) << k << suffix;
      }
      for (const char* k : {"chroma_spread", "chroma_spread_ratio", "colorfulness_ratio", "tint"})
        EXPECT_GE((*r)[k + suffix].get<double>(), 0.0) << k << suffix;
    }
    // Gray has no chroma at all: exactly 0, not rounding noise (a neutral is a = b = 0).
    for (const char* k :
         {"chroma_spread_gray", "chroma_spread_ratio_gray", "colorfulness_ratio_gray", "tint_gray"})
      EXPECT_EQ((*r)[k].get<double>(), 0.0) << k;
    // Real colour clips have colour; and a gray answer still gets some AuC (near-neutral pixels).
    EXPECT_GT((*r)["chroma_spread_gt"].get<double>(), 1.0);
    EXPECT_GT((*r)["auc_gray"].get<double>(), 0.3);
  }
  // Pooled over pixels: the overall raw AuC lies between the two clips' (equal pixel counts).
  const double a0 = j["clips"][0]["auc"].get<double>(), a1 = j["clips"][1]["auc"].get<double>();
  EXPECT_GE(j["overall"]["auc"].get<double>(), std::min(a0, a1) - 1e-12);
  EXPECT_LE(j["overall"]["auc"].get<double>(), std::max(a0, a1) + 1e-12);
}

// Another operating point: the sizes reach the engines (recorded in the report's "run"), g's
// change of size changes f+g's scores and not f's, and a size f refuses is a clear error.
TEST_F(VidcolorEval, InferenceSizesAreTheEnginesOperatingPoint) {
  const nlohmann::json a = eval_first_clip("--inference-size 32 --refine-inference-size 32");
  const nlohmann::json b = eval_first_clip("--inference-size 32 --refine-inference-size 16");
  ASSERT_TRUE(a.contains("overall") && b.contains("overall"));
  EXPECT_EQ(b["run"]["inference_size"], 32);
  EXPECT_EQ(b["run"]["refine_inference_size"], 16);
  EXPECT_DOUBLE_EQ(a["overall"]["psnr_f_only"].get<double>(),
                   b["overall"]["psnr_f_only"].get<double>());
  EXPECT_NE(a["overall"]["psnr"].get<double>(), b["overall"]["psnr"].get<double>());
  const vctest::CommandResult bad =
      vctest::run_command(exe_ + " --json --model " + model_ + " --clips " + clip(kClips[0]) +
                          " --inference-size 5 2>&1");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find("inference_size"), std::string::npos) << bad.output;
}

// --candidate N scores one of f's candidates (as the elements' candidate property): recorded
// in the report, different candidates give different colours, and one the model lacks is a
// clear error naming the range.
TEST_F(VidcolorEval, CandidateOptionScoresThatCandidate) {
  const nlohmann::json c0 = eval_first_clip("--candidate 0");
  const nlohmann::json c1 = eval_first_clip("--candidate 1");
  ASSERT_TRUE(c0.contains("overall") && c1.contains("overall"));
  EXPECT_EQ(c0["run"]["candidate"], 0);
  EXPECT_EQ(c1["run"]["candidate"], 1);
  EXPECT_NE(c0["overall"]["psnr_f_only"].get<double>(), c1["overall"]["psnr_f_only"].get<double>());
  EXPECT_DOUBLE_EQ(c0["overall"]["psnr_gray"].get<double>(),
                   c1["overall"]["psnr_gray"].get<double>());
  // The per-candidate rows are what --candidate shows: candidate i's row is f alone with i (up
  // to the 8-bit rounding of the output, which float noise of the batched upsampling can flip).
  for (const auto* c : {&c0, &c1}) {
    const std::string row = "_candidate" + std::to_string((*c)["run"]["candidate"].get<int>());
    for (const char* k : {"psnr", "auc", "auc_rebalanced", "chroma_spread_ratio"})
      EXPECT_NEAR((*c)["overall"][k + row].get<double>(),
                  (*c)["overall"][std::string(k) + "_f_only"].get<double>(), 1e-3)
          << k << row;
  }
  // --no-candidates leaves those rows out.
  const nlohmann::json none = eval_first_clip("--no-candidates");
  ASSERT_TRUE(none.contains("overall"));
  EXPECT_FALSE(none["overall"].contains("auc_candidate0"));
  EXPECT_EQ(none["variants"].size(), 3u);
  EXPECT_EQ(none["run"]["candidates_scored"], 0);
  const vctest::CommandResult bad = vctest::run_command(
      exe_ + " --json --model " + model_ + " --clips " + clip(kClips[0]) + " --candidate 9 2>&1");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find("0..1"), std::string::npos) << bad.output;
}

// --class-temperature / --class-debias score another decoding of f's classes, as vccolorize's
// properties: the same scores as a file naming that decoding, recorded in the report; a value
// the engine refuses is a clear error.
TEST_F(VidcolorEval, ClassDecodingOptionsAreTheElementsProperties) {
  vidcolor::Model m = vidcolor::load_model(model_);
  ASSERT_EQ(m.config.chroma_classes, 313);
  ASSERT_NE(m.config.class_temperature, 0.5);
  m.config.class_temperature = 0.5;
  const std::string decoded = (tmp_ / "tiny-t0.5.safetensors").string();
  vidcolor::save_model(m, decoded);
  const nlohmann::json own = eval_first_clip("--no-candidates");
  const nlohmann::json overridden = eval_first_clip("--no-candidates --class-temperature 0.5");
  const nlohmann::json from_file = eval_first_clip("--no-candidates", decoded);
  ASSERT_TRUE(own.contains("overall") && overridden.contains("overall") &&
              from_file.contains("overall"));
  EXPECT_EQ(overridden["run"]["class_temperature"], 0.5);
  EXPECT_EQ(overridden["run"]["class_debias"], -1.0);
  EXPECT_DOUBLE_EQ(overridden["overall"]["psnr_f_only"].get<double>(),
                   from_file["overall"]["psnr_f_only"].get<double>());
  EXPECT_NE(overridden["overall"]["psnr_f_only"].get<double>(),
            own["overall"]["psnr_f_only"].get<double>());
  const vctest::CommandResult bad =
      vctest::run_command(exe_ + " --json --model " + model_ + " --clips " + clip(kClips[0]) +
                          " --class-debias -0.5 2>&1");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find("class_debias must be 0..1"), std::string::npos) << bad.output;
}

// --film on a real black-and-white film clip (gray JPEGs, no truth): colourfulness, chroma spread
// and tint (and the temporal metrics) for f+g, f alone and each candidate; nothing that needs
// truth, and no gray row.
TEST_F(VidcolorEval, FilmModeOnABlackAndWhiteClip) {
  ASSERT_TRUE(fs::is_directory(film_clip())) << film_clip();
  const std::string cmd = exe_ + " --json --film --model " + model_ + " --clips " + film_clip() +
                          " --max-frames " + std::to_string(kFrames) + " --size " +
                          std::to_string(kSize) + " --threads 1 2>" +
                          (tmp_ / "stderr.txt").string();
  const vctest::CommandResult r = vctest::run_command(cmd);
  ASSERT_EQ(r.status, 0) << cmd << "\n" << r.output;
  nlohmann::json j;
  ASSERT_NO_THROW(j = nlohmann::json::parse(r.output)) << r.output;
  EXPECT_TRUE(j["film"].get<bool>());
  ASSERT_EQ(j["clips"].size(), 1u);
  EXPECT_EQ(j["clips"][0]["frames"], kFrames);
  for (const nlohmann::json* o : {&j["overall"], &j["clips"][0]}) {
    for (const char* s : {"", "_f_only", "_candidate0", "_candidate1"}) {
      const std::string suffix = s;
      for (const char* k : {"chroma_spread", "tint", "colorfulness", "cdc", "warp_error"}) {
        ASSERT_TRUE((*o)[k + suffix].is_number()) << k << suffix << ": " << (*o)[k + suffix];
        EXPECT_GE((*o)[k + suffix].get<double>(), 0.0) << k << suffix;
      }
    }
    for (const auto& [k, v] : o->items()) {
      for (const char* truth_key : {"psnr", "ssim", "auc", "ratio", "_gt", "_gray"})
        EXPECT_EQ(k.find(truth_key), std::string::npos) << k;
    }
  }
  // The table prints too, without the truth's columns.
  const vctest::CommandResult t =
      vctest::run_command(exe_ + " --film --no-candidates --model " + model_ + " --clips " +
                          film_clip() + " --max-frames 2 --size 48 --threads 1 2>/dev/null");
  ASSERT_EQ(t.status, 0) << t.output;
  EXPECT_NE(t.output.find("tint"), std::string::npos) << t.output;
  EXPECT_EQ(t.output.find("PSNR"), std::string::npos) << t.output;
}

TEST_F(VidcolorEval, FailsClearlyOnAMissingClip) {
  const std::string err = (tmp_ / "stderr.txt").string();
  const vctest::CommandResult r = vctest::run_command(
      exe_ + " --json --model " + model_ + " --clips " + (tmp_ / "nope").string() + " 2>" + err);
  EXPECT_NE(r.status, 0);
  std::string text;
  std::unique_ptr<FILE, decltype(&fclose)> f(fopen(err.c_str(), "r"), &fclose);
  ASSERT_TRUE(f);
  char buf[512];
  while (fgets(buf, sizeof buf, f.get())) text += buf;
  EXPECT_NE(text.find("nope"), std::string::npos) << text;
}
