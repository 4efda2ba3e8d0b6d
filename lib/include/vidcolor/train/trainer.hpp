// The trainer of vidcolor-train (paper §4-§6): trains f and g from a training pack
// (training_pack.hpp) with the paper's losses (losses.hpp), in stages, with Adam; seeded,
// checkpointed, resumable, data-parallel over c10d (distributed.hpp). LibTorch only: it builds
// and runs on a machine without OpenCV.
//
// Stages (run in the order given, each for a number of steps and optionally a time budget):
//   f-images  f on image crops: bilateral (eq. 2) + ranked diversity (eq. 7)
//   f-video   f on frame pairs, adding the temporal term (eq. 3) with the pack's ground-truth
//             flows and occlusion masks; every `pair_every`-th step is a pair step, the
//             others are image steps as in f-images (the paper's epochs mix 5,000 images and
//             1,000 pairs); only pairs when the pack has no images
//   g         g on frame pairs with f frozen: g refines f's frame t from warped t+1 and frame
//             t+1 from warped t (each of the d candidates, as the paper does), with the
//             confidence maps of eq. 4 (alpha = 15) as inputs, eq. 5 loss (+ the authors'
//             confidence terms with a small weight)
//   joint     f and g together: f-video's losses plus g's, g's loss flowing into f
//
// Determinism: all randomness of a step (which samples, flips, sub-crop offsets) comes from a
// generator seeded by (seed, rank, stage, step), and sample order from per-epoch permutations
// seeded by (seed, rank, stage, epoch); network initialisation from torch::manual_seed(seed).
// So the RNG state of a checkpoint is its step counter, and a resumed run computes exactly
// the step the uninterrupted run would have (bit-identical on the CPU with the same threads).
#pragma once

#include <torch/torch.h>

#include <atomic>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "vidcolor/train/distributed.hpp"
#include "vidcolor/train/lr_schedule.hpp"
#include "vidcolor/core/model_config.hpp"
#include "vidcolor/model/networks.hpp"

