#include "vidcolor/train/training_pack.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <sstream>
#include <thread>

#include "vidcolor/core/color_tensors.hpp"
#include "vidcolor/core/error.hpp"
#include "core/shape_string.hpp"
#include "vidcolor/model/safetensors.hpp"
#include "vidcolor/train/jpeg_codec.hpp"
#include "vidcolor/train/pack_codec.hpp"

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
    throw Error("hflip_knn: knn must be [B,H*W,K] with H*W = " + std::to_string(height * width) +
                ", got " + shape_str(knn));
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
  return {rgb.to(d), y.to(d), cbcr.to(d), knn.defined() ? knn.to(d) : knn};
}

PackPairBatch PackPairBatch::to(torch::Device d) const {
  return {rgb.to(d),     y.to(d),       cbcr.to(d),   flow_fw.to(d),
          flow_bw.to(d), mask_fw.to(d), mask_bw.to(d)};
}

namespace {

Error bad_pack(const std::string& path, const std::string& what) {
  return Error(path + ": not a valid vidcolor training pack: " + what);
}

// The tensor `name` if present (dtype checked), else undefined.
torch::Tensor take_tensor(const SafetensorsFile& f, const std::string& path, const char* name,
                          torch::ScalarType dt) {
  auto it = f.tensors.find(name);
  if (it == f.tensors.end()) return {};
  if (it->second.scalar_type() != dt)
    throw bad_pack(path, std::string("tensor \"") + name + "\" has dtype " +
                             safetensors_dtype_name(it->second.scalar_type()) + ", expected " +
                             safetensors_dtype_name(dt));
  return it->second;
}

// shape[i] = -1: any size.
void expect_shape(const std::string& path, const torch::Tensor& t, const char* name,
                  std::vector<int64_t> shape) {
  bool ok = t.dim() == static_cast<int64_t>(shape.size());
  for (size_t i = 0; ok && i < shape.size(); ++i)
    ok = shape[i] < 0 || t.size(static_cast<int64_t>(i)) == shape[i];
  if (!ok) throw bad_pack(path, std::string("tensor \"") + name + "\" has shape " + shape_str(t));
}

int64_t meta_int(const std::map<std::string, std::string>& m, const std::string& path,
                 const char* key) {
  const auto it = m.find(key);
  size_t pos = 0;
  long long v = 0;
  try {
    if (it != m.end()) v = std::stoll(it->second, &pos);
  } catch (const std::exception&) {
    pos = 0;
  }
  if (it == m.end() || pos == 0 || pos != it->second.size())
    throw bad_pack(path, std::string("metadata \"") + key + "\" missing or not an integer");
  return v;
}

// Decodes the JPEG files of `blob` (offsets checked) into out uint8 [n,3,S,S], on `threads`
// threads. The first failure (its message names the file and the sample) is rethrown here.
void decode_jpegs(const torch::Tensor& blob, const torch::Tensor& offsets, torch::Tensor& out,
                  int threads, const char* what, const std::string& name_prefix,
                  const std::function<void(const PackLoadProgress&)>& progress) {
  const int64_t n = out.size(0), s = out.size(2);
  const uint8_t* data = blob.data_ptr<uint8_t>();
  const int64_t* off = offsets.data_ptr<int64_t>();
  uint8_t* dst = out.data_ptr<uint8_t>();
  const size_t sample = static_cast<size_t>(3 * s * s);
  std::atomic<int64_t> next{0}, done{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::string error;
  int64_t reported = 0;
  const auto t0 = std::chrono::steady_clock::now();
  const auto work = [&] {
    for (int64_t i = next++; i < n && !failed.load(); i = next++) {
      try {
        decode_jpeg_rgb_chw(data + off[i], static_cast<size_t>(off[i + 1] - off[i]),
                            static_cast<int>(s), static_cast<int>(s), dst + i * sample,
                            name_prefix + " " + std::to_string(i));
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mu);
        if (!failed.exchange(true)) error = e.what();
        return;
      }
      const int64_t d = ++done;
      if (progress && (d == n || d - reported >= std::max<int64_t>(1, n / 20))) {
        std::lock_guard<std::mutex> lock(mu);
        if (d > reported) {
          reported = d;
          progress({what, d, n,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()});
        }
      }
    }
  };
  const int64_t t = std::max<int64_t>(1, std::min<int64_t>(threads, (n + 15) / 16));
  std::vector<std::thread> pool;
  for (int64_t k = 1; k < t; ++k) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
  if (failed.load()) throw Error(error);
}

}  // namespace

