// RefineEngine: one pass of g over a frame and its neighbours (see the header for the steps).
#include "vidcolor/infer/refine_engine.hpp"

#include <string>
#include <utility>

#include "core/shape_string.hpp"
#include "vidcolor/core/error.hpp"
#include "vidcolor/ops/guided_upsample.hpp"
#include "vidcolor/infer/inference_runtime.hpp"
#include "vidcolor/ops/neighbour_warp.hpp"
#include "vidcolor/ops/resize.hpp"
#include "vidcolor/ops/warp.hpp"

namespace vidcolor {

namespace {

namespace F = torch::nn::functional;

[[noreturn]] void fail(const std::string& what) { throw Error("refine_engine: " + what); }

// Where frame s's combination falls back to C^s: see step 4 in the header.
constexpr double kFallbackWeight = 1e-3;

// Area average when shrinking (no aliasing of fine chroma), bilinear otherwise (a frame
// smaller than the 16-pixel minimum inference size).
// Undefined -> all ones; anything else -> float on `like`'s device, resampled to h x w.
torch::Tensor mask_at(const torch::Tensor& valid, const torch::Tensor& like, int64_t h, int64_t w) {
  if (!valid.defined()) return torch::ones({1, 1, h, w}, like.options());
  const torch::Tensor m = valid.to(like.device(), torch::kFloat32);
  if (m.size(2) == h && m.size(3) == w) return m;
  return F::interpolate(m, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{h, w})
                               .mode(torch::kBilinear)
                               .align_corners(false));
}

void check_plane(const torch::Tensor& t, int64_t channels, const std::string& what) {
  if (!t.defined() || t.dim() != 4 || t.size(0) != 1 || t.size(1) != channels || t.size(2) < 1 ||
      t.size(3) < 1 || !t.is_floating_point())
    fail(what + " must be a float [1," + std::to_string(channels) + ",H,W] tensor, got " +
         (t.defined() ? shape_str(t) : std::string("an undefined tensor")));
}

void check_mask(const torch::Tensor& valid, const torch::Tensor& flow, const std::string& what) {
  if (!valid.defined()) return;
  if (valid.dim() != 4 || valid.size(0) != 1 || valid.size(1) != 1 ||
      valid.size(2) != flow.size(2) || valid.size(3) != flow.size(3))
    fail(what + " must be [1,1,h,w] like its flow " + shape_str(flow) + ", got " +
         shape_str(valid));
}

}  // namespace

ChainedFlow chain_flows(const torch::Tensor& flow_ab, const torch::Tensor& valid_ab,
                        const torch::Tensor& flow_bc, const torch::Tensor& valid_bc) {
  check_plane(flow_ab, 2, "chain_flows: flow_ab");
  check_plane(flow_bc, 2, "chain_flows: flow_bc");
  check_mask(valid_ab, flow_ab, "chain_flows: valid_ab");
  check_mask(valid_bc, flow_bc, "chain_flows: valid_bc");
  const int64_t h = flow_ab.size(2), w = flow_ab.size(3);
  const torch::Tensor fab = flow_ab.to(torch::kFloat32);
  // Both flows cover the whole picture; the second is brought to the first's size.
  const torch::Tensor fbc = resize_flow(flow_bc.to(fab.device(), torch::kFloat32), h, w);
  ChainedFlow out;
  out.flow = fab + warp(fbc, fab);
  out.valid = mask_at(valid_ab, fab, h, w) * warp(mask_at(valid_bc, fab, h, w), fab);
  return out;
}

RefineEngine::RefineEngine(std::shared_ptr<const Model> model, torch::Device device, double alpha,
                           int inference_size)
    : device_(device), alpha_(alpha) {
  if (!model || model->g.is_empty()) fail("no model, or a model without network g");
  if (!(alpha > 0)) fail("alpha must be > 0, got " + std::to_string(alpha));
  if (inference_size < 0)
    fail("inference size must be >= 0 (0 = the model's), got " + std::to_string(inference_size));
  config_ = model->config;
  // From here on config_.inference_size is g's: the caller's, else the model's for g.
  config_.inference_size = inference_size > 0 ? inference_size : model->config.refine_size();
  // The engine's own copy of g (tiny: ~40 kB): channels-last on the CPU (22 -> 20 ms at
  // 192x112, 9.3 -> 7.9 ms at 144x80 on one core), half precision on CUDA.
  g_ = RefinerNet(config_);
  place_for_inference(*model->g, *g_, device);
}

