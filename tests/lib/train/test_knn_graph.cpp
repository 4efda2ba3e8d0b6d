// KNN graphs in the bilateral space (r, g, b, λx, λy) of eq. 2.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "vidcolor/core/error.hpp"
#include "vidcolor/train/knn_graph.hpp"
#include "vidcolor/train/knn_graph_torch.hpp"

using namespace vidcolor;

namespace {

std::string shared_data() {
  const char* d = std::getenv("VIDCOLOR_SHARED_DATA");
  return d ? d : "../shared/data";
}

// A real RGB crop: the top-left w x h of a BSDS500 photo.
cv::Mat real_crop(int w, int h) {
  cv::Mat bgr = cv::imread(shared_data() + "/images/bsds500/test-100007.jpg", cv::IMREAD_COLOR);
  if (bgr.empty()) return {};
  cv::Mat rgb;
  cv::cvtColor(bgr(cv::Rect(100, 80, w, h)), rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

// Squared bilateral distance between flat pixels p and q, in double.
double dist2(const cv::Mat& rgb, int p, int q, double lambda) {
  const int w = rgb.cols;
  const cv::Vec3b a = rgb.at<cv::Vec3b>(p / w, p % w), b = rgb.at<cv::Vec3b>(q / w, q % w);
  double d = 0;
  for (int c = 0; c < 3; ++c) d += std::pow((a[c] - b[c]) / 255.0, 2);
  d += std::pow(lambda * (p % w - q % w), 2) + std::pow(lambda * (p / w - q / w), 2);
  return d;
}

}  // namespace

TEST(KnnGraph, TwoFlatRegionsStayApart) {
  // 16x12: left half red, right half blue. Within a region only λ·distance separates pixels,
  // across regions the colour distance (sqrt 2) dwarfs any λ·distance (< 0.04).
  cv::Mat rgb(12, 16, CV_8UC3, cv::Scalar(255, 0, 0));
  rgb(cv::Rect(8, 0, 8, 12)).setTo(cv::Scalar(0, 0, 255));
  for (KnnMethod m : {KnnMethod::KdTree, KnnMethod::BruteForce}) {
    KnnOptions o;
    o.method = m;
    const torch::Tensor g = knn_graph(rgb, o);
    ASSERT_EQ(g.sizes(), (std::vector<int64_t>{12 * 16, 5}));
    ASSERT_EQ(g.scalar_type(), torch::kInt32);
    const auto acc = g.accessor<int32_t, 2>();
    for (int p = 0; p < 12 * 16; ++p)
      for (int j = 0; j < 5; ++j) {
        const int q = acc[p][j];
        EXPECT_NE(q, p);
        EXPECT_EQ(p % 16 < 8, q % 16 < 8) << "pixel " << p << " neighbour " << q;
        // The 5 nearest of a flat region are its nearest pixels: distance 1 or sqrt 2 inside,
        // up to 2 at a corner (2 at distance 1, 1 at sqrt 2, then 2 at distance 2).
        EXPECT_LE(std::hypot(p % 16 - q % 16, p / 16 - q / 16), 2.0);
      }
  }
}

TEST(KnnGraph, ExactOnARealCrop) {
  const cv::Mat rgb = real_crop(24, 20);
  if (rgb.empty()) GTEST_SKIP() << "no BSDS500 image in " << shared_data();
  const int n = 24 * 20, k = 5;
  const double lambda = 1.0 / 500.0;
  for (KnnMethod m : {KnnMethod::KdTree, KnnMethod::BruteForce}) {
    KnnOptions o;
    o.method = m;
    const torch::Tensor g = knn_graph(rgb, o);
    const auto acc = g.accessor<int32_t, 2>();
    for (int p = 0; p < n; ++p) {
      std::vector<double> all;
      for (int q = 0; q < n; ++q)
        if (q != p) all.push_back(dist2(rgb, p, q, lambda));
      std::sort(all.begin(), all.end());
      std::vector<double> got;
      for (int j = 0; j < k; ++j) {
        ASSERT_NE(acc[p][j], p);
        got.push_back(dist2(rgb, p, acc[p][j], lambda));
      }
      std::sort(got.begin(), got.end());
      // The K smallest distances (ties may pick different but equally near pixels).
      for (int j = 0; j < k; ++j)
        ASSERT_NEAR(got[j], all[j], 2e-6) << "pixel " << p << " method " << int(m);
    }
  }
}

TEST(KnnGraph, FloatInputAndLambda) {
  // A 1x8 gray ramp in float: with a huge λ only position matters -> the 2 nearest of pixel 0
  // are 1 and 2; with λ = 0 only colour: the ramp's colour is position anyway.
  cv::Mat rgb(1, 8, CV_32FC3);
  for (int x = 0; x < 8; ++x) rgb.at<cv::Vec3f>(0, x) = cv::Vec3f(x / 7.f, x / 7.f, x / 7.f);
  KnnOptions o;
  o.k = 2;
  o.lambda = 100.0;
  const torch::Tensor g = knn_graph(rgb, o);
  std::vector<int32_t> n0{g[0][0].item<int32_t>(), g[0][1].item<int32_t>()};
  std::sort(n0.begin(), n0.end());
  EXPECT_EQ(n0, (std::vector<int32_t>{1, 2}));
  o.k = 8;  // more neighbours than other pixels
  EXPECT_THROW(knn_graph(rgb, o), Error);
  EXPECT_THROW(knn_graph(cv::Mat(4, 4, CV_8UC1), KnnOptions{}), Error);
}

TEST(KnnGraph, Crop128TimingAndDeterminism) {
  const cv::Mat rgb = real_crop(128, 128);
  if (rgb.empty()) GTEST_SKIP() << "no BSDS500 image in " << shared_data();
  // The brute-force reference takes ~4 s here, so only the KD-tree is timed; it must be
  // deterministic (packs are reproducible from their seed).
  const auto t0 = std::chrono::steady_clock::now();
  const torch::Tensor g = knn_graph(rgb);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(g.size(0), 128 * 128);
  std::printf("knn_graph 128x128 kdtree: %.1f ms\n", ms);
  EXPECT_TRUE(torch::equal(g, knn_graph(rgb)));
}

// The trainer's builder for packs written without graphs (knn_graph_torch.hpp) must give the
// pack writer's graphs: the same K nearest distances on a real crop, and the same indices
// where distances have no ties.
static torch::Tensor as_chw_u8(const cv::Mat& rgb) {
  return torch::from_blob(rgb.clone().data, {rgb.rows, rgb.cols, 3}, torch::kUInt8)
      .permute({2, 0, 1})
      .clone();
}

TEST(KnnGraphTorch, SameNeighboursAsTheKdTreeOnARealCrop) {
  const cv::Mat rgb = real_crop(24, 20);
  if (rgb.empty()) GTEST_SKIP() << "no BSDS500 image in " << shared_data();
  const int n = 24 * 20, k = 5;
  const double lambda = 1.0 / 500.0;
  const torch::Tensor ref = knn_graph(rgb);
  KnnBatchOptions o;
  o.search = KnnSearch::BruteForce;
  const torch::Tensor got = knn_graphs_torch(as_chw_u8(rgb).unsqueeze(0), o);
  ASSERT_EQ(got.sizes(), (std::vector<int64_t>{1, n, k}));
  ASSERT_EQ(got.scalar_type(), torch::kInt32);
  const auto a = ref.accessor<int32_t, 2>();
  const torch::Tensor got0 = got[0];
  const auto b = got0.accessor<int32_t, 2>();
  int same_index = 0;
  for (int p = 0; p < n; ++p)
    for (int j = 0; j < k; ++j) {
      ASSERT_NE(b[p][j], p);
      // Nearest first, and the j-th distance is the reference's j-th distance.
      ASSERT_NEAR(dist2(rgb, p, b[p][j], lambda), dist2(rgb, p, a[p][j], lambda), 2e-6)
          << "pixel " << p << " rank " << j;
      same_index += a[p][j] == b[p][j];
    }
  // 8-bit crops tie often (a pixel's left and right neighbours of one colour are equally
  // near): 87 % of the indices agree here; the distances above are what must match.
  EXPECT_GT(same_index, n * k * 80 / 100);
}

TEST(KnnGraphTorch, NoiseImagesGiveTheKdTreesGraphExactlyAndBatchesAreIndependent) {
  // Random colours: no two distances tie, so the graphs must be identical.
  torch::manual_seed(3);
  const torch::Tensor imgs = torch::randint(0, 256, {2, 3, 9, 13}, torch::kUInt8);
  KnnBatchOptions bo;
  bo.k = 4;
  bo.lambda = 0.01;
  bo.search = KnnSearch::BruteForce;
  const torch::Tensor got = knn_graphs_torch(imgs, bo);
  bo.search = KnnSearch::Auto;  // the KD-tree, in this build with OpenCV
  EXPECT_TRUE(torch::equal(got, knn_graphs_torch(imgs, bo)));
  for (int i = 0; i < 2; ++i) {
    const torch::Tensor hwc = imgs[i].permute({1, 2, 0}).contiguous();
    const cv::Mat rgb(9, 13, CV_8UC3, hwc.data_ptr<uint8_t>());
    KnnOptions o;
    o.k = 4;
    o.lambda = 0.01;
    EXPECT_TRUE(torch::equal(got[i], knn_graph(rgb, o))) << "image " << i;
  }
}

TEST(KnnGraphTorch, BadInputIsAClearError) {
  for (KnnSearch search : {KnnSearch::Auto, KnnSearch::BruteForce}) {
    KnnBatchOptions o;
    o.search = search;
    EXPECT_THROW(knn_graphs_torch(torch::zeros({1, 3, 4, 4}, torch::kFloat32), o), Error);
    EXPECT_THROW(knn_graphs_torch(torch::zeros({1, 1, 4, 4}, torch::kUInt8), o), Error);
    EXPECT_THROW(knn_graphs_torch(torch::Tensor(), o), Error);
    o.k = 4;
    EXPECT_THROW(knn_graphs_torch(torch::zeros({1, 3, 2, 2}, torch::kUInt8), o), Error);
    o.k = 5;
    o.lambda = -1;
    EXPECT_THROW(knn_graphs_torch(torch::zeros({1, 3, 4, 4}, torch::kUInt8), o), Error);
  }
}

TEST(KnnGraphTorch, Crop112TimingAndDeterminism) {
  // The size vidcolor-train builds at load for a --knn-at-load pack of 112-px crops: the
  // brute force (what a GPU runs) timed on the CPU, and the KD-tree (what a CPU runs).
  const cv::Mat rgb = real_crop(112, 112);
  if (rgb.empty()) GTEST_SKIP() << "no BSDS500 image in " << shared_data();
  const torch::Tensor img = as_chw_u8(rgb).unsqueeze(0);
  KnnBatchOptions o;
  o.search = KnnSearch::BruteForce;
  const auto t0 = std::chrono::steady_clock::now();
  const torch::Tensor g = knn_graphs_torch(img, o);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("knn_graphs_torch 112x112 brute force on the CPU (%d threads): %.1f ms\n",
              torch::get_num_threads(), ms);
  EXPECT_TRUE(torch::equal(g, knn_graphs_torch(img, o)));
}
