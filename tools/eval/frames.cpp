// Frame <-> tensor conversions and PNG strips for vidcolor-eval.
#include "frames.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstring>

#include "vidcolor/core/color.hpp"
#include "vidcolor/core/error.hpp"

namespace vceval {

cv::Mat bgr_to_gray8(const cv::Mat& bgr) {
  CV_Assert(bgr.type() == CV_8UC3);
  cv::Mat gray(bgr.rows, bgr.cols, CV_8UC1);
  const vidcolor::PackedRgbLayout bgr_layout{3, 2, 1, 0};
  for (int y = 0; y < bgr.rows; ++y)
    vidcolor::rgb_row_to_gray8(bgr.ptr<uint8_t>(y), bgr_layout, gray.ptr<uint8_t>(y), bgr.cols,
                               vidcolor::Matrix::BT601);
  return gray;
}

cv::Mat with_grain(const cv::Mat& gray, double sigma, uint64_t seed) {
  CV_Assert(gray.type() == CV_8UC1 && sigma >= 0);
  if (sigma == 0) return gray;
  cv::Mat noise(gray.size(), CV_32F);
  cv::RNG rng(seed);
  rng.fill(noise, cv::RNG::NORMAL, 0.0, sigma * 255.0);
  cv::Mat out;
  gray.convertTo(out, CV_32F);
  out += noise;
  out.convertTo(out, CV_8U);  // rounds and saturates to 0..255
  return out;
}

torch::Tensor bgr_to_rgb_tensor(const cv::Mat& bgr) {
  CV_Assert(bgr.type() == CV_8UC3);
  const cv::Mat c = bgr.isContinuous() ? bgr : bgr.clone();
  const auto hwc = torch::from_blob(c.data, {c.rows, c.cols, 3}, torch::kUInt8);
  // BGR -> RGB by flipping the channel axis.
  return hwc.flip({2}).permute({2, 0, 1}).unsqueeze(0).to(torch::kFloat).div(255.0).contiguous();
}

torch::Tensor gray_to_tensor(const cv::Mat& gray) {
  CV_Assert(gray.type() == CV_8UC1);
  const cv::Mat c = gray.isContinuous() ? gray : gray.clone();
  return torch::from_blob(c.data, {1, 1, c.rows, c.cols}, torch::kUInt8)
      .to(torch::kFloat)
      .div(255.0);
}

torch::Tensor gray_to_rgb_tensor(const cv::Mat& gray) {
  return gray_to_tensor(gray).expand({1, 3, gray.rows, gray.cols}).contiguous();
}

torch::Tensor colorized_rgb_tensor(const cv::Mat& gray, const torch::Tensor& chroma) {
  const auto y = gray_to_tensor(gray);
  const auto c = chroma.to(torch::kCPU, torch::kFloat);
  if (c.dim() != 4 || c.size(0) != 1 || c.size(1) != 2 || c.size(2) != gray.rows ||
      c.size(3) != gray.cols)
    throw vidcolor::Error("vidcolor-eval: chroma does not match its " + std::to_string(gray.cols) +
                          "x" + std::to_string(gray.rows) + " frame");
  // R'G'B' = kYccToRgb601 * (Y, Cb, Cr), per pixel.
  const auto m =
      torch::from_blob(const_cast<float*>(vidcolor::kYccToRgb601), {3, 3}, torch::kFloat);
  const auto ycc = torch::cat({y, c}, 1).view({3, -1});
  const auto rgb = m.matmul(ycc).view({1, 3, gray.rows, gray.cols});
  return (rgb.clamp(0.0, 1.0) * 255.0).round().div(255.0);
}

cv::Mat rgb_tensor_to_bgr(const torch::Tensor& rgb) {
  const auto t = rgb.dim() == 4 ? rgb[0] : rgb;
  const auto hwc = (t.to(torch::kCPU, torch::kFloat).clamp(0.0, 1.0) * 255.0)
                       .round()
                       .to(torch::kUInt8)
                       .flip({0})
                       .permute({1, 2, 0})
                       .contiguous();
  cv::Mat out(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_8UC3);
  std::memcpy(out.data, hwc.data_ptr<uint8_t>(), static_cast<size_t>(hwc.numel()));
  return out;
}

void Strip::add_row(const std::vector<cv::Mat>& panels) {
  cv::Mat row;
  cv::hconcat(panels, row);
  rows_.push_back(row);
}

void Strip::write(const std::string& path) const {
  cv::Mat all;
  cv::vconcat(rows_, all);
  bool ok = false;
  try {
    ok = cv::imwrite(path, all);
  } catch (const cv::Exception& e) {
    throw vidcolor::Error("vidcolor-eval: " + path + ": " + e.what());
  }
  if (!ok) throw vidcolor::Error("vidcolor-eval: " + path + ": cannot write the PNG strip");
}

}  // namespace vceval
