#include "vidcolor/ops/frame_planes.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "core/shape_string.hpp"
#include "vidcolor/core/error.hpp"

namespace vidcolor {

namespace {

[[noreturn]] void fail(const std::string& what) { throw Error("frame_planes: " + what); }

void check_size(int width, int height) {
  if (width < 1 || height < 1)
    fail("bad plane size " + std::to_string(width) + "x" + std::to_string(height));
}

void check_chroma(const torch::Tensor& cbcr) {
  if (!cbcr.defined() || cbcr.dim() != 4 || cbcr.size(0) != 1 || cbcr.size(1) != 2 ||
      !cbcr.is_floating_point())
    fail("chroma must be a [1,2,H,W] floating-point tensor, got " +
         (cbcr.defined() ? shape_str(cbcr) : std::string("an undefined tensor")));
}

template <typename T>
torch::Tensor plane_to_tensor(const T* data, int width, int height, size_t stride, float scale) {
  check_size(width, height);
  if (stride < width * sizeof(T)) fail("row stride smaller than the row");
  torch::Tensor out = torch::empty({1, 1, height, width}, torch::kFloat32);
  float* dst = out.data_ptr<float>();
  for (int y = 0; y < height; ++y) {
    const T* row = reinterpret_cast<const T*>(reinterpret_cast<const uint8_t*>(data) + y * stride);
    float* o = dst + static_cast<size_t>(y) * width;
    for (int x = 0; x < width; ++x) o[x] = static_cast<float>(row[x]) * scale;
  }
  return out;
}

uint8_t to_u8(float v) { return static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L)); }

}  // namespace

torch::Tensor gray8_plane_to_tensor(const uint8_t* data, int width, int height, size_t stride) {
  return plane_to_tensor(data, width, height, stride, 1.0f / 255.0f);
}

torch::Tensor gray16_plane_to_tensor(const uint16_t* data, int width, int height, size_t stride) {
  return plane_to_tensor(data, width, height, stride, 1.0f / 65535.0f);
}

void tensor_to_gray8_plane(const torch::Tensor& luma, uint8_t* dst, size_t stride) {
  if (!luma.defined() || luma.dim() != 4 || luma.size(0) != 1 || luma.size(1) != 1)
    fail("luma must be [1,1,H,W], got " + (luma.defined() ? shape_str(luma) : std::string("none")));
  const torch::Tensor v = (luma.to(torch::kCPU, torch::kFloat32) * 255.0f)
                              .round_()
                              .clamp_(0, 255)
                              .to(torch::kUInt8)
                              .contiguous();
  const int64_t h = v.size(2), w = v.size(3);
  const uint8_t* src = v.data_ptr<uint8_t>();
  for (int64_t y = 0; y < h; ++y) std::copy(src + y * w, src + (y + 1) * w, dst + y * stride);
}

namespace {

void check_planes8(const ChromaPlanes8& out) {
  if ((out.sub_x != 1 && out.sub_x != 2) || (out.sub_y != 1 && out.sub_y != 2) ||
      out.pixel_stride < 1)
    fail("subsampling must be 1 or 2 and pixel_stride >= 1");
}

}  // namespace

void chroma_to_planes8_torch(const torch::Tensor& cbcr, const ChromaPlanes8& out) {
  check_chroma(cbcr);
  check_planes8(out);
  namespace F = torch::nn::functional;
  torch::Tensor c = cbcr.to(torch::kFloat32);
  if (out.sub_x != 1 ||
      out.sub_y != 1)  // ceil_mode + no padding count: edge blocks average what they cover
    c = F::avg_pool2d(c, F::AvgPool2dFuncOptions({out.sub_y, out.sub_x})
                             .stride({out.sub_y, out.sub_x})
                             .ceil_mode(true)
                             .count_include_pad(false));
  const torch::Tensor q = (c * 255.0f + 128.0f)
                              .round_()
                              .nan_to_num_(128.0)
                              .clamp_(0, 255)
                              .to(torch::kUInt8)
                              .to(torch::kCPU)
                              .contiguous();
  const int64_t h = q.size(2), w = q.size(3);
  uint8_t* dst[2] = {out.cb, out.cr};
  const size_t dst_stride[2] = {out.cb_stride, out.cr_stride};
  for (int k = 0; k < 2; ++k) {
    const uint8_t* src = q.data_ptr<uint8_t>() + k * h * w;
    for (int64_t y = 0; y < h; ++y) {
      uint8_t* o = dst[k] + y * dst_stride[k];
      for (int64_t x = 0; x < w; ++x) o[x * out.pixel_stride] = src[y * w + x];
    }
  }
}

