#include "vidcolor/train/knn_graph_torch.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/shape_string.hpp"
#include "vidcolor-config.h"
#include "vidcolor/core/error.hpp"

#if VIDCOLOR_HAVE_OPENCV
#include <opencv2/core.hpp>

#include "vidcolor/train/knn_graph.hpp"
#endif

namespace vidcolor {

namespace {

// One image's graph, on `device`. points: [n,5] float32.
torch::Tensor knn_of_points(const torch::Tensor& points, int k) {
  const int64_t n = points.size(0);
  // Rows per chunk: the [rows, n, 5] differences stay near 64 MB whatever the crop size.
  const int64_t rows = std::max<int64_t>(1, (int64_t{16} << 20) / (5 * n));
  const auto index_opts = torch::TensorOptions().dtype(torch::kInt64).device(points.device());
  std::vector<torch::Tensor> parts;
  for (int64_t r0 = 0; r0 < n; r0 += rows) {
    const int64_t r1 = std::min(n, r0 + rows);
    // Distances from the differences themselves (exact, see the header), as plain broadcast
    // arithmetic, one code path for every device (the tests run it on the CPU). Not
    // torch::cdist without its matmul shortcut: its CUDA kernel runs one 256-thread block per
    // pair of points (5 values each); trainers that used it on an H100 did not finish within
    // their limits, most likely still building the graphs of a 1,580-crop pack (TRAINING.md).
    torch::Tensor d = (points.slice(0, r0, r1).unsqueeze(1) - points.unsqueeze(0)).square_().sum(2);
    // A pixel is not its own neighbour.
    d.scatter_(1, torch::arange(r0, r1, index_opts).unsqueeze(1),
               std::numeric_limits<float>::infinity());
    parts.push_back(std::get<1>(d.topk(k, 1, /*largest=*/false, /*sorted=*/true)));
  }
  return torch::cat(parts, 0).to(torch::kInt32);
}

}  // namespace

torch::Tensor knn_graphs_torch(const torch::Tensor& images, const KnnBatchOptions& o) {
  if (!images.defined() || images.dim() != 4 || images.size(1) != 3 ||
      images.scalar_type() != torch::kUInt8)
    throw Error("knn_graphs_torch: need uint8 images [N,3,H,W], got " +
                (images.defined() ? shape_str(images) : std::string("none")));
  const int64_t count = images.size(0), h = images.size(2), w = images.size(3), n = h * w;
  if (n < 2 || o.k < 1 || o.k > n - 1)
    throw Error("knn_graphs_torch: k = " + std::to_string(o.k) + " outside [1, " +
                std::to_string(n - 1) + "] for " + std::to_string(w) + "x" + std::to_string(h) +
                " images");
  if (!(o.lambda >= 0) || !std::isfinite(o.lambda))
    throw Error("knn_graphs_torch: lambda must be finite and >= 0, got " +
                std::to_string(o.lambda));

  torch::NoGradGuard no_grad;
  torch::Tensor out = torch::empty({count, n, o.k}, torch::kInt32);
#if VIDCOLOR_HAVE_OPENCV
  if (o.search == KnnSearch::Auto && o.device.is_cpu()) {
    KnnOptions ko;
    ko.k = o.k;
    ko.lambda = o.lambda;
    for (int64_t i = 0; i < count; ++i) {
      const torch::Tensor hwc = images[i].permute({1, 2, 0}).contiguous();
      const cv::Mat rgb(static_cast<int>(h), static_cast<int>(w), CV_8UC3, hwc.data_ptr<uint8_t>());
      out[i].copy_(knn_graph(rgb, ko));
      if (o.progress) o.progress({i + 1, count});
    }
    return out;
  }
#endif
  const auto fopts = torch::TensorOptions().dtype(torch::kFloat32).device(o.device);
  // λx, λy per pixel, shared by all images (x = p mod W, y = p div W).
  const torch::Tensor ys = torch::arange(h, fopts).view({h, 1}).expand({h, w}).reshape({n, 1});
  const torch::Tensor xs = torch::arange(w, fopts).view({1, w}).expand({h, w}).reshape({n, 1});
  const torch::Tensor coords = torch::cat({xs, ys}, 1).mul(o.lambda);
  for (int64_t i = 0; i < count; ++i) {
    const torch::Tensor rgb =
        images[i].to(o.device).to(torch::kFloat32).div(255.0).reshape({3, n}).t();
    out[i].copy_(knn_of_points(torch::cat({rgb, coords}, 1).contiguous(), o.k).cpu());
    if (o.progress) o.progress({i + 1, count});
  }
  return out;
}

}  // namespace vidcolor
