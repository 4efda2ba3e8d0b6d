// OpenCV optical flow backends behind one interface (see optical_flow.hpp).
#include "vidcolor/flow/optical_flow.hpp"

#include <opencv2/video/tracking.hpp>

#include <array>
#include <cstring>
#include <utility>

#include "vidcolor-config.h"
#include "vidcolor/core/error.hpp"

#if VIDCOLOR_HAVE_CV_CUDAOPTFLOW
#include <opencv2/core/cuda.hpp>
#include <opencv2/cudaoptflow.hpp>
#endif

namespace vidcolor {

namespace {

struct BackendName {
  FlowBackend backend;
  const char* name;
};

constexpr std::array<BackendName, 8> kNames{{
    {FlowBackend::DisUltrafast, "dis-ultrafast"},
    {FlowBackend::DisFast, "dis-fast"},
    {FlowBackend::DisMedium, "dis-medium"},
    {FlowBackend::Farneback, "farneback"},
    {FlowBackend::CudaNvidia, "cuda-nvidia"},
    {FlowBackend::CudaFarneback, "cuda-farneback"},
    {FlowBackend::CudaBrox, "cuda-brox"},
    {FlowBackend::CudaTvl1, "cuda-tvl1"},
}};

cv::Ptr<cv::DenseOpticalFlow> make_cpu(FlowBackend b) {
  switch (b) {
    case FlowBackend::DisUltrafast:
      return cv::DISOpticalFlow::create(cv::DISOpticalFlow::PRESET_ULTRAFAST);
    case FlowBackend::DisFast:
      return cv::DISOpticalFlow::create(cv::DISOpticalFlow::PRESET_FAST);
    case FlowBackend::DisMedium:
      return cv::DISOpticalFlow::create(cv::DISOpticalFlow::PRESET_MEDIUM);
    case FlowBackend::Farneback:
      // OpenCV's defaults except 5 levels of pyramid, enough for the motion of a
      // half-size frame (about 30 px per level 0 pixel at the top).
      return cv::FarnebackOpticalFlow::create(5, 0.5, false, 15, 3, 5, 1.2, 0);
    default:
      return {};
  }
}

}  // namespace

const char* flow_backend_name(FlowBackend b) {
  for (const auto& n : kNames)
    if (n.backend == b) return n.name;
  return "unknown";
}

FlowBackend flow_backend_from_name(const std::string& name) {
  for (const auto& n : kNames)
    if (name == n.name) return n.backend;
  std::string known;
  for (const auto& n : kNames) known += std::string(known.empty() ? "" : ", ") + n.name;
  throw Error("optical_flow.cpp: unknown flow backend \"" + name + "\" (known: " + known + ")");
}

bool flow_backend_is_cuda(FlowBackend b) {
  return b == FlowBackend::CudaNvidia || b == FlowBackend::CudaFarneback ||
         b == FlowBackend::CudaBrox || b == FlowBackend::CudaTvl1;
}

std::vector<FlowBackend> all_flow_backends() {
  std::vector<FlowBackend> all;
  for (const auto& n : kNames) all.push_back(n.backend);
  return all;
}

std::vector<FlowBackend> OpticalFlow::available() {
  std::vector<FlowBackend> out;
  for (const auto& n : kNames)
    if (!flow_backend_is_cuda(n.backend) || VIDCOLOR_HAVE_CV_CUDAOPTFLOW) out.push_back(n.backend);
  return out;
}

struct OpticalFlow::Impl {
  FlowBackend backend;
  cv::Ptr<cv::DenseOpticalFlow> cpu;
#if VIDCOLOR_HAVE_CV_CUDAOPTFLOW
  cv::Ptr<cv::cuda::DenseOpticalFlow> cuda;
  // The NVIDIA engine is created per frame size, so lazily on the first frame.
  cv::Ptr<cv::cuda::NvidiaOpticalFlow_1_0> nvidia;
  cv::Size nvidia_size;
  cv::cuda::GpuMat g_from, g_to, g_flow;
#endif

