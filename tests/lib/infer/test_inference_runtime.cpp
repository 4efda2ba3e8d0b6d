// parse_device, set_inference_threads and default_model_path: the meaning of the elements'
// "device", "threads" and "model" properties.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "vidcolor-config.h"
#include "vidcolor/core/error.hpp"
#include "vidcolor/infer/inference_runtime.hpp"

using namespace vidcolor;
namespace fs = std::filesystem;

namespace {

bool have_gpu() {
#if VIDCOLOR_TORCH_HAS_CUDA
  return torch::cuda::is_available() && torch::cuda::device_count() > 0;
#else
  return false;
#endif
}

void expect_device_error(const std::string& spec, const std::string& problem) {
  try {
    parse_device(spec);
    ADD_FAILURE() << "no error for '" << spec << "'";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("'" + spec + "'"), std::string::npos) << msg;
    EXPECT_NE(msg.find(problem), std::string::npos) << "expected '" << problem << "' in: " << msg;
  }
}

}  // namespace

TEST(ParseDevice, CpuAndAuto) {
  EXPECT_EQ(parse_device("cpu"), torch::Device(torch::kCPU));
  const torch::Device a = parse_device("auto");
  if (have_gpu())
    EXPECT_EQ(a, torch::Device(torch::kCUDA, 0));
  else
    EXPECT_EQ(a, torch::Device(torch::kCPU));
}

TEST(ParseDevice, UnknownSpecsAreErrors) {
  for (const char* spec :
       {"", "gpu", "CPU", "cuda:", "cuda:x", "cuda:-1", "cuda:1a", "cuda0", "cuda:12345", " cpu"})
    expect_device_error(spec, "unknown device");
}

TEST(ParseDevice, ExplicitCuda) {
  if (!have_gpu()) {
#if VIDCOLOR_TORCH_HAS_CUDA
    expect_device_error("cuda", "sees no GPU");
#else
    expect_device_error("cuda", "no CUDA support");
    expect_device_error("cuda:0", "no CUDA support");
    expect_device_error("cuda:3", "no CUDA support");
#endif
    return;
  }
  EXPECT_EQ(parse_device("cuda"), torch::Device(torch::kCUDA, 0));
  EXPECT_EQ(parse_device("cuda:0"), torch::Device(torch::kCUDA, 0));
  expect_device_error("cuda:99", "no such GPU");
}

TEST(InferenceThreads, SetsTheCallingThread) {
  set_inference_threads(2);
  EXPECT_EQ(torch::get_num_threads(), 2);
  set_inference_threads(1);
  EXPECT_EQ(torch::get_num_threads(), 1);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  EXPECT_EQ(resolve_thread_count(0), cores);
  EXPECT_EQ(resolve_thread_count(3), 3);
  // A streaming thread sets its own count.
  int seen = -1;
  std::thread t([&] {
    set_inference_threads(0);
    seen = torch::get_num_threads();
  });
  t.join();
  EXPECT_EQ(seen, cores);
}

TEST(InferenceThreads, NegativeIsAnError) {
  EXPECT_THROW(set_inference_threads(-1), Error);
  try {
    resolve_thread_count(-2);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("-2"), std::string::npos) << e.what();
  }
}

TEST(DefaultModelPath, EnvironmentOverrides) {
  ASSERT_EQ(::setenv("VIDCOLOR_MODEL", "/some/where/model.safetensors", 1), 0);
  EXPECT_EQ(default_model_path(), "/some/where/model.safetensors");
  ASSERT_EQ(::setenv("VIDCOLOR_MODEL", "", 1), 0);  // empty = not set
  EXPECT_NE(default_model_path(), "");
  ::unsetenv("VIDCOLOR_MODEL");
}

TEST(DefaultModelPath, InstalledThenSourceTree) {
  ::unsetenv("VIDCOLOR_MODEL");
  const fs::path installed = fs::path(VIDCOLOR_INSTALLED_MODEL_DIR) / VIDCOLOR_DEFAULT_MODEL_NAME;
  const fs::path source = fs::path(VIDCOLOR_SOURCE_MODEL_DIR) / VIDCOLOR_DEFAULT_MODEL_NAME;
  const std::string p = default_model_path();
  if (fs::exists(installed))
    EXPECT_EQ(p, installed.string());
  else if (fs::exists(source))
    EXPECT_EQ(p, source.string());
  else
    EXPECT_EQ(p, installed.string()) << "with no model anywhere the installed path is named";
}

TEST(InferenceRuntime, NetworksRunHalfOnlyOnCuda) {
  EXPECT_EQ(network_dtype(torch::Device(torch::kCPU)), torch::kFloat32);
  EXPECT_EQ(network_dtype(torch::Device(torch::kCUDA, 0)), torch::kHalf);
}
