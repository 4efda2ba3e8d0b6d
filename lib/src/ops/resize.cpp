#include "vidcolor/ops/resize.hpp"

#include <vector>

namespace vidcolor {

namespace {

namespace F = torch::nn::functional;

// Adaptive-average-pooling windows of one axis.
struct Window {
  int64_t start, end;
};
std::vector<Window> windows(int64_t in, int64_t out) {
  std::vector<Window> w(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o) w[o] = {(o * in) / out, ((o + 1) * in + out - 1) / out};
  return w;
}

torch::Tensor area_cpu(const torch::Tensor& in, int64_t h, int64_t w) {
  const torch::Tensor x = in.contiguous();
  const int64_t planes = x.size(0) * x.size(1), H = x.size(2), W = x.size(3);
  torch::Tensor out = torch::empty({x.size(0), x.size(1), h, w}, x.options());
  const std::vector<Window> xs = windows(W, w), ys = windows(H, h);
  std::vector<float> rows(static_cast<size_t>(H * w));
  for (int64_t p = 0; p < planes; ++p) {
    const float* src = x.data_ptr<float>() + p * H * W;
    // Horizontal means of every input row.
    for (int64_t y = 0; y < H; ++y) {
      const float* r = src + y * W;
      for (int64_t j = 0; j < w; ++j) {
        float s = 0.0f;
        for (int64_t k = xs[j].start; k < xs[j].end; ++k) s += r[k];
        rows[y * w + j] = s / static_cast<float>(xs[j].end - xs[j].start);
      }
    }
    // Vertical means of those, a whole row at a time.
    float* dst = out.data_ptr<float>() + p * h * w;
    for (int64_t i = 0; i < h; ++i) {
      float* o = dst + i * w;
      for (int64_t j = 0; j < w; ++j) o[j] = 0.0f;
      for (int64_t k = ys[i].start; k < ys[i].end; ++k)
        for (int64_t j = 0; j < w; ++j) o[j] += rows[k * w + j];
      const float inv = 1.0f / static_cast<float>(ys[i].end - ys[i].start);
      for (int64_t j = 0; j < w; ++j) o[j] *= inv;
    }
  }
  return out;
}

}  // namespace

torch::Tensor resize_planes(const torch::Tensor& x, int64_t h, int64_t w) {
  if (x.size(2) == h && x.size(3) == w) return x;
  const std::vector<int64_t> size{h, w};
  if (h <= x.size(2) && w <= x.size(3)) {
    if (x.device().is_cpu() && x.scalar_type() == torch::kFloat32 && !x.requires_grad())
      return area_cpu(x, h, w);
    return F::interpolate(x, F::InterpolateFuncOptions().size(size).mode(torch::kArea));
  }
  return F::interpolate(
      x, F::InterpolateFuncOptions().size(size).mode(torch::kBilinear).align_corners(false));
}

}  // namespace vidcolor
