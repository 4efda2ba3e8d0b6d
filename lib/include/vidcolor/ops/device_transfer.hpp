// Moving a frame's tensors to a GPU in one transfer: each host-to-device copy has a fixed cost
// (a staging copy and a synchronisation for pageable memory), and a frame of vcrefine is six
// small tensors (luma, chroma, two flows, two masks).
#pragma once

#include <torch/torch.h>

#include <vector>

namespace vidcolor {

// The tensors, in order, on `device`, with their shapes and dtype, made by one copy: they are
// packed into one contiguous host buffer (all must have the same dtype), moved once, and split
// into contiguous views of that one device buffer. Undefined tensors stay undefined. Meant for
// host tensors (others are brought to the host first). Throws vidcolor::Error when the defined
// tensors have different dtypes.
std::vector<torch::Tensor> to_device_together(const std::vector<torch::Tensor>& tensors,
                                              const torch::Device& device);

}  // namespace vidcolor
