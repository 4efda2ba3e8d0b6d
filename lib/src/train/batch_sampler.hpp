// Internal: what each training step sees. Samples come from this rank's share of the pack in
// per-epoch shuffles; a step's flips and sub-crop offsets from a generator seeded by (seed,
// rank, stage, step) (trainer.hpp, "Determinism"), so any step's batch can be recomputed
// from its numbers alone, which is what makes a resumed run bit-identical.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "vidcolor/train/trainer.hpp"
#include "vidcolor/train/training_pack.hpp"

namespace vidcolor::train_detail {

// One step's batch on the training device: image crops or frame pairs.
struct StepBatch {
  bool is_pairs = false;
  PackImageBatch images;  // an image step
  PackPairBatch pairs;    // a pair step; masks also 0 where the flow leaves the crop
  // f's input: the step's luma (images.y or pairs.y) through each sample's tone curve and with
  // its grain, both frames of a pair alike (input_augment.hpp); the luma itself without them.
  torch::Tensor f_input;
};

class BatchSampler {
 public:
  // `pack` must outlive the sampler; pack_path names it in errors. Rank r of `world` takes
  // samples r, r + world, ... Throws vidcolor::Error when a rank's share of the pack's
  // images or pairs would be empty.
  BatchSampler(const TrainingPack& pack, const std::string& pack_path, int rank, int world,
               uint64_t seed, int64_t batch_size, int64_t pair_every, double tone_gamma,
               double grain, torch::Device device);

  // f-video and joint interleave image steps and pair steps (every pair_every-th is a pair;
  // all of them without images); g has pair steps only, f-images image steps only.
  bool is_pair_step(StageKind kind, int64_t stage_step) const;

  // The batch of step `stage_step` of stage number `stage` (of kind `kind`): batch_size
  // samples, each flipped at random, and, for crop < the pack's crop size, a random
  // crop x crop window of each (KNN graphs and masks remapped), and f's input through a
  // random gamma in [1 / tone_gamma, tone_gamma] and with grain of a random sigma in [0, grain]
  // per sample.
  StepBatch batch(size_t stage, StageKind kind, int64_t stage_step, int64_t crop);

 private:
  enum Kind { kImages = 0, kPairs = 1 };
  std::vector<int64_t> take(Kind kind, size_t stage, int64_t pos, int64_t count);

  const TrainingPack& pack_;
  int rank_;
  uint64_t seed_;
  int64_t batch_size_, pair_every_;
  double tone_gamma_, grain_;
  torch::Device device_;
  std::vector<int64_t> shard_[2];  // this rank's image and pair indices
  struct Permutation {
    int64_t key = -1;  // (stage, epoch) it was drawn for
    std::vector<int64_t> order;
  } perm_[2];
};

}  // namespace vidcolor::train_detail
