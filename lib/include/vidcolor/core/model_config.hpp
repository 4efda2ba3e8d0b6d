// The architecture configuration of a vidcolor model (networks f and g). It travels inside
// every model file (safetensors __metadata__ "config"), so a file always rebuilds its nets.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace vidcolor {

// A semantic encoder f can use: a Keras MobileNetV2 of width `alpha` whose pretrained weights
// expect R'G'B' in [input_low, input_high]. The weights themselves travel in every model file;
// the TF.js exports are only read when a new f is made (vidcolor-train --backbone-weights).
struct BackboneSpec {
  const char* name;
  double alpha;
  double input_low, input_high;
};
// "mobilenetv2-0.35": ImageNet, [-1, 1] (../shared/data/weights/mobilenetv2-0.35).
// "mobilenetv2-1.0-nsfwjs": ImageNet then fine-tuned for nsfwjs' 5 classes, [0, 1]
// (scripts/fetch-backbone.sh). Throws vidcolor::Error naming an unknown backbone.
const BackboneSpec& backbone_spec(const std::string& name);

struct ModelConfig {
  std::string backbone = "mobilenetv2-0.35";  // semantic encoder whose features feed f
  // The backbone sees f's input resized by this factor (1..4; bilinear), its features brought
  // back to f's levels. Its ImageNet weights learned objects at 224 px: at f's 112-px inference
  // size a face is ~35 px, too small for them, so an upscaled view gives f finer semantics for
  // the backbone's cost times the factor squared (docs/BENCHMARKS.md). 1 = f's input as is.
  double backbone_input_scale = 1.0;
  int candidates = 4;                         // d: diverse colorizations f outputs
  std::vector<int> colorizer_channels = {16, 24, 32, 48, 64};  // U-Net of f, per level (3..5)
  std::vector<int> refiner_channels = {16, 24, 32};            // U-Net of g, per level (2..4)
  int inference_size = 144;  // short side f and g run at; sides rounded to multiples of 16
  // Short side g runs at, when it differs from f's (0 = inference_size). g only blends and
  // corrects smooth chroma fields, and its change is guided-upsampled, so it can run smaller
  // than f for the same scores (measured: docs/BENCHMARKS.md, "Operating point of g").
  int refine_inference_size = 0;
  // The candidate the elements show when their candidate property is auto (-1), when the
  // file names one (0..candidates-1): the ranked diversity loss gives each candidate a stable
  // role (a tint, a more neutral rendering, ...), so the one that scores best on held-out
  // clips can be chosen once for the model (`vidcolor-model set --default-candidate`).
  // -1 = none: auto picks the most saturated candidate per shot (the paper's rule).
  int default_candidate = -1;
  // Chroma classes of f (model/ab_bins.hpp): 0 = none (f regresses each candidate's chroma,
  // the paper's f; every file before 2026-12-05), 313 = Zhang's ab bins. With classes, f also
  // predicts a distribution over the bins; its annealed mean at class_temperature is candidate
  // 0, and the other candidates are residuals around it (networks.hpp).
  int chroma_classes = 0;
  // T of the annealed mean: 1 = the mean of the distribution (safe, desaturated), towards 0 its
  // mode (vivid, noisy). Chosen per model on validation clips.
  double class_temperature = 0.38;
  // How far the decoding undoes the class rebalancing of training (0..1): the logits get
  // class_debias * log(the training data's mixed prior) added before the annealed mean. 0 =
  // the rebalanced distribution (vivid, biased towards rare colours), 1 = the data's posterior
  // (its mean is the least-squares colour: accurate, duller). The prior is f's buffer
  // `class_log_prior`, written by the trainer. Chosen per model on validation clips.
  double class_debias = 0.0;
  // 0 = decode by the annealed mean. Above 0, by the mean near the distribution's mode, within a
  // Gaussian of this sigma in Lab units (ab_mode_mean in model/ab_bins.hpp): a pixel torn
  // between navy and maroon gets one of them, not purple. Chosen per model on validation clips.
  double class_mode_radius = 0.0;
  std::string color_space = "ycbcr-bt601-full";

  nlohmann::json to_json() const;
  // Throws vidcolor::Error naming the bad field.
  static ModelConfig from_json(const nlohmann::json& j);

  // The default CPU configuration; its measured speed is in docs/BENCHMARKS.md.
  static ModelConfig fast();
  // Wider nets at a larger inference size, for GPUs.
  static ModelConfig quality();

  // The inference-size frame for a full-resolution frame: short side `inference_size`
  // (never upscaled beyond the input), aspect kept, both sides multiples of 16.
  void inference_dims(int width, int height, int* out_width, int* out_height) const;
  // The short side g runs at: refine_inference_size, or inference_size when that is 0.
  int refine_size() const {
    return refine_inference_size > 0 ? refine_inference_size : inference_size;
  }
  // g's frame for a full-resolution frame: inference_dims at refine_size().
  void refine_inference_dims(int width, int height, int* out_width, int* out_height) const;

  bool operator==(const ModelConfig& o) const;
};

}  // namespace vidcolor
