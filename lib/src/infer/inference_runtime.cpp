#include "vidcolor/infer/inference_runtime.hpp"

#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "vidcolor-config.h"
#include "vidcolor/core/error.hpp"
#include "vidcolor/model/memory_format.hpp"

namespace vidcolor {

namespace {

// Number of GPUs this LibTorch sees; 0 without CUDA support.
int cuda_device_count() {
#if VIDCOLOR_TORCH_HAS_CUDA
  return torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
#else
  return 0;
#endif
}

torch::Device cuda_device(const std::string& spec, int index) {
#if !VIDCOLOR_TORCH_HAS_CUDA
  (void)index;
  throw Error("device '" + spec +
              "': this build's LibTorch has no CUDA support; use device=cpu (or auto), or "
              "build against a CUDA LibTorch (-Dtorch_dir)");
#else
  const int count = cuda_device_count();
  if (count == 0) throw Error("device '" + spec + "': LibTorch has CUDA support but sees no GPU");
  if (index >= count)
    throw Error("device '" + spec + "': no such GPU (" + std::to_string(count) +
                " visible, numbered from 0)");
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
#endif
}

}  // namespace

torch::Device parse_device(const std::string& spec) {
  if (spec == "cpu") return torch::Device(torch::kCPU);
  if (spec == "auto")
    return cuda_device_count() > 0 ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (spec == "cuda") return cuda_device(spec, 0);
  const std::string prefix = "cuda:";
  if (spec.compare(0, prefix.size(), prefix) == 0 && spec.size() > prefix.size() &&
      spec.size() <= prefix.size() + 3 &&
      spec.find_first_not_of("0123456789", prefix.size()) == std::string::npos)
    return cuda_device(spec, std::stoi(spec.substr(prefix.size())));
  throw Error("device '" + spec + "': unknown device (use cpu, cuda, cuda:N or auto)");
}

int resolve_thread_count(int threads) {
  if (threads < 0)
    throw Error("threads must be >= 0 (0 = all cores), got " + std::to_string(threads));
  if (threads > 0) return threads;
  const unsigned cores = std::thread::hardware_concurrency();
  return cores > 0 ? static_cast<int>(cores) : 1;
}

void set_inference_threads(int threads) {
  const int n = resolve_thread_count(threads);
  if (torch::get_num_threads() != n) torch::set_num_threads(n);
}

std::string default_model_path() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("VIDCOLOR_MODEL"); env != nullptr && env[0] != '\0') return env;
  const std::string installed =
      (fs::path(VIDCOLOR_INSTALLED_MODEL_DIR) / VIDCOLOR_DEFAULT_MODEL_NAME).string();
  const std::string source =
      (fs::path(VIDCOLOR_SOURCE_MODEL_DIR) / VIDCOLOR_DEFAULT_MODEL_NAME).string();
  std::error_code ec;
  if (fs::is_regular_file(installed, ec)) return installed;
  if (fs::is_regular_file(source, ec)) return source;
  return installed;
}

torch::ScalarType network_dtype(const torch::Device& device) {
  return device.is_cuda() ? torch::kHalf : torch::kFloat32;
}

void place_for_inference(const torch::nn::Module& source, torch::nn::Module& copy,
                         const torch::Device& device) {
  torch::NoGradGuard no_grad;
  const auto params = source.named_parameters(true);
  for (auto& p : copy.named_parameters(true)) p.value().copy_(params[p.key()]);
  const auto buffers = source.named_buffers(true);
  for (auto& b : copy.named_buffers(true)) b.value().copy_(buffers[b.key()]);
  copy.to(device, network_dtype(device));
  copy.eval();
  if (device.is_cpu()) use_channels_last(copy);
}

torch::Tensor network_input(const torch::Tensor& t, const torch::Device& device) {
  return device.is_cpu() ? t.contiguous(torch::MemoryFormat::ChannelsLast)
                         : t.to(network_dtype(device));
}

}  // namespace vidcolor
