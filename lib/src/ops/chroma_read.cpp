#include "vidcolor/ops/chroma_read.hpp"

#include <string>

#include "vidcolor/core/error.hpp"

namespace vidcolor {

torch::Tensor planes8_to_chroma(const ChromaPlanes8& in, int width, int height) {
  if (width < 1 || height < 1 || in.cb == nullptr || in.cr == nullptr || in.pixel_stride < 1 ||
      in.cb_stride < static_cast<size_t>(width - 1) * in.pixel_stride + 1 ||
      in.cr_stride < static_cast<size_t>(width - 1) * in.pixel_stride + 1)
    throw Error("chroma_read: bad planes for " + std::to_string(width) + "x" +
                std::to_string(height) + " samples (pixel stride " +
                std::to_string(in.pixel_stride) + ", row strides " + std::to_string(in.cb_stride) +
                ", " + std::to_string(in.cr_stride) + ")");
  torch::Tensor out = torch::empty({1, 2, height, width}, torch::kFloat32);
  float* cb = out.data_ptr<float>();
  float* cr = cb + static_cast<size_t>(width) * height;
  constexpr float kScale = 1.0f / 255.0f;
  for (int y = 0; y < height; ++y) {
    const uint8_t* rb = in.cb + y * in.cb_stride;
    const uint8_t* rr = in.cr + y * in.cr_stride;
    float* ob = cb + static_cast<size_t>(y) * width;
    float* orr = cr + static_cast<size_t>(y) * width;
    for (int x = 0; x < width; ++x) {
      ob[x] = (static_cast<float>(rb[x * in.pixel_stride]) - 128.0f) * kScale;
      orr[x] = (static_cast<float>(rr[x * in.pixel_stride]) - 128.0f) * kScale;
    }
  }
  return out;
}

}  // namespace vidcolor
