// PSNR, SSIM, colorfulness, CDC and warp error. Definitions and their sources are in
// metrics.hpp; everything here runs in double so that a metric never depends on float
// rounding (E[x^2] - E[x]^2 in SSIM cancels badly in float).
#include "vidcolor/eval/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "vidcolor/core/error.hpp"
#include "vidcolor/ops/warp.hpp"

namespace vidcolor {

namespace {

std::string shape_of(const torch::Tensor& t) {
  if (!t.defined()) return "undefined";
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? "," : "") + std::to_string(t.size(i));
  return s + "]";
}

// [3,H,W] or [N,3,H,W] -> [N,3,H,W] double on the CPU.
torch::Tensor as_rgb_batch(const torch::Tensor& t, const char* what) {
  if (!t.defined() || !t.is_floating_point() || (t.dim() != 3 && t.dim() != 4) ||
      t.size(t.dim() - 3) != 3 || t.size(-1) < 1 || t.size(-2) < 1)
    throw Error(std::string("metrics.cpp: ") + what +
                " must be a float R'G'B' tensor [3,H,W] or [N,3,H,W], got " + shape_of(t));
  auto b = t.dim() == 3 ? t.unsqueeze(0) : t;
  if (b.size(0) < 1) throw Error(std::string("metrics.cpp: ") + what + " holds no image");
  return b.to(torch::kCPU, torch::kDouble);
}

void check_same(const torch::Tensor& a, const torch::Tensor& b, const char* fn) {
  if (a.sizes() != b.sizes())
    throw Error(std::string("metrics.cpp: ") + fn + " needs images of one shape, got " +
                shape_of(a) + " and " + shape_of(b));
}

// Normalised 1-D Gaussian, 11 taps, sigma 1.5 (Wang et al. 2004).
std::vector<double> gaussian_taps() {
  constexpr int kSize = 11;
  constexpr double kSigma = 1.5;
  std::vector<double> g(kSize);
  double sum = 0.0;
  for (int i = 0; i < kSize; ++i) {
    const double d = i - kSize / 2;
    g[static_cast<size_t>(i)] = std::exp(-d * d / (2.0 * kSigma * kSigma));
    sum += g[static_cast<size_t>(i)];
  }
  for (double& v : g) v /= sum;
  return g;
}

// Mean SSIM over the valid windows of one plane pair (h x w, contiguous). The 11x11
// Gaussian is applied separably in plain loops, row-wise passes staying in cache, all five
// local moments at once: LibTorch's CPU conv2d with one-channel 11-tap kernels, or tensor
// ops over whole frames, take ~10x longer on a 480p frame.
double ssim_plane(const double* x, const double* y, int64_t h, int64_t w,
                  const std::vector<double>& taps) {
  constexpr double kC1 = 0.01 * 0.01;  // (K1 L)^2 with L = 1
  constexpr double kC2 = 0.03 * 0.03;  // (K2 L)^2
  const int64_t k = static_cast<int64_t>(taps.size());
  const int64_t oh = h - k + 1, ow = w - k + 1;
  // Horizontal pass of x, y, x^2, y^2, xy: five [h, ow] planes.
  std::vector<double> rows(static_cast<size_t>(5 * h * ow), 0.0);
  double* rx = rows.data();
  double* ry = rx + h * ow;
  double* rxx = ry + h * ow;
  double* ryy = rxx + h * ow;
  double* rxy = ryy + h * ow;
  for (int64_t r = 0; r < h; ++r) {
    const double* sx = x + r * w;
    const double* sy = y + r * w;
    const int64_t o = r * ow;
    for (int64_t i = 0; i < k; ++i) {
      const double t = taps[static_cast<size_t>(i)];
      for (int64_t c = 0; c < ow; ++c) {
        const double a = sx[c + i], b = sy[c + i];
        rx[o + c] += t * a;
        ry[o + c] += t * b;
        rxx[o + c] += t * a * a;
        ryy[o + c] += t * b * b;
        rxy[o + c] += t * a * b;
      }
    }
  }
  // Vertical pass, one output row at a time, and the SSIM map summed on the fly.
  std::vector<double> acc(static_cast<size_t>(5 * ow));
  double sum = 0.0;
  for (int64_t r = 0; r < oh; ++r) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int64_t i = 0; i < k; ++i) {
      const double t = taps[static_cast<size_t>(i)];
      const int64_t o = (r + i) * ow;
      for (int q = 0; q < 5; ++q) {
        const double* src = rows.data() + q * h * ow + o;
        double* dst = acc.data() + q * ow;
        for (int64_t c = 0; c < ow; ++c) dst[c] += t * src[c];
      }
    }
    for (int64_t c = 0; c < ow; ++c) {
      const double mx = acc[static_cast<size_t>(c)], my = acc[static_cast<size_t>(ow + c)];
      const double vx = acc[static_cast<size_t>(2 * ow + c)] - mx * mx;
      const double vy = acc[static_cast<size_t>(3 * ow + c)] - my * my;
      const double cxy = acc[static_cast<size_t>(4 * ow + c)] - mx * my;
      sum += ((2.0 * mx * my + kC1) * (2.0 * cxy + kC2)) /
             ((mx * mx + my * my + kC1) * (vx + vy + kC2));
    }
  }
  return sum / static_cast<double>(oh * ow);
}

}  // namespace

