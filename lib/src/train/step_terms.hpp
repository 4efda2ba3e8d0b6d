// Internal: the loss terms of one training step, per stage kind (trainer.hpp's stage list):
//   image step (f-images, and f-video/joint between pair steps): bilateral (eq. 2),
//     diversity (eq. 7), chroma classes;
//   pair step of f-video: f's terms on both frames + temporal (eq. 3) both ways;
//   pair step of g: f frozen; g refines each candidate of t from t+1 and of t+1 from t
//     (eq. 5 + the authors' confidence terms), its inputs built as RefineEngine builds them;
//   pair step of joint: f-video's terms + g's, g's loss flowing into f.
// A term whose weight is 0 is not computed (NaN in the log).
#pragma once

#include <torch/torch.h>

#include "train/batch_sampler.hpp"
#include "vidcolor/model/networks.hpp"
#include "vidcolor/train/losses.hpp"
#include "vidcolor/train/trainer.hpp"

namespace vidcolor::train_detail {

// What the terms are computed with; all borrowed from the trainer.
struct StepNets {
  Model& model;
  PerceptualNet& phi;                  // φ of the diversity term
  const torch::Tensor& class_weights;  // [313] rebalancing; undefined without chroma classes
  const LossWeights& weights;
  int64_t diversity_samples = 0;  // TrainOptions::diversity_samples
};

// The weighted sum to backpropagate and the unweighted terms to log (StepLosses::total is
// left for the caller, after backward).
struct StepTerms {
  torch::Tensor total;
  StepLosses losses;
};

StepTerms step_terms(const StepNets& nets, StageKind kind, const StepBatch& batch);

}  // namespace vidcolor::train_detail