void chroma_to_planes8(const torch::Tensor& cbcr, const ChromaPlanes8& out) {
  // A GPU tensor is subsampled and quantised where it is: 2 bytes per chroma sample come
  // back instead of 8 per pixel (16.6 MB of float32 per 1080p frame).
  if (cbcr.defined() && !cbcr.device().is_cpu()) return chroma_to_planes8_torch(cbcr, out);
  check_chroma(cbcr);
  check_planes8(out);
  // One pass in plain loops: LibTorch's avg_pool2d + round + clamp + cast cost ~5 ms per
  // 854x480 frame on one core, this a fraction of it (docs/BENCHMARKS.md).
  const torch::Tensor c = cbcr.to(torch::kCPU, torch::kFloat32).contiguous();
  const int64_t H = c.size(2), W = c.size(3);
  const int64_t h = (H + out.sub_y - 1) / out.sub_y, w = (W + out.sub_x - 1) / out.sub_x;
  const float* planes[2] = {c.data_ptr<float>(), c.data_ptr<float>() + H * W};
  uint8_t* dst[2] = {out.cb, out.cr};
  const size_t dst_stride[2] = {out.cb_stride, out.cr_stride};
  for (int k = 0; k < 2; ++k) {
    for (int64_t y = 0; y < h; ++y) {
      // Partial blocks at odd edges average the pixels they cover.
      const int64_t y0 = y * out.sub_y, ny = std::min<int64_t>(out.sub_y, H - y0);
      uint8_t* o = dst[k] + y * dst_stride[k];
      for (int64_t x = 0; x < w; ++x) {
        const int64_t x0 = x * out.sub_x, nx = std::min<int64_t>(out.sub_x, W - x0);
        float sum = 0.0f;
        for (int64_t dy = 0; dy < ny; ++dy)
          for (int64_t dx = 0; dx < nx; ++dx) sum += planes[k][(y0 + dy) * W + x0 + dx];
        const float v = std::nearbyint(sum / static_cast<float>(ny * nx) * 255.0f + 128.0f);
        // NaN (a broken network) becomes neutral gray, never an undefined cast.
        o[x * out.pixel_stride] =
            std::isnan(v) ? 128 : static_cast<uint8_t>(std::clamp(v, 0.0f, 255.0f));
      }
    }
  }
}

// ---- any layout, depth, matrix and range

