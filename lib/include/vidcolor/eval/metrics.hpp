// Quality and temporal-stability metrics of a colorization against color ground truth:
// PSNR, SSIM, CDC, warp error and colorfulness, as the video-colorization literature
// reports them (see ../shared/PAPER_NOTES.md, "Metrics the field uses").
//
// Images are R'G'B' float tensors in [0, 1], either one image [3,H,W] or a batch
// [N,3,H,W] (a clip's frames in order). Any float dtype; computed in double precision
// (except the warp error's bilinear sampling, in float: its error, ~1e-7, is far below what
// the metric resolves).
// Values outside [0, 1] are not clamped except where a metric quantises to 8 bit (CDC).
// Every function throws vidcolor::Error on malformed input (wrong rank, channel count,
// mismatched shapes), naming metrics.cpp and the problem.
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstddef>
#include <vector>

namespace vidcolor {

// --- Per-image fidelity ---------------------------------------------------------------

// Mean squared error over every element (peak 1.0, i.e. 255 on the 8-bit scale).
double mse(const torch::Tensor& a, const torch::Tensor& b);

// PSNR reported for identical images. An exact match has infinite PSNR; it is capped so
// averages and JSON stay finite. 100 dB corresponds to an MSE of 1e-10 (peak 1), far beyond
// 8-bit quantisation noise (~58.9 dB at +-0.5 LSB), so the cap never hides a real difference.
inline constexpr double kPsnrCapDb = 100.0;

// PSNR on R'G'B' with peak 1.0 (== 255 for 8-bit images, as the paper's Table 3):
// 10 log10(1 / MSE) per image, then the mean over the N images (the per-frame average the
// literature reports). Capped at kPsnrCapDb.
double psnr(const torch::Tensor& pred, const torch::Tensor& ref);

// SSIM (Wang, Bovik, Sheikh, Simoncelli 2004): Gaussian window 11x11, sigma 1.5,
// K1 = 0.01, K2 = 0.03, dynamic range L = 1, computed on the 'valid' region (no padding,
// as the authors' MATLAB code), PER R'G'B' CHANNEL and averaged over the 3 channels, then
// over the N images. Per channel rather than on luma: a colorizer keeps the input luma,
// so luma SSIM would be ~1 whatever the colors are. Both sides must be >= 11 pixels.
double ssim(const torch::Tensor& pred, const torch::Tensor& ref);

// Colorfulness (Hasler & Suesstrunk 2003) on the usual 0..255 scale: with rg = R - G and
// yb = (R + G) / 2 - B, M = sqrt(sd(rg)^2 + sd(yb)^2) + 0.3 sqrt(mean(rg)^2 + mean(yb)^2)
// (population standard deviations over the image's pixels). Mean over the N images.
// 0 for any gray image.
double colorfulness(const torch::Tensor& rgb);

// --- CDC: color distribution consistency (NTIRE 2023 video colorization) --------------
//
// As the reference script (TCVC's compute_hist.py, used by the NTIRE 2023 challenge):
// per frame and per channel a 256-bin histogram of the 8-bit values (here a float x maps
// to round(255 * clamp(x, 0, 1))), normalised to sum 1; JS divergence between the
// histograms of frames t and t + k, averaged over all t with t + k inside the clip, for
// k = 1, 2, 4 weighted 1/3 each; mean over the 3 channels. A set of clips scores the mean
// of its clips. Natural logarithm (scipy.stats.entropy's default), so 0 <= JS <= ln 2; an
// empty bin contributes 0 (0 log 0 = 0), and every bin where p > 0 has m = (p + q)/2 > 0.
// Clips shorter than 5 frames: a dilation k with no pair (T <= k) is left out and the
// remaining weights renormalised (the reference would produce NaN); a clip of one frame has
// no CDC (NaN).

using Histogram = std::array<double, 256>;

// Normalised 256-bin histograms of the 3 channels of one [3,H,W] frame.
std::array<Histogram, 3> channel_histograms(const torch::Tensor& frame);

// Jensen-Shannon divergence of two distributions (natural log):
// JS(p, q) = KL(p || m) / 2 + KL(q || m) / 2, m = (p + q) / 2.
double js_divergence(const Histogram& p, const Histogram& q);

// Collects the histograms of a clip frame by frame (so a long clip never sits in memory)
// and yields its CDC.
class CdcAccumulator {
 public:
  // One frame [3,H,W] or a batch of consecutive frames [N,3,H,W].
  void add(const torch::Tensor& frames);
  size_t frames() const { return hists_.size(); }
  // CDC of the frames added so far; NaN with fewer than 2 frames.
  double value() const;

 private:
  std::vector<std::array<Histogram, 3>> hists_;
};

// CDC of one clip [T,3,H,W].
double cdc(const torch::Tensor& frames);

// --- Warp error (Lai et al., ECCV 2018) ------------------------------------------------
//
// E = 1/(T-1) sum_{t=1..T-1} sum_x M_t(x) |V_t(x) - warp(V_{t-1}, F_{t->t-1})(x)|^2 / (3 sum_x
// M_t(x)) where the flows are computed on the GROUND TRUTH (so every method is warped the same way)
// and M_t = occlusion_mask(F_{t->t-1}, F_{t-1->t}) keeps non-occluded pixels. Values in
// [0, 1] (not x255). The per-pixel difference is averaged over the 3 channels as in the
// authors' evaluate_WarpError.py (its occlusion mask is read as a 3-channel image, so its
// normaliser counts channels). A pair with no valid pixel contributes 0, as in that script.

// One pair: prev, cur [3,H,W] or [1,3,H,W]; flow_cur_to_prev [1,2,H,W] (or [2,H,W]);
// valid [1,1,H,W] (or [1,H,W] / [H,W]), 1 = non-occluded.
double warp_error_pair(const torch::Tensor& prev, const torch::Tensor& cur,
                       const torch::Tensor& flow_cur_to_prev, const torch::Tensor& valid);

// One clip: frames [T,3,H,W], flows_back [T-1,2,H,W] with flows_back[i] = F_{i+1 -> i},
// flows_fwd [T-1,2,H,W] with flows_fwd[i] = F_{i -> i+1}. The masks come from
// vidcolor::occlusion_mask. NaN for a clip of one frame.
double warp_error(const torch::Tensor& frames, const torch::Tensor& flows_back,
                  const torch::Tensor& flows_fwd);

}  // namespace vidcolor
