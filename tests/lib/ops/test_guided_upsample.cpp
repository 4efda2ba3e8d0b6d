// guided_upsample (fast guided filter): what it reproduces exactly, that it keeps edges
// sharper than bilinear upsampling (measured), and its input checks.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <string>

#include "lib/expect_error.hpp"
#include "vidcolor/core/error.hpp"
#include "vidcolor/ops/guided_upsample.hpp"

using namespace vidcolor;
namespace F = torch::nn::functional;

namespace {

torch::Tensor area_down(const torch::Tensor& x, int factor) {
  return F::avg_pool2d(x, F::AvgPool2dFuncOptions(factor));
}

torch::Tensor bilinear_up(const torch::Tensor& x, int64_t h, int64_t w) {
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{h, w})
                               .mode(torch::kBilinear)
                               .align_corners(false));
}

// Luma with a vertical step edge at column `edge` (not on the 4-pixel low-res grid).
torch::Tensor step_luma(int64_t h, int64_t w, int64_t edge, double lo, double hi) {
  torch::Tensor y = torch::full({1, 1, h, w}, lo);
  y.narrow(3, edge, w - edge).fill_(hi);
  return y;
}

// Pixels of one row whose value lies strictly between 10 % and 90 % of the way from `lo`
// to `hi`: the width of the edge's transition.
int transition_width(const torch::Tensor& row, double lo, double hi) {
  int n = 0;
  for (int64_t x = 0; x < row.size(0); ++x) {
    const double t = (row[x].item<double>() - lo) / (hi - lo);
    if (t > 0.1 && t < 0.9) ++n;
  }
  return n;
}

// Every error names the function.
void expect_error(const std::function<void()>& f, const std::string& problem) {
  vctest::expect_error(f, {"guided_upsample", problem});
}

}  // namespace

TEST(GuidedUpsample, ShapesAndDtype) {
  for (auto dtype : {torch::kFloat32, torch::kFloat64}) {
    const auto o = torch::TensorOptions().dtype(dtype);
    const torch::Tensor out =
        guided_upsample(torch::rand({2, 3, 9, 13}, o), torch::rand({2, 1, 9, 13}, o),
                        torch::rand({2, 1, 35, 51}, o));
    EXPECT_EQ(out.sizes(), (std::vector<int64_t>{2, 3, 35, 51}));
    EXPECT_EQ(out.scalar_type(), dtype);
    EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
  }
}

// Chroma that is a linear function of luma comes back as that function of the
// full-resolution luma, edges included, where the guide has texture in every window.
TEST(GuidedUpsample, ReproducesLinearFunctionOfLuma) {
  torch::manual_seed(3);
  const int64_t H = 64, W = 96;
  const torch::Tensor y_hr = step_luma(H, W, 41, 0.2, 0.6) + 0.3 * torch::rand({1, 1, H, W});
  const torch::Tensor y_lr = area_down(y_hr, 4);
  const torch::Tensor k = torch::tensor({0.3f, -0.2f}).view({1, 2, 1, 1});
  const torch::Tensor c = torch::tensor({0.05f, -0.1f}).view({1, 2, 1, 1});
  const torch::Tensor want = k * y_hr + c;
  const torch::Tensor got = guided_upsample(k * y_lr + c, y_lr, y_hr, 1, 1e-6);
  const double err = (got - want).abs().max().item<double>();
  EXPECT_LT(err, 1e-3);
  // Bilinear upsampling of the same low-res chroma loses the texture and the edge.
  const double bilinear_err = (bilinear_up(k * y_lr + c, H, W) - want).abs().max().item<double>();
  EXPECT_GT(bilinear_err, 20 * err) << "guided " << err << " bilinear " << bilinear_err;
  // The default eps (a little smoothing in low-contrast windows) stays close.
  EXPECT_LT((guided_upsample(k * y_lr + c, y_lr, y_hr) - want).abs().max().item<double>(), 0.05);
}

TEST(GuidedUpsample, ConstantStaysConstant) {
  torch::manual_seed(4);
  const torch::Tensor y_hr = torch::rand({1, 1, 40, 56});
  const torch::Tensor y_lr = area_down(y_hr, 4);
  const torch::Tensor src = torch::tensor({0.2f, -0.3f}).view({1, 2, 1, 1}).expand({1, 2, 10, 14});
  const torch::Tensor out = guided_upsample(src.contiguous(), y_lr, y_hr);
  EXPECT_LT((out - torch::tensor({0.2f, -0.3f}).view({1, 2, 1, 1})).abs().max().item<double>(),
            1e-5);
}