namespace {

void check_coding(const ChromaCoding& c) {
  if (!(c.scale > 0.0f) || c.max_code < 1 || c.max_code > 65535)
    fail("chroma coding needs scale > 0 and max_code in 1..65535");
}

void check_layout(const ChromaLayout& l) {
  auto ok = [](int s) { return s == 1 || s == 2 || s == 4; };
  if (!ok(l.sub_x) || !ok(l.sub_y)) fail("chroma subsampling must be 1, 2 or 4");
}

// The input samples one output sample of a subsampled axis reads, and their weights (summing
// to 1): the block's mean (centred siting) or the triangle filter of width 2 sub - 1 on the
// block's first sample (co-siting), without the samples beyond the edge. At most 7 taps
// (sub 4, co-sited).
struct Taps {
  int64_t first = 0;
  int count = 0;
  float weights[7] = {};
};

std::vector<Taps> axis_taps(int64_t n_in, int sub, bool cosited) {
  const int64_t n_out = (n_in + sub - 1) / sub;
  std::vector<Taps> taps(static_cast<size_t>(n_out));
  for (int64_t i = 0; i < n_out; ++i) {
    Taps& t = taps[static_cast<size_t>(i)];
    const int64_t lo = cosited ? i * sub - (sub - 1) : i * sub;
    const int64_t hi = cosited ? i * sub + (sub - 1) : i * sub + sub - 1;  // inclusive
    t.first = std::max<int64_t>(lo, 0);
    float sum = 0.0f;
    for (int64_t k = t.first; k <= std::min(hi, n_in - 1); ++k) {
      const float w = cosited ? static_cast<float>(sub - std::llabs(k - i * sub)) : 1.0f;
      t.weights[t.count++] = w;
      sum += w;
    }
    for (int k = 0; k < t.count; ++k) t.weights[k] /= sum;
  }
  return taps;
}

// Filters every row of [H][W] along x -> [H][w] (or copies when sub is 1).
std::vector<float> subsample_rows(const float* in, int64_t H, int64_t W, int sub, bool cosited) {
  if (sub == 1) return std::vector<float>(in, in + H * W);
  const std::vector<Taps> tx = axis_taps(W, sub, cosited);
  const int64_t w = static_cast<int64_t>(tx.size());
  std::vector<float> out(static_cast<size_t>(H * w));
  for (int64_t y = 0; y < H; ++y) {
    const float* row = in + y * W;
    float* o = out.data() + y * w;
    for (int64_t x = 0; x < w; ++x) {
      const Taps& t = tx[static_cast<size_t>(x)];
      float v = 0.0f;
      for (int k = 0; k < t.count; ++k) v += t.weights[k] * row[t.first + k];
      o[x] = v;
    }
  }
  return out;
}

// Filters every column of [H][w] along y -> [h][w], a row at a time (cache-friendly).
std::vector<float> subsample_columns(std::vector<float> in, int64_t H, int64_t w, int sub,
                                     bool cosited) {
  if (sub == 1) return in;
  const std::vector<Taps> ty = axis_taps(H, sub, cosited);
  std::vector<float> out(ty.size() * static_cast<size_t>(w), 0.0f);
  for (size_t y = 0; y < ty.size(); ++y) {
    float* o = out.data() + y * w;
    for (int k = 0; k < ty[y].count; ++k) {
      const float wk = ty[y].weights[k];
      const float* row = in.data() + (ty[y].first + k) * w;
      for (int64_t x = 0; x < w; ++x) o[x] += wk * row[x];
    }
  }
  return out;
}

// One plane [H][W] -> [ceil(H / sub_y)][ceil(W / sub_x)] through the layout's filters, x first.
std::vector<float> subsample_plane(const float* in, int64_t H, int64_t W, const ChromaLayout& l) {
  const int64_t w = (W + l.sub_x - 1) / l.sub_x;
  return subsample_columns(subsample_rows(in, H, W, l.sub_x, l.cosited_x), H, w, l.sub_y,
                           l.cosited_y);
}

uint16_t to_code(float c, const ChromaCoding& coding) {
  const float v = std::nearbyint(coding.offset + coding.scale * c);
  if (std::isnan(v)) return static_cast<uint16_t>(std::lround(coding.offset));  // neutral
  return static_cast<uint16_t>(std::clamp(v, 0.0f, static_cast<float>(coding.max_code)));
}

ChromaConversion conversion_from_network(const ChromaCoding& coding) {
  return chroma_conversion(Matrix::BT601, coding.matrix);
}

}  // namespace

void chroma_to_codes(const torch::Tensor& cbcr, const ChromaCoding& coding,
                     const ChromaLayout& layout, uint16_t* cb, uint16_t* cr, size_t stride) {
  if (cbcr.defined() && !cbcr.device().is_cpu())
    return chroma_to_codes_torch(cbcr, coding, layout, cb, cr, stride);
  check_chroma(cbcr);
  check_coding(coding);
  check_layout(layout);
  const torch::Tensor c = cbcr.to(torch::kCPU, torch::kFloat32).contiguous();
  const int64_t H = c.size(2), W = c.size(3);
  const int64_t h = (H + layout.sub_y - 1) / layout.sub_y,
                w = (W + layout.sub_x - 1) / layout.sub_x;
  const float* u_in = c.data_ptr<float>();
  std::vector<float> u, v;
  const float *u_s = u_in, *v_s = u_in + H * W;
  if (layout.sub_x != 1 || layout.sub_y != 1) {
    u = subsample_plane(u_in, H, W, layout);
    v = subsample_plane(u_in + H * W, H, W, layout);
    u_s = u.data();
    v_s = v.data();
  }
  const ChromaConversion m = conversion_from_network(coding);
  const float m0 = static_cast<float>(m.m[0]), m1 = static_cast<float>(m.m[1]),
              m2 = static_cast<float>(m.m[2]), m3 = static_cast<float>(m.m[3]);
  const bool identity = m0 == 1.0f && m1 == 0.0f && m2 == 0.0f && m3 == 1.0f;
  for (int64_t y = 0; y < h; ++y) {
    uint16_t* ob = cb + y * stride;
    uint16_t* orr = cr + y * stride;
    for (int64_t x = 0; x < w; ++x) {
      const float b = u_s[y * w + x], r = v_s[y * w + x];
      ob[x] = to_code(identity ? b : m0 * b + m1 * r, coding);
      orr[x] = to_code(identity ? r : m2 * b + m3 * r, coding);
    }
  }
}

