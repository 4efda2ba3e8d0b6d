// resize_planes: the CPU area kernel against LibTorch's area mode (same windows), and the
// paths it leaves to LibTorch (growing, gradients).
#include <gtest/gtest.h>

#include "vidcolor/ops/resize.hpp"

using namespace vidcolor;
namespace F = torch::nn::functional;

namespace {

torch::Tensor libtorch_area(const torch::Tensor& x, int64_t h, int64_t w) {
  return F::interpolate(
      x, F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kArea));
}

}  // namespace

TEST(ResizePlanes, AreaKernelMatchesLibTorch) {
  torch::manual_seed(3);
  struct Case {
    int64_t n, c, H, W, h, w;
  };
  for (const Case& k : {Case{1, 1, 480, 854, 112, 192}, Case{2, 2, 240, 427, 112, 192},
                        Case{1, 3, 7, 5, 3, 2}, Case{1, 1, 9, 9, 1, 1}, Case{1, 2, 10, 6, 10, 3}}) {
    const torch::Tensor x = torch::rand({k.n, k.c, k.H, k.W});
    const torch::Tensor fast = resize_planes(x, k.h, k.w);
    const torch::Tensor ref = libtorch_area(x, k.h, k.w);
    ASSERT_EQ(fast.sizes(), ref.sizes());
    EXPECT_LT((fast - ref).abs().max().item<double>(), 1e-5)
        << k.H << "x" << k.W << " -> " << k.h << "x" << k.w;
  }
}

TEST(ResizePlanes, SameSizeIsTheInputAndGrowingIsBilinear) {
  const torch::Tensor x = torch::rand({1, 2, 6, 8});
  EXPECT_TRUE(resize_planes(x, 6, 8).is_same(x));
  const torch::Tensor up = resize_planes(x, 12, 16);
  const torch::Tensor ref = F::interpolate(x, F::InterpolateFuncOptions()
                                                  .size(std::vector<int64_t>{12, 16})
                                                  .mode(torch::kBilinear)
                                                  .align_corners(false));
  EXPECT_TRUE(torch::allclose(up, ref));
}

TEST(ResizePlanes, GradientsFlowWhenShrinking) {
  const torch::Tensor x = torch::rand({1, 1, 8, 8}).requires_grad_(true);
  resize_planes(x, 4, 4).sum().backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_TRUE(torch::allclose(x.grad(), torch::full({1, 1, 8, 8}, 0.25)));
}
