// The perceptual feature space φ of the diversity loss (eq. 7) on the ImageNet MobileNetV2-0.35
// backbone, the only pretrained network available here (the paper used VGG-19).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "vidcolor/train/losses.hpp"
#include "vidcolor/model/networks.hpp"

namespace vidcolor {

// MobileNetV2 features: level 0 = the input mapped to [-1, 1], levels 1..5 = the backbone's
// outputs at strides 2, 4, 8, 16, 32. Puts the net in eval mode and freezes its parameters.
class MobileNetPerceptual : public PerceptualNet {
 public:
  // Weights measured on real images so that every level contributes alike (see losses.cpp).
  static std::vector<double> default_weights();

  explicit MobileNetPerceptual(MobileNetV2 net, std::vector<double> weights = default_weights());
  // Loads the ImageNet weights from a TF.js model.json (backbone_weights.hpp).
  static std::shared_ptr<MobileNetPerceptual> from_tfjs(const std::string& model_json_path);

  std::vector<torch::Tensor> features(const torch::Tensor& rgb01) override;
  std::vector<double> layer_weights() const override { return weights_; }
  void to(torch::Device device) override;
  MobileNetV2 net() const { return net_; }

 private:
  MobileNetV2 net_;
  std::vector<double> weights_;
};

}  // namespace vidcolor