void chroma_to_codes_torch(const torch::Tensor& cbcr, const ChromaCoding& coding,
                           const ChromaLayout& layout, uint16_t* cb, uint16_t* cr, size_t stride) {
  check_chroma(cbcr);
  check_coding(coding);
  check_layout(layout);
  namespace F = torch::nn::functional;
  torch::Tensor c = cbcr.to(torch::kFloat32).transpose(0, 1);  // [2,1,H,W]: planes as a batch
  // One axis at a time, as the loops: a centred block's mean (ceil_mode, partial edge blocks
  // averaging what they cover) or the co-sited triangle filter renormalised at the edges.
  auto along = [&](torch::Tensor t, int sub, bool cosited, bool x_axis) {
    if (sub == 1) return t;
    const std::vector<int64_t> k =
        x_axis ? std::vector<int64_t>{1, sub} : std::vector<int64_t>{sub, 1};
    if (!cosited)
      return F::avg_pool2d(
          t, F::AvgPool2dFuncOptions(k).stride(k).ceil_mode(true).count_include_pad(false));
    std::vector<float> w;
    for (int d = -(sub - 1); d <= sub - 1; ++d) w.push_back(static_cast<float>(sub - std::abs(d)));
    torch::Tensor kernel = torch::tensor(w, t.options());
    kernel = x_axis ? kernel.view({1, 1, 1, -1}) : kernel.view({1, 1, -1, 1});
    const std::vector<int64_t> pad =
        x_axis ? std::vector<int64_t>{0, sub - 1} : std::vector<int64_t>{sub - 1, 0};
    const auto opts = F::Conv2dFuncOptions().stride(k).padding(pad);
    const torch::Tensor sum = F::conv2d(t, kernel, opts);
    const torch::Tensor norm = F::conv2d(torch::ones_like(t.narrow(0, 0, 1)), kernel, opts);
    return sum / norm;
  };
  c = along(c, layout.sub_x, layout.cosited_x, true);
  c = along(c, layout.sub_y, layout.cosited_y, false);
  const ChromaConversion m = conversion_from_network(coding);
  const torch::Tensor u = c[0][0], v = c[1][0];
  // The same matrix: no products, so a NaN in one plane stays out of the other (as the loops).
  const bool identity = m.m[0] == 1.0 && m.m[1] == 0.0 && m.m[2] == 0.0 && m.m[3] == 1.0;
  const torch::Tensor converted =
      identity ? torch::stack({u, v})
               : torch::stack({u * static_cast<float>(m.m[0]) + v * static_cast<float>(m.m[1]),
                               u * static_cast<float>(m.m[2]) + v * static_cast<float>(m.m[3])});
  const torch::Tensor q = (converted * coding.scale + coding.offset)
                              .round_()
                              .nan_to_num_(std::round(coding.offset))
                              .clamp_(0, coding.max_code)
                              .to(torch::kInt32)
                              .to(torch::kCPU)
                              .contiguous();
  const int64_t h = q.size(1), w = q.size(2);
  uint16_t* dst[2] = {cb, cr};
  for (int k = 0; k < 2; ++k) {
    const int32_t* src = q.data_ptr<int32_t>() + k * h * w;
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        dst[k][y * stride + x] = static_cast<uint16_t>(src[y * w + x]);
  }
}

torch::Tensor codes_to_chroma(const uint16_t* cb, const uint16_t* cr, size_t stride, int width,
                              int height, const ChromaCoding& coding) {
  check_size(width, height);
  check_coding(coding);
  if (stride < static_cast<size_t>(width)) fail("chroma code stride smaller than the row");
  const ChromaConversion m = chroma_conversion(coding.matrix, Matrix::BT601);
  const float inv = 1.0f / coding.scale;
  torch::Tensor out = torch::empty({1, 2, height, width}, torch::kFloat32);
  float* ob = out.data_ptr<float>();
  float* orr = ob + static_cast<size_t>(width) * height;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const float b = (cb[y * stride + x] - coding.offset) * inv;
      const float r = (cr[y * stride + x] - coding.offset) * inv;
      const size_t i = static_cast<size_t>(y) * width + x;
      ob[i] = static_cast<float>(m.m[0] * b + m.m[1] * r);
      orr[i] = static_cast<float>(m.m[2] * b + m.m[3] * r);
    }
  return out;
}

