// OpticalFlow backends on real photos moved by a known motion, names, conversions, errors.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstdlib>
#include <string>

#include "vidcolor-config.h"
#include "vidcolor/core/error.hpp"
#include "vidcolor/flow/optical_flow.hpp"
#include "vidcolor/ops/warp.hpp"

using namespace vidcolor;

namespace {

std::string shared_data() {
  const char* env = std::getenv("VIDCOLOR_SHARED_DATA");
  return env != nullptr ? env : VIDCOLOR_SHARED_DATA_DIR;
}

cv::Mat load_gray(const std::string& rel) {
  const std::string path = shared_data() + "/" + rel;
  cv::Mat img = cv::imread(path, cv::IMREAD_GRAYSCALE);
  if (img.empty()) ADD_FAILURE() << "cannot read " << path;
  return img;
}

// `to` is `from` mapped by the 2x3 affine M (to(M p) = from(p)), so the true flow
// from -> to is M p - p.
cv::Mat apply_affine(const cv::Mat& from, const cv::Mat& m) {
  cv::Mat to;
  cv::warpAffine(from, to, m, from.size(), cv::INTER_CUBIC, cv::BORDER_REFLECT101);
  return to;
}

// Mean endpoint error of `flow` against the affine motion, away from a `margin`-pixel
// border (where content enters or leaves the frame).
double mean_epe(const cv::Mat& flow, const cv::Mat& m, int margin) {
  double sum = 0;
  long n = 0;
  for (int y = margin; y < flow.rows - margin; ++y)
    for (int x = margin; x < flow.cols - margin; ++x) {
      const cv::Vec2f f = flow.at<cv::Vec2f>(y, x);
      const double tx = m.at<double>(0, 0) * x + m.at<double>(0, 1) * y + m.at<double>(0, 2) - x;
      const double ty = m.at<double>(1, 0) * x + m.at<double>(1, 1) * y + m.at<double>(1, 2) - y;
      sum += std::hypot(f[0] - tx, f[1] - ty);
      ++n;
    }
  return sum / static_cast<double>(n);
}

cv::Mat translation(double dx, double dy) { return (cv::Mat_<double>(2, 3) << 1, 0, dx, 0, 1, dy); }

cv::Mat small_affine(const cv::Size& size) {
  // 2 degrees of rotation and 3 % zoom about the centre, plus a (2, -1.5) px shift: motion
  // between about 2 and 9 px over the frame.
  cv::Mat m = cv::getRotationMatrix2D(cv::Point2f(size.width / 2.f, size.height / 2.f), 2.0, 1.03);
  m.at<double>(0, 2) += 2.0;
  m.at<double>(1, 2) -= 1.5;
  return m;
}

struct Bound {
  FlowBackend backend;
  double translation_epe;  // bounds, px: measured values are in the test log
  double affine_epe;
};

// Bounds are about 1.5x the largest value measured on the two photos below (BSDS500
// 481x321, Urban100 ~510x384; the log prints the values of each run). Measured: DIS
// ultrafast 0.58 / 0.99 px, fast 0.33 / 0.62, medium 0.08 / 0.14, Farneback 0.94 / 2.04
// (translation / affine, worst photo). Farneback's mean is dominated by the flat sky of the
// BSDS photo, where it has no texture to lock on to; on the textured Urban100 photo it reaches
// 0.24 / 0.84.
const Bound kBounds[] = {
    {FlowBackend::DisUltrafast, 0.9, 1.5},
    {FlowBackend::DisFast, 0.5, 1.0},
    {FlowBackend::DisMedium, 0.15, 0.25},
    {FlowBackend::Farneback, 1.4, 3.0},
};

const char* kPhotos[] = {"images/bsds500/test-100007.jpg", "images/urban100/img_001_SRF_2_HR.jpg"};

}  // namespace

TEST(FlowBackendNames, RoundTripAndRejectUnknown) {
  for (FlowBackend b : all_flow_backends())
    EXPECT_EQ(flow_backend_from_name(flow_backend_name(b)), b);
  EXPECT_STREQ(flow_backend_name(FlowBackend::DisMedium), "dis-medium");
  EXPECT_THROW(flow_backend_from_name("dis-slow"), Error);
  EXPECT_TRUE(flow_backend_is_cuda(FlowBackend::CudaTvl1));
  EXPECT_FALSE(flow_backend_is_cuda(FlowBackend::Farneback));
}

TEST(OpticalFlow, AvailableListsCudaOnlyWhenCompiledIn) {
  const auto avail = OpticalFlow::available();
  int cuda = 0, cpu = 0;
  for (FlowBackend b : avail) (flow_backend_is_cuda(b) ? cuda : cpu)++;
  EXPECT_EQ(cpu, 4);
  EXPECT_EQ(cuda, VIDCOLOR_HAVE_CV_CUDAOPTFLOW ? 4 : 0);
#if !VIDCOLOR_HAVE_CV_CUDAOPTFLOW
  try {
    OpticalFlow f(FlowBackend::CudaNvidia);
    FAIL() << "a CUDA backend was constructed in a build without cudaoptflow";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cuda-nvidia"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cudaoptflow"), std::string::npos) << e.what();
  }