TrainingPack::TrainingPack(const std::string& path, const TrainingPackOptions& options)
    : path_(path) {
  SafetensorsFile f = read_safetensors(path);
  metadata_ = f.metadata;
  const auto fmt = metadata_.find("format");
  if (fmt == metadata_.end() || fmt->second != "vidcolor-pack")
    throw bad_pack(path, "metadata \"format\" is not \"vidcolor-pack\"");
  const auto ver = metadata_.find("version");
  if (ver == metadata_.end() || (ver->second != "1" && ver->second != "2"))
    throw bad_pack(path, "unsupported version" +
                             (ver == metadata_.end() ? std::string() : " \"" + ver->second + "\"") +
                             " (this reader knows versions 1 and 2)");
  version_ = ver->second == "1" ? 1 : 2;
  try {
    crop_ = std::stoll(metadata_.at("crop"));
  } catch (const std::exception&) {
    throw bad_pack(path, "metadata \"crop\" missing or not a number");
  }
  if (crop_ < 1 || crop_ > 4096) throw bad_pack(path, "crop size " + std::to_string(crop_));
  knn_device_ = options.knn_device;
  if (version_ == 1)
    read_v1(f, options);
  else
    read_v2(f, options);
  if (n_images_ == 0 && n_pairs_ == 0) throw bad_pack(path, "no images and no pairs");
}

void TrainingPack::plan_knn(const TrainingPackOptions& options) {
  int64_t k = 0;
  double lambda = 0;
  try {
    k = std::stoll(metadata_.at("knn_k"));
    lambda = std::stod(metadata_.at("knn_lambda"));
  } catch (const std::exception&) {
    throw bad_pack(path_,
                   "no \"image_knn\" and no numeric \"knn_k\", \"knn_lambda\" to build it with");
  }
  const int64_t s = crop_;
  if (k < 1 || k > s * s - 1)
    throw bad_pack(path_, "knn_k = " + std::to_string(k) + " for a crop of " + std::to_string(s));
  if (!(lambda >= 0) || !std::isfinite(lambda))
    throw bad_pack(path_, "knn_lambda = " + metadata_.at("knn_lambda"));
  k_ = k;
  knn_lambda_ = lambda;
  const bool at_load = options.knn_build == KnnBuild::AtLoad ||
                       (options.knn_build == KnnBuild::Auto && version_ == 1);
  if (!at_load) {
    knn_per_batch_ = true;
    return;
  }
  KnnBatchOptions ko;
  ko.k = static_cast<int>(k);
  ko.lambda = lambda;
  ko.device = options.knn_device;
  ko.progress = options.knn_progress;
  knn_ = knn_graphs_torch(images_, ko);
  knn_built_at_load_ = true;
}

// Graphs of the decoded images_: stored ones validated, else planned (at load or per batch).
static void check_knn(const std::string& path, const torch::Tensor& knn, int64_t n, int64_t s) {
  expect_shape(path, knn, "image_knn", {n, s * s, -1});
  if (knn.size(2) < 1) throw bad_pack(path, "K = 0 in \"image_knn\"");
  // Indices are used by gather(): out-of-range ones must not reach it.
  if (knn.numel() > 0 && (knn.min().item<int32_t>() < 0 || knn.max().item<int32_t>() >= s * s))
    throw bad_pack(path, "\"image_knn\" holds indices outside the crop");
}

