// The compact encodings of a version-2 training pack (layout in training_pack.hpp), shared by
// the writer (pack_writer.cpp) and the reader (training_pack.cpp). LibTorch only.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace vidcolor {

// Flows are stored as int16 fixed point: value = round(kPackFlowScale * flow in crop pixels),
// clamped to int16, i.e. steps of 1/32 px and a range of +-1023.97 px (a 4096-px crop's
// flows fit; larger motions are clamped).
constexpr double kPackFlowScale = 32.0;

// flow: float [..., 2, S, S] in crop pixels. Area mean over factor x factor blocks (factor
// divides S), then fixed point: int16 [..., 2, S/factor, S/factor]. Non-finite values are 0.
torch::Tensor encode_pack_flow(const torch::Tensor& flow, int64_t factor);

// The inverse: int16 [..., 2, s, s] -> float32 [..., 2, s*factor, s*factor] in crop pixels,
// bilinearly upsampled with half-pixel centres (align_corners = false, as cv::resize).
torch::Tensor decode_pack_flow(const torch::Tensor& q, int64_t factor);

// masks: uint8/bool/float [..., P] with values 0/1 (nonzero = 1) -> uint8 [..., ceil(P/8)],
// bit 7 - (p mod 8) of byte p / 8 holds element p (numpy.packbits' order), padding bits 0.
torch::Tensor pack_bits(const torch::Tensor& masks);

// The inverse: uint8 [..., B] -> uint8 [..., count] of 0/1 (count <= 8 * B).
torch::Tensor unpack_bits(const torch::Tensor& bits, int64_t count);

// JPEG files back to back in one byte blob, with int64 offsets [n + 1] (offsets[i] ..
// offsets[i+1] is file i). Returns {blob uint8 [total], offsets int64 [n + 1]}.
std::pair<torch::Tensor, torch::Tensor> concat_blobs(
    const std::vector<std::vector<uint8_t>>& files);

// Checks offsets of n files in a blob of `blob_size` bytes: int64 [n + 1], offsets[0] = 0,
// strictly increasing (no empty file), last = blob_size. Throws vidcolor::Error starting with
// `what` otherwise.
void check_blob_offsets(const torch::Tensor& offsets, int64_t blob_size, const std::string& what);

}  // namespace vidcolor
