// All the metrics of one clip, for several colorizations of it ("variants", e.g. the gray
// input, f alone, f + g) against its color ground truth, accumulated frame by frame so a
// long clip never sits in memory. Used by vidcolor-eval; definitions in metrics.hpp.
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <string>
#include <vector>

#include "vidcolor/eval/metrics.hpp"

namespace vidcolor {

struct ClipScores {
  double psnr = 0.0;          // mean over frames (dB, capped at kPsnrCapDb)
  double ssim = 0.0;          // mean over frames
  double cdc = 0.0;           // NaN for a clip of one frame
  double warp_error = 0.0;    // NaN for a clip of one frame
  double colorfulness = 0.0;  // mean over frames
};

class ClipMetrics {
 public:
  // Names of the variants, in the order add() receives them.
  explicit ClipMetrics(std::vector<std::string> variants);

  // Frame t (in order). gt and every output are R'G'B' [1,3,H,W] or [3,H,W] in [0,1], all of
  // one size. flow_back = F_{t->t-1} and flow_fwd = F_{t-1->t} ([1,2,H,W], pixels), computed
  // on the ground truth; undefined tensors for the first frame. Throws vidcolor::Error on a
  // wrong number of outputs, a size change within the clip, or missing flows after frame 0.
  void add(const torch::Tensor& gt, const std::vector<torch::Tensor>& outputs,
           const torch::Tensor& flow_back, const torch::Tensor& flow_fwd);

  size_t frames() const { return frames_; }
  const std::vector<std::string>& variants() const { return names_; }
  // Scores of variant i (psnr and ssim against the ground truth).
  ClipScores scores(size_t i) const;
  // The ground truth's own temporal scores and colorfulness (psnr = kPsnrCapDb, ssim = 1):
  // the floor a colorization's CDC and warp error are read against.
  ClipScores ground_truth_scores() const;

 private:
  struct Acc {
    double psnr_sum = 0.0, ssim_sum = 0.0, colorfulness_sum = 0.0, warp_sum = 0.0;
    CdcAccumulator cdc;
    torch::Tensor prev;  // previous frame, for the warp error
  };
  void add_temporal(Acc& a, const torch::Tensor& frame, const torch::Tensor& mask,
                    const torch::Tensor& flow_back);
  ClipScores finish(const Acc& a) const;

  std::vector<std::string> names_;
  std::vector<Acc> accs_;
  Acc gt_;
  size_t frames_ = 0;
};

}  // namespace vidcolor