// A chroma step that follows a luma step: measured 10-90 % transition width and error against
// the full-resolution truth, guided vs. plain bilinear.
TEST(GuidedUpsample, SharperThanBilinearOnStepEdge) {
  const int64_t H = 32, W = 128, edge = 61;
  const torch::Tensor y_hr = step_luma(H, W, edge, 0.2, 0.8);
  const torch::Tensor cb_hr = step_luma(H, W, edge, -0.3, 0.2);
  const torch::Tensor y_lr = area_down(y_hr, 4), cb_lr = area_down(cb_hr, 4);
  const torch::Tensor guided = guided_upsample(cb_lr, y_lr, y_hr);
  const torch::Tensor bilinear = bilinear_up(cb_lr, H, W);
  const int w_guided = transition_width(guided[0][0][H / 2], -0.3, 0.2);
  const int w_bilinear = transition_width(bilinear[0][0][H / 2], -0.3, 0.2);
  const double e_guided = (guided - cb_hr).abs().mean().item<double>();
  const double e_bilinear = (bilinear - cb_hr).abs().mean().item<double>();
  RecordProperty("transition_width_guided", w_guided);
  RecordProperty("transition_width_bilinear", w_bilinear);
  std::printf(
      "10-90%% edge width: guided %d px, bilinear %d px; mean abs error: guided %.4f, "
      "bilinear %.4f\n",
      w_guided, w_bilinear, e_guided, e_bilinear);
  EXPECT_LT(w_guided, w_bilinear);
  EXPECT_LT(e_guided, 0.5 * e_bilinear);
}

TEST(GuidedUpsample, BadInputsAreClearErrors) {
  const torch::Tensor src = torch::rand({1, 2, 8, 8}), g_lr = torch::rand({1, 1, 8, 8});
  const torch::Tensor g_hr = torch::rand({1, 1, 32, 32});
  expect_error([&] { guided_upsample(src[0], g_lr, g_hr); }, "src_lr [N,C,h,w]");
  expect_error([&] { guided_upsample(src, torch::rand({1, 2, 8, 8}), g_hr); }, "guide_lr");
  expect_error([&] { guided_upsample(src, torch::rand({1, 1, 8, 9}), g_hr); }, "guide_lr");
  expect_error([&] { guided_upsample(src, g_lr, torch::rand({2, 1, 32, 32})); }, "guide_hr");
  expect_error([&] { guided_upsample(src, g_lr, torch::rand({1, 3, 32, 32})); }, "guide_hr");
  expect_error([&] { guided_upsample(src.to(torch::kInt32), g_lr, g_hr); }, "floating point");
  expect_error([&] { guided_upsample(src, g_lr.to(torch::kFloat64), g_hr); }, "one dtype");
  expect_error([&] { guided_upsample(src, g_lr, g_hr, 0); }, "radius");
  expect_error([&] { guided_upsample(src, g_lr, g_hr, 1, 0.0); }, "eps");
}

// The CPU kernel (float32) against the LibTorch-ops version on random data: batches, several
// channels, odd sizes, non-integer ratios, a larger radius, and shrinking as well as growing.
TEST(GuidedUpsample, CpuKernelMatchesLibTorchOps) {
  torch::manual_seed(7);
  struct Case {
    int64_t n, c, h, w, H, W;
    int radius;
  };
  for (const Case& k : {Case{1, 2, 28, 48, 480, 854, 1}, Case{2, 3, 7, 5, 23, 11, 2},
                        Case{1, 1, 1, 1, 3, 4, 1}, Case{1, 2, 16, 16, 9, 13, 1}}) {
    const torch::Tensor src = torch::rand({k.n, k.c, k.h, k.w}) - 0.5;
    const torch::Tensor guide_hr = torch::rand({k.n, 1, k.H, k.W});
    const torch::Tensor guide_lr = torch::rand({k.n, 1, k.h, k.w});
    const torch::Tensor fast = guided_upsample(src, guide_lr, guide_hr, k.radius, 1e-3);
    const torch::Tensor ref = guided_upsample_torch(src, guide_lr, guide_hr, k.radius, 1e-3);
    ASSERT_EQ(fast.sizes(), ref.sizes());
    // eps = 1e-3 amplifies float rounding of the window statistics by up to ~1/eps.
    EXPECT_LT((fast - ref).abs().max().item<double>(), 2e-4)
        << k.n << "x" << k.c << " " << k.h << "x" << k.w << " -> " << k.H << "x" << k.W;
  }
}

// A tensor that needs gradients keeps the differentiable LibTorch path.
TEST(GuidedUpsample, GradientsFlowThroughTheLibTorchPath) {
  const torch::Tensor src = (torch::rand({1, 2, 8, 8}) - 0.5).requires_grad_(true);
  const torch::Tensor out =
      guided_upsample(src, torch::rand({1, 1, 8, 8}), torch::rand({1, 1, 32, 32}));
  out.sum().backward();
  ASSERT_TRUE(src.grad().defined());
  EXPECT_GT(src.grad().abs().sum().item<double>(), 0.0);
}
