#include "vidcolor/ops/device_transfer.hpp"

#include <string>

#include "vidcolor/core/error.hpp"

namespace vidcolor {

std::vector<torch::Tensor> to_device_together(const std::vector<torch::Tensor>& tensors,
                                              const torch::Device& device) {
  std::vector<torch::Tensor> flat;
  std::vector<int64_t> lengths;
  c10::optional<torch::ScalarType> dtype;
  for (const torch::Tensor& t : tensors) {
    if (!t.defined()) continue;
    if (dtype && *dtype != t.scalar_type())
      throw Error(std::string("to_device_together: mixed dtypes (") + c10::toString(*dtype) +
                  " and " + c10::toString(t.scalar_type()) + ")");
    dtype = t.scalar_type();
    flat.push_back(t.to(torch::kCPU).reshape({-1}));
    lengths.push_back(t.numel());
  }
  std::vector<torch::Tensor> out(tensors.size());
  if (flat.empty()) return out;
  const std::vector<torch::Tensor> parts = torch::cat(flat).to(device).split_with_sizes(lengths);
  size_t k = 0;
  for (size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].defined()) out[i] = parts[k++].view(tensors[i].sizes());
  return out;
}

}  // namespace vidcolor
