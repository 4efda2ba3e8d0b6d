// Backward warping, eq. 4 confidence, forward-backward consistency, flow resizing.
#include "vidcolor/warp.hpp"

#include <string>

#include "vidcolor/error.hpp"

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
double pixel_to_norm_scale(int64_t size) { return size > 1 ? 2.0 / static_cast<double>(size - 1) : 0.0; }

}  // namespace

torch::Tensor warp(const torch::Tensor& image, const torch::Tensor& flow) {
  check_flow(flow, "flow");
  if (!image.defined() || image.dim() != 4 || image.size(0) != flow.size(0) ||
      image.size(2) != flow.size(2) || image.size(3) != flow.size(3))
    throw Error("warp.cpp: image " + (image.defined() ? shape_of(image) : std::string("undefined")) +
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

torch::Tensor occlusion_mask(const torch::Tensor& flow_st, const torch::Tensor& flow_ts) {
  check_flow(flow_st, "flow_st");
  check_flow(flow_ts, "flow_ts");
  if (flow_st.sizes() != flow_ts.sizes())
    throw Error("warp.cpp: occlusion_mask needs flows of one shape, got " + shape_of(flow_st) +
                " and " + shape_of(flow_ts));
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
