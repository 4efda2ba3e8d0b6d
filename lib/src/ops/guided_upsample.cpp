#include "vidcolor/ops/guided_upsample.hpp"

#include <string>

#include "guided_upsample_cpu.hpp"
#include "core/shape_string.hpp"
#include "vidcolor/core/error.hpp"

namespace vidcolor {

namespace {

[[noreturn]] void fail(const std::string& what) { throw Error("guided_upsample: " + what); }

namespace F = torch::nn::functional;

// Mean over the (2r+1)^2 window, counting only pixels inside the image (so borders are not
// pulled towards zero).
torch::Tensor box(const torch::Tensor& x, int r) {
  return F::avg_pool2d(
      x, F::AvgPool2dFuncOptions(2 * r + 1).stride(1).padding(r).count_include_pad(false));
}

void validate(const torch::Tensor& src_lr, const torch::Tensor& guide_lr,
              const torch::Tensor& guide_hr, int radius, double eps) {
  if (src_lr.dim() != 4 || guide_lr.dim() != 4 || guide_hr.dim() != 4)
    fail("needs src_lr [N,C,h,w], guide_lr [N,1,h,w], guide_hr [N,1,H,W], got " +
         shape_str(src_lr) + ", " + shape_str(guide_lr) + ", " + shape_str(guide_hr));
  const int64_t n = src_lr.size(0), c = src_lr.size(1), h = src_lr.size(2), w = src_lr.size(3);
  if (guide_lr.size(0) != n || guide_lr.size(1) != 1 || guide_lr.size(2) != h ||
      guide_lr.size(3) != w)
    fail("guide_lr must be [N,1,h,w] matching src_lr " + shape_str(src_lr) + ", got " +
         shape_str(guide_lr));
  if (guide_hr.size(0) != n || guide_hr.size(1) != 1)
    fail("guide_hr must be [N,1,H,W] with N of src_lr " + shape_str(src_lr) + ", got " +
         shape_str(guide_hr));
  if (c < 1 || h < 1 || w < 1 || guide_hr.size(2) < 1 || guide_hr.size(3) < 1)
    fail("empty tensor: " + shape_str(src_lr) + ", " + shape_str(guide_hr));
  if (!src_lr.is_floating_point())
    fail("tensors must be floating point, got " + std::string(c10::toString(src_lr.scalar_type())));
  if (guide_lr.scalar_type() != src_lr.scalar_type() ||
      guide_hr.scalar_type() != src_lr.scalar_type())
    fail(std::string("all tensors must have one dtype, got ") +
         c10::toString(src_lr.scalar_type()) + ", " + c10::toString(guide_lr.scalar_type()) + ", " +
         c10::toString(guide_hr.scalar_type()));
  if (guide_lr.device() != src_lr.device() || guide_hr.device() != src_lr.device())
    fail("all tensors must be on one device");
  if (radius < 1) fail("radius must be >= 1, got " + std::to_string(radius));
  if (!(eps > 0)) fail("eps must be > 0, got " + std::to_string(eps));
}

}  // namespace

torch::Tensor guided_upsample(const torch::Tensor& src_lr, const torch::Tensor& guide_lr,
                              const torch::Tensor& guide_hr, int radius, double eps) {
  validate(src_lr, guide_lr, guide_hr, radius, eps);
  const bool needs_grad =
      src_lr.requires_grad() || guide_lr.requires_grad() || guide_hr.requires_grad();
  if (src_lr.device().is_cpu() && src_lr.scalar_type() == torch::kFloat32 && !needs_grad)
    return detail::guided_upsample_cpu(src_lr, guide_lr, guide_hr, radius, eps);
  return guided_upsample_torch(src_lr, guide_lr, guide_hr, radius, eps);
}

torch::Tensor guided_upsample_torch(const torch::Tensor& src_lr, const torch::Tensor& guide_lr,
                                    const torch::Tensor& guide_hr, int radius, double eps) {
  validate(src_lr, guide_lr, guide_hr, radius, eps);
  const int64_t c = src_lr.size(1);
  // One pooling call for the four window means: I, p (C channels), I*p (C), I*I.
  const torch::Tensor stats =
      box(torch::cat({guide_lr, src_lr, guide_lr * src_lr, guide_lr * guide_lr}, 1), radius);
  const torch::Tensor mean_i = stats.narrow(1, 0, 1);
  const torch::Tensor mean_p = stats.narrow(1, 1, c);
  const torch::Tensor mean_ip = stats.narrow(1, 1 + c, c);
  const torch::Tensor mean_ii = stats.narrow(1, 1 + 2 * c, 1);
  // Variance by E[I^2] - E[I]^2 can round below zero in flat windows; clamp it.
  const torch::Tensor var_i = (mean_ii - mean_i * mean_i).clamp_min(0);
  const torch::Tensor a = (mean_ip - mean_i * mean_p) / (var_i + eps);
  const torch::Tensor b = mean_p - a * mean_i;
  const torch::Tensor ab = box(torch::cat({a, b}, 1), radius);
  const torch::Tensor ab_hr =
      F::interpolate(ab, F::InterpolateFuncOptions()
                             .size(std::vector<int64_t>{guide_hr.size(2), guide_hr.size(3)})
                             .mode(torch::kBilinear)
                             .align_corners(false));
  return torch::addcmul(ab_hr.narrow(1, c, c), ab_hr.narrow(1, 0, c), guide_hr);
}

}  // namespace vidcolor
