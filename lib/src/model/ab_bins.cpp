#include "vidcolor/model/ab_bins.hpp"

#include <torch/torch.h>

#include <array>
#include <cmath>
#include <limits>
#include <utility>
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

// The grid row (of a) or column (of b), 0..22, nearest to each value: int64, same shape.
torch::Tensor grid_index(const torch::Tensor& v) {
  return ((v.to(torch::kFloat32) - kGridMin) / kAbBinSide)
      .round()
      .clamp(0, kGridCells - 1)
      .to(torch::kInt64);
}

// A grid row's or column's a or b value (float32): grid_index's inverse.
torch::Tensor grid_coord(const torch::Tensor& i) {
  return (i * kAbBinSide + kGridMin).to(torch::kFloat32);
}

// For every grid cell, the index of its bin, or -1 outside the hull: [23*23] int64.
torch::Tensor grid_cell_bins() {
  const torch::Tensor cell = grid_index(ab_bin_centres());
  torch::Tensor table = torch::full({kGridCells * kGridCells}, -1, torch::kInt64);
  table.index_put_({cell.select(1, 0) * kGridCells + cell.select(1, 1)},
                   torch::arange(kAbBinCount, torch::kInt64));
  return table;
}

// The k nearest bins of points [P,2] among all 313: squared distances and indices [P,k],
// nearest first.
std::pair<torch::Tensor, torch::Tensor> nearest_bins_all(const torch::Tensor& px, int64_t k) {
  const torch::Tensor centres = ab_bin_centres().to(px.device());
  // Squared distances by broadcast differences (exact; the matmul form loses digits near 0).
  const torch::Tensor d2 = (px.unsqueeze(1) - centres.unsqueeze(0)).pow(2).sum(2);
  auto [near_d2, near_idx] = d2.topk(k, 1, /*largest=*/false);
  return {near_d2, near_idx};
}

// A Gaussian of sigma between every two bin centres, [313,313] in the centres' dtype and device:
// the smoothing of the rebalancing prior and the kernel density of the mode mean.
torch::Tensor centre_gaussian(const torch::Tensor& centres, double sigma) {
  return torch::exp(-(centres.unsqueeze(1) - centres.unsqueeze(0)).pow(2).sum(2) /
                    (2 * sigma * sigma));
}

// softmax(logits / T) over the bins, after checking both: what both decodings start from.
torch::Tensor annealed_distribution(const torch::Tensor& logits, double temperature,
                                    const char* who) {
  if (logits.dim() != 4 || logits.size(1) != kAbBinCount)
    fail(std::string(who) + " needs logits [N,313,H,W], got " + shape_str(logits));
  if (!(temperature > 0)) fail("temperature must be > 0");
  return torch::softmax(logits / temperature, 1);
}

}  // namespace

std::pair<torch::Tensor, torch::Tensor> ab_nearest_bins(const torch::Tensor& points, int64_t k) {
  // The bins sit on a grid of side 10, so a point's k nearest are usually among the 5 x 5 grid
  // cells around it: search those (12x fewer distances than all 313 bins, the costliest part of
  // the class loss on a CPU), and prove it. A point whose k-th distance is not below its
  // distance to the window's outside (any bin out there is at least that far) is searched
  // among all bins again, so the result is the full search's (up to the order of exact ties).
  constexpr int64_t kRadius = 2, kSide = 2 * kRadius + 1;
  if (points.dim() != 2 || points.size(1) != 2)
    fail("ab_nearest_bins needs points [P,2], got " + shape_str(points));
  if (k < 1 || k > kAbBinCount) fail("ab_nearest_bins needs 1 <= k <= 313");
  const torch::Tensor px = points.to(torch::kFloat32);
  // On a GPU the full search is cheap and needs no host sync (the window's proof does).
  if (k > kSide * kSide || px.size(0) == 0 || !px.device().is_cpu()) return nearest_bins_all(px, k);
  const auto dev = px.device();
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(dev);
  const torch::Tensor cell = grid_index(px);
  const torch::Tensor offsets = torch::arange(-kRadius, kRadius + 1, i64);
  const torch::Tensor ia = cell.select(1, 0).unsqueeze(1) + offsets;  // [P,5] window rows (a)
  const torch::Tensor ib = cell.select(1, 1).unsqueeze(1) + offsets;  // [P,5] window columns (b)
  const auto on_grid = [](const torch::Tensor& i) { return (i >= 0) & (i < kGridCells); };
  const torch::Tensor flat_cell = (ia.clamp(0, kGridCells - 1).unsqueeze(2) * kGridCells +
                                   ib.clamp(0, kGridCells - 1).unsqueeze(1))
                                      .flatten(1);  // [P,25]
  const torch::Tensor bin = grid_cell_bins().to(dev).index({flat_cell});
  const torch::Tensor valid =
      (on_grid(ia).unsqueeze(2) & on_grid(ib).unsqueeze(1)).flatten(1) & (bin >= 0);
  // The same arithmetic as the full search: (a - a_c)^2 + (b - b_c)^2 in float32.
  const torch::Tensor da = (px.select(1, 0).unsqueeze(1) - grid_coord(ia)).pow(2);
  const torch::Tensor db = (px.select(1, 1).unsqueeze(1) - grid_coord(ib)).pow(2);
  const torch::Tensor d2 = (da.unsqueeze(2) + db.unsqueeze(1))
                               .flatten(1)
                               .masked_fill(~valid, std::numeric_limits<float>::infinity());
  auto [near_d2, pos] = d2.topk(k, 1, /*largest=*/false);
  torch::Tensor near_idx = bin.gather(1, pos);
  // Distance from each point to the nearest grid line outside its window.
  const torch::Tensor a = px.select(1, 0), b = px.select(1, 1);
  const torch::Tensor lo_a = grid_coord(ia.select(1, 0)) - kAbBinSide;
  const torch::Tensor hi_a = grid_coord(ia.select(1, kSide - 1)) + kAbBinSide;
  const torch::Tensor lo_b = grid_coord(ib.select(1, 0)) - kAbBinSide;
  const torch::Tensor hi_b = grid_coord(ib.select(1, kSide - 1)) + kAbBinSide;
  const torch::Tensor outside =
      torch::minimum(torch::minimum(a - lo_a, hi_a - a), torch::minimum(b - lo_b, hi_b - b))
          .clamp_min(0);
  const torch::Tensor unproven =
      (near_d2.select(1, k - 1) >= outside * outside).nonzero().flatten();
  if (unproven.numel() > 0) {
    const auto [all_d2, all_idx] = nearest_bins_all(px.index_select(0, unproven), k);
    near_d2.index_copy_(0, unproven, all_d2);
    near_idx.index_copy_(0, unproven, all_idx);
  }
  return {near_d2, near_idx};
}

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
  const torch::Tensor cell = grid_index(ab);
  return table.index({cell.select(1, 0) * kGridCells + cell.select(1, 1)});
}

