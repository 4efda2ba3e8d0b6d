#include "vidcolor/model/ab_bins.hpp"

#include <torch/torch.h>

#include <array>
#include <cmath>
#include <string>

#include "core/shape_string.hpp"
#include "vidcolor/core/error.hpp"

namespace vidcolor {

namespace {

[[noreturn]] void fail(const std::string& what) { throw Error("ab_bins: " + what); }

// The gamut hull of Zhang's pts_in_hull.npy (printed in OpenCV's samples/dnn/colorization.cpp):
// for each a, the bins run over b = b_min, b_min + 10, ..., b_max. 313 bins in all.
struct HullColumn {
  int a, b_min, b_max;
};
constexpr std::array<HullColumn, 20> kHull = {{
    {-90, 50, 90},   {-80, 20, 90},   {-70, 0, 90},    {-60, -20, 90},  {-50, -30, 100},
    {-40, -40, 100}, {-30, -50, 100}, {-20, -50, 100}, {-10, -60, 100}, {0, -70, 100},
    {10, -80, 90},   {20, -80, 90},   {30, -90, 90},   {40, -100, 90},  {50, -100, 80},
    {60, -110, 80},  {70, -110, 80},  {80, -110, 70},  {90, -110, 70},  {100, -90, 0},
}};
// The grid of bin sides over a, b in [-110, 110]: 23 x 23 cells.
constexpr int kGridMin = -110, kGridCells = 23;

void check_ab(const torch::Tensor& ab, const char* who) {
  if (ab.dim() != 4 || ab.size(1) != 2)
    fail(std::string(who) + " needs ab [N,2,H,W], got " + shape_str(ab));
}

// For every grid cell, the index of its bin, or of the bin nearest to the cell's centre when
// the cell lies outside the hull: [23*23] int64.
torch::Tensor grid_to_bin() {
  const torch::Tensor steps = torch::arange(kGridMin, -kGridMin + 1, 10, torch::kFloat32);
  const std::vector<torch::Tensor> ab = torch::meshgrid({steps, steps}, "ij");
  const torch::Tensor cells = torch::stack({ab[0].flatten(), ab[1].flatten()}, 1);  // [529,2]
  return (cells.unsqueeze(1) - ab_bin_centres().unsqueeze(0)).pow(2).sum(2).argmin(1);
}

}  // namespace

torch::Tensor ab_bin_centres() {
  std::vector<float> ab;
  ab.reserve(2 * kAbBinCount);
  for (const HullColumn& c : kHull)
    for (int b = c.b_min; b <= c.b_max; b += 10) {
      ab.push_back(static_cast<float>(c.a));
      ab.push_back(static_cast<float>(b));
    }
  if (static_cast<int64_t>(ab.size()) != 2 * kAbBinCount) fail("hull table does not hold 313 bins");
  return torch::tensor(ab, torch::kFloat32).view({kAbBinCount, 2});
}

torch::Tensor ab_nearest_bin(const torch::Tensor& ab) {
  check_ab(ab, "ab_nearest_bin");
  static_assert(kGridCells == 23, "grid of 23 cells of 10 over [-110, 110]");
  const torch::Tensor table = grid_to_bin().to(ab.device());
  const torch::Tensor cell = ((ab.to(torch::kFloat32) - kGridMin) / kAbBinSide)
                                 .round()
                                 .clamp(0, kGridCells - 1)
                                 .to(torch::kInt64);
  return table.index({cell.select(1, 0) * kGridCells + cell.select(1, 1)});
}

torch::Tensor ab_soft_encode(const torch::Tensor& ab, int64_t k, double sigma) {
  check_ab(ab, "ab_soft_encode");
  if (k < 1 || k > kAbBinCount || !(sigma > 0))
    fail("soft encoding needs 1 <= k <= 313, sigma > 0");
  const int64_t n = ab.size(0), h = ab.size(2), w = ab.size(3);
  const torch::Tensor centres = ab_bin_centres().to(ab.device());
  const torch::Tensor px = ab.to(torch::kFloat32).permute({0, 2, 3, 1}).reshape({-1, 2});
  // Squared distances by broadcast differences (exact; the matmul form loses digits near 0).
  const torch::Tensor d2 = (px.unsqueeze(1) - centres.unsqueeze(0)).pow(2).sum(2);
  const auto [near_d2, near_idx] = d2.topk(k, 1, /*largest=*/false);
  torch::Tensor wts = torch::exp(-near_d2 / (2 * sigma * sigma));
  wts = wts / wts.sum(1, true);
  torch::Tensor out = torch::zeros({px.size(0), kAbBinCount}, px.options());
  out.scatter_(1, near_idx, wts);
  return out.view({n, h, w, kAbBinCount}).permute({0, 3, 1, 2}).contiguous();
}

torch::Tensor ab_bin_histogram(const torch::Tensor& ab) {
  return torch::bincount(ab_nearest_bin(ab).flatten().cpu(), {}, kAbBinCount).to(torch::kFloat64);
}

torch::Tensor ab_rebalance_weights(const torch::Tensor& prior, double mix, double smooth_sigma) {
  if (prior.dim() != 1 || prior.size(0) != kAbBinCount)
    fail("prior must be [313], got " + shape_str(prior));
  if (!(mix > 0 && mix <= 1)) fail("mix must be in (0, 1]");
  torch::Tensor p = prior.to(torch::kFloat64).cpu().clamp_min(0);
  if (p.sum().item<double>() <= 0) fail("prior is empty");
  p = p / p.sum();
  if (smooth_sigma > 0) {
    const torch::Tensor c = ab_bin_centres().to(torch::kFloat64);
    const torch::Tensor kernel = torch::exp(-(c.unsqueeze(1) - c.unsqueeze(0)).pow(2).sum(2) /
                                            (2 * smooth_sigma * smooth_sigma));
    p = torch::matmul(kernel / kernel.sum(1, true), p);
    p = p / p.sum();
  }
  torch::Tensor w = 1.0 / ((1 - mix) * p + mix / kAbBinCount);
  return (w / (p * w).sum()).to(torch::kFloat32);
}

torch::Tensor ab_annealed_mean(const torch::Tensor& logits, double temperature) {
  if (logits.dim() != 4 || logits.size(1) != kAbBinCount)
    fail("annealed mean needs logits [N,313,H,W], got " + shape_str(logits));
  if (!(temperature > 0)) fail("temperature must be > 0");
  const torch::Tensor prob = torch::softmax(logits / temperature, 1);
  const torch::Tensor centres = ab_bin_centres().to(logits.device(), logits.scalar_type());
  return torch::einsum("nqhw,qc->nchw", {prob, centres});
}

}  // namespace vidcolor
