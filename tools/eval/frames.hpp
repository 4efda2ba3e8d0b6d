// Conversions between OpenCV frames and the tensors vidcolor-eval scores, and the PNG strips
// (gray | f | f+g | ground truth) it writes so people can look at the results.
#pragma once

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace vceval {

// 8-bit BGR -> 8-bit full-range BT.601 luma (lib/color.hpp: what vcgray does to RGB input).
cv::Mat bgr_to_gray8(const cv::Mat& bgr);

// 8-bit BGR -> R'G'B' [1,3,H,W] float in [0,1].
torch::Tensor bgr_to_rgb_tensor(const cv::Mat& bgr);

// 8-bit gray + Gaussian grain of standard deviation `sigma` (luma units, 1 = white), from the
// seeded generator, rounded and clamped to 8 bits: a noisy source for the networks
// (vidcolor-eval --input-grain). sigma 0 returns the frame itself.
cv::Mat with_grain(const cv::Mat& gray, double sigma, uint64_t seed);

// 8-bit gray -> [1,1,H,W] float in [0,1].
torch::Tensor gray_to_tensor(const cv::Mat& gray);

// The gray input shown as color: Y in all three channels, [1,3,H,W].
torch::Tensor gray_to_rgb_tensor(const cv::Mat& gray);

// Luma (8-bit gray) + predicted chroma [1,2,H,W] (Cb, Cr in [-0.5, 0.5]) -> R'G'B'
// [1,3,H,W], clamped and rounded to 8-bit steps: the picture a user would get as a file.
torch::Tensor colorized_rgb_tensor(const cv::Mat& gray, const torch::Tensor& chroma);

// R'G'B' [1,3,H,W] or [3,H,W] in [0,1] -> 8-bit BGR.
cv::Mat rgb_tensor_to_bgr(const torch::Tensor& rgb);

// Collects rows of panels (each row one frame: gray | f | f+g | ground truth, all BGR of one
// size) and writes them as one PNG.
class Strip {
 public:
  void add_row(const std::vector<cv::Mat>& panels);
  bool empty() const { return rows_.empty(); }
  // Throws vidcolor::Error if the file cannot be written.
  void write(const std::string& path) const;

 private:
  std::vector<cv::Mat> rows_;
};

}  // namespace vceval
