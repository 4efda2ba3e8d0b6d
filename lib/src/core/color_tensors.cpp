#include "vidcolor/core/color_tensors.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

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
  return torch::where(v <= 0.0031308, v * 12.92,
                      1.055 * torch::pow(v.clamp_min(1e-12), 1.0 / 2.4) - 0.055);
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
// Linear sRGB -> XYZ (D65, IEC 61966-2-1), the X and Z rows divided by the white point (their
// sums), so white maps to (1, 1, 1).
constexpr double kRowY[3] = {0.2126729, 0.7151522, 0.0721750};
constexpr double kRowXn[3] = {0.4124564 / 0.95047, 0.3575761 / 0.95047, 0.1804375 / 0.95047};
constexpr double kRowZn[3] = {0.0193339 / 1.08883, 0.1191920 / 1.08883, 0.9503041 / 1.08883};

// X_n and Z_n as Y plus multiples of (r - b) and (g - b): the same map (the rows' sums are
// equal), but a neutral pixel (r = g = b) gets X_n = Y = Z_n exactly in any precision, so its
// a and b are exactly 0. A plain matrix product left ~1e-5 of rounding in them, which made a
// gray output score a non-zero chroma spread and tint (eval/colour_metrics.hpp).
torch::Tensor linear_rgb_to_xyzn(const torch::Tensor& lin) {
  const torch::Tensor r = lin.select(1, 0), g = lin.select(1, 1), b = lin.select(1, 2);
  const torch::Tensor y = kRowY[0] * r + kRowY[1] * g + kRowY[2] * b;
  const torch::Tensor rb = r - b, gb = g - b;
  const torch::Tensor x = y + (kRowXn[0] - kRowY[0]) * rb + (kRowXn[1] - kRowY[1]) * gb;
  const torch::Tensor z = y + (kRowZn[0] - kRowY[0]) * rb + (kRowZn[1] - kRowY[1]) * gb;
  return torch::stack({x, y, z}, 1);
}

// The inverse of exactly that map, inverted in double: lab_to_rgb(rgb_to_lab(x)) returns x to
// double precision (published 7-digit inverse matrices are off by ~1e-6).
torch::Tensor xyzn_to_linear_rgb_matrix(const torch::Tensor& like) {
  auto row = [](const double* other) {
    const double d0 = other[0] - kRowY[0], d1 = other[1] - kRowY[1];
    return std::vector<double>{kRowY[0] + d0, kRowY[1] + d1, kRowY[2] - d0 - d1};
  };
  std::vector<double> m = row(kRowXn);
  m.insert(m.end(), kRowY, kRowY + 3);
  const std::vector<double> z = row(kRowZn);
  m.insert(m.end(), z.begin(), z.end());
  return torch::inverse(torch::tensor(m, torch::kDouble).view({3, 3}))
      .to(like.device(), like.scalar_type());
}

// rgb_to_lab in one plain loop, for CPU float/double without gradients: the ~35 tensor ops of
// the general path take ~360 ms on one 854x480 frame on the 2-core VM, and vidcolor-eval
// converts every output of every frame (the metrics in eval/colour_metrics.hpp). The same
// formulas and constants, in double; test_color checks both paths agree.
double lab_f_scalar(double t) {
  return t > kDelta * kDelta * kDelta ? std::cbrt(t) : t / (3 * kDelta * kDelta) + 4.0 / 29.0;
}
template <typename T>
void rgb_to_lab_plain(const T* in, T* out, int64_t images, int64_t hw) {
  for (int64_t i = 0; i < images; ++i, in += 3 * hw, out += 3 * hw) {
    for (int64_t p = 0; p < hw; ++p) {
      double c[3];
      for (int k = 0; k < 3; ++k) {
        const double v = std::min(std::max(static_cast<double>(in[k * hw + p]), 0.0), 1.0);
        c[k] = v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
      }
      const double y = kRowY[0] * c[0] + kRowY[1] * c[1] + kRowY[2] * c[2];
      const double rb = c[0] - c[2], gb = c[1] - c[2];
      const double x = y + (kRowXn[0] - kRowY[0]) * rb + (kRowXn[1] - kRowY[1]) * gb;
      const double z = y + (kRowZn[0] - kRowY[0]) * rb + (kRowZn[1] - kRowY[1]) * gb;
      const double fx = lab_f_scalar(x), fy = lab_f_scalar(y), fz = lab_f_scalar(z);
      out[p] = static_cast<T>(116 * fy - 16);
      out[hw + p] = static_cast<T>(500 * (fx - fy));
      out[2 * hw + p] = static_cast<T>(200 * (fy - fz));
    }
  }
}

}  // namespace