  cv::Mat compute_cuda(const cv::Mat& from, const cv::Mat& to);
};

OpticalFlow::OpticalFlow(FlowBackend backend) : impl_(std::make_unique<Impl>()) {
  impl_->backend = backend;
  if (!flow_backend_is_cuda(backend)) {
    impl_->cpu = make_cpu(backend);
    if (!impl_->cpu)
      throw Error(std::string("optical_flow.cpp: cannot create flow backend ") +
                  flow_backend_name(backend));
    return;
  }
#if VIDCOLOR_HAVE_CV_CUDAOPTFLOW
  if (cv::cuda::getCudaEnabledDeviceCount() <= 0)
    throw Error(std::string("optical_flow.cpp: flow backend ") + flow_backend_name(backend) +
                " needs a CUDA device, and OpenCV sees none");
  switch (backend) {
    case FlowBackend::CudaFarneback:
      impl_->cuda = cv::cuda::FarnebackOpticalFlow::create(5, 0.5, false, 15, 3, 5, 1.2, 0);
      break;
    case FlowBackend::CudaBrox:
      impl_->cuda = cv::cuda::BroxOpticalFlow::create();
      break;
    case FlowBackend::CudaTvl1:
      impl_->cuda = cv::cuda::OpticalFlowDual_TVL1::create();
      break;
    default:
      break;  // CudaNvidia: created on the first frame
  }
#else
  throw Error(std::string("optical_flow.cpp: flow backend ") + flow_backend_name(backend) +
              " is not in this build: its OpenCV has no cudaoptflow module (available: "
              "dis-ultrafast, dis-fast, dis-medium, farneback)");
#endif
}

OpticalFlow::~OpticalFlow() = default;
OpticalFlow::OpticalFlow(OpticalFlow&&) noexcept = default;
OpticalFlow& OpticalFlow::operator=(OpticalFlow&&) noexcept = default;

FlowBackend OpticalFlow::backend() const { return impl_->backend; }

cv::Mat OpticalFlow::compute(const cv::Mat& from, const cv::Mat& to) {
  if (from.empty() || to.empty() || from.type() != CV_8UC1 || to.type() != CV_8UC1 ||
      from.size() != to.size())
    throw Error("optical_flow.cpp: compute needs two non-empty CV_8UC1 frames of one size, got " +
                std::to_string(from.cols) + "x" + std::to_string(from.rows) + " type " +
                std::to_string(from.type()) + " and " + std::to_string(to.cols) + "x" +
                std::to_string(to.rows) + " type " + std::to_string(to.type()));
  if (impl_->cpu) {
    // A fresh output each call: DIS takes a non-empty flow of the right size as its
    // initial guess, which would carry state from the previous pair.
    cv::Mat flow;
    impl_->cpu->calc(from, to, flow);
    return flow;
  }
  return impl_->compute_cuda(from, to);
}

#if VIDCOLOR_HAVE_CV_CUDAOPTFLOW
cv::Mat OpticalFlow::Impl::compute_cuda(const cv::Mat& from, const cv::Mat& to) {
  cv::Mat out;
  if (backend == FlowBackend::CudaNvidia) {
    if (!nvidia || nvidia_size != from.size()) {
      nvidia = cv::cuda::NvidiaOpticalFlow_1_0::create(
          from.size(), cv::cuda::NvidiaOpticalFlow_1_0::NV_OF_PERF_LEVEL_FAST);
      nvidia_size = from.size();
    }
    g_from.upload(from);
    g_to.upload(to);
    // Motion of each block of the input frame into the reference frame, on a 4x4 grid in
    // S10.5 fixed point; convertToFloat expands it to one float vector per pixel.
    nvidia->calc(g_from, g_to, g_flow);
    cv::Mat coarse;
    g_flow.download(coarse);
    nvidia->convertToFloat(coarse, out);
    return out;
  }
  if (backend == FlowBackend::CudaBrox) {
    // Brox needs float images in [0, 1].
    cv::Mat f0, f1;
    from.convertTo(f0, CV_32F, 1.0 / 255.0);
    to.convertTo(f1, CV_32F, 1.0 / 255.0);
    g_from.upload(f0);
    g_to.upload(f1);
  } else {
    g_from.upload(from);
    g_to.upload(to);
  }
  cuda->calc(g_from, g_to, g_flow);
  g_flow.download(out);
  return out;
}
#else
cv::Mat OpticalFlow::Impl::compute_cuda(const cv::Mat&, const cv::Mat&) {
  throw Error("optical_flow.cpp: CUDA flow requested in a build without cudaoptflow");
}
#endif

torch::Tensor flow_mat_to_tensor(const cv::Mat& flow) {
  if (flow.empty() || flow.type() != CV_32FC2)
    throw Error("optical_flow.cpp: flow_mat_to_tensor needs a non-empty CV_32FC2 matrix");
  const cv::Mat c = flow.isContinuous() ? flow : flow.clone();
  auto t =
      torch::from_blob(const_cast<float*>(c.ptr<float>()), {c.rows, c.cols, 2}, torch::kFloat32);
  return t.permute({2, 0, 1}).unsqueeze(0).contiguous();  // contiguous() copies
}

cv::Mat flow_tensor_to_mat(const torch::Tensor& flow) {
  torch::Tensor f = flow;
  if (f.defined() && f.dim() == 4 && f.size(0) == 1) f = f.squeeze(0);
  if (!f.defined() || f.dim() != 3 || f.size(0) != 2 || !f.is_floating_point())
    throw Error("optical_flow.cpp: flow_tensor_to_mat needs a float [1,2,H,W] or [2,H,W] flow");
  const auto hwc = f.to(torch::kCPU, torch::kFloat32).permute({1, 2, 0}).contiguous();
  cv::Mat out(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_32FC2);
  std::memcpy(out.ptr<float>(), hwc.data_ptr<float>(),
              static_cast<size_t>(hwc.numel()) * sizeof(float));
  return out;
}

}  // namespace vidcolor
