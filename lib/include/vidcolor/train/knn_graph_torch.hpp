// The KNN graphs of knn_graph.hpp (bilateral space r, g, b, λx, λy of eq. 2) for a batch of
// crops, in the LibTorch part of libvidcolor-train. It lets a training pack travel without its
// graphs
// (`vidcolor-pack --knn-at-load`: the graphs are 85 % of a pack's bytes) and the trainer build
// them where it runs: with the pack writer's own KD-tree on a CPU where the build has OpenCV
// (~50 ms per 128x128 crop), else by exact brute force on the trainer's device (a GPU; on a
// CPU core several seconds per 112x112 crop).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>

namespace vidcolor {

struct KnnBatchProgress {
  int64_t done, total;  // images
};

enum class KnnSearch {
  Auto,        // KD-tree (knn_graph.hpp) on the CPU if the build has OpenCV, else BruteForce
  BruteForce,  // exact brute force with LibTorch on `device`
};

struct KnnBatchOptions {
  int k = 5;
  double lambda = 1.0 / 500.0;
  torch::Device device = torch::kCPU;
  KnnSearch search = KnnSearch::Auto;
  std::function<void(const KnnBatchProgress&)> progress;  // optional
};

// images: uint8 [N,3,H,W] R'G'B' (values / 255, as the pack stores them), on the CPU.
// Returns int32 [N,H*W,K] on the CPU, as knn_graph() returns for each image: for pixel
// p = y*W + x the flat indices of its K nearest other pixels, nearest first. Brute force
// computes the distances from the differences (not |a|²+|b|²−2ab, so neighbours λ apart stay
// ordered); among exactly equal distances its order may differ from the KD-tree's.
// Throws vidcolor::Error for a bad tensor, k outside [1, H*W - 1] or a bad λ.
torch::Tensor knn_graphs_torch(const torch::Tensor& images, const KnnBatchOptions& options = {});

}  // namespace vidcolor