torch::Tensor rgb_to_lab(const torch::Tensor& rgb) {
  if (rgb.dim() != 4 || rgb.size(1) != 3) fail("rgb_to_lab needs [N,3,H,W], got " + shape_str(rgb));
  if (rgb.device().is_cpu() && !rgb.requires_grad() &&
      (rgb.scalar_type() == torch::kFloat32 || rgb.scalar_type() == torch::kFloat64)) {
    const torch::Tensor in = rgb.contiguous();
    torch::Tensor out = torch::empty_like(in);
    const int64_t hw = in.size(2) * in.size(3);
    if (in.scalar_type() == torch::kFloat32)
      rgb_to_lab_plain(in.data_ptr<float>(), out.data_ptr<float>(), in.size(0), hw);
    else
      rgb_to_lab_plain(in.data_ptr<double>(), out.data_ptr<double>(), in.size(0), hw);
    return out;
  }
  const torch::Tensor f = lab_f(linear_rgb_to_xyzn(srgb_decode(rgb.clamp(0, 1))));
  const torch::Tensor fx = f.select(1, 0), fy = f.select(1, 1), fz = f.select(1, 2);
  return torch::stack({116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)}, 1);
}

torch::Tensor lab_to_rgb(const torch::Tensor& lab) {
  if (lab.dim() != 4 || lab.size(1) != 3) fail("lab_to_rgb needs [N,3,H,W], got " + shape_str(lab));
  const torch::Tensor fy = (lab.select(1, 0) + 16) / 116;
  const torch::Tensor fx = fy + lab.select(1, 1) / 500, fz = fy - lab.select(1, 2) / 200;
  const torch::Tensor xyz = lab_f_inv(torch::stack({fx, fy, fz}, 1));
  const torch::Tensor lin = torch::einsum("ij,njhw->nihw", {xyzn_to_linear_rgb_matrix(xyz), xyz});
  // Gamut mapping: an out-of-gamut colour moves along the straight line in linear RGB towards
  // the gray of its own luminance (R = G = B = Y: the white point maps to 1, 1, 1) until every
  // channel is in [0, 1]. That line keeps luminance and chromaticity, so L and hue stay and only
  // the chroma shrinks. Clamping each channel instead moved L (by 1.2 at L 50) and the hue of
  // dark warm colours (test_color). In-gamut colours are untouched (t = 1). The denominators are
  // floored so that torch::where's untaken branch has no division by zero (its gradient would be
  // NaN).
  const torch::Tensor gray = xyz.narrow(1, 1, 1).clamp(0, 1);
  const torch::Tensor d = lin - gray;
  const torch::Tensor t_low = gray / (-d).clamp_min(1e-12),
                      t_high = (1 - gray) / d.clamp_min(1e-12);
  const torch::Tensor t =
      torch::where(lin < 0, t_low, torch::where(lin > 1, t_high, torch::ones_like(d)))
          .amin(1, /*keepdim=*/true)
          .clamp(0, 1);
  return srgb_encode((gray + t * d).clamp(0, 1)).clamp(0, 1);
}

torch::Tensor gray_to_lightness(const torch::Tensor& y) {
  if (y.dim() != 4 || y.size(1) != 1)
    fail("gray_to_lightness needs [N,1,H,W], got " + shape_str(y));
  return 116 * lab_f(srgb_decode(y.clamp(0, 1))) - 16;
}

}  // namespace vidcolor
