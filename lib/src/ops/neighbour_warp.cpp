// g's inputs from one neighbour (see the header): the one place they are built.
#include "vidcolor/ops/neighbour_warp.hpp"

#include "vidcolor/ops/warp.hpp"

namespace vidcolor {

WarpedNeighbour warp_neighbour(const torch::Tensor& y_s, const torch::Tensor& c_s,
                               const torch::Tensor& y_t, const torch::Tensor& c_t,
                               const torch::Tensor& flow_st, double alpha) {
  WarpedNeighbour out;
  out.chroma = warp(c_t, flow_st);
  // conf_x compares the warped gray with the frame's own: whether the flow found the same
  // pixel, independent of the colours g is there to reconcile.
  const torch::Tensor y_t_warped = warp(y_t, flow_st);
  out.conf_c = confidence(out.chroma, c_s, alpha);
  out.conf_x = confidence(y_t_warped, y_s, alpha);
  return out;
}

}  // namespace vidcolor
