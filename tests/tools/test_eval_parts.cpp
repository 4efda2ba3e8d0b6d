// vidcolor-eval's parts: clip discovery on the real data folders, frame conversions, and
// the report's aggregation (means over the clips where a metric is defined).
#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>

#include "eval/clip_source.hpp"
#include "eval/frames.hpp"
#include "eval/report.hpp"
#include "vidcolor/core/error.hpp"

namespace fs = std::filesystem;

namespace {
std::string data_dir() {
  const char* v = std::getenv("VIDCOLOR_SHARED_DATA");
  return v ? v : "";
}
}  // namespace

TEST(EvalClips, FindsDavisSequencesAndStills) {
  const fs::path davis = fs::path(data_dir()) / "videos/davis2016";
  ASSERT_TRUE(fs::is_directory(davis)) << davis;
  size_t expected = 0;
  for (const auto& e : fs::directory_iterator(davis)) expected += e.is_directory();
  const auto clips = vceval::find_clips({davis.string()});
  ASSERT_EQ(clips.size(), expected);
  EXPECT_TRUE(std::is_sorted(clips.begin(), clips.end(),
                             [](const auto& a, const auto& b) { return a.name < b.name; }));
  for (const auto& c : clips) {
    EXPECT_EQ(c.kind, vceval::ClipSpec::Kind::Frames);
    EXPECT_TRUE(std::is_sorted(c.files.begin(), c.files.end()));
  }
  // One sequence folder is one clip; with --stills its frames are separate images.
  const auto one = vceval::find_clips({clips[0].path});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].files.size(), clips[0].files.size());
  const auto stills = vceval::find_clips({clips[0].path}, /*stills=*/true);
  EXPECT_EQ(stills.size(), clips[0].files.size());
  EXPECT_EQ(stills[0].kind, vceval::ClipSpec::Kind::Image);
  EXPECT_THROW(vceval::find_clips({(davis / "no-such-clip").string()}), vidcolor::Error);
}

TEST(EvalClips, ReaderResizesAndStopsAtMaxFrames) {
  const auto clips = vceval::find_clips({(fs::path(data_dir()) / "videos/davis2016").string()});
  ASSERT_FALSE(clips.empty());
  vceval::ClipReader r(clips[0], 2, 60);
  EXPECT_EQ(r.expected_frames(), 2);
  cv::Mat f;
  int n = 0;
  while (r.next(f)) {
    ++n;
    EXPECT_EQ(f.type(), CV_8UC3);
    EXPECT_EQ(std::min(f.rows, f.cols), 60);
  }
  EXPECT_EQ(n, 2);
  EXPECT_EQ(vceval::resized_size(854, 480, 96), cv::Size(171, 96));  // 854 * 96 / 480 = 170.8
  EXPECT_EQ(vceval::resized_size(480, 854, 96), cv::Size(96, 171));
  EXPECT_EQ(vceval::resized_size(854, 480, 0), cv::Size(854, 480));
}

