// The flows that link a frame t to the frame before it, t - 1, with their forward-backward
// masks: what vcflow computes and carries in its meta (GstVcFlowMeta), what VideoColorizer
// computes itself (flow_pair) and what the refinement window (RefineWindow) links frames
// with. LibTorch only.
#pragma once

#include <torch/torch.h>

namespace vidcolor {

struct FlowLink {
  torch::Tensor backward;  // F_{t->t-1} [1,2,h,w] float, pixels of its own h x w
  torch::Tensor
      backward_valid;           // [1,1,h,w] mask on t (float or uint8, 1 = valid); may be undefined
  torch::Tensor forward;        // F_{t-1->t} [1,2,h,w]
  torch::Tensor forward_valid;  // [1,1,h,w] mask on t - 1; may be undefined
};

}  // namespace vidcolor
