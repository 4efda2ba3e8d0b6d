// RefineWindow: the frames' look-ahead window of the temporal refinement (see the header).
#include "vidcolor/infer/refine_window.hpp"

#include <string>
#include <utility>

#include "vidcolor/core/error.hpp"
#include "vidcolor/ops/device_transfer.hpp"

namespace vidcolor {

namespace {

// Non-finite flow vectors (NaN, +-Inf from a broken producer) become zero and invalid, so the
// warps never sample at undefined positions and g does not trust them.
void drop_non_finite(torch::Tensor& flow, torch::Tensor& valid) {
  if (!flow.defined()) return;
  const torch::Tensor finite = torch::isfinite(flow).all(1, /*keepdim=*/true);
  if (finite.all().item<bool>()) return;
  flow = torch::where(finite, flow, torch::zeros({}, flow.options()));
  valid = valid.defined() ? valid * finite.to(valid.scalar_type()) : finite.to(torch::kFloat32);
}

// Masks as float32, so a frame's tensors share one dtype (to_device_together) and every
// reader sees the same kind of mask.
torch::Tensor float_mask(const torch::Tensor& valid) {
  return valid.defined() && valid.scalar_type() != torch::kFloat32 ? valid.to(torch::kFloat32)
                                                                   : valid;
}

}  // namespace

RefineWindow::RefineWindow(const RefineEngine& engine, RefineWindowOptions options)
    : engine_(engine), options_(options) {
  if (options_.radius < 1 || options_.iterations < 1)
    throw Error("refine_window: radius and iterations must be >= 1, got radius " +
                std::to_string(options_.radius) + ", iterations " +
                std::to_string(options_.iterations));
}

std::vector<RefinedFrame> RefineWindow::push(WindowFrame frame) {
  Held h;
  h.tag = frame.tag;
  h.luma = std::move(frame.luma);
  h.chroma.push_back(std::move(frame.chroma));
  // The first frame of a window has no frame before it, whatever its link says.
  if (frame.link && !frames_.empty()) {
    h.linked = true;
    h.link = std::move(*frame.link);
    h.link.backward_valid = float_mask(h.link.backward_valid);
    h.link.forward_valid = float_mask(h.link.forward_valid);
    drop_non_finite(h.link.backward, h.link.backward_valid);
    drop_non_finite(h.link.forward, h.link.forward_valid);
  }
  // On a GPU the window lives there: the frame's planes, flows and masks go up in one
  // host-to-device copy, and every pass that reads them as a neighbour (up to
  // 2 * radius * iterations reads) finds them there. On the CPU nothing moves.
  const torch::Device device = engine_.device();
  if (!device.is_cpu()) {
    const std::vector<torch::Tensor> d =
        to_device_together({h.luma, h.chroma.at(0), h.link.backward, h.link.backward_valid,
                            h.link.forward, h.link.forward_valid},
                           device);
    h.luma = d[0];
    h.chroma.at(0) = d[1];
    h.link = FlowLink{d[2], d[3], d[4], d[5]};
  }
  frames_.push_back(std::move(h));

  // The wavefront: pass k of frame n - k*radius needs pass k-1 of frames up to
  // n - (k-1)*radius, which the previous step (or the input, k = 1) has just made.
  const long n = static_cast<long>(frames_.size()) - 1;
  for (size_t k = 1; k <= static_cast<size_t>(options_.iterations); ++k) {
    const long m = n - static_cast<long>(k) * options_.radius;
    if (m >= static_cast<long>(returned_) && frames_[static_cast<size_t>(m)].chroma.size() == k)
      refine(static_cast<size_t>(m), k);
  }
  return take_ready();
}

std::vector<RefinedFrame> RefineWindow::drain() {
  // Pass by pass, so every pass k reads pass k-1 of all its neighbours.
  for (size_t k = 1; k <= static_cast<size_t>(options_.iterations); ++k)
    for (size_t p = returned_; p < frames_.size(); ++p)
      if (frames_[p].chroma.size() == k) refine(p, k);
  std::vector<RefinedFrame> out = take_ready();
  flush();
  return out;
}

void RefineWindow::flush() {
  frames_.clear();
  returned_ = 0;
}

// F_{p -> p+offset} and its mask, composed from the per-frame links; nullopt when a link on
// the way is missing.
std::optional<ChainedFlow> RefineWindow::flow_between(size_t p, int offset) {
  Held& h = frames_[p];
  auto cached = h.flows.find(offset);
  if (cached != h.flows.end()) return cached->second;
  std::optional<ChainedFlow> out;
  if (offset == -1) {
    if (h.linked) out = ChainedFlow{h.link.backward, h.link.backward_valid};
  } else if (offset == 1) {
    const Held& next = frames_[p + 1];
    if (next.linked) out = ChainedFlow{next.link.forward, next.link.forward_valid};
  } else {
    const int step = offset > 0 ? 1 : -1;
    const auto first = flow_between(p, offset - step);
    if (!first) return std::nullopt;
    const auto second = flow_between(p + offset - step, step);
    if (!second) return std::nullopt;
    out = chain_flows(first->flow, first->valid, second->flow, second->valid);
  }
  if (out) h.flows.emplace(offset, *out);
  return out;
}

// Pass k (1-based) for the frame at position p, with the neighbours that exist: the nearer
// ones first, the past side before the future one (g's combination does not depend on the
// order, but the batch does, bit for bit).
void RefineWindow::refine(size_t p, size_t k) {
  std::vector<RefineNeighbour> nbs;
  for (int dir : {-1, 1}) {
    for (int d = 1; d <= options_.radius; ++d) {
      const long q = static_cast<long>(p) + dir * d;
      if (q < 0 || q >= static_cast<long>(frames_.size())) break;
      const auto flow = flow_between(p, dir * d);
      if (!flow) break;
      const Held& n = frames_[static_cast<size_t>(q)];
      nbs.push_back({n.luma, n.chroma[k - 1], flow->flow, flow->valid});
    }
  }
  Held& h = frames_[p];
  h.chroma.push_back(engine_.refine(h.luma, h.chroma[k - 1], nbs));
  h.changed = h.changed || !nbs.empty();
}

// Returns the frames whose last pass is done, then forgets those no frame needs any more
// (a frame's passes read its neighbours up to `radius` frames back).
std::vector<RefinedFrame> RefineWindow::take_ready() {
  std::vector<RefinedFrame> out;
  const size_t passes = static_cast<size_t>(options_.iterations) + 1;
  while (returned_ < frames_.size() && frames_[returned_].chroma.size() == passes) {
    const Held& h = frames_[returned_];
    out.push_back({h.tag, h.chroma.back(), h.chroma.front(), h.changed});
    ++returned_;
  }
  while (returned_ > static_cast<size_t>(options_.radius)) {
    frames_.pop_front();
    --returned_;
  }
  return out;
}

}  // namespace vidcolor