void RefineEngine::inference_dims(int width, int height, int* out_width, int* out_height) const {
  config_.inference_dims(width, height, out_width, out_height);
}

RefineInputs RefineEngine::prepare(const torch::Tensor& luma, const torch::Tensor& chroma,
                                   const std::vector<RefineNeighbour>& neighbours) const {
  check_plane(luma, 1, "luma");
  check_plane(chroma, 2, "chroma");
  int w = 0, h = 0;
  inference_dims(static_cast<int>(luma.size(3)), static_cast<int>(luma.size(2)), &w, &h);
  auto small = [&](const torch::Tensor& t) {
    return resize_planes(t.to(device_, torch::kFloat32), h, w);
  };
  RefineInputs in;
  in.y_s = small(luma);
  in.c_s = small(chroma);
  std::vector<torch::Tensor> cw, cc, cx, wt;
  for (size_t i = 0; i < neighbours.size(); ++i) {
    const RefineNeighbour& n = neighbours[i];
    const std::string which = "neighbour " + std::to_string(i) + " ";
    check_plane(n.luma, 1, which + "luma");
    check_plane(n.chroma, 2, which + "chroma");
    check_plane(n.flow, 2, which + "flow");
    check_mask(n.valid, n.flow, which + "valid");
    if (n.luma.sizes() != luma.sizes() || n.chroma.sizes() != chroma.sizes())
      fail(which + "is " + shape_str(n.luma) + " / " + shape_str(n.chroma) + ", frame is " +
           shape_str(luma) + " / " + shape_str(chroma));
    const torch::Tensor flow = resize_flow(n.flow.to(device_, torch::kFloat32), h, w);
    // g's inputs as the trainer builds them (neighbour_warp.hpp).
    const WarpedNeighbour t =
        warp_neighbour(in.y_s, in.c_s, small(n.luma), small(n.chroma), flow, alpha_);
    cw.push_back(t.chroma);
    cc.push_back(t.conf_c);
    cx.push_back(t.conf_x);
    wt.push_back(t.conf_x * mask_at(n.valid, flow, h, w));
  }
  if (!neighbours.empty()) {
    in.c_t_warped = torch::cat(cw, 0);
    in.conf_c = torch::cat(cc, 0);
    in.conf_x = torch::cat(cx, 0);
    in.weight = torch::cat(wt, 0);
  }
  return in;
}

torch::Tensor RefineEngine::refine(const torch::Tensor& luma, const torch::Tensor& chroma,
                                   const std::vector<RefineNeighbour>& neighbours) const {
  if (neighbours.empty()) {
    check_plane(chroma, 2, "chroma");
    return chroma;
  }
  torch::InferenceMode inference;
  const RefineInputs in = prepare(luma, chroma, neighbours);
  const int64_t n = in.c_t_warped.size(0);
  RefinerNet g = g_;  // a holder copy: forward is non-const, the module is shared read-only
  // g runs in half precision on CUDA and channels-last on the CPU (its copy was made so);
  // everything around it is float32 NCHW.
  auto as_g = [this](const torch::Tensor& t) { return network_input(t, device_); };
  const torch::Tensor refined =
      g->forward(as_g(in.y_s.expand({n, -1, -1, -1})), as_g(in.c_s.expand({n, -1, -1, -1})),
                 as_g(in.c_t_warped), as_g(in.conf_c), as_g(in.conf_x))
          .to(torch::kFloat32)
          .contiguous();
  const torch::Tensor out_lr = ((in.weight * refined).sum(0, true) + kFallbackWeight * in.c_s) /
                               (in.weight.sum(0, true) + kFallbackWeight);

  const int64_t hc = chroma.size(2), wc = chroma.size(3);
  const torch::Tensor guide_hr = resize_planes(luma.to(device_, torch::kFloat32), hc, wc);
  const torch::Tensor delta = guided_upsample(out_lr - in.c_s, in.y_s, guide_hr);
  const torch::Tensor c_full = chroma.to(device_, torch::kFloat32);
  return (c_full + delta).clamp(-0.5, 0.5).to(chroma.device());
}

}  // namespace vidcolor