double mse(const torch::Tensor& a, const torch::Tensor& b) {
  torch::NoGradGuard no_grad;
  check_same(a, b, "mse");
  if (!a.defined() || !a.is_floating_point() || !b.is_floating_point() || a.numel() == 0)
    throw Error("metrics.cpp: mse needs two non-empty float tensors, got " + shape_of(a));
  return (a.to(torch::kCPU, torch::kDouble) - b.to(torch::kCPU, torch::kDouble))
      .pow(2)
      .mean()
      .item<double>();
}

double psnr(const torch::Tensor& pred, const torch::Tensor& ref) {
  torch::NoGradGuard no_grad;
  check_same(pred, ref, "psnr");
  const auto p = as_rgb_batch(pred, "psnr prediction");
  const auto r = as_rgb_batch(ref, "psnr reference");
  const auto per_image = (p - r).pow(2).flatten(1).mean(1);
  const auto acc = per_image.accessor<double, 1>();
  // MSE at which 10 log10(1 / MSE) reaches the cap.
  const double floor_mse = std::pow(10.0, -kPsnrCapDb / 10.0);
  double sum = 0.0;
  for (int64_t i = 0; i < per_image.size(0); ++i)
    sum += acc[i] <= floor_mse ? kPsnrCapDb : -10.0 * std::log10(acc[i]);
  return sum / static_cast<double>(per_image.size(0));
}

double ssim(const torch::Tensor& pred, const torch::Tensor& ref) {
  torch::NoGradGuard no_grad;
  check_same(pred, ref, "ssim");
  const auto p = as_rgb_batch(pred, "ssim prediction");
  const auto r = as_rgb_batch(ref, "ssim reference");
  const int64_t h = p.size(2), w = p.size(3);
  if (h < 11 || w < 11)
    throw Error("metrics.cpp: ssim needs images of at least 11x11 (its Gaussian window), got " +
                std::to_string(w) + "x" + std::to_string(h));
  // Every channel of every image is one plane; all planes are one size, so the mean over
  // channels and images is the plain mean over planes.
  const auto x = p.reshape({-1, h, w}).contiguous();
  const auto y = r.reshape({-1, h, w}).contiguous();
  const auto taps = gaussian_taps();
  double sum = 0.0;
  for (int64_t i = 0; i < x.size(0); ++i)
    sum +=
        ssim_plane(x.data_ptr<double>() + i * h * w, y.data_ptr<double>() + i * h * w, h, w, taps);
  return sum / static_cast<double>(x.size(0));
}

