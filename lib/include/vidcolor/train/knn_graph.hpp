// K nearest neighbours of every pixel of a ground-truth crop in the bilateral space
// (r, g, b, λx, λy) of the paper's bilateral loss (eq. 2). OpenCV part of libvidcolor-train.
//
// Scaling: colors in [0, 1] and pixel coordinates times λ, λ = 1/500 by default, which is
// the authors' x/500, y/500 with their colors in [0, 1] (their code divides images by 255).
// So two pixels 50 px apart count as far as a color difference of 0.1 (25.5 levels of 255).
// λ is per pixel of the crop the graph is built on: for crops of a downscaled image the same
// λ means a proportionally larger spatial reach in the original image.
#pragma once

#include <torch/torch.h>

#include <opencv2/core.hpp>

namespace vidcolor {

enum class KnnMethod {
  KdTree,      // FLANN single KD-tree, exact and deterministic (default; ~0.2 s for 128x128)
  BruteForce,  // exhaustive search (FLANN linear index; ~4 s for 128x128): a reference
};

struct KnnOptions {
  int k = 5;                    // neighbours per pixel (the paper's K = 5)
  double lambda = 1.0 / 500.0;  // weight of the pixel coordinates (colors in [0, 1])
  KnnMethod method = KnnMethod::KdTree;
};

// rgb: CV_8UC3 (R, G, B order; values / 255) or CV_32FC3 in [0, 1], H x W.
// Returns int32 [H*W, K]: for pixel p = y*W + x, the flat indices of its K nearest other
// pixels, nearest first. A pixel is never its own neighbour (among exact duplicates, which
// flat regions are full of, the spatially nearest win because λx, λy break the tie).
// Throws vidcolor::Error on a bad image or k outside [1, H*W - 1].
torch::Tensor knn_graph(const cv::Mat& rgb, const KnnOptions& options = {});

}  // namespace vidcolor
