// vidcolor model files: f and g with their configuration and provenance in one safetensors
// file (readable by Python's `safetensors` package). `__metadata__` holds
//   "format" = "vidcolor-model", "format_version" = "1",
//   "config" = ModelConfig JSON, "provenance" = JSON object (data, steps, losses, metrics).
// Tensor names are those of model_tensors() ("f.backbone.Conv1.weight", "g.enc0.0.bias", ...).
// Elements and tools never parse model files themselves: they call load_model().
#pragma once

#include <map>
#include <string>

#include "vidcolor/model/networks.hpp"

namespace vidcolor {

constexpr const char* kModelFormatName = "vidcolor-model";
constexpr int kModelFormatVersion = 1;

// Writes atomically (temporary file + rename). Throws vidcolor::Error naming `path`.
void save_model(const Model& m, const std::string& path);

// Reads and validates a model file: format name and version, config JSON, and every tensor
// make_model(config) has present exactly once with its dtype and shape, nothing else. Returns
// the model on the CPU in eval mode. Throws vidcolor::Error naming `path` and the tensor.
Model load_model(const std::string& path);

// What `vidcolor-model info` prints, without building the networks.
struct ModelFileInfo {
  std::map<std::string, std::string> metadata;
  size_t tensor_count = 0;
  int64_t parameter_count = 0;  // elements of the learned tensors
  int64_t buffer_count = 0;     // elements of BatchNorm statistics (running_mean/var, counters)
  uint64_t tensor_bytes = 0;
};
ModelFileInfo read_model_info(const std::string& path);

}  // namespace vidcolor