double colorfulness(const torch::Tensor& rgb) {
  torch::NoGradGuard no_grad;
  const auto x = as_rgb_batch(rgb, "colorfulness image").contiguous();
  const int64_t n = x.size(0), hw = x.size(2) * x.size(3);
  const double* d = x.data_ptr<double>();
  double total = 0.0;
  // One pass per image over plain arrays (tensor ops over a 480p frame are ~10x slower).
  for (int64_t i = 0; i < n; ++i, d += 3 * hw) {
    double s_rg = 0, s_yb = 0, ss_rg = 0, ss_yb = 0;
    for (int64_t j = 0; j < hw; ++j) {
      const double r = 255.0 * d[j], g = 255.0 * d[hw + j], b = 255.0 * d[2 * hw + j];
      const double rg = r - g, yb = 0.5 * (r + g) - b;
      s_rg += rg;
      s_yb += yb;
      ss_rg += rg * rg;
      ss_yb += yb * yb;
    }
    const double m_rg = s_rg / hw, m_yb = s_yb / hw;
    // Population variances (divided by the pixel count), as the paper's definition.
    const double v_rg = std::max(ss_rg / hw - m_rg * m_rg, 0.0);
    const double v_yb = std::max(ss_yb / hw - m_yb * m_yb, 0.0);
    total += std::sqrt(v_rg + v_yb) + 0.3 * std::sqrt(m_rg * m_rg + m_yb * m_yb);
  }
  return total / static_cast<double>(n);
}

// --- CDC -------------------------------------------------------------------------------

std::array<Histogram, 3> channel_histograms(const torch::Tensor& frame) {
  torch::NoGradGuard no_grad;
  if (!frame.defined() || frame.dim() != 3 || frame.size(0) != 3 || !frame.is_floating_point() ||
      frame.numel() == 0)
    throw Error("metrics.cpp: channel_histograms needs one float [3,H,W] frame, got " +
                shape_of(frame));
  const auto f = frame.to(torch::kCPU, torch::kFloat).contiguous();
  const int64_t n = f.size(1) * f.size(2);
  const float* d = f.data_ptr<float>();
  std::array<Histogram, 3> h{};
  for (int c = 0; c < 3; ++c, d += n) {
    h[c].fill(0.0);
    // The 8-bit value each pixel would be written as: round(255 * clamp(x, 0, 1)); NaN
    // counts as 0 (the comparisons are false), so no index can leave the 256 bins.
    for (int64_t i = 0; i < n; ++i) {
      const float v = d[i] > 0.0f ? (d[i] < 1.0f ? d[i] : 1.0f) : 0.0f;
      h[c][static_cast<size_t>(std::lround(v * 255.0f))] += 1.0;
    }
    for (double& v : h[c]) v /= static_cast<double>(n);
  }
  return h;
}

double js_divergence(const Histogram& p, const Histogram& q) {
  double kl_pm = 0.0, kl_qm = 0.0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double m = 0.5 * (p[i] + q[i]);
    if (p[i] > 0.0) kl_pm += p[i] * std::log(p[i] / m);
    if (q[i] > 0.0) kl_qm += q[i] * std::log(q[i] / m);
  }
  return 0.5 * kl_pm + 0.5 * kl_qm;
}

void CdcAccumulator::add(const torch::Tensor& frames) {
  if (frames.defined() && frames.dim() == 4) {
    for (int64_t i = 0; i < frames.size(0); ++i) hists_.push_back(channel_histograms(frames[i]));
  } else {
    hists_.push_back(channel_histograms(frames));
  }
}

