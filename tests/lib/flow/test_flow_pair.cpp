// The one flow-size rule (flow_size.hpp) and the chain's flow of a frame pair (flow_pair.hpp):
// sizes, the minimum side, resampling, and that flow_pair is compute() both ways plus the
// forward-backward masks.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "vidcolor/core/chain_defaults.hpp"
#include "vidcolor/core/error.hpp"
#include "vidcolor/flow/flow_pair.hpp"
#include "vidcolor/flow/flow_size.hpp"
#include "vidcolor/ops/warp.hpp"

using namespace vidcolor;

namespace {

cv::Mat pattern(int w, int h, int shift) {
  cv::Mat m(h, w, CV_8UC1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      m.at<uint8_t>(y, x) =
          static_cast<uint8_t>(127.5 + 60 * std::sin((x + shift) / 7.0) * std::cos(y / 9.0) +
                               50 * std::sin((x + y + shift) / 23.0));
  return m;
}

}  // namespace

TEST(FlowSize, ScaledRoundedAndAtLeastTheMinimumSide) {
  EXPECT_EQ(kMinFlowSide, 32);
  const FlowSize a = flow_size(854, 480, kChainFlowScale);
  EXPECT_EQ(a.width, 214);  // 213.5 rounds away from zero, as lround
  EXPECT_EQ(a.height, 120);
  const FlowSize b = flow_size(1920, 1080, 0.5);
  EXPECT_EQ(b.width, 960);
  EXPECT_EQ(b.height, 540);
  // Small frames: raised to the minimum side, even above the frame's own size.
  const FlowSize c = flow_size(64, 16, 0.25);
  EXPECT_EQ(c.width, 32);
  EXPECT_EQ(c.height, 32);
  const FlowSize d = flow_size(1, 1, 1.0);
  EXPECT_EQ(d.width, 32);
  EXPECT_EQ(d.height, 32);
}

TEST(FlowLuma, ResamplesToTheRuleSizeAreaDownBilinearUp) {
  const cv::Mat g = pattern(240, 136, 0);
  const cv::Mat small = flow_luma(g, 0.25);
  EXPECT_EQ(small.cols, 60);
  EXPECT_EQ(small.rows, 34);
  cv::Mat area;
  cv::resize(g, area, cv::Size(60, 34), 0, 0, cv::INTER_AREA);
  EXPECT_EQ(cv::norm(small, area, cv::NORM_INF), 0.0);

  const cv::Mat tiny = pattern(20, 12, 0);
  const cv::Mat up = flow_luma(tiny, 0.25);
  cv::Mat lin;
  cv::resize(tiny, lin, cv::Size(32, 32), 0, 0, cv::INTER_LINEAR);
  EXPECT_EQ(cv::norm(up, lin, cv::NORM_INF), 0.0);

  // Already at the size: an owned copy.
  const cv::Mat same = pattern(32, 32, 0);
  const cv::Mat copy = flow_luma(same, 1.0);
  EXPECT_EQ(cv::norm(copy, same, cv::NORM_INF), 0.0);
  EXPECT_NE(copy.data, same.data);

  EXPECT_THROW(flow_luma(cv::Mat(), 0.5), Error);
  EXPECT_THROW(flow_luma(cv::Mat(8, 8, CV_32FC1), 0.5), Error);
}

TEST(FlowPair, IsComputeBothWaysWithTheForwardBackwardMasks) {
  const cv::Mat prev = flow_luma(pattern(256, 144, 0), 0.5);
  const cv::Mat cur = flow_luma(pattern(256, 144, 3), 0.5);
  OpticalFlow a(FlowBackend::DisFast), b(FlowBackend::DisFast);
  const FlowLink l = flow_pair(a, prev, cur);
  const torch::Tensor back = flow_mat_to_tensor(b.compute(cur, prev));
  const torch::Tensor fwd = flow_mat_to_tensor(b.compute(prev, cur));
  EXPECT_TRUE(torch::equal(l.backward, back));
  EXPECT_TRUE(torch::equal(l.forward, fwd));
  EXPECT_TRUE(torch::equal(l.backward_valid, occlusion_mask(back, fwd)));
  EXPECT_TRUE(torch::equal(l.forward_valid, occlusion_mask(fwd, back)));
  EXPECT_EQ(l.backward.sizes(), (std::vector<int64_t>{1, 2, 72, 128}));
  EXPECT_EQ(l.backward_valid.sizes(), (std::vector<int64_t>{1, 1, 72, 128}));
  // The pattern moved 3 pixels left at full size: about -1.5 at half size, mostly valid.
  EXPECT_NEAR(l.forward.select(1, 0).mean().item<double>(), -1.5, 0.5);
  EXPECT_GT(l.forward_valid.mean().item<double>(), 0.8);
}