AbSoftCode ab_soft_encode_sparse(const torch::Tensor& ab, int64_t k, double sigma) {
  check_ab(ab, "ab_soft_encode");
  if (k < 1 || k > kAbBinCount || !(sigma > 0))
    fail("soft encoding needs 1 <= k <= 313, sigma > 0");
  const int64_t n = ab.size(0), h = ab.size(2), w = ab.size(3);
  const torch::Tensor px = ab.to(torch::kFloat32).permute({0, 2, 3, 1}).reshape({-1, 2});
  const auto [near_d2, near_idx] = ab_nearest_bins(px, k);
  torch::Tensor wts = torch::exp(-near_d2 / (2 * sigma * sigma));
  wts = wts / wts.sum(1, true);
  const auto to_nkhw = [&](const torch::Tensor& t) {
    return t.view({n, h, w, k}).permute({0, 3, 1, 2}).contiguous();
  };
  return {to_nkhw(near_idx), to_nkhw(wts)};
}

torch::Tensor ab_soft_encode(const torch::Tensor& ab, int64_t k, double sigma) {
  const AbSoftCode code = ab_soft_encode_sparse(ab, k, sigma);
  return torch::zeros({ab.size(0), kAbBinCount, ab.size(2), ab.size(3)}, code.weights.options())
      .scatter_(1, code.bins, code.weights);
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
    const torch::Tensor kernel =
        centre_gaussian(ab_bin_centres().to(torch::kFloat64), smooth_sigma);
    p = torch::matmul(kernel / kernel.sum(1, true), p);
    p = p / p.sum();
  }
  torch::Tensor w = 1.0 / ((1 - mix) * p + mix / kAbBinCount);
  return (w / (p * w).sum()).to(torch::kFloat32);
}

torch::Tensor ab_annealed_mean(const torch::Tensor& logits, double temperature) {
  const torch::Tensor prob = annealed_distribution(logits, temperature, "annealed mean");
  const torch::Tensor centres = ab_bin_centres().to(logits.device(), logits.scalar_type());
  return torch::einsum("nqhw,qc->nchw", {prob, centres});
}

torch::Tensor ab_mode_mean(const torch::Tensor& logits, double temperature, double radius) {
  const torch::Tensor distribution =
      annealed_distribution(logits.to(torch::kFloat32), temperature, "mode mean");
  if (!(radius > 0)) fail("mode radius must be > 0");
  const int64_t n = logits.size(0), h = logits.size(2), w = logits.size(3);
  const auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(logits.device());
  // Bins along dim 1 as they come, pixels flattened: [N,313,P]. Every step below is a matrix
  // product or a gather in this layout, with no permuted copy. The kernel product is the cost:
  // 313 x 313 per pixel, about 5 ms for f's 28 x 50 map on one core (docs/BENCHMARKS.md, which
  // also has the separable-grid form measured).
  const torch::Tensor prob = distribution.reshape({n, kAbBinCount, h * w});
  const torch::Tensor centres = ab_bin_centres().to(opts);
  const torch::Tensor kernel = centre_gaussian(centres, radius);
  // The mode: the bin where the kernel density (one product: kernel x distribution) peaks.
  const torch::Tensor mode = torch::matmul(kernel, prob).argmax(1);  // [N,P]
  // The mean of the distribution weighted by the same Gaussian around the mode: one mean-shift
  // step from it, so the colour stays within the mode instead of averaging across modes.
  const torch::Tensor weights =
      prob * kernel.index_select(0, mode.flatten()).view({n, h * w, kAbBinCount}).transpose(1, 2);
  const torch::Tensor ab = torch::matmul(centres.t(), weights) / weights.sum(1, true);
  return ab.view({n, 2, h, w}).to(logits.scalar_type());
}

}  // namespace vidcolor
