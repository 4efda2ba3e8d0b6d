#include "vidcolor/knn_graph_torch.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "shape_string.hpp"
#include "vidcolor/error.hpp"

namespace vidcolor {

namespace {

// One image's graph, on `device`. points: [n,5] float32.
torch::Tensor knn_of_points(const torch::Tensor& points, int k) {
  const int64_t n = points.size(0);
  // Rows per chunk: the [rows, n] distance block stays near 64 MB whatever the crop size.
  const int64_t rows = std::max<int64_t>(1, (int64_t{16} << 20) / n);
  const auto all = points.unsqueeze(0);
  const auto index_opts = torch::TensorOptions().dtype(torch::kInt64).device(points.device());
  std::vector<torch::Tensor> parts;
  for (int64_t r0 = 0; r0 < n; r0 += rows) {
    const int64_t r1 = std::min(n, r0 + rows);
    // compute_mode 2 = donot_use_mm_for_euclid_dist: exact differences (see the header).
    torch::Tensor d = torch::cdist(points.slice(0, r0, r1).unsqueeze(0), all, 2.0, 2).squeeze(0);
    // A pixel is not its own neighbour.
    d.scatter_(1, torch::arange(r0, r1, index_opts).unsqueeze(1),
               std::numeric_limits<float>::infinity());
    parts.push_back(std::get<1>(d.topk(k, 1, /*largest=*/false, /*sorted=*/true)));
  }
  return torch::cat(parts, 0).to(torch::kInt32);
}

}  // namespace

torch::Tensor knn_graphs_torch(const torch::Tensor& images, int k, double lambda,
                               torch::Device device,
                               const std::function<void(const KnnBatchProgress&)>& progress) {
  if (!images.defined() || images.dim() != 4 || images.size(1) != 3 ||
      images.scalar_type() != torch::kUInt8)
    throw Error("knn_graphs_torch: need uint8 images [N,3,H,W], got " +
                (images.defined() ? shape_str(images) : std::string("none")));
  const int64_t count = images.size(0), h = images.size(2), w = images.size(3), n = h * w;
  if (n < 2 || k < 1 || k > n - 1)
    throw Error("knn_graphs_torch: k = " + std::to_string(k) + " outside [1, " +
                std::to_string(n - 1) + "] for " + std::to_string(w) + "x" + std::to_string(h) +
                " images");
  if (!(lambda >= 0) || !std::isfinite(lambda))
    throw Error("knn_graphs_torch: lambda must be finite and >= 0, got " + std::to_string(lambda));

  torch::NoGradGuard no_grad;
  const auto fopts = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  // λx, λy per pixel, shared by all images (x = p mod W, y = p div W).
  const torch::Tensor ys = torch::arange(h, fopts).view({h, 1}).expand({h, w}).reshape({n, 1});
  const torch::Tensor xs = torch::arange(w, fopts).view({1, w}).expand({h, w}).reshape({n, 1});
  const torch::Tensor coords = torch::cat({xs, ys}, 1).mul(lambda);
  torch::Tensor out = torch::empty({count, n, k}, torch::kInt32);
  for (int64_t i = 0; i < count; ++i) {
    const torch::Tensor rgb =
        images[i].to(device).to(torch::kFloat32).div(255.0).reshape({3, n}).t();
    out[i].copy_(knn_of_points(torch::cat({rgb, coords}, 1).contiguous(), k).cpu());
    if (progress) progress({i + 1, count});
  }
  return out;
}

}  // namespace vidcolor
