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

// ---- Any Y'CbCr layout, any bit depth, any matrix and range (the elements' general path)
//
// A frame stores integer codes. The elements (gst/common/frame_codes.h) move codes between frames
// and these functions with GStreamer's pack/unpack, and derive the two descriptions below
// from the caps; the arithmetic is here.

// How a frame codes its chroma: code = offset + scale * c, rounded, clamped to [0, max_code],
// for chroma c of `matrix` centred on 0 (GStreamer's gst_video_color_range_offsets give
// offset and scale: 8-bit full range 128 + 255 c, limited 128 + 224 c, 10-bit limited
// 512 + 896 c, ...). The default is the networks' own space, 8-bit full-range BT.601.
struct ChromaCoding {
  Matrix matrix = Matrix::BT601;
  float offset = 128.0f;
  float scale = 255.0f;
  int max_code = 255;
};

// How a frame codes its luma: value in [0, 1] = (code - offset) / scale.
struct LumaCoding {
  float offset = 0.0f;
  float scale = 255.0f;
  int max_code = 255;
};

// Where a frame's chroma samples are: one per sub_x x sub_y block of pixels (1, 2 or 4), each
// co-sited with the block's first pixel (GStreamer's chroma-site h-cosited / v-cosited, e.g.
// MPEG-2's horizontal siting) or centred in the block (JPEG's; also what an unknown siting
// is taken as, as videoconvert does).
struct ChromaLayout {
  int sub_x = 1, sub_y = 1;
  bool cosited_x = false, cosited_y = false;
};

// Network chroma (full-range BT.601, [1,2,H,W] float, any device) -> the chroma codes of a
// frame with `coding` and `layout`: each plane subsampled at its sites (a centred sample is
// the mean of its block, a co-sited one the triangle filter of width 2 sub - 1 centred on its
// pixel; pixels beyond an edge are left out and the weights renormalised), converted to
// coding.matrix with chroma_conversion (color.hpp), coded and rounded. Writes
// ceil(W / sub_x) x ceil(H / sub_y) codes into each of cb and cr, rows `stride` samples
// apart. NaN chroma becomes neutral. A GPU tensor is processed on its device and only the
// codes come back.
void chroma_to_codes(const torch::Tensor& cbcr, const ChromaCoding& coding,
                     const ChromaLayout& layout, uint16_t* cb, uint16_t* cr, size_t stride);

// The same with LibTorch ops on the tensor's own device (what GPU tensors take); equal to the
// loops up to the float summation order (one code at exact .5 ties).
void chroma_to_codes_torch(const torch::Tensor& cbcr, const ChromaCoding& coding,
                           const ChromaLayout& layout, uint16_t* cb, uint16_t* cr, size_t stride);

// The inverse at the planes' own size (what vcrefine reads back): codes -> [1,2,h,w] float32
// full-range BT.601 chroma on the CPU. chroma_to_codes(codes_to_chroma(x)) == x for codes
// whose colour the matrix conversion keeps inside the code range.
torch::Tensor codes_to_chroma(const uint16_t* cb, const uint16_t* cr, size_t stride, int width,
                              int height, const ChromaCoding& coding);

// Luma codes (rows `stride` samples apart) -> [1,1,H,W] float32 in [0, 1] (clamped) on the CPU.
torch::Tensor luma_codes_to_tensor(const uint16_t* codes, int width, int height, size_t stride,
                                   const LumaCoding& coding);

// [1,1,H,W] luma in [0, 1] (any device) -> luma codes, rounded, clamped: what a frame stores
// when no original luma exists (a mosaic, a gray input that lost its source frame).
void tensor_to_luma_codes(const torch::Tensor& luma, const LumaCoding& coding, uint16_t* codes,
                          size_t stride);

// Packed 8-bit R'G'B' (layout as color.hpp's, e.g. BGRx = {4, 2, 1, 0}) from an 8-bit luma
// plane and full-resolution network chroma [1,2,H,W] (any device). `matrix` is the one the
// luma was computed with (vcgray's for an R'G'B' source): the chroma is converted to it
// (color.hpp's chroma_conversion) and decoded with it; BT.601 decodes with kYccToRgb601.
// Keeps the luma: where Y + chroma leaves the R'G'B' cube, the chroma is scaled towards gray
// just enough to fit (the gray point (Y, Y, Y) is always inside), so the pixel's luma in
// `matrix` stays Y up to rounding instead of clipping channels and shifting it. `alpha` is
// the byte offset set to 255 in each pixel (RGBA, and the x of BGRx), or -1.
void ycc_to_rgb8_plane(const uint8_t* y, size_t y_stride, const torch::Tensor& cbcr,
                       PackedRgbLayout layout, int alpha, uint8_t* dst, size_t dst_stride,
                       Matrix matrix = Matrix::BT601);

}  // namespace vidcolor
