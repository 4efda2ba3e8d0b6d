// AuC of the ab error (raw and class-rebalanced), chroma spread, tint and colorfulness ratio.
// Definitions in colour_metrics.hpp. Double precision throughout: the AuC thresholds are whole
// Lab units, and a float error near one of them would move a pixel across it.
#include "vidcolor/eval/colour_metrics.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "core/shape_string.hpp"
#include "vidcolor/core/color_tensors.hpp"
#include "vidcolor/core/error.hpp"
#include "vidcolor/eval/metrics.hpp"
#include "vidcolor/model/ab_bins.hpp"

namespace vidcolor {

namespace {

constexpr int64_t kErrorColumns = kAucMaxError + 2;  // ceil(e) = 0..150, and "> 150"
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

[[noreturn]] void fail(const std::string& what) { throw Error("colour_metrics: " + what); }

// [3,H,W] or [N,3,H,W] float, finite -> [N,3,H,W] double on the CPU.
torch::Tensor as_rgb_batch(const torch::Tensor& t) {
  if (!t.defined() || !t.is_floating_point() || (t.dim() != 3 && t.dim() != 4) ||
      t.size(t.dim() - 3) != 3 || t.size(-1) < 1 || t.size(-2) < 1 ||
      (t.dim() == 4 && t.size(0) < 1))
    fail("a frame must be a float R'G'B' tensor [3,H,W] or [N,3,H,W], got " + shape_str(t));
  const torch::Tensor x = (t.dim() == 3 ? t.unsqueeze(0) : t).to(torch::kCPU, torch::kDouble);
  // NaN would survive rgb_to_lab's clamp and become a garbage error bin. (The sum is finite iff
  // every value is, for anything near [0,1]; one pass, where isfinite().all() takes three.)
  if (!std::isfinite(x.sum().item<double>())) fail("a frame has NaN or infinite values");
  return x.contiguous();
}

}  // namespace

ColourFrame colour_frame(const torch::Tensor& rgb) {
  torch::NoGradGuard no_grad;
  const torch::Tensor x = as_rgb_batch(rgb);
  const int64_t n = x.size(0), pixels = x.size(2) * x.size(3);
  ColourFrame f;
  f.ab = rgb_to_lab(x).slice(1, 1, 3).reshape({n, 2, pixels}).contiguous();
  // Population variances (divided by the pixel count), like colorfulness's.
  f.spread = f.ab.var({2}, /*unbiased=*/false, /*keepdim=*/false).sum(1).sqrt();
  f.tint = f.ab.mean(2).pow(2).sum(1).sqrt();
  f.colorfulness = torch::empty({n}, torch::kDouble);
  for (int64_t i = 0; i < n; ++i) f.colorfulness[i] = colorfulness(x[i]);
  return f;
}

ColourFrame truth_colour_frame(const torch::Tensor& rgb) {
  ColourFrame f = colour_frame(rgb);
  const int64_t n = f.ab.size(0), pixels = f.ab.size(2);
  f.bins = ab_nearest_bin(f.ab.view({n, 2, pixels, 1})).view({n, pixels});
  return f;
}

ColourAccumulator::ColourAccumulator()
    : error_hist_(torch::zeros({kAbBinCount, kErrorColumns}, torch::kDouble)) {}

void ColourAccumulator::set_truth(Truth t) {
  if (truth_ != Truth::Unknown && truth_ != t)
    fail("frames with and without truth cannot be scored together");
  truth_ = t;
}

void ColourAccumulator::add_stats(const ColourFrame& pred) {
  spread_sum_ += pred.spread.sum().item<double>();
  tint_sum_ += pred.tint.sum().item<double>();
  colorfulness_sum_ += pred.colorfulness.sum().item<double>();
  frames_ += pred.spread.size(0);
}

void ColourAccumulator::add_frame(const ColourFrame& pred, const ColourFrame& truth) {
  torch::NoGradGuard no_grad;
  if (!pred.ab.defined() || !truth.ab.defined() || !truth.bins.defined())
    fail("add_frame needs an output frame and a truth frame from truth_colour_frame");
  if (pred.ab.sizes() != truth.ab.sizes())
    fail("output " + shape_str(pred.ab) + " and truth " + shape_str(truth.ab) +
         " differ in frames or pixels");
  set_truth(Truth::Yes);
  const torch::Tensor e = (pred.ab - truth.ab).pow(2).sum(1).sqrt();  // [N,P]
  // ceil(e) is the smallest integer threshold t with e <= t; past 150 the pixel passes none.
  const torch::Tensor k = e.ceil().clamp_max(kErrorColumns - 1).to(torch::kInt64);
  const torch::Tensor cell = (truth.bins * kErrorColumns + k).flatten();
  error_hist_ += torch::bincount(cell, {}, kAbBinCount * kErrorColumns)
                     .to(torch::kDouble)
                     .view({kAbBinCount, kErrorColumns});
  spread_gt_sum_ += truth.spread.sum().item<double>();
  tint_gt_sum_ += truth.tint.sum().item<double>();
  colorfulness_gt_sum_ += truth.colorfulness.sum().item<double>();
  const torch::Tensor has_ratio = truth.spread >= kMinTruthSpread;
  ratio_sum_ += (pred.spread / truth.spread.clamp_min(kMinTruthSpread))
                    .masked_select(has_ratio)
                    .sum()
                    .item<double>();
  ratio_frames_ += has_ratio.sum().item<int64_t>();
  add_stats(pred);
}

void ColourAccumulator::add_frame(const ColourFrame& pred) {
  if (!pred.ab.defined()) fail("add_frame got an empty output frame");
  set_truth(Truth::No);
  add_stats(pred);
}

void ColourAccumulator::add_frame(const torch::Tensor& pred_rgb, const torch::Tensor& truth_rgb) {
  add_frame(colour_frame(pred_rgb), truth_colour_frame(truth_rgb));
}

void ColourAccumulator::add_frame(const torch::Tensor& pred_rgb) {
  add_frame(colour_frame(pred_rgb));
}

void ColourAccumulator::merge(const ColourAccumulator& other) {
  if (other.truth_ != Truth::Unknown) set_truth(other.truth_);
  error_hist_ += other.error_hist_;
  frames_ += other.frames_;
  spread_sum_ += other.spread_sum_;
  spread_gt_sum_ += other.spread_gt_sum_;
  ratio_sum_ += other.ratio_sum_;
  ratio_frames_ += other.ratio_frames_;
  tint_sum_ += other.tint_sum_;
  tint_gt_sum_ += other.tint_gt_sum_;
  colorfulness_sum_ += other.colorfulness_sum_;
  colorfulness_gt_sum_ += other.colorfulness_gt_sum_;
}

double auc_from_histogram(const torch::Tensor& error_hist, const torch::Tensor& bin_weights) {
  if (!error_hist.defined() || error_hist.dim() != 2 || error_hist.size(0) != kAbBinCount ||
      error_hist.size(1) != kErrorColumns)
    fail("the error histogram must be [313," + std::to_string(kErrorColumns) + "], got " +
         shape_str(error_hist));
  const torch::Tensor h = error_hist.to(torch::kDouble);
  torch::Tensor w = torch::ones({kAbBinCount}, torch::kDouble);
  if (bin_weights.defined()) {
    if (bin_weights.dim() != 1 || bin_weights.size(0) != kAbBinCount)
      fail("bin weights must be [313], got " + shape_str(bin_weights));
    w = bin_weights.to(torch::kCPU, torch::kDouble);
  }
  const double total = (w * h.sum(1)).sum().item<double>();
  if (!(total > 0)) return kNaN;
  // c(t) = weighted pixels with ceil(e) <= t over all weighted pixels, t = 0..150.
  const torch::Tensor passed = h.slice(1, 0, kAucMaxError + 1).cumsum(1);  // [313,151]
  const torch::Tensor curve = (w.unsqueeze(1) * passed).sum(0) / total;
  return curve.mean().item<double>();
}

ColourScores ColourAccumulator::scores() const {
  ColourScores s;
  s.frames = frames_;
  const double n = frames_ > 0 ? static_cast<double>(frames_) : kNaN;
  s.chroma_spread = spread_sum_ / n;
  s.tint = tint_sum_ / n;
  s.colorfulness = colorfulness_sum_ / n;
  if (truth_ != Truth::Yes) {
    s.auc = s.auc_rebalanced = s.chroma_spread_gt = s.chroma_spread_ratio = kNaN;
    s.colorfulness_gt = s.colorfulness_ratio = s.tint_gt = kNaN;
    return s;
  }
  const torch::Tensor prior = error_hist_.sum(1);  // truth pixels per bin
  s.pixels = static_cast<int64_t>(prior.sum().item<double>());
  s.auc = auc_from_histogram(error_hist_);
  s.auc_rebalanced =
      s.pixels > 0 ? auc_from_histogram(error_hist_, ab_rebalance_weights(prior, 0.5, 0.0)) : kNaN;
  s.chroma_spread_gt = spread_gt_sum_ / n;
  s.chroma_spread_ratio =
      ratio_frames_ > 0 ? ratio_sum_ / static_cast<double>(ratio_frames_) : kNaN;
  s.colorfulness_gt = colorfulness_gt_sum_ / n;
  s.colorfulness_ratio = colorfulness_gt_sum_ > 0 ? colorfulness_sum_ / colorfulness_gt_sum_ : kNaN;
  s.tint_gt = tint_gt_sum_ / n;
  return s;
}

}  // namespace vidcolor
