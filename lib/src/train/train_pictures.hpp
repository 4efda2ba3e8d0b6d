// Internal: the pictures vidcolor-train writes with each checkpoint: a sample sheet
// (samples-<step>.png: f's candidates and f + g on a few fixed crops and pairs of the pack)
// and the loss curves (loss-curves.png), drawn by train_plots.hpp.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <string>

#include "train/train_log.hpp"
#include "vidcolor/model/networks.hpp"
#include "vidcolor/train/training_pack.hpp"

namespace vidcolor::train_detail {

// `samples` rows (half of them pairs when the pack has both) spread evenly over the pack;
// `title` heads the sheet. Nothing without libpng. Throws vidcolor::Error when a file cannot
// be written.
void write_pictures(const std::filesystem::path& out_dir, int64_t step, const std::string& title,
                    Model& model, const TrainingPack& pack, torch::Device device, int64_t samples,
                    const TrainLog& log);

}  // namespace vidcolor::train_detail
