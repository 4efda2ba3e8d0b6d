// Backward warping, eq. 4 confidence, forward-backward consistency, flow resizing.
#include "vidcolor/ops/warp.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "vidcolor/core/error.hpp"

namespace vidcolor {
namespace F = torch::nn::functional;

namespace {

std::string shape_of(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? "," : "") + std::to_string(t.size(i));
  return s + "]";
}

void check_flow(const torch::Tensor& flow, const char* what) {
  if (!flow.defined() || flow.dim() != 4 || flow.size(1) != 2 || !flow.is_floating_point())
    throw Error(std::string("warp.cpp: ") + what + " must be a float [N,2,H,W] flow, got " +
                (flow.defined() ? shape_of(flow) : std::string("an undefined tensor")));
}

// Pixel coordinate -> grid_sample's [-1, 1] with align_corners = true (pixel 0 -> -1,
// pixel size-1 -> +1). A side of one pixel has a single valid coordinate; scale 0 avoids
// the division by zero and samples that pixel whatever the flow says.
double pixel_to_norm_scale(int64_t size) {
  return size > 1 ? 2.0 / static_cast<double>(size - 1) : 0.0;
}

}  // namespace

torch::Tensor warp(const torch::Tensor& image, const torch::Tensor& flow) {
  check_flow(flow, "flow");
  if (!image.defined() || image.dim() != 4 || image.size(0) != flow.size(0) ||
      image.size(2) != flow.size(2) || image.size(3) != flow.size(3))
    throw Error(
        "warp.cpp: image " + (image.defined() ? shape_of(image) : std::string("undefined")) +
        " does not match flow " + shape_of(flow) + " (need [N,C,H,W] with the flow's N, H, W)");
  const int64_t h = flow.size(2), w = flow.size(3);
  const auto opts = flow.options();
  // Absolute sampling positions x + F(x), then normalised; grid is [N,H,W,2] (x, y).
  const auto xs = torch::arange(w, opts).view({1, 1, w});
  const auto ys = torch::arange(h, opts).view({1, h, 1});
  const auto gx = (flow.select(1, 0) + xs) * pixel_to_norm_scale(w) - (w > 1 ? 1.0 : 0.0);
  const auto gy = (flow.select(1, 1) + ys) * pixel_to_norm_scale(h) - (h > 1 ? 1.0 : 0.0);
  const auto grid = torch::stack({gx, gy}, 3);
  const auto src = image.scalar_type() == grid.scalar_type() ? image : image.to(grid.scalar_type());
  return F::grid_sample(src, grid,
                        F::GridSampleFuncOptions()
                            .mode(torch::kBilinear)
                            .padding_mode(torch::kBorder)
                            .align_corners(true));
}

torch::Tensor confidence(const torch::Tensor& a, const torch::Tensor& b, double alpha) {
  if (!a.defined() || !b.defined() || a.dim() != 4 || a.sizes() != b.sizes())
    throw Error("warp.cpp: confidence needs two [N,C,H,W] tensors of one shape, got " +
                (a.defined() ? shape_of(a) : std::string("undefined")) + " and " +
                (b.defined() ? shape_of(b) : std::string("undefined")));
  return (1.0 - alpha * (a - b).abs().mean(1, /*keepdim=*/true)).clamp_min(0.0);
}

