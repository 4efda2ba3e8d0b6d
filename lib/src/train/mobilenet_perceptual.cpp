#include "vidcolor/train/mobilenet_perceptual.hpp"

#include <sstream>

#include "vidcolor/model/backbone_weights.hpp"
#include "vidcolor/model/memory_format.hpp"
#include "vidcolor/core/error.hpp"

namespace vidcolor {

namespace {

[[noreturn]] void fail(const std::string& what) { throw Error("losses: " + what); }

}  // namespace

std::vector<double> MobileNetPerceptual::default_weights() {
  // The authors weighted VGG-19 layers by the inverse of their typical response (input 1,
  // conv1_2 1/2.6, ..., PAPER_NOTES.md) so that no layer dominates. Same idea here, measured:
  // m_l = mean |φ_l(Y) - φ_l(gray(Y))| over 60 ImageNet-sample photos resized to 128x128
  // (input level: 0.095; strides 2..32: 0.425, 1.644, 1.897, 1.807, 1.311; on 40 BSDS500
  // photos at 256x256 within 30 %), and w_l = 1 / (6 m_l): each of the six levels then adds
  // about 1/6, and Lp(photo, its own gray) is about 1 — the distance a colorization that
  // predicts no colour at all starts from.
  return {1.746, 0.392, 0.101, 0.088, 0.092, 0.127};
}

MobileNetPerceptual::MobileNetPerceptual(MobileNetV2 net, std::vector<double> weights)
    : net_(std::move(net)), weights_(std::move(weights)) {
  if (!net_) fail("MobileNetPerceptual: null network");
  if (weights_.size() != 6)
    fail("MobileNetPerceptual: needs 6 layer weights (input + 5 levels), got " +
         std::to_string(weights_.size()));
  net_->eval();
  for (auto& p : net_->parameters()) p.set_requires_grad(false);
  // φ runs on d candidates a sample and is backpropagated through: the costliest part of an f
  // step on a CPU, where its depthwise convolutions are ~25 % faster channels-last.
  use_channels_last(*net_);
}

std::shared_ptr<MobileNetPerceptual> MobileNetPerceptual::from_tfjs(const std::string& path) {
  // Any width of Keras' ImageNet MobileNetV2 (R'G'B' in [-1, 1]); default_weights() were
  // measured on the 0.35 one.
  const std::vector<KerasWeight> weights = read_tfjs_weights(path);  // read once
  MobileNetV2 net(mobilenetv2_alpha_of(weights, path));
  load_mobilenetv2_weights(net, weights, path);
  return std::make_shared<MobileNetPerceptual>(net);
}

std::vector<torch::Tensor> MobileNetPerceptual::features(const torch::Tensor& rgb01) {
  if (rgb01.dim() != 4 || rgb01.size(1) != 3) {
    std::ostringstream s;
    s << rgb01.sizes();
    fail("perceptual features need R'G'B' [N,3,H,W], got " + s.str());
  }
  const torch::Tensor x = rgb01 * 2.0 - 1.0;
  std::vector<torch::Tensor> out{x};
  for (auto& f : net_->forward(x)) out.push_back(f);
  return out;
}

void MobileNetPerceptual::to(torch::Device device) { net_->to(device); }

}  // namespace vidcolor
