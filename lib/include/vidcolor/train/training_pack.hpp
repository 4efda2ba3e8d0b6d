// Reader of the training pack written by `vidcolor-pack` (tools/vidcolor-pack.cpp): decoded
// random crops, their KNN graphs and ground-truth flows, packed once so that the trainer needs
// LibTorch only (no OpenCV, no decoding, no KNN search, no flow at train time).
//
// The pack is one safetensors file (safetensors.hpp) with these tensors (S = crop size):
//   "images"        uint8   [N,3,S,S]    R'G'B' crops of still images (and single frames)
//   "image_knn"     int32   [N,S*S,K]    bilateral-space KNN graph of each crop (knn_graph.hpp);
//                                        optional: a pack written with --knn-at-load lacks it
//                                        and the reader builds it (knn_graph_torch.hpp)
//   "pair_frames"   uint8   [M,2,3,S,S]  consecutive frames t, t+1, same crop window
//   "pair_flows"    float16 [M,2,2,S,S]  [:,0] = F_{t->t+1}, [:,1] = F_{t+1->t} (dx, dy; px)
//   "pair_masks"    uint8   [M,2,1,S,S]  [:,0] valid at t for warp(·_{t+1}, F_{t->t+1}),
//                                        [:,1] valid at t+1 for warp(·_t, F_{t+1->t}); 1 = valid
// and metadata "format" = "vidcolor-pack", "version" = "1", "crop", "knn_k", "knn_lambda",
// "images", "pairs", "sources" (JSON), "seed", "flow" (method). Either part may be empty
// (N = 0 or M = 0; the tensors are then absent).
//
// Flips are decided at train time: a horizontal flip mirrors the image, maps the KNN graph
// exactly (rows permuted and indices mirrored: distances in (r,g,b,λx,λy) do not change under
// x -> W-1-x), mirrors flows and negates their dx, mirrors masks.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "vidcolor/train/knn_graph_torch.hpp"

namespace vidcolor {

// Image crops as float tensors (CPU).
struct PackImageBatch {
  torch::Tensor rgb;   // [B,3,S,S] R'G'B' in [0, 1]
  torch::Tensor y;     // [B,1,S,S] BT.601 luma (the network input)
  torch::Tensor cbcr;  // [B,2,S,S] ground-truth chroma in [-0.5, 0.5]
  torch::Tensor knn;   // [B,S*S,K] int64
  PackImageBatch to(torch::Device device) const;
};

// Consecutive-frame pairs (index 0 = frame t, 1 = frame t+1).
struct PackPairBatch {
  torch::Tensor rgb;      // [B,2,3,S,S] in [0, 1]
  torch::Tensor y;        // [B,2,1,S,S]
  torch::Tensor cbcr;     // [B,2,2,S,S]
  torch::Tensor flow_fw;  // [B,2,S,S] F_{t->t+1}, float32
  torch::Tensor flow_bw;  // [B,2,S,S] F_{t+1->t}
  torch::Tensor mask_fw;  // [B,1,S,S] float 0/1, valid pixels of t
  torch::Tensor mask_bw;  // [B,1,S,S] float 0/1, valid pixels of t+1
  PackPairBatch to(torch::Device device) const;
};

struct TrainingPackOptions {
  // Where the KNN graphs of a pack without "image_knn" are built (knn_graph_torch.hpp: the
  // KD-tree on a CPU where the build has OpenCV, else brute force on this device).
  torch::Device knn_device = torch::kCPU;
  std::function<void(const KnnBatchProgress&)> knn_progress;  // optional
};

class TrainingPack {
 public:
  // Reads and validates the whole pack (shapes, dtypes, index ranges); builds the KNN graphs
  // if the pack has none (with its metadata's "knn_k" and "knn_lambda"). Throws
  // vidcolor::Error naming `path` and the problem.
  explicit TrainingPack(const std::string& path, const TrainingPackOptions& options = {});

  int64_t crop_size() const { return crop_; }
  int64_t knn_k() const { return k_; }
  // True when the graphs were built at load (the file has no "image_knn").
  bool knn_built_at_load() const { return knn_built_at_load_; }
  int64_t num_images() const { return n_images_; }
  int64_t num_pairs() const { return n_pairs_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // The samples with these indices; hflip empty = no flips, else one flag per index.
  // Throws vidcolor::Error for an index out of range or a flag count mismatch.
  PackImageBatch images(const std::vector<int64_t>& indices,
                        const std::vector<bool>& hflip = {}) const;
  PackPairBatch pairs(const std::vector<int64_t>& indices,
                      const std::vector<bool>& hflip = {}) const;

 private:
  std::string path_;
  std::map<std::string, std::string> metadata_;
  torch::Tensor images_, knn_, pair_frames_, pair_flows_, pair_masks_;
  int64_t crop_ = 0, k_ = 0, n_images_ = 0, n_pairs_ = 0;
  bool knn_built_at_load_ = false;
};

// Flip helpers (used by TrainingPack; public for tests).
// knn [B,H*W,K] flat indices of an H x W grid -> the graph of the mirrored images.
torch::Tensor hflip_knn(const torch::Tensor& knn, int64_t height, int64_t width);
// flow [...,2,H,W] -> mirrored flow with dx negated.
torch::Tensor hflip_flow(const torch::Tensor& flow);

}  // namespace vidcolor