// occlusion_mask in plain loops for CPU float32 (vcflow runs it twice per frame: LibTorch's
// grid_sample and the elementwise ops took ~6 ms per 427x240 pair on one core). Same
// arithmetic: B read bilinearly at x + F(x), the position clamped to the frame (grid_sample's
// border padding with align_corners = true).
namespace {

torch::Tensor occlusion_mask_cpu(const torch::Tensor& fst, const torch::Tensor& fts) {
  const int64_t n = fst.size(0), h = fst.size(2), w = fst.size(3), hw = h * w;
  torch::Tensor out = torch::empty({n, 1, h, w}, fst.options());
  for (int64_t s = 0; s < n; ++s) {
    const float* fx = fst.data_ptr<float>() + s * 2 * hw;
    const float* fy = fx + hw;
    const float* bx = fts.data_ptr<float>() + s * 2 * hw;
    const float* by = bx + hw;
    float* o = out.data_ptr<float>() + s * hw;
    for (int64_t y = 0; y < h; ++y) {
      for (int64_t x = 0; x < w; ++x) {
        const int64_t i = y * w + x;
        if (!std::isfinite(fx[i]) || !std::isfinite(fy[i])) {  // a broken flow is not valid
          o[i] = 0.0f;
          continue;
        }
        const float px = std::clamp(static_cast<float>(x) + fx[i], 0.0f, static_cast<float>(w - 1));
        const float py = std::clamp(static_cast<float>(y) + fy[i], 0.0f, static_cast<float>(h - 1));
        const int64_t x0 = static_cast<int64_t>(px), y0 = static_cast<int64_t>(py);
        const int64_t x1 = std::min(x0 + 1, w - 1), y1 = std::min(y0 + 1, h - 1);
        const float lx = px - static_cast<float>(x0), ly = py - static_cast<float>(y0);
        auto sample = [&](const float* p) {
          const float top = p[y0 * w + x0] * (1.0f - lx) + p[y0 * w + x1] * lx;
          const float bottom = p[y1 * w + x0] * (1.0f - lx) + p[y1 * w + x1] * lx;
          return top * (1.0f - ly) + bottom * ly;
        };
        const float b0 = sample(bx), b1 = sample(by);
        const float sx = fx[i] + b0, sy = fy[i] + b1;
        const float bound = 0.01f * (fx[i] * fx[i] + fy[i] * fy[i] + b0 * b0 + b1 * b1) + 0.5f;
        o[i] = (sx * sx + sy * sy) < bound ? 1.0f : 0.0f;
      }
    }
  }
  return out;
}

}  // namespace

torch::Tensor occlusion_mask(const torch::Tensor& flow_st, const torch::Tensor& flow_ts) {
  check_flow(flow_st, "flow_st");
  check_flow(flow_ts, "flow_ts");
  if (flow_st.sizes() != flow_ts.sizes())
    throw Error("warp.cpp: occlusion_mask needs flows of one shape, got " + shape_of(flow_st) +
                " and " + shape_of(flow_ts));
  if (flow_st.device().is_cpu() && flow_st.scalar_type() == torch::kFloat32 &&
      flow_ts.scalar_type() == torch::kFloat32 && !flow_st.requires_grad() &&
      !flow_ts.requires_grad())
    return occlusion_mask_cpu(flow_st.contiguous(), flow_ts.contiguous());
  // The backward flow read at where x lands in t should bring x home: F + B ~ 0.
  const auto back = warp(flow_ts, flow_st);
  const auto sum_sq = (flow_st + back).pow(2).sum(1, true);
  const auto bound = 0.01 * (flow_st.pow(2).sum(1, true) + back.pow(2).sum(1, true)) + 0.5;
  return sum_sq.lt(bound).to(flow_st.scalar_type());
}

torch::Tensor resize_flow(const torch::Tensor& flow, int64_t h, int64_t w) {
  check_flow(flow, "flow");
  if (h <= 0 || w <= 0)
    throw Error("warp.cpp: resize_flow to " + std::to_string(w) + "x" + std::to_string(h) +
                " (sides must be positive)");
  const int64_t in_h = flow.size(2), in_w = flow.size(3);
  if (in_h == h && in_w == w) return flow;
  auto out = F::interpolate(flow, F::InterpolateFuncOptions()
                                      .size(std::vector<int64_t>{h, w})
                                      .mode(torch::kBilinear)
                                      .align_corners(false));
  const auto scale = torch::tensor({static_cast<double>(w) / static_cast<double>(in_w),
                                    static_cast<double>(h) / static_cast<double>(in_h)},
                                   flow.options())
                         .view({1, 2, 1, 1});
  return out * scale;
}

}  // namespace vidcolor
