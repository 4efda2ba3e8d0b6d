// Network f on a stream of gray frames (what vccolorize runs): the frame is brought to the
// inference size, f predicts d candidate chroma planes, one candidate is chosen (fixed; or
// automatically: the model's default candidate when its file names one, else the most
// saturated, locked so it cannot flicker), and its chroma is brought
// back to full resolution by guided_upsample on the full-resolution luma. Luma is never
// changed: the caller keeps its input gray as Y. LibTorch only.
#pragma once

#include <torch/torch.h>

#include <memory>

#include "vidcolor/model/networks.hpp"

namespace vidcolor {

struct ColorizeOptions {
  int candidate = -1;      // -1 = auto (the model's default_candidate if >= 0, else by
                           // saturation), 0..d-1 = always this candidate
  int inference_size = 0;  // short side f runs at; 0 = the model's config
  int auto_frames = 8;     // auto: frames over which the candidate is chosen, then locked
  // auto: a scene cut re-chooses. Cut = total-variation distance between the 16-bin
  // histograms of consecutive inference-size lumas (the fraction of pixels that would have
  // to change brightness bin, 0..1) above this. 0.5 ignores camera motion, pans and slow
  // fades (histograms barely move) and catches cuts between shots of different brightness
  // distribution; a cut between two shots with near-equal histograms is not seen (the lock
  // then holds, which is the safe failure: no flicker). > 1 disables cut detection.
  double scene_cut_threshold = 0.5;
  int guide_radius = 1;     // guided_upsample window radius (inference-size pixels)
  double guide_eps = 1e-3;  // guided_upsample regularisation (luma in [0,1])
  // Decoding of f's chroma classes, overriding the model file's operating point
  // (ModelConfig::class_temperature and class_debias, chosen on validation clips): a lower
  // debias gives more colour and more of the rare colours, a higher one duller, closer to the
  // average colour; they move along the trade of PSNR against colour (models/MODEL_CARD.md).
  double class_temperature = 0.0;  // 0 = the model's; else 0.01..10
  double class_debias = -1.0;      // -1 = the model's; else 0..1
  // f runs on the picture inside black letterbox / pillarbox borders only (picture_area.hpp:
  // found per frame, steadied over the stream), at its inference size, and the borders get
  // neutral chroma. f colours a picture with bars beside it differently from the photos it
  // learned (models/MODEL_CARD.md, "Borders"). false = f sees the whole frame.
  bool skip_borders = true;
};

// A mosaic frame: all d candidates side by side (see colorize_mosaic).
struct MosaicFrame {
  torch::Tensor luma;    // [1,1,H,W] float in [0,1]: each cell the frame scaled to the cell
  torch::Tensor chroma;  // [1,2,H,W] float Cb, Cr
};

class ColorizeEngine {
 public:
  // f of `model` runs on `device`, in eval mode and torch::InferenceMode, as the engine's own
  // copy (channels-last on the CPU, for oneDNN's speed; half precision on CUDA, untested here;
  // the shared model is never modified). Throws vidcolor::Error for a null model, a candidate
  // outside -1..d-1, inference_size < 0 (or 1..15), auto_frames < 1, a negative threshold, bad
  // guide parameters, or a class_temperature / class_debias override out of range or for a
  // model without chroma classes.
  ColorizeEngine(std::shared_ptr<const Model> model, torch::Device device,
                 ColorizeOptions options = {});
  ~ColorizeEngine();
  ColorizeEngine(ColorizeEngine&&) noexcept;
  ColorizeEngine& operator=(ColorizeEngine&&) noexcept;

  // The chroma of the chosen candidate for one frame. luma: [1,1,H,W] floating point in
  // [0,1] (full-range Y', full resolution; any device, moved to the engine's). Returns
  // [1,2,H,W] float32 Cb, Cr in [-0.5, 0.5] on the engine's device (an inference tensor:
  // read it or copy it; do not modify it in place outside InferenceMode).
  // Auto with a model whose config names a default_candidate: that one on every frame (as a
  // fixed candidate). Otherwise auto: while not locked, each frame adds every candidate's
  // mean HSV saturation (color.hpp's hsv_saturation of the clamped R'G'B', at inference
  // size) to a running sum and the frame
  // uses the candidate with the largest sum so far; after auto_frames frames that choice is
  // locked until reset() or a scene cut. Throws vidcolor::Error for a bad luma tensor.
  torch::Tensor colorize(const torch::Tensor& luma);

  // All d candidates at full resolution: [1,d,2,H,W]. Does not change the choice state; with
  // skip_borders, f runs inside this frame's own borders (not the stream's steadied box).
  torch::Tensor colorize_all(const torch::Tensor& luma);

  // All d candidates on one frame of the input's size, for choosing a candidate: a grid of
  // ceil(sqrt(d)) columns (2 x 2 for d = 4), cell i (row-major) shows candidate i on the
  // frame area-scaled to the cell; cells split odd sizes (left/top cells get the smaller
  // half); unused cells are gray. f sees the whole frame (borders included). Does not change
  // the choice state.
  MosaicFrame colorize_mosaic(const torch::Tensor& luma);

  // Forget the choice, the scene-cut history and the borders (flush, new stream, new caps).
  void reset();

  int candidates() const;
  // The candidate of the last colorize(): the fixed one, or in auto mode -1 until the first
  // frame after construction or reset().
  int chosen_candidate() const;
  // Whether the auto choice is locked (always true for a fixed candidate).
  bool locked() const;
  // Whether the last colorize() saw a scene cut (auto mode only).
  bool last_was_scene_cut() const;
  const torch::Device& device() const;
  const ColorizeOptions& options() const;
  // The size f runs at for a width x height frame.
  void inference_dims(int width, int height, int* out_width, int* out_height) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vidcolor
