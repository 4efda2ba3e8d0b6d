// Between video frame planes and the engines' tensors, for the elements (vccolorize): luma
// planes to float tensors, predicted chroma to 8-bit Cb/Cr planes (subsampled, interleaved),
// and Y'CbCr to packed 8-bit R'G'B' that keeps the input luma. Full-range BT.601 throughout
// (docs/ARCHITECTURE.md, "Color space"): 8-bit chroma = 128 + 255 * c.
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <cstdint>

#include "vidcolor/core/color.hpp"

namespace vidcolor {

// [1,1,H,W] float32 in [0,1] on the CPU from an 8-bit (v / 255) or 16-bit (v / 65535,
// native endianness) full-range luma plane; strides in bytes.
torch::Tensor gray8_plane_to_tensor(const uint8_t* data, int width, int height, size_t stride);
torch::Tensor gray16_plane_to_tensor(const uint16_t* data, int width, int height, size_t stride);

// [1,1,H,W] luma in [0,1] (any device) -> 8-bit plane, rounded, clamped.
void tensor_to_gray8_plane(const torch::Tensor& luma, uint8_t* dst, size_t stride);

// Where the 8-bit Cb and Cr samples go: I420 = two planes, pixel_stride 1, 2 x 2 subsampling;
// NV12 = cr = cb + 1 in one plane, pixel_stride 2, 2 x 2; Y444 = two planes, 1 x 1.
struct ChromaPlanes8 {
  uint8_t* cb;
  size_t cb_stride;  // bytes per row
  uint8_t* cr;
  size_t cr_stride;
  int pixel_stride;  // bytes between samples of one row
  int sub_x, sub_y;  // subsampling factors (1 or 2)
};

// cbcr [1,2,H,W] float (any device) -> 8-bit samples round(128 + 255 c), clamped to 0..255.
// A subsampled sample is the mean of its sub_x x sub_y block; blocks cut by an odd edge
// average the pixels they cover (plane size = ceil(W / sub_x) x ceil(H / sub_y)).
// A tensor on a GPU is subsampled and quantised there (chroma_to_planes8_torch): only the
// 8-bit samples are downloaded.
void chroma_to_planes8(const torch::Tensor& cbcr, const ChromaPlanes8& out);

// The same with LibTorch ops on the tensor's own device (what GPU tensors take; on the CPU the
// plain loops above are faster). Equal to the loops up to the float summation order (at most
// one level, at exact .5 ties).
void chroma_to_planes8_torch(const torch::Tensor& cbcr, const ChromaPlanes8& out);

// Packed 8-bit R'G'B' (layout as color.hpp's, e.g. BGRx = {4, 2, 1, 0}) from an 8-bit luma
// plane and full-resolution chroma [1,2,H,W] (any device), with color.hpp's kYccToRgb601.
// Keeps the luma: where Y + chroma leaves the R'G'B' cube, the chroma is scaled towards gray
// just enough to fit (the gray point (Y, Y, Y) is always inside), so the pixel's BT.601
// luma stays Y up to rounding instead of clipping channels and shifting it. `alpha` is the
// byte offset set to 255 in each pixel (RGBA, and the x of BGRx), or -1.
void ycc_to_rgb8_plane(const uint8_t* y, size_t y_stride, const torch::Tensor& cbcr,
                       PackedRgbLayout layout, int alpha, uint8_t* dst, size_t dst_stride);

}  // namespace vidcolor
