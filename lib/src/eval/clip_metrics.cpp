// Frame-by-frame accumulation of every metric of a clip, for several variants at once.
#include "vidcolor/eval/clip_metrics.hpp"

#include <limits>
#include <utility>

#include "vidcolor/core/error.hpp"
#include "vidcolor/ops/warp.hpp"

namespace vidcolor {

namespace {

torch::Tensor as_frame(const torch::Tensor& t) {
  if (!t.defined() || (t.dim() != 3 && t.dim() != 4) || (t.dim() == 4 && t.size(0) != 1))
    throw Error("clip_metrics.cpp: a frame must be [3,H,W] or [1,3,H,W]");
  return (t.dim() == 3 ? t : t[0]).to(torch::kCPU, torch::kDouble);
}

}  // namespace

ClipMetrics::ClipMetrics(std::vector<std::string> variants)
    : names_(std::move(variants)), accs_(names_.size()) {}

void ClipMetrics::add_temporal(Acc& a, const torch::Tensor& frame, const torch::Tensor& mask,
                               const torch::Tensor& flow_back) {
  a.cdc.add(frame);
  if (a.prev.defined()) a.warp_sum += warp_error_pair(a.prev, frame, flow_back, mask);
  a.prev = frame;
}

void ClipMetrics::add(const torch::Tensor& gt, const std::vector<torch::Tensor>& outputs,
                      const torch::Tensor& flow_back, const torch::Tensor& flow_fwd) {
  torch::NoGradGuard no_grad;
  if (outputs.size() != names_.size())
    throw Error("clip_metrics.cpp: add() got " + std::to_string(outputs.size()) + " outputs for " +
                std::to_string(names_.size()) + " variants");
  const auto ref = as_frame(gt);
  if (gt_.prev.defined() && gt_.prev.sizes() != ref.sizes())
    throw Error("clip_metrics.cpp: the frame size changed within a clip");
  torch::Tensor mask;
  if (frames_ > 0) {
    if (!flow_back.defined() || !flow_fwd.defined())
      throw Error("clip_metrics.cpp: frame " + std::to_string(frames_) +
                  " needs the ground-truth flows to its previous frame");
    const auto back = flow_back.dim() == 3 ? flow_back.unsqueeze(0) : flow_back;
    const auto fwd = flow_fwd.dim() == 3 ? flow_fwd.unsqueeze(0) : flow_fwd;
    mask = occlusion_mask(back.to(torch::kCPU, torch::kFloat), fwd.to(torch::kCPU, torch::kFloat));
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    const auto out = as_frame(outputs[i]);
    if (out.sizes() != ref.sizes())
      throw Error("clip_metrics.cpp: variant '" + names_[i] + "' is not the ground truth's size");
    Acc& a = accs_[i];
    a.psnr_sum += psnr(out, ref);
    a.ssim_sum += ssim(out, ref);
    a.colorfulness_sum += colorfulness(out);
    add_temporal(a, out, mask, flow_back);
  }
  gt_.colorfulness_sum += colorfulness(ref);
  add_temporal(gt_, ref, mask, flow_back);
  ++frames_;
}

ClipScores ClipMetrics::finish(const Acc& a) const {
  ClipScores s;
  const double n = static_cast<double>(frames_);
  if (frames_ == 0) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    return {nan, nan, nan, nan, nan};
  }
  s.psnr = a.psnr_sum / n;
  s.ssim = a.ssim_sum / n;
  s.colorfulness = a.colorfulness_sum / n;
  s.cdc = a.cdc.value();
  s.warp_error = frames_ > 1 ? a.warp_sum / (n - 1.0) : std::numeric_limits<double>::quiet_NaN();
  return s;
}

ClipScores ClipMetrics::scores(size_t i) const {
  if (i >= accs_.size()) throw Error("clip_metrics.cpp: no variant " + std::to_string(i));
  return finish(accs_[i]);
}

ClipScores ClipMetrics::ground_truth_scores() const {
  ClipScores s = finish(gt_);
  if (frames_ > 0) {
    s.psnr = kPsnrCapDb;
    s.ssim = 1.0;
  }
  return s;
}

}  // namespace vidcolor
