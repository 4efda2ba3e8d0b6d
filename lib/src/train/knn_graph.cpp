#include "vidcolor/train/knn_graph.hpp"

#include <opencv2/flann.hpp>

#include <string>

#include "vidcolor/core/error.hpp"

namespace vidcolor {

torch::Tensor knn_graph(const cv::Mat& rgb, const KnnOptions& o) {
  if (rgb.empty() || (rgb.type() != CV_8UC3 && rgb.type() != CV_32FC3))
    throw Error("knn_graph: need a non-empty CV_8UC3 or CV_32FC3 image");
  const int h = rgb.rows, w = rgb.cols, n = h * w;
  if (o.k < 1 || o.k > n - 1)
    throw Error("knn_graph: k = " + std::to_string(o.k) + " outside [1, " + std::to_string(n - 1) +
                "] for a " + std::to_string(w) + "x" + std::to_string(h) + " image");

  // One row (r, g, b, λx, λy) per pixel, colors in [0, 1].
  cv::Mat colors;
  rgb.convertTo(colors, CV_32FC3, rgb.type() == CV_8UC3 ? 1.0 / 255.0 : 1.0);
  cv::Mat points(n, 5, CV_32F);
  const float lam = static_cast<float>(o.lambda);
  for (int y = 0; y < h; ++y) {
    const cv::Vec3f* row = colors.ptr<cv::Vec3f>(y);
    for (int x = 0; x < w; ++x) {
      float* p = points.ptr<float>(y * w + x);
      p[0] = row[x][0];
      p[1] = row[x][1];
      p[2] = row[x][2];
      p[3] = lam * static_cast<float>(x);
      p[4] = lam * static_cast<float>(y);
    }
  }

  // K + 1 because the query pixel itself is in the index (at distance 0).
  const int kq = o.k + 1;
  cv::Mat indices(n, kq, CV_32S), dists(n, kq, CV_32F);
  cvflann::Matrix<float> data(points.ptr<float>(), static_cast<size_t>(n), 5);
  cvflann::Matrix<int> idx(indices.ptr<int>(), static_cast<size_t>(n), static_cast<size_t>(kq));
  cvflann::Matrix<float> dst2(dists.ptr<float>(), static_cast<size_t>(n), static_cast<size_t>(kq));
  if (o.method == KnnMethod::KdTree) {
    // FLANN's single KD-tree (the nanoflann design): built deterministically (split on the
    // widest dimension, no random trees), so the same crop always gives the same graph, ties
    // included; searched with eps = 0 it is exact.
    cvflann::KDTreeSingleIndex<cvflann::L2<float>> index(data,
                                                         cvflann::KDTreeSingleIndexParams(10));
    index.buildIndex();
    index.knnSearch(data, idx, dst2, kq, cvflann::SearchParams());
  } else {
    cvflann::LinearIndex<cvflann::L2<float>> index(data, cvflann::LinearIndexParams());
    index.buildIndex();
    index.knnSearch(data, idx, dst2, kq, cvflann::SearchParams());
  }

  torch::Tensor out = torch::empty({n, o.k}, torch::kInt32);
  int32_t* dst = out.data_ptr<int32_t>();
  for (int p = 0; p < n; ++p) {
    const int* row = indices.ptr<int>(p);
    int m = 0;
    for (int j = 0; j < kq && m < o.k; ++j) {
      if (row[j] == p) continue;
      if (row[j] < 0 || row[j] >= n) throw Error("knn_graph: FLANN returned an invalid index");
      dst[p * o.k + m++] = row[j];
    }
  }
  return out;
}

}  // namespace vidcolor
