// Metrics that see colour (issue 18): PSNR rewards a desaturated answer, so a colorizer is also
// scored in CIE Lab (D65, sRGB; core/color_tensors.hpp's rgb_to_lab) on how close its chroma is
// per pixel, and on how much colour it puts into a picture compared with the truth.
//
// Frames are R'G'B' float tensors in [0,1], one frame [3,H,W] or a batch [N,3,H,W] (N frames,
// each counted as a frame), as metrics.hpp's. Computed in double precision on the CPU.
//
// Definitions (and the JSON keys vidcolor-eval writes them under; the tool adds its variant's
// suffix, e.g. "auc_rebalanced_f_only", "chroma_spread_ratio_candidate2"):
//
// - "auc": AuC of the per-pixel ab error (Zhang, Isola & Efros 2016, "Colorful Image
//   Colorization", Table 1). Per pixel e = ||ab_pred - ab_true||_2 (L2 in the a,b plane, Lab
//   units). The curve c(t) = fraction of pixels with e <= t, for t = 0, 1, ..., 150; AuC = the
//   mean of c over these 151 thresholds, in [0,1] (1 = every pixel's chroma exact). Pooled: the
//   counts of every frame are summed before dividing, so a set of frames or clips scores its
//   pixels together, not a mean of per-frame AuCs.
// - "auc_rebalanced": the same with each pixel weighted by w[bin of its TRUE ab] (Zhang's 313
//   bins, model/ab_bins.hpp), w = ab_rebalance_weights(prior, mix 0.5, no smoothing) where the
//   prior is the bin histogram of all the truth pixels scored together (a clip's for its own
//   number, all clips' for the overall one). Rare colours (saturated blue, red) then count as
//   much as common near-gray ones, so a gray or sepia answer no longer scores well.
//   c_w(t) = sum_px w·[e <= t] / sum_px w. Exact in one pass: the accumulator keeps, per true
//   bin, a histogram of ceil(e) (the smallest integer threshold the pixel passes), and weighs
//   the bins when the result is asked for.
// - "chroma_spread": per frame sqrt(var(a) + var(b)) over its pixels (population variances),
//   mean over frames: how far colours spread around the frame's mean colour. A global tint has
//   spread 0; real colour video ~15 (../shared/data README), a sepia wash ~5. "chroma_spread_gt"
//   is the truth's.
// - "chroma_spread_ratio": per frame spread(output) / spread(truth), mean over the frames whose
//   truth spread is >= 1e-6 (a gray truth frame has no ratio); 1 = as varied as the truth, 0 for
//   a gray or uniformly tinted output.
// - "colorfulness_ratio": colorfulness (Hasler & Suesstrunk, metrics.hpp) of the output over the
//   truth's, each the mean over frames (vidcolor-eval: per clip the clip's means, overall the
//   ratio of the overall colorfulness columns, pooled as those are).
// - "tint": per frame the L2 norm of the frame's mean (a, b), mean over frames: the global
//   colour cast (a sepia wash has a large tint and a small spread). "tint_gt" is the truth's.
//   For clips without truth (vidcolor-eval --film) only chroma_spread, tint and colorfulness
//   exist.
//
// Values that are undefined (no frames; no truth; no truth frame with spread >= 1e-6; zero
// truth colorfulness) are NaN. Malformed input throws vidcolor::Error naming colour_metrics.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace vidcolor {

// AuC thresholds t = 0, 1, ..., kAucMaxError (Lab units): 151 points.
constexpr int kAucMaxError = 150;
// Truth frames with a chroma spread below this have no spread ratio.
constexpr double kMinTruthSpread = 1e-6;

// One frame's (or batch's) chroma, computed once and scored against any number of outputs.
struct ColourFrame {
  torch::Tensor ab;      // [N,2,H*W] double: a and b of every pixel
  torch::Tensor bins;    // [N,H*W] int64 nearest of the 313 ab bins; only from truth_colour_frame
  torch::Tensor spread;  // [N] double: sqrt(var a + var b) per frame
  torch::Tensor tint;    // [N] double: |mean ab| per frame
  torch::Tensor colorfulness;  // [N] double: Hasler & Suesstrunk per frame
};

// R'G'B' [3,H,W] or [N,3,H,W] in [0,1] -> its chroma statistics (an output frame).
ColourFrame colour_frame(const torch::Tensor& rgb);
// The same plus the ab bins the rebalanced AuC weighs by (a truth frame).
ColourFrame truth_colour_frame(const torch::Tensor& rgb);

struct ColourScores {
  int64_t frames = 0;                // frames added
  int64_t pixels = 0;                // pixels scored against truth
  double auc = 0.0;                  // "auc"
  double auc_rebalanced = 0.0;       // "auc_rebalanced"
  double chroma_spread = 0.0;        // "chroma_spread" (output)
  double chroma_spread_gt = 0.0;     // "chroma_spread_gt"
  double chroma_spread_ratio = 0.0;  // "chroma_spread_ratio"
  double colorfulness = 0.0;         // mean over frames (the output's)
  double colorfulness_gt = 0.0;      // mean over frames (the truth's)
  double colorfulness_ratio = 0.0;   // "colorfulness_ratio"
  double tint = 0.0;                 // "tint" (output)
  double tint_gt = 0.0;              // "tint_gt"
};

// Accumulates one colorization (one variant) frame by frame, so a long clip never sits in
// memory, and merges with other accumulators for pooled numbers over several clips. Either
// every frame has truth (add_frame(pred, truth)) or none has (add_frame(pred): --film); mixing
// the two throws.
class ColourAccumulator {
 public:
  ColourAccumulator();

  void add_frame(const torch::Tensor& pred_rgb, const torch::Tensor& truth_rgb);
  void add_frame(const torch::Tensor& pred_rgb);
  // Prepared frames (colour_frame / truth_colour_frame): the truth's Lab is computed once per
  // frame when several outputs are scored against it. Same N and pixel count on both sides.
  void add_frame(const ColourFrame& pred, const ColourFrame& truth);
  void add_frame(const ColourFrame& pred);

  // Adds another accumulator's frames (the rebalancing prior then covers both).
  void merge(const ColourAccumulator& other);

  int64_t frames() const { return frames_; }
  bool has_truth() const { return truth_ == Truth::Yes; }
  ColourScores scores() const;

  // The per-bin histograms of ceil(e): [313, kAucMaxError + 2] double, column k = pixels of
  // that true bin whose error e has ceil(e) == k (the last column: e > kAucMaxError). Exposed
  // for tests.
  const torch::Tensor& error_histogram() const { return error_hist_; }

 private:
  enum class Truth { Unknown, Yes, No };
  void set_truth(Truth t);
  void add_stats(const ColourFrame& pred);

  Truth truth_ = Truth::Unknown;
  torch::Tensor error_hist_;  // [313, 152] double
  int64_t frames_ = 0;
  double spread_sum_ = 0, spread_gt_sum_ = 0, ratio_sum_ = 0;
  int64_t ratio_frames_ = 0;
  double tint_sum_ = 0, tint_gt_sum_ = 0;
  double colorfulness_sum_ = 0, colorfulness_gt_sum_ = 0;
};

// AuC from a per-bin ceil-error histogram [313, kAucMaxError + 2]: raw, and weighted per true
// bin by `bin_weights` ([313]; undefined = raw). NaN for an empty histogram.
double auc_from_histogram(const torch::Tensor& error_hist, const torch::Tensor& bin_weights = {});

}  // namespace vidcolor
