// to_device_together: the tensors come back equal, with their shapes, as views of one buffer
// (one copy), undefined ones stay undefined, mixed dtypes are refused. Run on the CPU here; on a
// GPU the same ops add the one host-to-device copy.
#include <gtest/gtest.h>

#include "vidcolor/ops/device_transfer.hpp"
#include "vidcolor/core/error.hpp"

using namespace vidcolor;

TEST(DeviceTransfer, PacksMovesAndSplitsBack) {
  torch::manual_seed(4);
  const torch::Tensor luma = torch::rand({1, 1, 5, 7});
  const torch::Tensor chroma = torch::rand({1, 2, 3, 4});
  const torch::Tensor flow = torch::rand({1, 2, 6, 2}).permute({0, 1, 3, 2});  // not contiguous
  const std::vector<torch::Tensor> out =
      to_device_together({luma, torch::Tensor(), chroma, flow}, torch::Device(torch::kCPU));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_TRUE(torch::equal(out[0], luma));
  EXPECT_FALSE(out[1].defined());
  EXPECT_TRUE(torch::equal(out[2], chroma));
  EXPECT_TRUE(torch::equal(out[3], flow));
  EXPECT_EQ(out[3].sizes(), flow.sizes());
  for (const torch::Tensor* t : {&out[0], &out[2], &out[3]}) EXPECT_TRUE(t->is_contiguous());
  // One buffer: the parts follow each other in memory.
  EXPECT_EQ(out[2].data_ptr<float>(), out[0].data_ptr<float>() + luma.numel());
  EXPECT_EQ(out[3].data_ptr<float>(), out[2].data_ptr<float>() + chroma.numel());
  // A copy, not the caller's memory.
  EXPECT_NE(out[0].data_ptr<float>(), luma.data_ptr<float>());
}

TEST(DeviceTransfer, NothingDefinedAndMixedDtypes) {
  const auto none =
      to_device_together({torch::Tensor(), torch::Tensor()}, torch::Device(torch::kCPU));
  EXPECT_FALSE(none[0].defined());
  EXPECT_FALSE(none[1].defined());
  EXPECT_THROW(to_device_together({torch::rand({2}), torch::ones({2}, torch::kUInt8)},
                                  torch::Device(torch::kCPU)),
               Error);
}
