// Where and how the networks run: the device a user names, LibTorch's thread count for the
// calling thread, and where the shipped model file is found. Shared by the elements
// (vccolorize, vcrefine) and the tools so "device", "threads" and "model" mean the same
// everywhere.
#pragma once

#include <torch/torch.h>

#include <string>

namespace vidcolor {

// "cpu", "cuda" (= cuda:0), "cuda:N" or "auto" (cuda:0 when this LibTorch has CUDA and a GPU
// is present, else cpu). Throws vidcolor::Error for an unknown spec, for an explicit cuda
// device when this LibTorch was built without CUDA or sees no GPU, and for a GPU index that
// does not exist.
torch::Device parse_device(const std::string& spec);

// Intra-op threads for the LibTorch work done by the *calling* thread; 0 = all cores
// (std::thread::hardware_concurrency). LibTorch here starts with one thread, and with its
// OpenMP backend at::set_num_threads sets the OpenMP thread count of the calling thread
// only, so an element calls this from its streaming thread (e.g. on the first buffer), not
// from the thread that set the property. Throws vidcolor::Error for threads < 0.
void set_inference_threads(int threads);

// The thread count set_inference_threads(threads) applies: threads, or all cores for 0.
int resolve_thread_count(int threads);

// The dtype the networks f and g run in on `device`: half on CUDA (tensor cores, half the
// memory traffic; untested here, no GPU), float32 elsewhere (LibTorch 1.13 has no CPU half
// convolutions, and bf16 without AMX/AVX-512-BF16 is slower than float32). The engines keep
// everything around the networks in float32.
torch::ScalarType network_dtype(const torch::Device& device);

// The model file used when none is given:
//  1. the environment variable VIDCOLOR_MODEL, if set and not empty (lets a user or a test
//     point every element and tool at another model without a property);
//  2. the installed model VIDCOLOR_INSTALLED_MODEL_DIR/VIDCOLOR_DEFAULT_MODEL_NAME, if it exists;
//  3. the source tree's VIDCOLOR_SOURCE_MODEL_DIR/VIDCOLOR_DEFAULT_MODEL_NAME, if it exists
//     (uninstalled builds);
//  4. otherwise the installed path, so the load error names where the model was looked for.
std::string default_model_path();

}  // namespace vidcolor
