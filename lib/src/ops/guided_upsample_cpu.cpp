#include "guided_upsample_cpu.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace vidcolor::detail {

namespace {

// Mean over the (2r+1)^2 window clipped to the image (avg_pool2d with count_include_pad =
// false), separable: running sums along rows, then along columns. plane and out are h x w;
// out may not alias plane.
void box_mean(const float* plane, float* out, int64_t h, int64_t w, int r,
              std::vector<float>& rows) {
  rows.resize(static_cast<size_t>(h * w));
  // Horizontal window sums with their counts folded in as a mean.
  for (int64_t y = 0; y < h; ++y) {
    const float* in = plane + y * w;
    float* o = rows.data() + y * w;
    double sum = 0.0;
    for (int64_t x = 0; x < std::min<int64_t>(r, w); ++x) sum += in[x];
    for (int64_t x = 0; x < w; ++x) {
      if (x + r < w) sum += in[x + r];
      if (x - r - 1 >= 0) sum -= in[x - r - 1];
      const int64_t count = std::min(x + r, w - 1) - std::max<int64_t>(x - r, 0) + 1;
      o[x] = static_cast<float>(sum / static_cast<double>(count));
    }
  }
  // Vertical: a running sum per column, a whole row at a time (vectorizes).
  std::vector<double> sum(static_cast<size_t>(w), 0.0);
  for (int64_t y = 0; y < std::min<int64_t>(r, h); ++y)
    for (int64_t x = 0; x < w; ++x) sum[x] += rows[y * w + x];
  for (int64_t y = 0; y < h; ++y) {
    if (y + r < h)
      for (int64_t x = 0; x < w; ++x) sum[x] += rows[(y + r) * w + x];
    if (y - r - 1 >= 0)
      for (int64_t x = 0; x < w; ++x) sum[x] -= rows[(y - r - 1) * w + x];
    const double inv =
        1.0 / static_cast<double>(std::min(y + r, h - 1) - std::max<int64_t>(y - r, 0) + 1);
    for (int64_t x = 0; x < w; ++x) out[y * w + x] = static_cast<float>(sum[x] * inv);
  }
}

// Source index pair and weight of bilinear sampling with half-pixel centres, as LibTorch's
// upsample_bilinear2d with align_corners = false and an output size (scale = in / out).
struct Tap {
  int64_t i0, i1;
  float l1;
};
std::vector<Tap> taps(int64_t in, int64_t out) {
  std::vector<Tap> t(static_cast<size_t>(out));
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int64_t o = 0; o < out; ++o) {
    const float src = std::max(scale * (static_cast<float>(o) + 0.5f) - 0.5f, 0.0f);
    const int64_t i0 = std::min(static_cast<int64_t>(src), in - 1);
    t[o] = {i0, i0 + (i0 < in - 1 ? 1 : 0), src - static_cast<float>(i0)};
  }
  return t;
}

}  // namespace

torch::Tensor guided_upsample_cpu(const torch::Tensor& src_lr_in, const torch::Tensor& guide_lr_in,
                                  const torch::Tensor& guide_hr_in, int radius, double eps) {
  const torch::Tensor src_lr = src_lr_in.contiguous();
  const torch::Tensor guide_lr = guide_lr_in.contiguous();
  const torch::Tensor guide_hr = guide_hr_in.contiguous();
  const int64_t n = src_lr.size(0), c = src_lr.size(1), h = src_lr.size(2), w = src_lr.size(3);
  const int64_t H = guide_hr.size(2), W = guide_hr.size(3);
  const int64_t hw = h * w;
  torch::Tensor out = torch::empty({n, c, H, W}, src_lr.options());

  // Per sample: window means of I, I*I, and per channel p, I*p -> a, b -> box(a), box(b).
  std::vector<float> scratch, mean_i(hw), mean_ii(hw), prod(hw), mean_p(hw), mean_ip(hw);
  std::vector<float> a(static_cast<size_t>(c * hw)), b(static_cast<size_t>(c * hw));
  std::vector<float> coef(hw);
  const std::vector<Tap> xt = taps(w, W), yt = taps(h, H);
  std::vector<float> row_a(static_cast<size_t>(w)), row_b(static_cast<size_t>(w));
  for (int64_t s = 0; s < n; ++s) {
    const float* gi = guide_lr.data_ptr<float>() + s * hw;
    box_mean(gi, mean_i.data(), h, w, radius, scratch);
    for (int64_t k = 0; k < hw; ++k) prod[k] = gi[k] * gi[k];
    box_mean(prod.data(), mean_ii.data(), h, w, radius, scratch);
    for (int64_t ch = 0; ch < c; ++ch) {
      const float* p = src_lr.data_ptr<float>() + (s * c + ch) * hw;
      box_mean(p, mean_p.data(), h, w, radius, scratch);
      for (int64_t k = 0; k < hw; ++k) prod[k] = gi[k] * p[k];
      box_mean(prod.data(), mean_ip.data(), h, w, radius, scratch);
      for (int64_t k = 0; k < hw; ++k) {
        // Variance by E[I^2] - E[I]^2 can round below zero in flat windows; clamp it.
        const float var = std::max(mean_ii[k] - mean_i[k] * mean_i[k], 0.0f);
        const float ak = (mean_ip[k] - mean_i[k] * mean_p[k]) / (var + static_cast<float>(eps));
        coef[k] = ak;
        prod[k] = mean_p[k] - ak * mean_i[k];
      }
      box_mean(coef.data(), a.data() + ch * hw, h, w, radius, scratch);
      box_mean(prod.data(), b.data() + ch * hw, h, w, radius, scratch);
    }
    // out = bilinear(a) * guide_hr + bilinear(b): rows interpolated vertically once per
    // output row, then horizontally per pixel.
    const float* g = guide_hr.data_ptr<float>() + s * H * W;
    for (int64_t ch = 0; ch < c; ++ch) {
      const float* ac = a.data() + ch * hw;
      const float* bc = b.data() + ch * hw;
      float* o = out.data_ptr<float>() + (s * c + ch) * H * W;
      for (int64_t y = 0; y < H; ++y) {
        const Tap& ty = yt[y];
        const float l1 = ty.l1, l0 = 1.0f - ty.l1;
        for (int64_t x = 0; x < w; ++x) {
          row_a[x] = l0 * ac[ty.i0 * w + x] + l1 * ac[ty.i1 * w + x];
          row_b[x] = l0 * bc[ty.i0 * w + x] + l1 * bc[ty.i1 * w + x];
        }
        const float* gy = g + y * W;
        float* oy = o + y * W;
        for (int64_t x = 0; x < W; ++x) {
          const Tap& tx = xt[x];
          const float m0 = 1.0f - tx.l1;
          const float av = m0 * row_a[tx.i0] + tx.l1 * row_a[tx.i1];
          const float bv = m0 * row_b[tx.i0] + tx.l1 * row_b[tx.i1];
          oy[x] = av * gy[x] + bv;
        }
      }
    }
  }
  return out;
}

}  // namespace vidcolor::detail
