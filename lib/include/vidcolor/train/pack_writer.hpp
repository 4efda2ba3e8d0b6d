// Writer of the training pack (format in training_pack.hpp): decodes image folders,
// frame-sequence folders and video files, takes random crops with scale jitter, builds the
// KNN graph of each image crop (version 1) and the ground-truth flows + occlusion masks of each
// consecutive-frame pair, and writes one safetensors file: version 1 (raw crops, float16
// flows, byte masks, graphs) or the compact version 2 (JPEG crops, int16 flows at a reduced
// resolution, bit masks, no graphs). OpenCV part of libvidcolor-train; the `vidcolor-pack` tool is
// its command line.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "vidcolor/train/knn_graph.hpp"
#include "vidcolor/flow/optical_flow.hpp"

namespace vidcolor {

struct PackProgress {
  const char* stage;    // "images" or "pairs"
  int64_t done, total;  // within the stage
  double elapsed_s;     // since the stage began
};

struct PackOptions {
  std::vector<std::string> image_dirs;  // still images (files directly in each folder)
  std::vector<std::string> frame_dirs;  // a sequence folder, or a folder of sequence folders
  std::vector<std::string> videos;      // files cv::VideoCapture opens, or folders of them
  // Inputs left out (the data split's validation and report clips, data/split.json): a
  // folder, sequence, video or image whose path ends with one of these (whole path
  // components, e.g. "videos/davis2016/dog") is skipped.
  std::vector<std::string> exclude;
  int crop = 128;         // S: crops are S x S
  int per_image = 1;      // crops per still image
  int pairs_per_seq = 8;  // consecutive pairs per sequence / video
  int max_images = 0;     // 0 = all; else a seeded random subset
  uint64_t seed = 1;
  // Scale jitter: each crop takes a square window of side u * (short side), u uniform in
  // [scale_min, scale_max], resized to S x S (windows never smaller than S: no upsampling
  // unless the image's short side is below S).
  double scale_min = 0.5, scale_max = 1.0;
  KnnOptions knn;
  // false: write no "image_knn" (a pack ~4x smaller, quick to write and to send to a GPU
  // machine); the reader builds the graphs with knn.k and knn.lambda (knn_graph_torch.hpp).
  bool knn_graphs = true;
  // 1 = the original layout; 2 = compact (training_pack.hpp): crops and pair frames as JPEG
  // of `jpeg_quality`, flows as int16 1/32 px at 1/flow_factor of the crop's resolution
  // (flow_factor divides the crop), masks as bits, never graphs (knn_graphs is ignored).
  int format_version = 1;
  int jpeg_quality = 85;
  int flow_factor = 4;
  FlowBackend flow = FlowBackend::DisMedium;
  std::function<void(const PackProgress&)> progress;  // optional
};

// Version 2: how far the stored flows (fixed point at the reduced resolution, upsampled as
// the reader does) are from the full-resolution flows they replace, over the pixels the masks
// mark valid, both directions of every pair.
struct PackFlowError {
  int64_t valid_pixels = 0;
  double epe_mean = 0;      // mean end-point error, px
  double epe_over_1px = 0;  // share of valid pixels with an error > 1 px
  double epe_max = 0;       // px
  // Mean |warp(frame_{t+1}, stored) - warp(frame_{t+1}, full)| in 8-bit R'G'B' levels: what
  // the temporal term (eq. 3) sees change ...
  double warp_change = 0;
  // ... against the mean |warp(frame_{t+1}, full) - frame_t| of the full flow itself.
  double warp_error_full = 0;
};

struct PackStats {
  int64_t images = 0, pairs = 0;  // samples written
  int64_t skipped_files = 0;      // unreadable images / too short sequences
  int64_t excluded = 0;           // inputs left out by PackOptions::exclude
  double seconds_images = 0, seconds_pairs = 0, seconds_write = 0;
  int64_t bytes = 0;         // the file's size
  PackFlowError flow_error;  // version 2 with pairs
};

// Image files (jpg, jpeg, png, bmp, webp, tif, tiff) directly in `dir`, sorted by name.
std::vector<std::string> list_image_files(const std::string& dir);

// Builds the pack and writes it to `out_path` (atomically). Throws vidcolor::Error naming the
// file and the problem (missing folder, unreadable video, no samples at all, bad options).
PackStats write_training_pack(const PackOptions& options, const std::string& out_path);

}  // namespace vidcolor
