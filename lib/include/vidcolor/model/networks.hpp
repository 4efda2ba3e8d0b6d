// The networks of the paper as LibTorch modules: the semantic backbone, the colorization
// network f (paper §4.1, §5, §6) and the refinement network g (§4.2).
#pragma once

#include <torch/torch.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vidcolor/core/model_config.hpp"

namespace vidcolor {

// What one convolution costs per input pixel of its network (recorded at construction).
struct ConvCost {
  int64_t in, out, kernel, groups;
  int64_t stride_level;  // the conv's output is at 1 / 2^stride_level of the input size
  double input_scale = 1.0;  // its network's input is the frame resized by this (f's backbone)
};

// ImageNet MobileNetV2 (width multiplier alpha) without its classifier head. Submodules carry
// the Keras layer names ("Conv1", "bn_Conv1", "block_3_expand", ...) so that pretrained
// weights map one to one (see backbone_weights.hpp). Stride-2 convolutions pad like Keras
// (extra row/column at the bottom/right for even sizes) so pretrained features match.
class MobileNetV2Impl : public torch::nn::Module {
 public:
  explicit MobileNetV2Impl(double alpha = 0.35);
  // [N,3,H,W] R'G'B' in the range its weights were trained on (BackboneSpec: [-1, 1] for
  // Keras' ImageNet weights, [0, 1] for nsfwjs') -> features at strides 2, 4, 8, 16, 32.
  std::vector<torch::Tensor> forward(const torch::Tensor& rgb);
  std::vector<int64_t> feature_channels() const { return feature_channels_; }
  // Keras' channel count for a layer of `base` channels at width `alpha` (_make_divisible).
  static int64_t channels(int64_t base, double alpha);
  const std::vector<ConvCost>& conv_costs() const { return costs_; }

 private:
  struct Block {
    torch::nn::Conv2d expand{nullptr}, depthwise{nullptr}, project{nullptr};
    torch::nn::BatchNorm2d expand_bn{nullptr}, depthwise_bn{nullptr}, project_bn{nullptr};
    int stride = 1;
    bool residual = false;
  };
  torch::Tensor run_block(const Block& b, const torch::Tensor& x);

  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn_conv1_{nullptr};
  std::vector<Block> blocks_;
  std::vector<size_t> taps_;  // index of the block whose output is each feature level
  std::vector<int64_t> feature_channels_;
  std::vector<ConvCost> costs_;
};
TORCH_MODULE(MobileNetV2);

// One of f's own (non-backbone) convolutions and the concatenated parts its input is made of,
// in order (e.g. {upsampled level l+1, skip of level l}): what function-preserving widening
// (model/widen.hpp) has to map channel by channel.
struct ConvInputs {
  std::string path;            // module path, e.g. "enc1.0", "dec2.2", "class_head"
  std::vector<int64_t> parts;  // channels of each concatenated input part
};

// f: a U-Net on the gray frame whose encoder levels also receive the backbone's features at
// the same stride (the hypercolumn of the paper, injected where it is cheapest: each feature
// map joins the U-Net level of its own resolution instead of being upsampled to full size).
// Outputs d candidate chroma planes.
//
// With chroma classes (ModelConfig::chroma_classes = 313), f also predicts, at a quarter of its
// resolution (as Zhang's network), a distribution over Zhang's ab bins (model/ab_bins.hpp) from
// its stride-4 level: candidate 0 is that distribution's annealed mean, made full size and turned
// into CbCr under the frame's own lightness; candidates 1..d-1 are candidate 0 plus residuals from
// the regression head. The classes make colour follow content (a per-pixel choice among colours,
// trained with class rebalancing) where regression alone collapsed to global tints; the
// residuals keep the paper's d diverse candidates around it.
struct ColorizerOutputs {
  torch::Tensor candidates;    // [N,d,2,H,W] chroma in [-0.5, 0.5]
  torch::Tensor class_logits;  // [N,313,H/4,W/4]; undefined without chroma classes
};

class ColorizerNetImpl : public torch::nn::Module {
 public:
  explicit ColorizerNetImpl(const ModelConfig& c);
  // [N,1,H,W] gray in [0,1], H and W multiples of 16 -> [N,d,2,H,W] chroma in [-0.5, 0.5].
  torch::Tensor forward(const torch::Tensor& gray);
  // The candidates and, for the trainer's classification term, the class logits.
  ColorizerOutputs forward_outputs(const torch::Tensor& gray);

  MobileNetV2 backbone{nullptr};
  const std::vector<ConvCost>& conv_costs() const { return costs_; }
  const std::vector<ConvInputs>& conv_inputs() const { return inputs_; }
  // With chroma classes: [313] log of the mixed prior the class loss was rebalanced with
  // ((1 - 0.5) p + 0.5 / 313, up to a constant), a buffer the trainer sets; zeros = unknown.
  // Decoding adds class_debias times it to the logits (ModelConfig::class_debias).
  torch::Tensor class_log_prior;

 private:
  int candidates_;
  int classes_;
  double class_temperature_, class_debias_, class_mode_radius_;
  // gray in [0, 1] -> the range the backbone's weights expect (BackboneSpec).
  double backbone_input_low_ = -1.0, backbone_input_span_ = 2.0;
  double backbone_input_scale_ = 1.0;  // ModelConfig::backbone_input_scale
  std::vector<ConvCost> costs_;
  std::vector<ConvInputs> inputs_;
  std::vector<torch::nn::Sequential> encoders_, decoders_;
  torch::nn::Conv2d head_{nullptr};
  torch::nn::Conv2d class_head_{nullptr};  // only with chroma classes
};
TORCH_MODULE(ColorizerNet);

// g: refines C^s from one warped neighbour w(C^t) and the confidence maps of eq. 4. It
// predicts a per-pixel blend weight towards the neighbour and a small correction:
// out = C^s + sigmoid(a) (w(C^t) - C^s) + 0.1 tanh(r), so an untrained g stays near C^s.
class RefinerNetImpl : public torch::nn::Module {
 public:
  explicit RefinerNetImpl(const ModelConfig& c);
  // All [N,*,H,W] at inference size, H and W multiples of 2^(levels-1). Returns [N,2,H,W].
  torch::Tensor forward(const torch::Tensor& y_s, const torch::Tensor& c_s,
                        const torch::Tensor& c_t_warped, const torch::Tensor& conf_c,
                        const torch::Tensor& conf_x);
  const std::vector<ConvCost>& conv_costs() const { return costs_; }

 private:
  std::vector<ConvCost> costs_;
  std::vector<torch::nn::Sequential> encoders_, decoders_;
  torch::nn::Conv2d head_{nullptr};
};
TORCH_MODULE(RefinerNet);

// f and g with their configuration and provenance: what one model file holds.
struct Model {
  ModelConfig config;
  ColorizerNet f{nullptr};
  RefinerNet g{nullptr};
  nlohmann::json provenance = nlohmann::json::object();
};

// Randomly initialised f and g for `c`.
Model make_model(const ModelConfig& c);

// All parameters and buffers by their model-file name: "f." / "g." + the module path,
// e.g. "f.backbone.Conv1.weight". The tensors are the modules' own (not copies).
std::map<std::string, torch::Tensor> model_tensors(const Model& m);

// Floating-point operations (2 x multiply-accumulates of the convolutions) of one forward
// pass of f or g on a frame of the given inference size, for the benchmark and the docs.
double colorizer_flops(const ModelConfig& c, int width, int height);
double refiner_flops(const ModelConfig& c, int width, int height);

}  // namespace vidcolor