namespace vidcolor {

enum class StageKind { FImages, FVideo, G, Joint };

struct StageSpec {
  StageKind kind = StageKind::FImages;
  int64_t steps = 0;
  double max_minutes = 0;  // 0 = no time budget for this stage
  bool operator==(const StageSpec& o) const {
    return kind == o.kind && steps == o.steps && max_minutes == o.max_minutes;
  }
};

const char* stage_name(StageKind k);
// "f-images", "f-video", "g", "joint". Throws vidcolor::Error for anything else.
StageKind stage_kind_from_name(const std::string& name);
// "f-images:2000,f-video:1000@30,g:500": kind:steps[@minutes], comma separated.
std::vector<StageSpec> parse_stages(const std::string& text);
std::string stages_to_string(const std::vector<StageSpec>& stages);

struct LossWeights {
  double bilateral = 1.0;           // eq. 2
  double diversity = 1.0;           // eq. 7
  double temporal = 1.0;            // eq. 3
  double refine = 1.0;              // eq. 5
  double refine_consistency = 0.1;  // the authors' confidence terms (losses.hpp)
  // f's chroma classes (losses.hpp, chroma_class_loss): only for a model with chroma_classes.
  double classes = 1.0;
  nlohmann::json to_json() const;
};

// The loss terms of one step (NaN = not part of this step).
struct StepLosses {
  double total = 0, bilateral = NAN, diversity = NAN, temporal = NAN, refine = NAN,
         refine_consistency = NAN, classes = NAN;
  static const std::vector<std::string>& names();  // "loss", "bilateral", ... in CSV order
  std::vector<double> values() const;              // in names() order
  static StepLosses from_values(const std::vector<double>& v);  // inverse of values()
};

struct TrainProgress {
  int64_t step = 0;         // steps done (global)
  int64_t total_steps = 0;  // planned
  int stage_index = 0;
  std::string stage;
  int64_t crop = 0;   // crop side of the last step (coarse-to-fine)
  StepLosses losses;  // of the last step (averaged over ranks)
  double elapsed_s = 0, steps_per_s = 0, eta_s = 0;
};

struct TrainOptions {
  std::string pack;  // a vidcolor-pack file
  std::vector<StageSpec> stages;
  ModelConfig config;                // of a fresh model (ignored with init_model)
  std::string config_name = "fast";  // for the provenance
  std::string init_model;            // start from this model file instead of a fresh model
  bool fresh_g = false;              // with init_model: keep its f, start g anew (seeded init)
  std::string backbone_weights;      // TF.js model.json of a new f's backbone (its config's)
  std::string phi_weights;           // TF.js model.json of φ, an ImageNet MobileNetV2
  bool finetune_backbone = false;    // default: the pretrained backbone stays frozen
  double backbone_lr_scale = 1.0;    // with finetune_backbone: its Adam rate is lr * this
  LossWeights weights;
  double lr = 2e-4;        // Adam
  // The rate over each stage (lr_schedule.hpp): constant, or a cosine from lr towards 0 at the
  // stage's last step (a stage ended early by its time budget stops partway down the curve).
  LrSchedule lr_schedule = LrSchedule::Constant;
  int64_t batch_size = 8;  // per rank
  uint64_t seed = 1;
  int64_t pair_every = 2;  // f-video / joint: every n-th step is a pair step
  // The diversity term (φ on d candidates a sample, forward and backward: about half of an f
  // step on a CPU) on the first n samples of each batch only; 0 = all. The samples are drawn
  // at random, so this estimates the batch's term without bias, with more noise.
  int64_t diversity_samples = 0;
  // Zhang's class rebalancing: the weight of bin q is 1 / ((1 - mix) p_q + mix / 313), p the
  // pack's smoothed ab prior. 0.5 is Zhang's; towards 1 the rare colours are pushed less (1 = no
  // rebalancing). f's class_log_prior follows, so decoding's class_debias still undoes it.
  double class_rebalance_mix = 0.5;
  // Tone augmentation (input_augment.hpp): f's input luma goes through a gamma drawn
  // log-uniform in [1 / tone_gamma, tone_gamma] per sample; the losses keep the true luma.
  // 1 = off; at most 4.
  double tone_gamma = 1.0;
  // Grain augmentation (input_augment.hpp): after the tone curve, f's input gets Gaussian grain
  // of a sigma drawn uniform in [0, grain] per sample (luma units, 1 = white). 0 = off; at most
  // 0.25.
  double grain = 0.0;
  // Coarse-to-fine: during the first coarse_fraction of each stage (by steps, and by time
  // when the stage has a budget) the batches are random coarse_size x coarse_size sub-crops
  // of the pack's crops (KNN graphs and masks remapped exactly); then full crops. 0 = off.
  int64_t coarse_size = 0;
  double coarse_fraction = 0.5;
  std::string out_dir;             // checkpoint, model, CSV log, PNGs
  std::string model_path;          // the final model; empty = out_dir/model.safetensors
  int64_t checkpoint_every = 500;  // steps
  double checkpoint_minutes = 15;  // also after this much time since the last one; 0 = off
  bool resume = false;             // continue from out_dir/checkpoint.safetensors
  double max_minutes = 0;          // this invocation's time budget; 0 = none
  int64_t stop_after = 0;          // stop (checkpoint + model) after this global step; 0 = off
  std::string device = "cpu";      // cpu, cuda, cuda:N
  int64_t samples = 4;             // rows of the sample sheet (image crops + pairs)
  std::string command_line;        // for the provenance
  const std::atomic<bool>* stop = nullptr;             // set (e.g. by SIGINT) to stop cleanly
  std::function<void(const TrainProgress&)> progress;  // rank 0, after each step
  std::function<void(const std::string&)> log;         // rank 0, messages
};

struct TrainResult {
  int64_t steps = 0;              // global steps done
  bool finished = false;          // every stage ran to its end (steps or its own budget)
  std::string stopped_by;         // "", "time budget", "stop-after", "signal"
  std::string model_path;         // written (rank 0)
  StepLosses final_losses;        // means over the last steps
  double seconds = 0;             // wall time of all invocations
  std::string parameters_digest;  // FNV-1a 64 of all of f's and g's tensors (hex)
};

// Device from "cpu", "cuda", "cuda:N" (plain "cuda" = cuda:LOCAL_RANK in a distributed run).
// Throws vidcolor::Error for a malformed name or a CUDA request without CUDA.
torch::Device parse_train_device(const std::string& name, int local_rank = 0);

// FNV-1a 64 over every tensor of model_tensors(m) in name order (bytes of CPU float copies).
std::string model_digest(const Model& m);

class Trainer {
 public:
  // Validates the options against the pack, builds or loads the model, the perceptual net and
  // the optimizer, and restores the checkpoint when resuming. `collective` null = a world of
  // one. Throws vidcolor::Error with a message naming the option or file.
  Trainer(TrainOptions options, std::shared_ptr<Collective> collective = nullptr);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Runs the remaining steps; writes checkpoints, the CSV log, the PNGs and the final model
  // (rank 0). Returns when done, or when a budget / stop_after / the stop flag ends it (a
  // checkpoint and the model are written then too).
  TrainResult run();

  const Model& model() const;
  int64_t step() const;
  int64_t total_steps() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vidcolor
