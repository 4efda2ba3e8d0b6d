#include "vidcolor/train/training_pack.hpp"

#include <sstream>

#include "vidcolor/core/color_tensors.hpp"
#include "vidcolor/core/error.hpp"
#include "core/shape_string.hpp"
#include "vidcolor/model/safetensors.hpp"

namespace vidcolor {

namespace {

// A batch request: one flip flag per index (or none) and every index inside [0, count).
void check_batch(const std::string& path, const std::vector<int64_t>& idx,
                 const std::vector<bool>& hflip, int64_t count, const std::string& what) {
  if (!hflip.empty() && hflip.size() != idx.size())
    throw Error(path + ": " + std::to_string(hflip.size()) + " flip flags for " +
                std::to_string(idx.size()) + " " + what + "s");
  for (int64_t i : idx)
    if (i < 0 || i >= count)
      throw Error(path + ": " + what + " index " + std::to_string(i) + " outside [0, " +
                  std::to_string(count) + ")");
}

// R'G'B' float [B,3,S,S] -> (Y, CbCr). Y is rounded to 8-bit levels: at inference f sees the
// GRAY8 luma of vcgray, so training on the same quantised input avoids a train/test gap.
void split_ycc(const torch::Tensor& rgb, torch::Tensor& y, torch::Tensor& cbcr) {
  const torch::Tensor ycc = rgb_to_ycc(rgb);
  y = (ycc.narrow(1, 0, 1) * 255.0).round().clamp(0.0, 255.0) / 255.0;
  cbcr = ycc.narrow(1, 1, 2).contiguous();
}

torch::Tensor select_rows(const torch::Tensor& t, const std::vector<int64_t>& idx) {
  return t.index_select(0, torch::tensor(idx, torch::kInt64));
}

// Flips along the last dim the samples (dim 0) whose flag is set.
template <typename F>
torch::Tensor flip_where(const torch::Tensor& t, const std::vector<bool>& flags, F flip_one) {
  if (flags.empty()) return t;
  std::vector<torch::Tensor> parts;
  for (size_t i = 0; i < flags.size(); ++i) {
    const torch::Tensor s = t.narrow(0, static_cast<int64_t>(i), 1);
    parts.push_back(flags[i] ? flip_one(s) : s);
  }
  return torch::cat(parts, 0);
}

}  // namespace

torch::Tensor hflip_knn(const torch::Tensor& knn, int64_t height, int64_t width) {
  if (knn.dim() != 3 || knn.size(1) != height * width)
    throw Error("hflip_knn: knn must be [B,H*W,K] with H*W = " +
                std::to_string(height * width) + ", got " + shape_str(knn));
  // m(p) mirrors the column of flat index p: y*W + x -> y*W + (W-1-x). The flipped graph's row
  // m(p) is row p with every index mirrored; m is its own inverse.
  const auto mirror = [width](const torch::Tensor& v) {
    return v - 2 * v.remainder(width) + (width - 1);
  };
  const torch::Tensor perm =
      mirror(torch::arange(height * width, torch::TensorOptions().dtype(torch::kInt64)))
          .to(knn.device());
  return mirror(knn.index_select(1, perm));
}

torch::Tensor hflip_flow(const torch::Tensor& flow) {
  if (flow.dim() < 3 || flow.size(-3) != 2)
    throw Error("hflip_flow: flow must be [...,2,H,W], got " + shape_str(flow));
  const torch::Tensor f = flow.flip({-1});
  return torch::cat({-f.narrow(-3, 0, 1), f.narrow(-3, 1, 1)}, -3);
}

PackImageBatch PackImageBatch::to(torch::Device d) const {
  return {rgb.to(d), y.to(d), cbcr.to(d), knn.to(d)};
}

PackPairBatch PackPairBatch::to(torch::Device d) const {
  return {rgb.to(d),     y.to(d),       cbcr.to(d),    flow_fw.to(d),
          flow_bw.to(d), mask_fw.to(d), mask_bw.to(d)};
}

TrainingPack::TrainingPack(const std::string& path, const TrainingPackOptions& options)
    : path_(path) {
  SafetensorsFile f = read_safetensors(path);
  metadata_ = f.metadata;
  const auto bad = [&](const std::string& what) -> Error {
    return Error(path + ": not a valid vidcolor training pack: " + what);
  };
  const auto fmt = metadata_.find("format");
  if (fmt == metadata_.end() || fmt->second != "vidcolor-pack")
    throw bad("metadata \"format\" is not \"vidcolor-pack\"");
  const auto ver = metadata_.find("version");
  if (ver == metadata_.end() || ver->second != "1")
    throw bad("unsupported version (this reader knows version 1)");
  try {
    crop_ = std::stoll(metadata_.at("crop"));
  } catch (const std::exception&) {
    throw bad("metadata \"crop\" missing or not a number");
  }
  if (crop_ < 1) throw bad("crop size " + std::to_string(crop_));
  const int64_t s = crop_;
  const auto take = [&](const char* name, torch::ScalarType dt) -> torch::Tensor {
    auto it = f.tensors.find(name);
    if (it == f.tensors.end()) return {};
    if (it->second.scalar_type() != dt)
      throw bad(std::string("tensor \"") + name + "\" has dtype " +
                safetensors_dtype_name(it->second.scalar_type()) + ", expected " +
                safetensors_dtype_name(dt));
    return it->second;
  };
  const auto expect = [&](const torch::Tensor& t, const char* name,
                          std::vector<int64_t> shape) {
    // shape[0] = -1: any count.
    bool ok = t.dim() == static_cast<int64_t>(shape.size());
    for (size_t i = 0; ok && i < shape.size(); ++i)
      ok = shape[i] < 0 || t.size(static_cast<int64_t>(i)) == shape[i];
    if (!ok) throw bad(std::string("tensor \"") + name + "\" has shape " + shape_str(t));
  };

  images_ = take("images", torch::kUInt8);
  knn_ = take("image_knn", torch::kInt32);
  if (knn_.defined() && !images_.defined()) throw bad("\"image_knn\" without \"images\"");
  if (images_.defined()) {
    expect(images_, "images", {-1, 3, s, s});
    n_images_ = images_.size(0);
    if (!knn_.defined()) {  // written with --knn-at-load: build the graphs here
      int64_t k = 0;
      double lambda = 0;
      try {
        k = std::stoll(metadata_.at("knn_k"));
        lambda = std::stod(metadata_.at("knn_lambda"));
      } catch (const std::exception&) {
        throw bad("no \"image_knn\" and no numeric \"knn_k\", \"knn_lambda\" to build it with");
      }
      if (k < 1 || k > s * s - 1) throw bad("knn_k = " + std::to_string(k) + " for a crop of " + std::to_string(s));
      KnnBatchOptions ko;
      ko.k = static_cast<int>(k);
      ko.lambda = lambda;
      ko.device = options.knn_device;
      ko.progress = options.knn_progress;
      knn_ = knn_graphs_torch(images_, ko);
      knn_built_at_load_ = true;
    }
    expect(knn_, "image_knn", {n_images_, s * s, -1});
    k_ = knn_.size(2);
    if (k_ < 1) throw bad("K = 0 in \"image_knn\"");
    // Indices are used by gather(): out-of-range ones must not reach it.
    if (knn_.numel() > 0 && (knn_.min().item<int32_t>() < 0 ||
                             knn_.max().item<int32_t>() >= s * s))
      throw bad("\"image_knn\" holds indices outside the crop");
  }

  pair_frames_ = take("pair_frames", torch::kUInt8);
  pair_flows_ = take("pair_flows", torch::kFloat16);
  pair_masks_ = take("pair_masks", torch::kUInt8);
  if (pair_frames_.defined() != pair_flows_.defined() ||
      pair_frames_.defined() != pair_masks_.defined())
    throw bad("\"pair_frames\", \"pair_flows\", \"pair_masks\" come together");
  if (pair_frames_.defined()) {
    expect(pair_frames_, "pair_frames", {-1, 2, 3, s, s});
    n_pairs_ = pair_frames_.size(0);
    expect(pair_flows_, "pair_flows", {n_pairs_, 2, 2, s, s});
    expect(pair_masks_, "pair_masks", {n_pairs_, 2, 1, s, s});
    if (!torch::isfinite(pair_flows_.to(torch::kFloat32)).all().item<bool>())
      throw bad("\"pair_flows\" holds non-finite values");
  }
  if (n_images_ == 0 && n_pairs_ == 0) throw bad("no images and no pairs");
}

PackImageBatch TrainingPack::images(const std::vector<int64_t>& idx,
                                    const std::vector<bool>& hflip) const {
  check_batch(path_, idx, hflip, n_images_, "image");
  PackImageBatch b;
  b.rgb = flip_where(select_rows(images_, idx).to(torch::kFloat32) / 255.0, hflip,
                     [](const torch::Tensor& t) { return t.flip({-1}); });
  split_ycc(b.rgb, b.y, b.cbcr);
  b.knn = flip_where(select_rows(knn_, idx).to(torch::kInt64), hflip,
                     [s = crop_](const torch::Tensor& t) { return hflip_knn(t, s, s); });
  return b;
}

PackPairBatch TrainingPack::pairs(const std::vector<int64_t>& idx,
                                  const std::vector<bool>& hflip) const {
  check_batch(path_, idx, hflip, n_pairs_, "pair");
  const auto mirror = [](const torch::Tensor& t) { return t.flip({-1}); };
  const int64_t n = static_cast<int64_t>(idx.size()), s = crop_;
  PackPairBatch b;
  b.rgb = flip_where(select_rows(pair_frames_, idx).to(torch::kFloat32) / 255.0, hflip, mirror);
  torch::Tensor y, cbcr;
  split_ycc(b.rgb.reshape({n * 2, 3, s, s}), y, cbcr);
  b.y = y.view({n, 2, 1, s, s});
  b.cbcr = cbcr.view({n, 2, 2, s, s});
  const torch::Tensor flows = flip_where(select_rows(pair_flows_, idx).to(torch::kFloat32), hflip,
                                         [](const torch::Tensor& t) { return hflip_flow(t); });
  b.flow_fw = flows.select(1, 0).contiguous();
  b.flow_bw = flows.select(1, 1).contiguous();
  const torch::Tensor masks =
      flip_where(select_rows(pair_masks_, idx).to(torch::kFloat32), hflip, mirror);
  b.mask_fw = masks.select(1, 0).contiguous();
  b.mask_bw = masks.select(1, 1).contiguous();
  return b;
}

}  // namespace vidcolor