void TrainingPack::read_v1(SafetensorsFile& f, const TrainingPackOptions& options) {
  const std::string& path = path_;
  const int64_t s = crop_;
  images_ = take_tensor(f, path, "images", torch::kUInt8);
  knn_ = take_tensor(f, path, "image_knn", torch::kInt32);
  if (knn_.defined() && !images_.defined())
    throw bad_pack(path, "\"image_knn\" without \"images\"");
  if (images_.defined()) {
    expect_shape(path, images_, "images", {-1, 3, s, s});
    n_images_ = images_.size(0);
    if (!knn_.defined() && options.need_knn) plan_knn(options);  // written with --knn-at-load
    if (knn_.defined()) {
      check_knn(path, knn_, n_images_, s);
      k_ = knn_.size(2);
    }
  }

  pair_frames_ = take_tensor(f, path, "pair_frames", torch::kUInt8);
  pair_flows_ = take_tensor(f, path, "pair_flows", torch::kFloat16);
  pair_masks_ = take_tensor(f, path, "pair_masks", torch::kUInt8);
  if (pair_frames_.defined() != pair_flows_.defined() ||
      pair_frames_.defined() != pair_masks_.defined())
    throw bad_pack(path, "\"pair_frames\", \"pair_flows\", \"pair_masks\" come together");
  if (pair_frames_.defined()) {
    expect_shape(path, pair_frames_, "pair_frames", {-1, 2, 3, s, s});
    n_pairs_ = pair_frames_.size(0);
    expect_shape(path, pair_flows_, "pair_flows", {n_pairs_, 2, 2, s, s});
    expect_shape(path, pair_masks_, "pair_masks", {n_pairs_, 2, 1, s, s});
    if (!torch::isfinite(pair_flows_.to(torch::kFloat32)).all().item<bool>())
      throw bad_pack(path, "\"pair_flows\" holds non-finite values");
  }
}

