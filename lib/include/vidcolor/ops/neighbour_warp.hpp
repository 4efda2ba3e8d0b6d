// What g sees of a neighbour t of frame s (paper §4.2): C^t warped into s and the two
// confidence maps of eq. 4. Written once because g must receive at inference exactly what it
// was trained on: RefineEngine (inference) and the trainer's g terms and sample sheet call
// this, so a change to g's inputs cannot reach one side and not the other.
#pragma once

#include <torch/torch.h>

namespace vidcolor {

struct WarpedNeighbour {
  torch::Tensor chroma;  // w(C^t) = warp(C^t, F_{s->t})       [N,2,h,w]
  torch::Tensor conf_c;  // W(w(C^t), C^s), eq. 4               [N,1,h,w]
  torch::Tensor conf_x;  // W(w(X^t), X^s), eq. 4 on the grays  [N,1,h,w]
};

// y_s, y_t [N,1,h,w]; c_s, c_t [N,2,h,w]; flow_st F_{s->t} [N,2,h,w] in pixels of h x w:
// everything already at the size g runs at (resizing is the caller's: the engine area-
// downscales frames, the trainer's crops are that size). Differentiable (warp's grid_sample
// and the confidence's clamp), so training backpropagates through it into f. Throws
// vidcolor::Error (from warp / confidence) on mismatched shapes.
WarpedNeighbour warp_neighbour(const torch::Tensor& y_s, const torch::Tensor& c_s,
                               const torch::Tensor& y_t, const torch::Tensor& c_t,
                               const torch::Tensor& flow_st, double alpha);

}  // namespace vidcolor
