// A whole gray clip through the element chain's code path, without GStreamer:
// f (ColorizeEngine: inference size, candidate choice, guided upsampling) -> optical flow
// (flow_pair at the chain's flow scale, as vcflow in vidcolorize) -> g (RefineWindow over
// RefineEngine, as vcrefine, with its window and iterations).
// For tools that need what the elements would output (vidcolor-eval), plus f's output
// alone for the ablation. OpenCV part of libvidcolor (the flow needs it).
#pragma once

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "vidcolor/model/networks.hpp"

namespace vidcolor {

struct ColorizedFrame {
  int64_t index = 0;        // position in the clip (0 = first frame pushed since reset)
  torch::Tensor chroma_f;   // [1,2,H,W] float Cb, Cr at full resolution: f alone (chosen candidate)
  torch::Tensor chroma_fg;  // [1,2,H,W] the same after g: what the element chain outputs
};

// Operating point of the two networks (vidcolorize's / vcrefine's inference-size properties).
struct VideoColorizerOptions {
  int colorize_inference_size = 0;  // short side f runs at; 0 = the model's
  int refine_inference_size = 0;    // short side g runs at; 0 = the model's (for g)
  int candidate = -1;               // f's candidate: -1 = auto (as the elements), 0..d-1 fixed
  int window = 1;                   // vcrefine's window (neighbours on each side, lambda)
  int iterations = 1;               // vcrefine's iterations (passes of g)
  double class_temperature = 0.0;   // vccolorize's class-temperature: 0 = the model's
  double class_debias = -1.0;       // vccolorize's class-debias: -1 = the model's
  bool skip_borders = true;         // vccolorize's skip-borders
};

class VideoColorizer {
 public:
  // The model is shared with the caller (the engines only read it). Throws vidcolor::Error
  // for inference sizes or class decodings the engines refuse, or a window or iterations
  // below 1.
  explicit VideoColorizer(std::shared_ptr<const Model> model, VideoColorizerOptions options = {});
  ~VideoColorizer();
  VideoColorizer(const VideoColorizer&) = delete;
  VideoColorizer& operator=(const VideoColorizer&) = delete;

  // Next gray frame (CV_8UC1, full-range luma; every frame of a clip one size). Returns the
  // frames that are complete, in order: g needs the frames after it, so frame t comes out
  // after frame t + window * iterations is pushed (or at finish()). Throws vidcolor::Error on
  // a bad frame.
  std::vector<ColorizedFrame> push(const cv::Mat& gray);

  // End of the clip: returns the frames still held, and starts afresh (the next push is
  // frame 0 of a new clip, with a new candidate choice), as the elements do at EOS.
  std::vector<ColorizedFrame> finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vidcolor