TEST(EvalFrames, ConversionsKeepChannelsAndLuma) {
  // One pure red, one gray pixel (BGR order in the Mat).
  cv::Mat bgr(1, 2, CV_8UC3);
  bgr.at<cv::Vec3b>(0, 0) = {0, 0, 255};
  bgr.at<cv::Vec3b>(0, 1) = {90, 90, 90};
  const auto rgb = vceval::bgr_to_rgb_tensor(bgr);
  EXPECT_FLOAT_EQ(rgb[0][0][0][0].item<float>(), 1.0f);  // R of the red pixel
  EXPECT_FLOAT_EQ(rgb[0][2][0][0].item<float>(), 0.0f);
  const cv::Mat gray = vceval::bgr_to_gray8(bgr);
  EXPECT_EQ(gray.at<uint8_t>(0, 0), 76);  // round(0.299 * 255)
  EXPECT_EQ(gray.at<uint8_t>(0, 1), 90);
  // Zero chroma gives the gray back in all three channels.
  const auto flat = vceval::colorized_rgb_tensor(gray, torch::zeros({1, 2, 1, 2}));
  EXPECT_TRUE(flat.equal(vceval::gray_to_rgb_tensor(gray)));
  // Red's own chroma (Cb = -0.168736, Cr = 0.5) on its luma gives red back in 8 bit.
  auto chroma = torch::zeros({1, 2, 1, 2});
  chroma[0][0][0][0] = -0.168736f;
  chroma[0][1][0][0] = 0.5f;
  const cv::Mat back = vceval::rgb_tensor_to_bgr(vceval::colorized_rgb_tensor(gray, chroma));
  EXPECT_EQ(back.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 255));
  EXPECT_EQ(back.at<cv::Vec3b>(0, 1), cv::Vec3b(90, 90, 90));
  EXPECT_THROW(vceval::colorized_rgb_tensor(gray, torch::zeros({1, 2, 2, 2})), vidcolor::Error);
}

TEST(EvalFrames, GrainOfTheSigmaSeededAndClamped) {
  const cv::Mat gray(64, 64, CV_8UC1, cv::Scalar(128));
  const cv::Mat a = vceval::with_grain(gray, 0.04, 7);
  ASSERT_EQ(a.type(), CV_8UC1);
  cv::Scalar mean, sd;
  cv::meanStdDev(a, mean, sd);
  EXPECT_NEAR(sd[0], 0.04 * 255, 0.5);  // 10.2 of 255
  EXPECT_NEAR(mean[0], 128, 0.5);
  EXPECT_EQ(cv::norm(a, vceval::with_grain(gray, 0.04, 7), cv::NORM_INF), 0);  // seeded
  EXPECT_GT(cv::norm(a, vceval::with_grain(gray, 0.04, 8), cv::NORM_INF), 0);
  EXPECT_EQ(vceval::with_grain(gray, 0.0, 7).data, gray.data);  // 0: the frame itself
  // Near white, grain saturates at 255 instead of wrapping round.
  const cv::Mat white(8, 8, CV_8UC1, cv::Scalar(250));
  double lo = 0, hi = 0;
  cv::minMaxLoc(vceval::with_grain(white, 0.1, 1), &lo, &hi);
  EXPECT_EQ(hi, 255);
  EXPECT_GT(lo, 150);
}

TEST(EvalReport, OverallIsTheMeanOverClipsWhereDefined) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  vceval::Evaluation e;
  e.variants = vceval::variants(0, false);
  auto clip = [&](const char* name, int frames, double seconds, double psnr, double cdc) {
    vceval::ClipResult c;
    c.name = name;
    c.frames = frames;
    c.seconds = seconds;
    for (size_t i = 0; i < e.variants.size(); ++i)
      c.scores.push_back({psnr + static_cast<double>(i), 0.9, cdc, cdc, 10.0});
    c.ground_truth = {nan, nan, cdc, cdc, 30.0};
    return c;
  };
  // A video clip and a single image (no temporal metrics).
  e.clips = {clip("a", 10, 2.0, 20.0, 0.01), clip("b", 1, 0.5, 30.0, nan)};
  const auto j = vceval::to_json(e, {});
  const auto& o = j["overall"];
  EXPECT_DOUBLE_EQ(o["psnr"].get<double>(), 25.0);
  EXPECT_DOUBLE_EQ(o["psnr_f_only"].get<double>(), 26.0);
  EXPECT_DOUBLE_EQ(o["psnr_gray"].get<double>(), 27.0);
  EXPECT_DOUBLE_EQ(o["cdc"].get<double>(), 0.01);  // the image has none
  EXPECT_DOUBLE_EQ(o["fps"].get<double>(), 11 / 2.5);
  EXPECT_EQ(o["frames"].get<int>(), 11);
  EXPECT_TRUE(j["clips"][1]["cdc"].is_null());
  EXPECT_DOUBLE_EQ(j["clips"][0]["fps"].get<double>(), 5.0);
  EXPECT_EQ(j["variants"].size(), 3u);
  // A metric undefined in every clip is still reported, as null.
  e.clips = {clip("b", 1, 0.5, 30.0, nan)};
  const auto k = vceval::to_json(e, {});
  ASSERT_TRUE(k["overall"].contains("warp_error"));
  EXPECT_TRUE(k["overall"]["warp_error"].is_null());
}

