// Internal: vidcolor-train's checkpoint file (out/checkpoint.safetensors). Tensors
// "model/<name>" (every tensor of the model file, buffers and the frozen backbone too) and
// "adam/<name>/{exp_avg,exp_avg_sq,step}" for each trained tensor Adam has state for;
// metadata "format" = "vidcolor-train-checkpoint", "version" = "1", "options" (the run's
// fingerprint: what must not change across --resume) and "state" (TrainState as JSON). The
// format is what runs in flight have written: keep it byte-for-byte.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "train/train_state.hpp"
#include "vidcolor/model/networks.hpp"
#include "vidcolor/train/trainer.hpp"
#include "vidcolor/train/training_pack.hpp"

namespace vidcolor::train_detail {

// The tensors Adam trains, in a fixed order, with their model-file names (the keys of their
// optimizer state in the checkpoint).
struct TrainedTensors {
  std::vector<std::string> names;
  std::vector<torch::Tensor> tensors;
};

// The options a resumed run must share with the run it continues (a JSON object).
nlohmann::json run_fingerprint(const TrainOptions& o, const TrainingPack& pack,
                               const ModelConfig& config, int world);

// Writes `path`; seconds_now is the run's wall time so far (all invocations).
void save_checkpoint(const std::string& path, const Model& model, torch::optim::Adam& adam,
                     const TrainedTensors& trained, const nlohmann::json& fingerprint,
                     const TrainState& state, double seconds_now);

// Restores the model's tensors and Adam's state (on `device`) from `path` and returns the
// state it was written in (seconds_before = its wall time). Throws vidcolor::Error naming the
// file for another format or version, bad metadata, a fingerprint other than `fingerprint`,
// or missing / misshapen tensors.
TrainState load_checkpoint(const std::string& path, const Model& model, torch::optim::Adam& adam,
                           const TrainedTensors& trained, const nlohmann::json& fingerprint,
                           torch::Device device);

}  // namespace vidcolor::train_detail
