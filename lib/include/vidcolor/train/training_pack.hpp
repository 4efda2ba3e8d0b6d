// Reader of the training pack written by `vidcolor-pack` (tools/vidcolor-pack.cpp): decoded
// random crops, their KNN graphs and ground-truth flows, packed once so that the trainer needs
// LibTorch only (no OpenCV, no KNN search, no flow at train time; libjpeg for version 2).
//
// The pack is one safetensors file (safetensors.hpp). Version 1 holds these tensors (S = crop
// size):
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
// Version 2 (compact, `vidcolor-pack` default; ~10x smaller) holds the same samples as:
//   "image_jpeg"          uint8 [B]        the N crops as JPEG files back to back (jpeg_codec.hpp:
//                                          4:2:0, optimized Huffman, metadata "jpeg_quality")
//   "image_jpeg_offsets"  int64 [N+1]      file i = bytes [offsets[i], offsets[i+1])
//   "pair_jpeg"           uint8 [B']       the 2M pair frames as JPEG: frame t of pair i is file
//   "pair_jpeg_offsets"   int64 [2M+1]     2i, frame t+1 is file 2i+1
//   "pair_flows_q"        int16 [M,2,2,S/F,S/F]  the flows (same order as "pair_flows") as area
//                                          means over F x F blocks (metadata "flow_factor" = F),
//                                          in crop pixels times "flow_scale" (32: steps of 1/32
//                                          px, clamped to +-1023.97 px; pack_codec.hpp)
//   "pair_masks_bits"     uint8 [M,2,ceil(S*S/8)]  the masks, one bit per pixel (row-major,
//                                          most significant bit first), exact
// and no KNN graphs. The reader decodes the JPEGs at load (several threads) into the same
// uint8 tensors a version-1 pack holds, upsamples the flows bilinearly to S x S (half-pixel
// centres) and unpacks the masks, so images()/pairs() are the same for both versions; the
// graphs are built per batch in images() (see TrainingPackOptions::knn_build).
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

struct SafetensorsFile;  // safetensors.hpp

// Image crops as float tensors (CPU).
struct PackImageBatch {
  torch::Tensor rgb;   // [B,3,S,S] R'G'B' in [0, 1]
  torch::Tensor y;     // [B,1,S,S] BT.601 luma (the network input)
  torch::Tensor cbcr;  // [B,2,S,S] ground-truth chroma in [-0.5, 0.5]
  torch::Tensor knn;   // [B,S*S,K] int64; undefined when the pack has none and none was needed
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

// When the graphs of a pack without "image_knn" are built.
enum class KnnBuild {
  Auto,      // version 1: at load (as before); version 2: per batch
  AtLoad,    // all crops' graphs when the pack is read (memory: int32 [N,S*S,K])
  PerBatch,  // in images(), for the batch's crops only (what a version-2 pack is made for)
};

// Progress of the load of a version-2 pack (JPEG decoding).
struct PackLoadProgress {
  const char* what;     // "images" or "pair frames"
  int64_t done, total;  // JPEG files
  double elapsed_s;     // since the decoding of this part began
};

struct TrainingPackOptions {
  // Where the KNN graphs of a pack without "image_knn" are built (knn_graph_torch.hpp: the
  // KD-tree on a CPU where the build has OpenCV, else brute force on this device).
  torch::Device knn_device = torch::kCPU;
  KnnBuild knn_build = KnnBuild::Auto;
  std::function<void(const KnnBatchProgress&)> knn_progress;  // optional, at-load builds
  // False: a pack without graphs is not given any (PackImageBatch::knn stays undefined), for
  // training without the bilateral term, which is the graphs' only user.
  bool need_knn = true;
  // Threads decoding a version-2 pack's JPEGs; 0 = the machine's cores (at most 32).
  int decode_threads = 0;
  std::function<void(const PackLoadProgress&)> load_progress;  // optional, ~every 5 %
};

class TrainingPack {
 public:
  // Reads and validates the whole pack (shapes, dtypes, index ranges, JPEG offsets and
  // decoding); builds the KNN graphs at load if the pack has none and the options say so
  // (with its metadata's "knn_k" and "knn_lambda"). Throws vidcolor::Error naming `path` and
  // the problem.
  explicit TrainingPack(const std::string& path, const TrainingPackOptions& options = {});

  int64_t crop_size() const { return crop_; }
  int64_t knn_k() const { return k_; }
  int version() const { return version_; }
  // True when the graphs were built at load (the file has no "image_knn").
  bool knn_built_at_load() const { return knn_built_at_load_; }
  // True when images() builds each batch's graphs (the file has no "image_knn").
  bool knn_per_batch() const { return knn_per_batch_; }
  // Seconds spent decoding JPEGs at load (version 2; 0 for version 1).
  double decode_seconds() const { return decode_seconds_; }
  int64_t num_images() const { return n_images_; }
  int64_t num_pairs() const { return n_pairs_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // The samples with these indices; hflip empty = no flips, else one flag per index.
  // Throws vidcolor::Error for an index out of range or a flag count mismatch.
  // with_knn = false leaves .knn undefined: callers that need only the colours (statistics,
  // sample sheets) then skip the per-batch graph build of a version-2 pack.
  PackImageBatch images(const std::vector<int64_t>& indices, const std::vector<bool>& hflip = {},
                        bool with_knn = true) const;
  PackPairBatch pairs(const std::vector<int64_t>& indices,
                      const std::vector<bool>& hflip = {}) const;

 private:
  void read_v1(SafetensorsFile& f, const TrainingPackOptions& options);
  void read_v2(SafetensorsFile& f, const TrainingPackOptions& options);
  // A pack without "image_knn": graphs at load or per batch, from "knn_k"/"knn_lambda".
  void plan_knn(const TrainingPackOptions& options);

  std::string path_;
  std::map<std::string, std::string> metadata_;
  torch::Tensor images_, knn_, pair_frames_, pair_flows_, pair_masks_;
  int64_t crop_ = 0, k_ = 0, n_images_ = 0, n_pairs_ = 0;
  int version_ = 0;
  double knn_lambda_ = 0;
  torch::Device knn_device_ = torch::kCPU;
  bool knn_built_at_load_ = false, knn_per_batch_ = false;
  double decode_seconds_ = 0;
};

// Flip helpers (used by TrainingPack; public for tests).
// knn [B,H*W,K] flat indices of an H x W grid -> the graph of the mirrored images.
torch::Tensor hflip_knn(const torch::Tensor& knn, int64_t height, int64_t width);
// flow [...,2,H,W] -> mirrored flow with dx negated.
torch::Tensor hflip_flow(const torch::Tensor& flow);

}  // namespace vidcolor