void TrainingPack::read_v2(SafetensorsFile& f, const TrainingPackOptions& options) {
  const std::string& path = path_;
  const int64_t s = crop_;
  if (f.tensors.count("images") || f.tensors.count("pair_frames") ||
      f.tensors.count("pair_flows") || f.tensors.count("pair_masks"))
    throw bad_pack(path, "a version-2 pack holds version-1 tensors (\"images\", \"pair_*\")");
  const int threads =
      options.decode_threads > 0
          ? options.decode_threads
          : static_cast<int>(std::min(32u, std::max(1u, std::thread::hardware_concurrency())));
  const auto t0 = std::chrono::steady_clock::now();
  // A declared count must agree with the tensors (a truncated list of offsets is caught here).
  const auto declared = [&](const char* key, int64_t n) {
    if (metadata_.count(key) && meta_int(metadata_, path, key) != n)
      throw bad_pack(path, std::string("metadata \"") + key + "\" = " + metadata_.at(key) +
                               " but the tensors hold " + std::to_string(n));
  };

  const torch::Tensor blob = take_tensor(f, path, "image_jpeg", torch::kUInt8);
  const torch::Tensor offsets = take_tensor(f, path, "image_jpeg_offsets", torch::kInt64);
  if (blob.defined() != offsets.defined())
    throw bad_pack(path, "\"image_jpeg\" and \"image_jpeg_offsets\" come together");
  if (f.tensors.count("image_knn") && !blob.defined())
    throw bad_pack(path, "\"image_knn\" without images");
  if (blob.defined()) {
    expect_shape(path, blob, "image_jpeg", {-1});
    check_blob_offsets(offsets, blob.numel(), path + ": \"image_jpeg_offsets\"");
    n_images_ = offsets.size(0) - 1;
    declared("images", n_images_);
    images_ = torch::empty({n_images_, 3, s, s}, torch::kUInt8);
    decode_jpegs(blob, offsets, images_, threads, "images", path + ": image",
                 options.load_progress);
    knn_ = take_tensor(f, path, "image_knn", torch::kInt32);
    if (!knn_.defined() && options.need_knn) plan_knn(options);
    if (knn_.defined()) {
      check_knn(path, knn_, n_images_, s);
      k_ = knn_.size(2);
    }
  }

  const torch::Tensor pblob = take_tensor(f, path, "pair_jpeg", torch::kUInt8);
  const torch::Tensor poffsets = take_tensor(f, path, "pair_jpeg_offsets", torch::kInt64);
  const torch::Tensor flows_q = take_tensor(f, path, "pair_flows_q", torch::kInt16);
  const torch::Tensor mask_bits = take_tensor(f, path, "pair_masks_bits", torch::kUInt8);
  if (pblob.defined() != poffsets.defined() || pblob.defined() != flows_q.defined() ||
      pblob.defined() != mask_bits.defined())
    throw bad_pack(path,
                   "\"pair_jpeg\", \"pair_jpeg_offsets\", \"pair_flows_q\", \"pair_masks_bits\" "
                   "come together");
  if (pblob.defined()) {
    expect_shape(path, pblob, "pair_jpeg", {-1});
    check_blob_offsets(poffsets, pblob.numel(), path + ": \"pair_jpeg_offsets\"");
    const int64_t files = poffsets.size(0) - 1;
    if (files % 2 != 0)
      throw bad_pack(
          path, "\"pair_jpeg_offsets\" lists " + std::to_string(files) + " frames, not 2 per pair");
    n_pairs_ = files / 2;
    declared("pairs", n_pairs_);
    const int64_t factor = meta_int(metadata_, path, "flow_factor");
    if (factor < 1 || s % factor != 0)
      throw bad_pack(path, "flow_factor " + std::to_string(factor) + " does not divide the crop " +
                               std::to_string(s));
    if (meta_int(metadata_, path, "flow_scale") != static_cast<int64_t>(kPackFlowScale))
      throw bad_pack(path, "flow_scale " + metadata_.at("flow_scale") + " (this reader knows " +
                               std::to_string(static_cast<int>(kPackFlowScale)) + ")");
    expect_shape(path, flows_q, "pair_flows_q", {n_pairs_, 2, 2, s / factor, s / factor});
    expect_shape(path, mask_bits, "pair_masks_bits", {n_pairs_, 2, (s * s + 7) / 8});
    torch::Tensor frames = torch::empty({files, 3, s, s}, torch::kUInt8);
    decode_jpegs(pblob, poffsets, frames, threads, "pair frames", path + ": pair frame",
                 options.load_progress);
    pair_frames_ = frames.view({n_pairs_, 2, 3, s, s});
    pair_flows_ = decode_pack_flow(flows_q, factor).to(torch::kFloat16).contiguous();
    pair_masks_ = unpack_bits(mask_bits, s * s).view({n_pairs_, 2, 1, s, s});
  }
  decode_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

PackImageBatch TrainingPack::images(const std::vector<int64_t>& idx, const std::vector<bool>& hflip,
                                    bool with_knn) const {
  check_batch(path_, idx, hflip, n_images_, "image");
  PackImageBatch b;
  const torch::Tensor crops = select_rows(images_, idx);
  b.rgb = flip_where(crops.to(torch::kFloat32) / 255.0, hflip,
                     [](const torch::Tensor& t) { return t.flip({-1}); });
  split_ycc(b.rgb, b.y, b.cbcr);
  // No graphs when not asked for, or when the options said none are needed (need_knn).
  if (!with_knn || (!knn_.defined() && !knn_per_batch_)) return b;
  torch::Tensor graphs;
  if (knn_per_batch_) {
    // The graphs of the unflipped crops (the same as a build at load), then flipped exactly.
    KnnBatchOptions ko;
    ko.k = static_cast<int>(k_);
    ko.lambda = knn_lambda_;
    ko.device = knn_device_;
    graphs = knn_graphs_torch(crops, ko);
  } else {
    graphs = select_rows(knn_, idx);
  }
  b.knn = flip_where(graphs.to(torch::kInt64), hflip,
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
