// The KNN graphs of knn_graph.hpp (bilateral space r, g, b, λx, λy of eq. 2), built by exact
// brute force with LibTorch on any device. LibTorch part of libvidcolor: it lets a training
// pack travel without its graphs (`vidcolor-pack --knn-at-load`: the graphs are 85 % of a
// pack's bytes) and the trainer build them where it runs — a GPU does 1,580 crops of 112×112
// in seconds, where the pack writer's KD-tree needs ~0.2 s per crop on a CPU core.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>

namespace vidcolor {

struct KnnBatchProgress {
  int64_t done, total;  // images
};

// images: uint8 [N,3,H,W] R'G'B' (values / 255, as the pack stores them), on the CPU.
// Returns int32 [N,H*W,K] on the CPU, as knn_graph() would return for each image: for pixel
// p = y*W + x the flat indices of its K nearest other pixels, nearest first. The distances are
// computed exactly (differences, not the |a|²+|b|²−2ab shortcut, so neighbours λ apart stay
// ordered); among exactly equal distances the order may differ from the KD-tree's.
// Throws vidcolor::Error for a bad tensor or k outside [1, H*W - 1].
torch::Tensor knn_graphs_torch(const torch::Tensor& images, int k, double lambda,
                               torch::Device device,
                               const std::function<void(const KnnBatchProgress&)>& progress = {});

}  // namespace vidcolor
