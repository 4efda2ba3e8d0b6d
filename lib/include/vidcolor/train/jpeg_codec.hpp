// JPEG encoding and decoding of 8-bit R'G'B' crops for the compact training pack (version 2,
// training_pack.hpp), through libjpeg's API as libjpeg-turbo provides it (Debian's
// libjpeg62-turbo-dev; TurboJPEG's own header is in another package, so the plain libjpeg API
// is used). LibTorch plus this one library read a compact pack: no OpenCV.
//
// Encoding: baseline JPEG, 4:2:0 chroma (libjpeg's defaults for 3 components), optimized
// Huffman tables, the given quality. Decoding: libjpeg's accurate integer DCT and fancy
// upsampling, so the same bytes decode to the same pixels on every machine with
// libjpeg-turbo. A corrupt or truncated file is an error, never a crash and never a silently
// gray crop: libjpeg's "corrupt data" warnings count as errors too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vidcolor {

// False where the build has no libjpeg: then encode/decode throw vidcolor::Error.
bool jpeg_supported();

// rgb: `height` rows of `width` interleaved R'G'B' bytes (HWC). quality in [1, 100].
// Throws vidcolor::Error on a bad argument or a libjpeg failure.
std::vector<uint8_t> encode_jpeg_rgb(const uint8_t* rgb, int width, int height, int quality);

// Decodes a 3-component JPEG of exactly `width` x `height` into planar R'G'B'
// (`out_chw`: 3 * height * width bytes, channel planes one after the other, as the pack's
// uint8 [3,S,S] tensors hold them). Throws vidcolor::Error whose message starts with `what`
// (e.g. "pack.safetensors: image 12") for a decoding failure, a corrupt stream, other sizes
// or another number of components.
void decode_jpeg_rgb_chw(const uint8_t* data, size_t size, int width, int height, uint8_t* out_chw,
                         const std::string& what);

}  // namespace vidcolor
