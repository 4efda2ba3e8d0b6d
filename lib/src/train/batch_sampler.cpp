// Which samples, flips and sub-crops each training step sees (see the header).
#include "train/batch_sampler.hpp"

#include <random>

#include "train/train_fail.hpp"
#include "vidcolor/train/input_augment.hpp"

namespace vidcolor::train_detail {

namespace {

// A generator for one purpose, from integers that identify it (see trainer.hpp).
std::mt19937_64 make_rng(std::initializer_list<uint64_t> keys) {
  std::vector<uint32_t> words;
  for (uint64_t k : keys) {
    words.push_back(static_cast<uint32_t>(k));
    words.push_back(static_cast<uint32_t>(k >> 32));
  }
  std::seed_seq seq(words.begin(), words.end());
  return std::mt19937_64(seq);
}

struct Offset {
  int64_t y, x;
};

// t [B,...,S,S] -> [B,...,C,C] at each sample's offset.
torch::Tensor crop_each(const torch::Tensor& t, const std::vector<Offset>& off, int64_t c) {
  std::vector<torch::Tensor> parts;
  for (size_t b = 0; b < off.size(); ++b)
    parts.push_back(
        t.narrow(0, static_cast<int64_t>(b), 1).narrow(-2, off[b].y, c).narrow(-1, off[b].x, c));
  return torch::cat(parts, 0).contiguous();
}

// The KNN graph of a C x C window of an S x S crop: rows of the window's pixels, neighbours
// re-indexed into the window; a neighbour outside the window becomes the pixel itself (an
// edge of length 0, so it adds nothing to eq. 2).
torch::Tensor crop_knn(const torch::Tensor& knn, int64_t s, const std::vector<Offset>& off,
                       int64_t c) {
  const auto opts = torch::TensorOptions().dtype(torch::kInt64).device(knn.device());
  const torch::Tensor r = torch::arange(c, opts);
  const torch::Tensor self = torch::arange(c * c, opts).unsqueeze(1);
  std::vector<torch::Tensor> parts;
  for (size_t b = 0; b < off.size(); ++b) {
    const torch::Tensor rows =
        ((r + off[b].y).unsqueeze(1) * s + (r + off[b].x).unsqueeze(0)).flatten();
    const torch::Tensor k = knn[static_cast<int64_t>(b)].index_select(0, rows);
    const torch::Tensor qy = torch::div(k, s, "floor") - off[b].y;
    const torch::Tensor qx = k.remainder(s) - off[b].x;
    const torch::Tensor inside = (qy >= 0) & (qy < c) & (qx >= 0) & (qx < c);
    parts.push_back(torch::where(inside, qy * c + qx, self.expand_as(k)).unsqueeze(0));
  }
  return torch::cat(parts, 0);
}

// 1 where x + flow(x) lands inside the tensor (warp() clamps at the border, so a flow that
// leaves the crop would compare with a wrong pixel) -> [B,1,H,W] float.
torch::Tensor lands_inside(const torch::Tensor& flow) {
  const int64_t h = flow.size(2), w = flow.size(3);
  const auto o = flow.options();
  const torch::Tensor x = torch::arange(w, o).view({1, 1, 1, w}) + flow.narrow(1, 0, 1);
  const torch::Tensor y = torch::arange(h, o).view({1, 1, h, 1}) + flow.narrow(1, 1, 1);
  return ((x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)).to(flow.scalar_type());
}

}  // namespace

BatchSampler::BatchSampler(const TrainingPack& pack, const std::string& pack_path, int rank,
                           int world, uint64_t seed, int64_t batch_size, int64_t pair_every,
                           double tone_gamma, double grain, torch::Device device)
    : pack_(pack),
      rank_(rank),
      seed_(seed),
      batch_size_(batch_size),
      pair_every_(pair_every),
      tone_gamma_(tone_gamma),
      grain_(grain),
      device_(device) {
  // Each rank trains on its own share of the pack.
  for (int64_t i = rank; i < pack.num_images(); i += world) shard_[kImages].push_back(i);
  for (int64_t i = rank; i < pack.num_pairs(); i += world) shard_[kPairs].push_back(i);
  if (pack.num_images() > 0 && shard_[kImages].empty())
    fail(pack_path + ": " + std::to_string(pack.num_images()) + " images for " +
         std::to_string(world) + " ranks");
  if (pack.num_pairs() > 0 && shard_[kPairs].empty())
    fail(pack_path + ": " + std::to_string(pack.num_pairs()) + " pairs for " +
         std::to_string(world) + " ranks");
}

bool BatchSampler::is_pair_step(StageKind kind, int64_t stage_step) const {
  switch (kind) {
    case StageKind::FImages:
      return false;
    case StageKind::G:
      return true;
    default:
      return pack_.num_images() == 0 || stage_step % pair_every_ == pair_every_ - 1;
  }
}

// `count` shard indices from position `pos` of an endless sequence of per-epoch shuffles.
std::vector<int64_t> BatchSampler::take(Kind kind, size_t stage, int64_t pos, int64_t count) {
  const std::vector<int64_t>& shard = shard_[kind];
  const int64_t n = static_cast<int64_t>(shard.size());
  std::vector<int64_t> out;
  for (int64_t j = 0; j < count; ++j) {
    const int64_t p = pos + j, epoch = p / n;
    Permutation& c = perm_[kind];
    const int64_t key = static_cast<int64_t>(stage) * (int64_t(1) << 40) + epoch;
    if (c.key != key) {
      c.key = key;
      c.order.resize(n);
      for (int64_t i = 0; i < n; ++i) c.order[i] = i;
      auto rng = make_rng({seed_, static_cast<uint64_t>(rank_), stage, static_cast<uint64_t>(kind),
                           static_cast<uint64_t>(epoch), 0x7065726dull});
      for (int64_t i = n - 1; i > 0; --i)  // Fisher-Yates with a portable index draw
        std::swap(c.order[i], c.order[rng() % static_cast<uint64_t>(i + 1)]);
    }
    out.push_back(shard[c.order[p % n]]);
  }
  return out;
}

StepBatch BatchSampler::batch(size_t stage, StageKind kind, int64_t stage_step, int64_t crop) {
  const int64_t s = pack_.crop_size(), bsz = batch_size_;
  auto rng = make_rng({seed_, static_cast<uint64_t>(rank_), stage,
                       static_cast<uint64_t>(stage_step), 0x73746570ull});
  std::vector<bool> flips(bsz);
  for (int64_t i = 0; i < bsz; ++i) flips[i] = rng() & 1;
  std::vector<Offset> off(bsz, Offset{0, 0});
  if (crop < s)
    for (auto& v : off) {
      v.y = static_cast<int64_t>(rng() % static_cast<uint64_t>(s - crop + 1));
      v.x = static_cast<int64_t>(rng() % static_cast<uint64_t>(s - crop + 1));
    }
  StepBatch out;
  out.is_pairs = is_pair_step(kind, stage_step);
  if (!out.is_pairs) {
    // Image steps before this one in the stage (all of them in f-images).
    const int64_t before =
        kind == StageKind::FImages ? stage_step : stage_step - stage_step / pair_every_;
    PackImageBatch& b = out.images;
    b = pack_.images(take(kImages, stage, before * bsz, bsz), flips).to(device_);
    if (crop < s) {
      if (b.knn.defined()) b.knn = crop_knn(b.knn, s, off, crop);
      b.rgb = crop_each(b.rgb, off, crop);
      b.y = crop_each(b.y, off, crop);
      b.cbcr = crop_each(b.cbcr, off, crop);
    }
  } else {
    // Pair steps before this one in the stage.
    const int64_t before =
        kind == StageKind::G || pack_.num_images() == 0 ? stage_step : stage_step / pair_every_;
    PackPairBatch& b = out.pairs;
    b = pack_.pairs(take(kPairs, stage, before * bsz, bsz), flips).to(device_);
    if (crop < s)
      for (torch::Tensor* x :
           {&b.rgb, &b.y, &b.cbcr, &b.flow_fw, &b.flow_bw, &b.mask_fw, &b.mask_bw})
        *x = crop_each(*x, off, crop);
    b.mask_fw = b.mask_fw * lands_inside(b.flow_fw);
    b.mask_bw = b.mask_bw * lands_inside(b.flow_bw);
  }
  // Drawn after the flips and offsets, so a run without it sees the batches it always did.
  const torch::Tensor& y = out.is_pairs ? out.pairs.y : out.images.y;
  out.f_input = apply_tone_gammas(y, draw_tone_gammas(rng, bsz, tone_gamma_));
  out.f_input = apply_grains(out.f_input, draw_grains(rng, bsz, grain_));
  return out;
}

}  // namespace vidcolor::train_detail
