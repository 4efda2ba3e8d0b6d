// The temporal refinement window (paper §4.2) written once: which neighbours a frame is
// refined with, the flows between them, and the order of the passes. vcrefine, VideoColorizer
// (hence vidcolor-eval) and vidcolor-bench-engines all run it, so they refine alike.
// LibTorch only; the caller supplies each frame's flows to the frame before it (vcrefine from
// vcflow's meta, VideoColorizer from flow_pair), the window composes longer ones.
//
// Modelled on the frame-holding helpers of deinterlacers (e.g. gst-plugins-bad d3d12's
// yadif): push() a frame, get back the frames that became ready; drain() at the end of a
// stream (EOS, a cut) refines what is held with the neighbours that exist and returns it;
// flush() drops everything. Every pushed frame comes out exactly once, in push order,
// with the caller's tag, so the caller keeps its own per-frame data (a GstBuffer, metas,
// events) matched to it.
//
// Frame s is refined with s - r ... s + r (r = radius, the paper's lambda), stopping at the
// first neighbour on a side that has no flow path to s (a frame pushed without link). Pass k
// reads pass k - 1 of every neighbour; passes run as a wavefront: when frame n arrives, pass k
// of frame n - k*r runs, so frame s is returned once s + r*iterations has been pushed
// (latency_frames()). Neighbours further than one frame use chained flows (chain_flows),
// computed once per frame and offset.
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "vidcolor/flow/flow_link.hpp"
#include "vidcolor/infer/refine_engine.hpp"

namespace vidcolor {

struct RefineWindowOptions {
  int radius = 1;      // neighbours on each side (lambda), >= 1
  int iterations = 1;  // passes of g, >= 1
};

// One frame into the window.
struct WindowFrame {
  torch::Tensor luma;    // Y [1,1,H,W] float in [0,1]
  torch::Tensor chroma;  // C [1,2,Hc,Wc] float, the input of pass 1 (f's output)
  // Flows to the frame pushed just before (t - 1); nullopt = not linked to it (the first
  // frame, a frame without flow). Non-finite flow vectors count as zero and invalid.
  std::optional<FlowLink> link;
  uint64_t tag = 0;  // the caller's, returned with the frame
};

// One frame out of the window.
struct RefinedFrame {
  uint64_t tag = 0;
  torch::Tensor chroma;        // after the last pass, [1,2,Hc,Wc] on the engine's device
  torch::Tensor input_chroma;  // what was pushed (on the engine's device)
  bool changed = false;        // some pass had a neighbour (else chroma is input_chroma)
};

class RefineWindow {
 public:
  // `engine` runs g for every pass and must outlive the window. Throws vidcolor::Error for a
  // radius or iterations below 1.
  RefineWindow(const RefineEngine& engine, RefineWindowOptions options = {});
  RefineWindow(const RefineWindow&) = delete;
  RefineWindow& operator=(const RefineWindow&) = delete;

  // Takes the next frame (moved to the engine's device with its flows in one copy, so a GPU
  // reads every neighbour from its own memory) and returns the frames that became ready, in
  // order.
  std::vector<RefinedFrame> push(WindowFrame frame);
  // Refines every frame not yet returned with the neighbours that exist (pass by pass) and
  // returns them in order; the window is empty afterwards (the next frame starts afresh).
  std::vector<RefinedFrame> drain();
  // Drops every frame without returning it.
  void flush();

  // Frames held: pushed and not yet returned, plus returned ones kept as neighbours. 0 after
  // drain() and flush(): the next frame has no frame before it.
  size_t held() const { return frames_.size(); }
  // Frames pushed and not yet returned.
  size_t waiting() const { return frames_.size() - returned_; }
  // How many frames after s frame s comes out: radius * iterations.
  size_t latency_frames() const {
    return static_cast<size_t>(options_.radius) * options_.iterations;
  }
  const RefineWindowOptions& options() const { return options_; }

 private:
  // What the window holds of one frame: its planes, its chroma after each pass, and the
  // flows linking it to the frame before it.
  struct Held {
    uint64_t tag = 0;
    torch::Tensor luma;
    std::vector<torch::Tensor> chroma;  // chroma[k]: after k passes
    bool linked = false;
    FlowLink link;
    bool changed = false;              // some pass had a neighbour
    std::map<int, ChainedFlow> flows;  // cache: offset -> F_{s->s+offset}
  };

  std::optional<ChainedFlow> flow_between(size_t p, int offset);
  void refine(size_t p, size_t pass);
  std::vector<RefinedFrame> take_ready();

  const RefineEngine& engine_;
  RefineWindowOptions options_;
  std::deque<Held> frames_;  // consecutive frames; the first returned_ have been returned
  size_t returned_ = 0;
};

}  // namespace vidcolor