#endif
}

TEST(OpticalFlow, RejectsBadInput) {
  OpticalFlow flow(FlowBackend::DisUltrafast);
  const cv::Mat a(32, 32, CV_8UC1, cv::Scalar(0)), b(32, 40, CV_8UC1, cv::Scalar(0));
  const cv::Mat c(32, 32, CV_8UC3, cv::Scalar(0));
  EXPECT_THROW(flow.compute(a, b), Error);
  EXPECT_THROW(flow.compute(a, c), Error);
  EXPECT_THROW(flow.compute(cv::Mat(), cv::Mat()), Error);
}

TEST(OpticalFlow, KnownMotionOnRealPhotos) {
  for (const char* photo : kPhotos) {
    const cv::Mat from = load_gray(photo);
    ASSERT_FALSE(from.empty());
    const cv::Mat mt = translation(3.5, -2.25);
    const cv::Mat ma = small_affine(from.size());
    const cv::Mat to_t = apply_affine(from, mt), to_a = apply_affine(from, ma);
    for (const Bound& bound : kBounds) {
      OpticalFlow of(bound.backend);
      const cv::Mat ft = of.compute(from, to_t);
      ASSERT_EQ(ft.type(), CV_32FC2);
      ASSERT_EQ(ft.size(), from.size());
      const double epe_t = mean_epe(ft, mt, 16);
      const double epe_a = mean_epe(of.compute(from, to_a), ma, 16);
      std::printf("%-14s %-32s EPE translation %.3f px, affine %.3f px\n",
                  flow_backend_name(bound.backend), photo, epe_t, epe_a);
      EXPECT_LT(epe_t, bound.translation_epe) << flow_backend_name(bound.backend) << " " << photo;
      EXPECT_LT(epe_a, bound.affine_epe) << flow_backend_name(bound.backend) << " " << photo;
    }
  }
}

TEST(OpticalFlow, DirectionMatchesWarpConvention) {
  // compute(from, to) is F_{from->to}: warping `to` with it must give back `from`.
  const cv::Mat from = load_gray(kPhotos[0]);
  ASSERT_FALSE(from.empty());
  const cv::Mat to = apply_affine(from, translation(4.0, 3.0));
  OpticalFlow of(FlowBackend::DisMedium);
  const auto flow = flow_mat_to_tensor(of.compute(from, to));
  auto as_tensor = [](const cv::Mat& m) {
    cv::Mat f;
    m.convertTo(f, CV_32F, 1.0 / 255.0);
    return torch::from_blob(f.data, {1, 1, f.rows, f.cols}, torch::kFloat32).clone();
  };
  const auto t_from = as_tensor(from), t_to = as_tensor(to);
  using torch::indexing::Slice;
  const auto inner = Slice(16, -16);
  const double err_warped =
      (warp(t_to, flow) - t_from).abs().index({0, 0, inner, inner}).mean().item<double>();
  const double err_unwarped =
      (t_to - t_from).abs().index({0, 0, inner, inner}).mean().item<double>();
  std::printf("mean |warp(to, F) - from| %.4f vs |to - from| %.4f\n", err_warped, err_unwarped);
  EXPECT_LT(err_warped, 0.2 * err_unwarped);
}

TEST(FlowConversion, MatTensorRoundTrip) {
  cv::Mat m(3, 4, CV_32FC2);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 4; ++x) m.at<cv::Vec2f>(y, x) = cv::Vec2f(x + 10.f * y, -x - 0.5f * y);
  const auto t = flow_mat_to_tensor(m);
  ASSERT_EQ(t.sizes(), (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_FLOAT_EQ(t.index({0, 0, 2, 3}).item<float>(), 23.f);
  EXPECT_FLOAT_EQ(t.index({0, 1, 2, 3}).item<float>(), -4.f);
  const cv::Mat back = flow_tensor_to_mat(t);
  ASSERT_EQ(back.type(), CV_32FC2);
  EXPECT_EQ(cv::norm(back, m, cv::NORM_INF), 0.0);
  // A non-continuous view (column range) converts too.
  const auto sub = flow_mat_to_tensor(m.colRange(1, 3));
  EXPECT_FLOAT_EQ(sub.index({0, 0, 1, 0}).item<float>(), 11.f);
  EXPECT_THROW(flow_tensor_to_mat(torch::zeros({1, 3, 2, 2})), Error);
  EXPECT_THROW(flow_mat_to_tensor(cv::Mat(2, 2, CV_32FC1)), Error);
}
