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
// memory traffic; within 2 levels of float32 on an H100, docs/BENCHMARKS.md), float32 elsewhere
// (LibTorch 1.13 has no CPU half convolutions, and bf16 without AMX/AVX-512-BF16 is slower than
// float32). The engines keep everything around the networks in float32.
torch::ScalarType network_dtype(const torch::Device& device);

// An engine's own copy of a network (f in ColorizeEngine, g in RefineEngine; the shared model
// is never modified): `copy`, built for the same config, takes `source`'s parameters and
// buffers, moves to `device` in network_dtype, and goes to eval mode. On the CPU its 4-D
// weights become channels-last, and network_input makes the inputs so: oneDNN then runs these
// thin layers without reordering every activation (f 28 -> 22 ms at 192x112, g 22 -> 20 ms at
// 192x112 on one core, docs/BENCHMARKS.md).
void place_for_inference(const torch::nn::Module& source, torch::nn::Module& copy,
                         const torch::Device& device);

// A float32 NCHW input of such a copy as the copy takes it: channels-last on the CPU,
// network_dtype elsewhere.
torch::Tensor network_input(const torch::Tensor& t, const torch::Device& device);

// The model file used when none is given:
//  1. the environment variable VIDCOLOR_MODEL, if set and not empty (lets a user or a test
//     point every element and tool at another model without a property);
//  2. the installed model VIDCOLOR_INSTALLED_MODEL_DIR/VIDCOLOR_DEFAULT_MODEL_NAME, if it exists;
//  3. the source tree's VIDCOLOR_SOURCE_MODEL_DIR/VIDCOLOR_DEFAULT_MODEL_NAME, if it exists
//     (uninstalled builds);
//  4. otherwise the installed path, so the load error names where the model was looked for.
std::string default_model_path();

}  // namespace vidcolor
