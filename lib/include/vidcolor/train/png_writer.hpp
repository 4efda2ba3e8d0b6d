// PNG output for LibTorch-only code (vidcolor-train's sample sheets and loss curves), through
// libpng, so that the trainer writes its pictures on a machine that has LibTorch but no
// OpenCV (e.g. a GPU box). Where the build found no libpng, png_supported() is false and
// write_png throws.
#pragma once

#include <torch/torch.h>

#include <string>

namespace vidcolor {

// Whether this build can write PNG files (VIDCOLOR_HAVE_PNG).
bool png_supported();

// Writes an 8-bit R'G'B' image: `rgb` uint8 [H,W,3] (any device; copied to the CPU).
// Atomic (temporary file + rename). Throws vidcolor::Error naming `path` and the problem.
void write_png(const std::string& path, const torch::Tensor& rgb);

}  // namespace vidcolor
