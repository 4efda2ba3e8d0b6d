// VideoColorizer with a small random model: every frame comes out once, in order, with its
// window and iterations (frame t after t + window * iterations, the rest at finish()), f's
// output beside f+g, a fresh start after finish(), the chain's flows linking the frames, and
// errors.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "common/tiny_model.hpp"
#include "vidcolor/core/error.hpp"
#include "vidcolor/infer/video_colorizer.hpp"

using namespace vidcolor;

namespace {

std::shared_ptr<const Model> random_model() {
  ModelConfig c = vctest::tiny_model_config();
  c.candidates = 2;
  torch::manual_seed(1);
  return std::make_shared<const Model>(make_model(c));
}

cv::Mat frame(int i, int w = 96, int h = 64) {
  cv::Mat m(h, w, CV_8UC1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      m.at<uint8_t>(y, x) =
          static_cast<uint8_t>(127.5 + 60 * std::sin((x + 2 * i) / 6.0) * std::cos(y / 8.0) +
                               50 * std::sin((x + y + i) / 19.0));
  return m;
}

}  // namespace

TEST(VideoColorizer, EveryFrameOnceInOrderWithWindowAndIterations) {
  const auto model = random_model();
  for (int window : {1, 2})
    for (int iterations : {1, 2}) {
      SCOPED_TRACE(testing::Message() << "window " << window << ", iterations " << iterations);
      VideoColorizerOptions o;
      o.window = window;
      o.iterations = iterations;
      VideoColorizer vc(model, o);
      const int lag = window * iterations;
      std::vector<int64_t> seen;
      for (int i = 0; i < 6; ++i) {
        const auto out = vc.push(frame(i));
        ASSERT_EQ(out.size(), i >= lag ? 1u : 0u) << "push " << i;
        for (const auto& f : out) {
          seen.push_back(f.index);
          EXPECT_EQ(f.chroma_f.sizes(), (std::vector<int64_t>{1, 2, 64, 96}));
          EXPECT_EQ(f.chroma_fg.sizes(), f.chroma_f.sizes());
          EXPECT_FALSE(torch::equal(f.chroma_f, f.chroma_fg));  // g had neighbours
        }
      }
      for (const auto& f : vc.finish()) seen.push_back(f.index);
      EXPECT_EQ(seen, (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
      // A new clip after finish(): frame 0 again, alone it is f's output unchanged.
      EXPECT_TRUE(vc.push(frame(0, 48, 32)).empty());
      const auto alone = vc.finish();
      ASSERT_EQ(alone.size(), 1u);
      EXPECT_EQ(alone[0].index, 0);
      EXPECT_TRUE(torch::equal(alone[0].chroma_f, alone[0].chroma_fg));
    }
}

TEST(VideoColorizer, SmallFramesGetTheMinimumFlowSide) {
  // 20x12 frames: the flow is computed at 32x32 (flow_size's minimum), upscaled; g still runs.
  VideoColorizer vc(random_model());
  EXPECT_TRUE(vc.push(frame(0, 20, 12)).empty());
  const auto out = vc.push(frame(1, 20, 12));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(torch::isfinite(out[0].chroma_fg).all().item<bool>());
  EXPECT_EQ(vc.finish().size(), 1u);
}

TEST(VideoColorizer, RejectsBadFramesAndOptions) {
  const auto model = random_model();
  VideoColorizer vc(model);
  EXPECT_THROW(vc.push(cv::Mat()), Error);
  EXPECT_THROW(vc.push(cv::Mat(8, 8, CV_32FC1)), Error);
  vc.push(frame(0));
  EXPECT_THROW(vc.push(frame(1, 48, 32)), Error);
  VideoColorizerOptions o;
  o.window = 0;
  EXPECT_THROW(VideoColorizer(model, o), Error);
  o.window = 1;
  o.iterations = 0;
  EXPECT_THROW(VideoColorizer(model, o), Error);
  EXPECT_THROW(VideoColorizer(nullptr), Error);
}
