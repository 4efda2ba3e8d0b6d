#include "vidcolor/core/color_tensors.hpp"

#include <sstream>
#include <string>

#include "vidcolor/core/color.hpp"
#include "vidcolor/core/error.hpp"
#include "core/shape_string.hpp"

namespace vidcolor {

namespace {

[[noreturn]] void fail(const std::string& what) { throw Error("color_tensors: " + what); }

torch::Tensor matrix3(const float* m, const torch::Tensor& like) {
  return torch::from_blob(const_cast<float*>(m), {3, 3}, torch::kFloat32)
      .to(like.device(), like.scalar_type());
}

}  // namespace

torch::Tensor ycc_to_rgb(const torch::Tensor& y, const torch::Tensor& cbcr) {
  if (y.dim() != 4 || y.size(1) != 1 || cbcr.dim() != 4 || cbcr.size(1) != 2 ||
      y.size(0) != cbcr.size(0) || y.size(2) != cbcr.size(2) || y.size(3) != cbcr.size(3))
    fail("ycc_to_rgb needs Y [N,1,H,W] and CbCr [N,2,H,W], got " + shape_str(y) + " and " +
         shape_str(cbcr));
  const torch::Tensor ycc = torch::cat({y.to(cbcr.scalar_type()), cbcr}, 1);
  return torch::einsum("ij,njhw->nihw", {matrix3(kYccToRgb601, cbcr), ycc});
}

torch::Tensor candidates_to_rgb(const torch::Tensor& y, const torch::Tensor& candidates) {
  if (candidates.dim() != 5 || candidates.size(2) != 2)
    fail("candidates must be [N,d,2,H,W], got " + shape_str(candidates));
  const int64_t n = candidates.size(0), d = candidates.size(1);
  const int64_t h = candidates.size(3), w = candidates.size(4);
  if (y.dim() != 4 || y.size(0) != n || y.size(1) != 1 || y.size(2) != h || y.size(3) != w)
    fail("candidates_to_rgb: Y must be [N,1,H,W] matching " + shape_str(candidates) + ", got " +
         shape_str(y));
  const torch::Tensor yy = y.unsqueeze(1).expand({n, d, 1, h, w}).reshape({n * d, 1, h, w});
  return ycc_to_rgb(yy, candidates.reshape({n * d, 2, h, w})).view({n, d, 3, h, w});
}

torch::Tensor rgb_to_ycc(const torch::Tensor& rgb) {
  if (rgb.dim() != 4 || rgb.size(1) != 3) fail("rgb_to_ycc needs [N,3,H,W], got " + shape_str(rgb));
  return torch::einsum("ij,njhw->nihw", {matrix3(kRgbToYcc601, rgb), rgb});
}

}  // namespace vidcolor
