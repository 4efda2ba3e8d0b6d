// The pictures vidcolor-train writes at each checkpoint, drawn into uint8 tensors with LibTorch
// alone (no OpenCV): a sheet of sample colorizations and the loss curves. Text uses a built-in
// 5x8 pixel font (lower-case letters, digits, a little punctuation; upper case is drawn as
// lower case), enough for labels and axis values.
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace vidcolor {

using Rgb8 = std::array<uint8_t, 3>;

// Draws `text` into canvas (uint8 [H,W,3], CPU, contiguous) with its top-left corner at (x, y),
// each font pixel a scale x scale square; clipped at the canvas border. Returns the width drawn.
int draw_text(torch::Tensor& canvas, int x, int y, const std::string& text, Rgb8 color,
              int scale = 1);

// One row of the sample sheet; images float in [0, 1], CPU, all H x W.
struct SampleRow {
  torch::Tensor gray;        // [1,H,W] the network input
  torch::Tensor candidates;  // [d,3,H,W] R'G'B' of f's d candidates
  torch::Tensor refined;     // [3,H,W] f + g (candidate 1 refined by g), or undefined
  torch::Tensor truth;       // [3,H,W] ground truth
};

// gray | candidate 1..d | f+g | ground truth, one row per sample, with column titles and a
// title line. Rows without `refined` leave that cell dark. -> uint8 [H,W,3].
torch::Tensor sample_sheet(const std::vector<SampleRow>& rows, const std::string& title);

// One loss term over training steps (NaN values = not computed at that step, skipped).
struct LossSeries {
  std::string name;
  std::vector<double> steps, values;
};

// One panel per series (stacked), each the moving average of its values over steps (window
// about 1/100 of the points) on a linear axis from its minimum to its maximum, labelled with
// the name, the last smoothed value and the axis range; vertical lines at stage_starts with
// their names. Series without a finite value are left out. -> uint8 [H,W,3].
torch::Tensor loss_curves_image(const std::vector<LossSeries>& series,
                                const std::vector<double>& stage_starts,
                                const std::vector<std::string>& stage_names, int width = 720,
                                int panel_height = 140);

}  // namespace vidcolor
