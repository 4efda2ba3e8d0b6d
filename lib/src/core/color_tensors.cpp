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

namespace {

// sRGB (IEC 61966-2-1) to linear light and back.
torch::Tensor srgb_decode(const torch::Tensor& v) {
  return torch::where(v <= 0.04045, v / 12.92, torch::pow((v + 0.055) / 1.055, 2.4));
}
torch::Tensor srgb_encode(const torch::Tensor& v) {
  return torch::where(v <= 0.0031308, v * 12.92, 1.055 * torch::pow(v.clamp_min(1e-12), 1.0 / 2.4) - 0.055);
}
// CIE's f(t) of XYZ -> Lab and its inverse (linear near 0, cube root above (6/29)^3).
constexpr double kDelta = 6.0 / 29.0;
torch::Tensor lab_f(const torch::Tensor& t) {
  return torch::where(t > kDelta * kDelta * kDelta, torch::pow(t.clamp_min(1e-12), 1.0 / 3.0),
                      t / (3 * kDelta * kDelta) + 4.0 / 29.0);
}
torch::Tensor lab_f_inv(const torch::Tensor& t) {
  return torch::where(t > kDelta, t * t * t, 3 * kDelta * kDelta * (t - 4.0 / 29.0));
}
// Linear sRGB -> XYZ (D65), rows pre-divided by the white point so white maps to (1, 1, 1).
constexpr float kRgbToXyzN[9] = {0.4124564f / 0.95047f, 0.3575761f / 0.95047f, 0.1804375f / 0.95047f,
                                 0.2126729f,            0.7151522f,            0.0721750f,
                                 0.0193339f / 1.08883f, 0.1191920f / 1.08883f, 0.9503041f / 1.08883f};
constexpr float kXyzNToRgb[9] = {3.2404542f * 0.95047f,  -1.5371385f, -0.4985314f * 1.08883f,
                                 -0.9692660f * 0.95047f, 1.8760108f,  0.0415560f * 1.08883f,
                                 0.0556434f * 0.95047f,  -0.2040259f, 1.0572252f * 1.08883f};

}  // namespace

torch::Tensor rgb_to_lab(const torch::Tensor& rgb) {
  if (rgb.dim() != 4 || rgb.size(1) != 3) fail("rgb_to_lab needs [N,3,H,W], got " + shape_str(rgb));
  const torch::Tensor lin = srgb_decode(rgb.clamp(0, 1));
  const torch::Tensor f = lab_f(torch::einsum("ij,njhw->nihw", {matrix3(kRgbToXyzN, lin), lin}));
  const torch::Tensor fx = f.select(1, 0), fy = f.select(1, 1), fz = f.select(1, 2);
  return torch::stack({116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)}, 1);
}

torch::Tensor lab_to_rgb(const torch::Tensor& lab) {
  if (lab.dim() != 4 || lab.size(1) != 3) fail("lab_to_rgb needs [N,3,H,W], got " + shape_str(lab));
  const torch::Tensor fy = (lab.select(1, 0) + 16) / 116;
  const torch::Tensor fx = fy + lab.select(1, 1) / 500, fz = fy - lab.select(1, 2) / 200;
  const torch::Tensor xyz = lab_f_inv(torch::stack({fx, fy, fz}, 1));
  const torch::Tensor lin = torch::einsum("ij,njhw->nihw", {matrix3(kXyzNToRgb, xyz), xyz});
  return srgb_encode(lin.clamp(0, 1)).clamp(0, 1);
}

torch::Tensor gray_to_lightness(const torch::Tensor& y) {
  if (y.dim() != 4 || y.size(1) != 1) fail("gray_to_lightness needs [N,1,H,W], got " + shape_str(y));
  return 116 * lab_f(srgb_decode(y.clamp(0, 1))) - 16;
}

}  // namespace vidcolor