TEST(EvalReport, VariantsNameTheirKeys) {
  const auto v = vceval::variants(2, false);
  ASSERT_EQ(v.size(), 5u);
  EXPECT_EQ(v[0].key_suffix, "");
  EXPECT_EQ(v[2].key_suffix, "_gray");
  EXPECT_EQ(v[4].key_suffix, "_candidate1");
  const auto film = vceval::variants(2, true);  // no gray row without truth
  ASSERT_EQ(film.size(), 4u);
  EXPECT_EQ(film[2].key_suffix, "_candidate0");
}

// The colour metrics overall are the pooled accumulators' (not the mean of the clips'), the
// colorfulness ratio the ratio of the overall colorfulness columns; film has no truth keys.
TEST(EvalReport, ColourMetricsArePooled) {
  vceval::Evaluation e;
  e.variants = vceval::variants(0, false);
  auto colour = [](double auc, double spread) {
    vidcolor::ColourScores s;
    s.auc = s.auc_rebalanced = auc;
    s.chroma_spread = spread;
    s.chroma_spread_gt = 10;
    s.chroma_spread_ratio = spread / 10;
    s.tint = s.tint_gt = 2;
    return s;
  };
  for (double cf : {10.0, 20.0}) {
    vceval::ClipResult c;
    c.name = "c";
    c.frames = 2;
    c.seconds = 1;
    for (size_t i = 0; i < e.variants.size(); ++i) {
      c.scores.push_back({20, 0.9, 0.01, 0.01, cf * static_cast<double>(i)});
      c.colour.push_back(colour(0.5, 5));
    }
    c.ground_truth = {100, 1, 0.01, 0.01, 2 * cf};
    e.clips.push_back(c);
  }
  for (size_t i = 0; i < e.variants.size(); ++i) e.overall_colour.push_back(colour(0.7, 6));
  const auto j = vceval::to_json(e, {});
  EXPECT_DOUBLE_EQ(j["clips"][0]["auc"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["overall"]["auc"].get<double>(), 0.7);
  EXPECT_DOUBLE_EQ(j["overall"]["auc_rebalanced_gray"].get<double>(), 0.7);
  EXPECT_DOUBLE_EQ(j["overall"]["chroma_spread_ratio_f_only"].get<double>(), 0.6);
  EXPECT_DOUBLE_EQ(j["overall"]["chroma_spread_gt"].get<double>(), 10.0);
  // colorfulness of f only: 10 and 20 -> 15; truth 20 and 40 -> 30.
  EXPECT_DOUBLE_EQ(j["overall"]["colorfulness_ratio_f_only"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["overall"]["colorfulness_ratio"].get<double>(), 0.0);

  e.film = true;
  e.variants = vceval::variants(0, true);
  for (auto& c : e.clips) {
    c.scores.resize(e.variants.size());
    c.colour.resize(e.variants.size());
  }
  e.overall_colour.resize(e.variants.size());
  const auto f = vceval::to_json(e, {});
  EXPECT_TRUE(f["overall"].contains("chroma_spread") && f["overall"].contains("tint_f_only"));
  for (const char* k : {"psnr", "ssim", "auc", "chroma_spread_ratio", "colorfulness_ratio",
                        "colorfulness_gt", "tint_gt", "psnr_gray"})
    EXPECT_FALSE(f["overall"].contains(k)) << k;
  EXPECT_TRUE(f["film"].get<bool>());
}
