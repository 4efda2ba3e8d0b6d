// Color conversion between gray, R'G'B' and Y'CbCr, and the HSV saturation score.
//
// vidcolor's networks predict chroma in full-range BT.601 Y'CbCr (the "perceptual space for
// chroma" of the design): luma is the input gray itself, so it passes through exactly, and
// the predicted Cb/Cr planes are what an I420 frame carries. See docs/ARCHITECTURE.md.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vidcolor {

enum class Matrix { BT601, BT709, BT2020 };
enum class Range { Full, Limited };

struct LumaWeights {
  double kr, kg, kb;
};

// Y' = kr R' + kg G' + kb B' for the given matrix (ITU-R BT.601 / BT.709 / BT.2020).
LumaWeights luma_weights(Matrix m);

// Where R, G and B sit inside one packed pixel, e.g. BGRx = {4, 2, 1, 0}.
struct PackedRgbLayout {
  int pixel_stride;
  int r, g, b;
};

// One row of packed 8-bit R'G'B' to full-range 8-bit luma. Rounds to nearest; exact
// for the primaries (fixed point with 16 fractional bits whose weights sum to 1).
// `in_range` is the range of the RGB values (GStreamer RGB is almost always full).
void rgb_row_to_gray8(const uint8_t* src, PackedRgbLayout layout, uint8_t* dst, int width, Matrix m,
                      Range in_range = Range::Full);

// Same into 16-bit full-range luma (for callers that keep precision).
void rgb_row_to_gray16(const uint8_t* src, PackedRgbLayout layout, uint16_t* dst, int width,
                       Matrix m, Range in_range = Range::Full);

// One row of 8-bit luma samples (spaced `src_pixel_stride` bytes apart, so packed YUY2/UYVY
// work too) to full-range 8-bit luma. Limited range maps 16..235 to 0..255, clamped.
void luma8_row_to_gray8(const uint8_t* src, int src_pixel_stride, uint8_t* dst, int width,
                        Range in_range);

// One row of 16-bit luma (native endianness) to 8-bit or 16-bit full range.
void luma16_row_to_gray8(const uint16_t* src, uint8_t* dst, int width, Range in_range);
void luma16_row_to_gray16(const uint16_t* src, uint16_t* dst, int width, Range in_range);

// One row of luma codes of any bit depth (value = (code - offset) / scale, GStreamer's range
// offsets: 10-bit limited is 64 + 876 v) to full-range 8- or 16-bit luma, rounded, clamped.
void luma_codes_row_to_gray8(const uint16_t* src, uint8_t* dst, int width, float offset,
                             float scale);
void luma_codes_row_to_gray16(const uint16_t* src, uint16_t* dst, int width, float offset,
                              float scale);

// Full-range BT.601 Y'CbCr <-> R'G'B', all in [0, 1] with chroma centred on 0 (so Cb, Cr in
// [-0.5, 0.5]). These are the conversions the networks and the losses use.
struct Rgb {
  float r, g, b;
};
struct Ycc {
  float y, cb, cr;
};
Ycc rgb_to_ycc(Rgb c);
Rgb ycc_to_rgb(Ycc c);  // not clamped
Rgb clamp01(Rgb c);

// Chroma of one Y'CbCr matrix expressed in another, keeping the luma sample: a 2x2 map,
// row-major, (cb, cr)_to = m * (cb, cr)_from, the same for every luma value.
//
// Why: the networks predict full-range BT.601 chroma c for the gray X, i.e. the colour
// R'G'B' = X (1,1,1) + A_601 c. A stream in another matrix keeps its own luma sample X (it
// passes through bit-exact), so its chroma is the `to` matrix's Cb, Cr of that colour:
// c_to = C_to (X (1,1,1) + A_601 c) = C_to A_601 c, because every matrix's Cb and Cr rows
// give 0 for gray. Decoded with the `to` matrix the pixel is that colour moved along the gray
// axis until its `to` luma is X again: hue and saturation are the prediction's, the
// luma is the stream's. Identity when from == to; chroma_conversion(b, a) inverts (a, b).
struct ChromaConversion {
  double m[4];
};
ChromaConversion chroma_conversion(Matrix from, Matrix to);

// 3x3 matrices (row-major) behind the two conversions, for tensor code that applies them.
extern const float kRgbToYcc601[9];
extern const float kYccToRgb601[9];

// HSV saturation of one R'G'B' pixel: (max - min) / max, 0 for black.
float hsv_saturation(Rgb c);

// Mean HSV saturation of `n` interleaved R'G'B' float pixels in [0, 1]: the paper's score
// for choosing the most vivid of the d candidates.
double mean_hsv_saturation(const float* rgb, size_t n);

}  // namespace vidcolor