double CdcAccumulator::value() const {
  const size_t t = hists_.size();
  double weighted = 0.0, weights = 0.0;
  for (size_t k : {size_t{1}, size_t{2}, size_t{4}}) {
    if (t <= k) continue;  // no pair at this dilation
    double sum = 0.0;
    for (size_t i = 0; i + k < t; ++i)
      for (int c = 0; c < 3; ++c) sum += js_divergence(hists_[i][c], hists_[i + k][c]);
    // Mean over the pairs and the 3 channels; weight 1/3 per dilation.
    weighted += (1.0 / 3.0) * sum / (3.0 * static_cast<double>(t - k));
    weights += 1.0 / 3.0;
  }
  return weights > 0.0 ? weighted / weights : std::numeric_limits<double>::quiet_NaN();
}

double cdc(const torch::Tensor& frames) {
  if (!frames.defined() || frames.dim() != 4)
    throw Error("metrics.cpp: cdc needs a clip [T,3,H,W], got " + shape_of(frames));
  CdcAccumulator acc;
  acc.add(frames);
  return acc.value();
}

// --- Warp error ------------------------------------------------------------------------

double warp_error_pair(const torch::Tensor& prev, const torch::Tensor& cur,
                       const torch::Tensor& flow_cur_to_prev, const torch::Tensor& valid) {
  torch::NoGradGuard no_grad;
  check_same(prev, cur, "warp_error_pair");
  const auto p = as_rgb_batch(prev, "warp_error_pair previous frame");
  const auto c = as_rgb_batch(cur, "warp_error_pair current frame");
  if (p.size(0) != 1)
    throw Error("metrics.cpp: warp_error_pair takes one frame pair, got " + shape_of(prev));
  const int64_t h = p.size(2), w = p.size(3);
  if (!flow_cur_to_prev.defined() || flow_cur_to_prev.numel() != 2 * h * w)
    throw Error("metrics.cpp: warp_error_pair flow " + shape_of(flow_cur_to_prev) +
                " does not match the frames " + shape_of(prev));
  if (!valid.defined() || valid.numel() != h * w)
    throw Error("metrics.cpp: warp_error_pair mask " + shape_of(valid) +
                " does not match the frames " + shape_of(prev));
  const auto flow = flow_cur_to_prev.reshape({1, 2, h, w}).to(torch::kCPU, torch::kFloat);
  const auto mask = valid.reshape({1, 1, h, w}).to(torch::kCPU, torch::kDouble);
  // Sampling in float (~3x faster than double; its error, ~1e-7, is far below any
  // difference the metric resolves); the differences and sums in double.
  const auto warped = warp(p.to(torch::kFloat), flow).to(torch::kDouble);
  const double n = mask.sum().item<double>();
  // No valid pixel: the reference script divides the (all-zero) masked sum by the pixel
  // count, so the pair scores 0.
  if (n <= 0.0) return 0.0;
  return ((c - warped).pow(2) * mask).sum().item<double>() / (3.0 * n);
}

double warp_error(const torch::Tensor& frames, const torch::Tensor& flows_back,
                  const torch::Tensor& flows_fwd) {
  torch::NoGradGuard no_grad;
  if (!frames.defined() || frames.dim() != 4)
    throw Error("metrics.cpp: warp_error needs a clip [T,3,H,W], got " + shape_of(frames));
  const int64_t t = frames.size(0);
  if (t < 2) return std::numeric_limits<double>::quiet_NaN();
  const std::vector<int64_t> flow_shape{t - 1, 2, frames.size(2), frames.size(3)};
  if (!flows_back.defined() || flows_back.sizes() != flow_shape || !flows_fwd.defined() ||
      flows_fwd.sizes() != flow_shape)
    throw Error(
        "metrics.cpp: warp_error needs flows [T-1,2,H,W] = " + shape_of(torch::empty(flow_shape)) +
        ", got " + shape_of(flows_back) + " and " + shape_of(flows_fwd));
  const auto masks = occlusion_mask(flows_back, flows_fwd);
  double sum = 0.0;
  for (int64_t i = 0; i + 1 < t; ++i)
    sum += warp_error_pair(frames[i], frames[i + 1], flows_back[i], masks[i]);
  return sum / static_cast<double>(t - 1);
}

}  // namespace vidcolor
