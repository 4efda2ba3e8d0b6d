#include "vidcolor/model/memory_format.hpp"

namespace vidcolor {

void use_channels_last(torch::nn::Module& module) {
  for (torch::Tensor& p : module.parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
}

}  // namespace vidcolor
