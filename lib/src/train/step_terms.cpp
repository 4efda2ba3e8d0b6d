// The loss terms of a training step (see the header).
#include "train/step_terms.hpp"

#include <algorithm>

#include "vidcolor/core/chain_defaults.hpp"
#include "vidcolor/core/color_tensors.hpp"
#include "vidcolor/ops/neighbour_warp.hpp"

namespace vidcolor::train_detail {

namespace {

// Adds a term: its value to the log, its weighted tensor to the total (in the order added,
// which fixes the floating-point sum).
void add(StepTerms& t, const torch::Tensor& term, double w, double StepLosses::*field) {
  t.losses.*field = term.item<double>();
  const torch::Tensor x = term * w;
  t.total = t.total.defined() ? t.total + x : x;
}

// The terms of f on any frame: diversity (eq. 7; it runs φ on every candidate, the costliest
// part of an f step on a CPU) and the chroma classes.
void f_shared_terms(const StepNets& n, const ColorizerOutputs& f, const torch::Tensor& y,
                    const torch::Tensor& rgb, StepTerms& t) {
  if (n.weights.diversity != 0) {
    const int64_t rows = y.size(0);
    const int64_t m = n.diversity_samples > 0 ? std::min(n.diversity_samples, rows) : rows;
    const auto first = [m](const torch::Tensor& x) { return x.narrow(0, 0, m); };
    add(t, diversity_loss(n.phi, candidates_to_rgb(first(y), first(f.candidates)), first(rgb)).loss,
        n.weights.diversity, &StepLosses::diversity);
  }
  if (f.class_logits.defined() && n.weights.classes != 0)
    add(t, chroma_class_loss(f.class_logits, rgb, n.class_weights), n.weights.classes,
        &StepLosses::classes);
}

// f_input: f's input (the luma augmented: tone, grain); the terms use the true luma b.y.
void f_image_terms(const StepNets& n, const PackImageBatch& b, const torch::Tensor& f_input,
                   StepTerms& t) {
  const ColorizerOutputs f = n.model.f->forward_outputs(f_input);
  if (n.weights.bilateral != 0)
    add(t, bilateral_loss(f.candidates, b.knn), n.weights.bilateral, &StepLosses::bilateral);
  f_shared_terms(n, f, b.y, b.rgb, t);
}

// g on all d candidates of both frames of each pair, each refined from the other frame.
void g_terms(const StepNets& n, const PackPairBatch& b, const torch::Tensor& c_t,
             const torch::Tensor& c_t1, StepTerms& t) {
  const int64_t d = c_t.size(1);
  const auto rep = [d](const torch::Tensor& x) { return x.repeat_interleave(d, 0); };
  const torch::Tensor y_t = b.y.select(1, 0), y_t1 = b.y.select(1, 1);
  const torch::Tensor cs = torch::cat({c_t.flatten(0, 1), c_t1.flatten(0, 1)});
  const torch::Tensor cn = torch::cat({c_t1.flatten(0, 1), c_t.flatten(0, 1)});
  const torch::Tensor ys = torch::cat({rep(y_t), rep(y_t1)});
  const torch::Tensor yn = torch::cat({rep(y_t1), rep(y_t)});
  const torch::Tensor flow = torch::cat({rep(b.flow_fw), rep(b.flow_bw)});
  const torch::Tensor mask = torch::cat({rep(b.mask_fw), rep(b.mask_bw)});
  const torch::Tensor gt = torch::cat({rep(b.cbcr.select(1, 0)), rep(b.cbcr.select(1, 1))});
  // The crops are g's inference size already; the rest is RefineEngine's own code.
  const WarpedNeighbour in = warp_neighbour(ys, cs, yn, cn, flow, kConfidenceAlpha);
  const torch::Tensor out = n.model.g->forward(ys, cs, in.chroma, in.conf_c, in.conf_x);
  add(t, refinement_loss(out, gt), n.weights.refine, &StepLosses::refine);
  if (n.weights.refine_consistency != 0)
    add(t, refinement_consistency_loss(out, cs, in.chroma, in.conf_x * mask),
        n.weights.refine_consistency, &StepLosses::refine_consistency);
}

// f_input: f's input for both frames (the luma augmented: tone, grain). g and every term see
// the true luma b.y.
void pair_terms(const StepNets& n, StageKind kind, const PackPairBatch& b,
                const torch::Tensor& f_input, StepTerms& t) {
  const int64_t count = b.y.size(0);
  const auto both = [](const torch::Tensor& x) {
    return torch::cat({x.select(1, 0), x.select(1, 1)});
  };
  const torch::Tensor y2 = both(b.y), f_in2 = both(f_input);
  torch::Tensor c2;
  if (kind == StageKind::G) {
    torch::NoGradGuard ng;  // f is frozen while g learns
    c2 = n.model.f->forward(f_in2);
  } else {
    const ColorizerOutputs f = n.model.f->forward_outputs(f_in2);
    c2 = f.candidates;
    f_shared_terms(n, f, y2, both(b.rgb), t);
  }
  const torch::Tensor c_t = c2.narrow(0, 0, count), c_t1 = c2.narrow(0, count, count);
  if (kind != StageKind::G) {
    // eq. 3 in both directions: t against warped t+1, and t+1 against warped t.
    const torch::Tensor temporal = 0.5 * (temporal_loss(c_t, c_t1, b.flow_fw, b.mask_fw) +
                                          temporal_loss(c_t1, c_t, b.flow_bw, b.mask_bw));
    add(t, temporal, n.weights.temporal, &StepLosses::temporal);
  }
  if (kind == StageKind::G || kind == StageKind::Joint) g_terms(n, b, c_t, c_t1, t);
}

}  // namespace

StepTerms step_terms(const StepNets& nets, StageKind kind, const StepBatch& batch) {
  StepTerms t;
  if (batch.is_pairs)
    pair_terms(nets, kind, batch.pairs, batch.f_input, t);
  else
    f_image_terms(nets, batch.images, batch.f_input, t);
  return t;
}

}  // namespace vidcolor::train_detail
