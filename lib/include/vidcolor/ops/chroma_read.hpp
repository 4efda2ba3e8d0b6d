// 8-bit Cb/Cr samples of a video frame -> the engines' chroma tensor: the inverse of
// frame_planes.hpp's chroma_to_planes8 at the planes' own size, for 8-bit full-range planes
// (vidcolor-bench-engines; the elements read any coding with frame_planes.hpp's
// codes_to_chroma). Full-range BT.601: c = (v - 128) / 255.
#pragma once

#include <torch/torch.h>

#include "vidcolor/ops/frame_planes.hpp"

namespace vidcolor {

// Reads width x height samples of each of in.cb / in.cr (rows in.*_stride bytes apart,
// samples in.pixel_stride bytes apart; the subsampling fields are ignored: the tensor has
// the planes' size) -> [1,2,height,width] float32 on the CPU. Throws vidcolor::Error for a
// bad size, stride or pixel stride.
torch::Tensor planes8_to_chroma(const ChromaPlanes8& in, int width, int height);

}  // namespace vidcolor
