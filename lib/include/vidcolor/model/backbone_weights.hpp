// Pretrained backbone weights: loading Keras weights exported as a TensorFlow.js layers model
// (model.json with a `weightsManifest` + the binary shards it lists) into our LibTorch modules.
//
// The pieces are generic so another backbone gets its own loader in a few lines:
//   1. give its torch::nn::Module submodules the Keras layer names (as MobileNetV2Impl does:
//      "Conv1", "block_3_expand_BN", ...; for Keras VGG-19: "block1_conv1", ... "block5_conv4");
//   2. read_tfjs_weights(model.json) gives the Keras tensors in manifest order;
//   3. load_keras_weights(module, weights, source, ignore) maps each "layer/kind" to the torch
//      name and layout (keras_to_torch below) and validates that every parameter and buffer of
//      the module is set exactly once, with the right shape, and nothing unknown is left over
//      except what `ignore` names (e.g. a classifier head the module does not have).
// Weights a user has in another container (e.g. a PyTorch VGG-19 as safetensors) need only a
// name map: read them with read_safetensors() and copy into the module's named_parameters().
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "vidcolor/model/networks.hpp"

namespace vidcolor {

// One tensor of a TF.js weights manifest, in Keras layout (e.g. conv kernel H, W, in, out).
struct KerasWeight {
  std::string name;     // "layer/kind", e.g. "block_1_expand/kernel", "bn_Conv1/moving_mean"
  torch::Tensor value;  // float32, CPU, the manifest's shape
};

// Reads model.json's weightsManifest and its shards (paths relative to model.json's folder).
// float32 tensors, stored plain or with TF.js' affine uint8/uint16 quantization (dequantized
// here: min + scale * q). Validates: JSON structure, dtypes, shard paths stay inside the
// folder, shard sizes equal the manifest's total, finite values. Throws vidcolor::Error naming
// the file and the tensor.
std::vector<KerasWeight> read_tfjs_weights(const std::string& model_json_path);

// The torch name and layout of a Keras tensor:
//   "L/kernel" rank 4 (H,W,in,out)        -> "L.weight" (out,in,H,W)
//   "L/depthwise_kernel" (H,W,in,mult)    -> "L.weight" (in*mult,1,H,W)
//   "L/kernel" rank 2 (in,out) (Dense)    -> "L.weight" (out,in)
//   "L/bias" -> "L.bias"; BatchNorm "L/gamma", "L/beta", "L/moving_mean", "L/moving_variance"
//   -> "L.weight", "L.bias", "L.running_mean", "L.running_var".
// Throws vidcolor::Error for a name or rank it does not know.
struct TorchWeight {
  std::string name;
  torch::Tensor value;  // contiguous
};
TorchWeight keras_to_torch(const KerasWeight& w);

// Copies `weights` into `module` (see the top of this file). `source` names the file in
// errors; weights for which `ignore(name)` is true are skipped. BatchNorm's
// num_batches_tracked buffers are left alone (Keras has no such counter).
void load_keras_weights(torch::nn::Module& module, const std::vector<KerasWeight>& weights,
                        const std::string& source,
                        const std::function<bool(const std::string& keras_name)>& ignore);

// The ImageNet-pretrained MobileNetV2 (shared/data/weights/mobilenetv2-0.35/model.json) into
// `net`. Ignores the classifier head (Conv_1, Conv_1_bn and Dense layers) that the backbone
// does not have. Throws vidcolor::Error naming the file and the tensor on any mismatch (wrong
// width multiplier, missing or extra tensors, bad shapes or sizes).
void load_mobilenetv2_tfjs(MobileNetV2& net, const std::string& model_json_path);
// The same from weights already read (e.g. to tell their width first); `source` names them in
// errors.
void load_mobilenetv2_weights(MobileNetV2& net, const std::vector<KerasWeight>& weights,
                              const std::string& source);

// The width multiplier of the Keras MobileNetV2 whose weights these are (0.35, 0.5, 0.75, 1.0,
// 1.3 or 1.4), told by its last block's output channels. Throws vidcolor::Error naming
// `source` when the weights are not a MobileNetV2 of a known width.
double mobilenetv2_alpha_of(const std::vector<KerasWeight>& weights, const std::string& source);

}  // namespace vidcolor
