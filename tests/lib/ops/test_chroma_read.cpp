// planes8_to_chroma: hand-checked values, two-plane and interleaved (NV12) layouts with row
// padding, the round trip with chroma_to_planes8, and bad arguments.
#include <gtest/gtest.h>

#include <vector>

#include "vidcolor/ops/chroma_read.hpp"
#include "vidcolor/core/error.hpp"

using namespace vidcolor;

TEST(ChromaRead, TwoPlanesWithPaddingGiveCentredValues) {
  // 3 x 2 samples, rows 5 bytes apart.
  std::vector<uint8_t> cb = {0, 128, 255, 9, 9, 64, 192, 128, 9, 9};
  std::vector<uint8_t> cr = {128, 128, 1, 9, 9, 255, 0, 127, 9, 9};
  const ChromaPlanes8 in{cb.data(), 5, cr.data(), 5, 1, 1, 1};
  const auto t = planes8_to_chroma(in, 3, 2);
  ASSERT_EQ(t.sizes(), (std::vector<int64_t>{1, 2, 2, 3}));
  EXPECT_FLOAT_EQ(t.index({0, 0, 0, 0}).item<float>(), -128.0f / 255);
  EXPECT_FLOAT_EQ(t.index({0, 0, 0, 1}).item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(t.index({0, 0, 0, 2}).item<float>(), 127.0f / 255);
  EXPECT_FLOAT_EQ(t.index({0, 0, 1, 0}).item<float>(), -64.0f / 255);
  EXPECT_FLOAT_EQ(t.index({0, 1, 0, 2}).item<float>(), -127.0f / 255);
  EXPECT_FLOAT_EQ(t.index({0, 1, 1, 2}).item<float>(), -1.0f / 255);
}

TEST(ChromaRead, InterleavedRoundTripsThroughChromaToPlanes8) {
  // NV12-like: Cb Cr Cb Cr ..., 4 x 3 samples, rows 10 bytes apart.
  std::vector<uint8_t> uv(30, 0);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 4; ++x) {
      uv[y * 10 + 2 * x] = static_cast<uint8_t>(17 * (x + 4 * y));
      uv[y * 10 + 2 * x + 1] = static_cast<uint8_t>(255 - 13 * (x + 4 * y));
    }
  const ChromaPlanes8 in{uv.data(), 10, uv.data() + 1, 10, 2, 1, 1};
  const auto t = planes8_to_chroma(in, 4, 3);
  std::vector<uint8_t> back(30, 0);
  chroma_to_planes8(t, ChromaPlanes8{back.data(), 10, back.data() + 1, 10, 2, 1, 1});
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 8; ++x) EXPECT_EQ(back[y * 10 + x], uv[y * 10 + x]) << y << "," << x;
}

TEST(ChromaRead, RejectsBadPlanes) {
  std::vector<uint8_t> p(16, 128);
  EXPECT_THROW(planes8_to_chroma(ChromaPlanes8{p.data(), 4, p.data(), 4, 1, 1, 1}, 0, 2), Error);
  EXPECT_THROW(planes8_to_chroma(ChromaPlanes8{p.data(), 2, p.data(), 4, 1, 1, 1}, 4, 2), Error);
  EXPECT_THROW(planes8_to_chroma(ChromaPlanes8{nullptr, 4, p.data(), 4, 1, 1, 1}, 4, 2), Error);
  EXPECT_THROW(planes8_to_chroma(ChromaPlanes8{p.data(), 4, p.data(), 4, 0, 1, 1}, 4, 2), Error);
}