torch::Tensor luma_codes_to_tensor(const uint16_t* codes, int width, int height, size_t stride,
                                   const LumaCoding& coding) {
  check_size(width, height);
  if (!(coding.scale > 0.0f)) fail("luma coding needs scale > 0");
  if (stride < static_cast<size_t>(width)) fail("luma code stride smaller than the row");
  torch::Tensor out = torch::empty({1, 1, height, width}, torch::kFloat32);
  float* dst = out.data_ptr<float>();
  const float inv = 1.0f / coding.scale;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      dst[static_cast<size_t>(y) * width + x] =
          std::clamp((codes[y * stride + x] - coding.offset) * inv, 0.0f, 1.0f);
  return out;
}

void tensor_to_luma_codes(const torch::Tensor& luma, const LumaCoding& coding, uint16_t* codes,
                          size_t stride) {
  if (!luma.defined() || luma.dim() != 4 || luma.size(0) != 1 || luma.size(1) != 1)
    fail("luma must be [1,1,H,W], got " + (luma.defined() ? shape_str(luma) : std::string("none")));
  const torch::Tensor v = luma.to(torch::kCPU, torch::kFloat32).contiguous();
  const int64_t h = v.size(2), w = v.size(3);
  const float* src = v.data_ptr<float>();
  const float max_code = static_cast<float>(coding.max_code);
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      const float c = std::nearbyint(coding.offset + coding.scale * src[y * w + x]);
      codes[y * stride + x] =
          std::isnan(c) ? 0 : static_cast<uint16_t>(std::clamp(c, 0.0f, max_code));
    }
}

namespace {

// Rows R', G', B'; columns Y', Cb, Cr of the network chroma decoded with `matrix`.
std::array<float, 9> decode_network_chroma(Matrix matrix) {
  std::array<float, 9> m{};
  if (matrix == Matrix::BT601) {
    std::copy(kYccToRgb601, kYccToRgb601 + 9, m.begin());
    return m;
  }
  const LumaWeights k = luma_weights(matrix);
  const ChromaConversion c = chroma_conversion(Matrix::BT601, matrix);
  // Decoding with `matrix`, on its own chroma (cb', cr').
  const double a[3][2] = {{0.0, 2.0 * (1.0 - k.kr)},
                          {-2.0 * k.kb * (1.0 - k.kb) / k.kg, -2.0 * k.kr * (1.0 - k.kr) / k.kg},
                          {2.0 * (1.0 - k.kb), 0.0}};
  for (int i = 0; i < 3; ++i) {
    m[3 * i] = 1.0f;
    m[3 * i + 1] = static_cast<float>(a[i][0] * c.m[0] + a[i][1] * c.m[2]);
    m[3 * i + 2] = static_cast<float>(a[i][0] * c.m[1] + a[i][1] * c.m[3]);
  }
  return m;
}

}  // namespace

void ycc_to_rgb8_plane(const uint8_t* y, size_t y_stride, const torch::Tensor& cbcr,
                       PackedRgbLayout layout, int alpha, uint8_t* dst, size_t dst_stride,
                       Matrix matrix) {
  check_chroma(cbcr);
  const torch::Tensor c = cbcr.to(torch::kCPU, torch::kFloat32).contiguous();
  const int64_t h = c.size(2), w = c.size(3);
  const float* cb = c.data_ptr<float>();
  const float* cr = cb + h * w;
  const std::array<float, 9> decode = decode_network_chroma(matrix);
  const float* m = decode.data();  // rows R, G, B; columns Y, Cb, Cr
  for (int64_t yy = 0; yy < h; ++yy) {
    const uint8_t* yrow = y + yy * y_stride;
    uint8_t* o = dst + yy * dst_stride;
    for (int64_t x = 0; x < w; ++x, o += layout.pixel_stride) {
      const float lum = yrow[x] / 255.0f;
      const float u = cb[yy * w + x], v = cr[yy * w + x];
      float d[3];
      float s = 1.0f;  // chroma scale that keeps every channel inside [0, 1]
      for (int i = 0; i < 3; ++i) {
        d[i] = (m[3 * i] - 1.0f) * lum + m[3 * i + 1] * u + m[3 * i + 2] * v;
        if (lum + d[i] > 1.0f) s = std::min(s, (1.0f - lum) / d[i]);
        if (lum + d[i] < 0.0f) s = std::min(s, -lum / d[i]);
      }
      o[layout.r] = to_u8(255.0f * (lum + s * d[0]));
      o[layout.g] = to_u8(255.0f * (lum + s * d[1]));
      o[layout.b] = to_u8(255.0f * (lum + s * d[2]));
      if (alpha >= 0) o[alpha] = 255;
    }
  }
}

}  // namespace vidcolor
