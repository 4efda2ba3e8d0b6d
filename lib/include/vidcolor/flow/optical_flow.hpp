// Dense optical flow between two gray frames with OpenCV: DIS and Farneback on the CPU,
// and OpenCV's CUDA optical flow (NVIDIA hardware flow, Farneback, Brox, TV-L1) in builds
// whose OpenCV has the cudaoptflow module (VIDCOLOR_HAVE_CV_CUDAOPTFLOW).
//
// Flow convention (docs/ARCHITECTURE.md): compute(from, to) gives, for each pixel x of
// `from`, its displacement into `to`: from(x) ~ to(x + F(x)), so warp(to, F) ~ from.
#pragma once

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace vidcolor {

enum class FlowBackend {
  DisUltrafast,   // OpenCV DIS, preset ULTRAFAST (fastest, coarsest)
  DisFast,        // OpenCV DIS, preset FAST
  DisMedium,      // OpenCV DIS, preset MEDIUM (most accurate DIS)
  Farneback,      // OpenCV Farneback (CPU)
  CudaNvidia,     // NVIDIA optical flow hardware (Turing+), cv::cuda::NvidiaOpticalFlow_1_0
  CudaFarneback,  // cv::cuda::FarnebackOpticalFlow
  CudaBrox,       // cv::cuda::BroxOpticalFlow
  CudaTvl1,       // cv::cuda::OpticalFlowDual_TVL1
};

// "dis-ultrafast", "dis-fast", "dis-medium", "farneback", "cuda-nvidia", "cuda-farneback",
// "cuda-brox", "cuda-tvl1".
const char* flow_backend_name(FlowBackend b);
// Inverse of flow_backend_name; throws vidcolor::Error on an unknown name.
FlowBackend flow_backend_from_name(const std::string& name);
bool flow_backend_is_cuda(FlowBackend b);
// Every backend of the enum, in enum order.
std::vector<FlowBackend> all_flow_backends();

class OpticalFlow {
 public:
  // Throws vidcolor::Error for a CUDA backend in a build without cudaoptflow (or when no
  // CUDA device is present).
  explicit OpticalFlow(FlowBackend backend);
  ~OpticalFlow();
  OpticalFlow(OpticalFlow&&) noexcept;
  OpticalFlow& operator=(OpticalFlow&&) noexcept;
  OpticalFlow(const OpticalFlow&) = delete;
  OpticalFlow& operator=(const OpticalFlow&) = delete;

  // Flow from -> to, CV_32FC2 (dx, dy) of from's size. Both CV_8UC1 of one size; throws
  // vidcolor::Error otherwise. Each call is independent (no state carried between calls).
  cv::Mat compute(const cv::Mat& from_gray8, const cv::Mat& to_gray8);

  FlowBackend backend() const;

  // The backends this build has: the CPU ones always, the CUDA ones when OpenCV was built
  // with cudaoptflow (whether a CUDA device is present is checked when one is constructed).
  static std::vector<FlowBackend> available();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// CV_32FC2 H x W -> float [1,2,H,W] (a copy; channel 0 = dx, 1 = dy).
torch::Tensor flow_mat_to_tensor(const cv::Mat& flow);
// float [1,2,H,W] or [2,H,W] -> CV_32FC2 H x W (a copy). Throws vidcolor::Error otherwise.
cv::Mat flow_tensor_to_mat(const torch::Tensor& flow);

}  // namespace vidcolor
