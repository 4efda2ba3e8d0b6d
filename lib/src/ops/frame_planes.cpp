#include "vidcolor/ops/frame_planes.hpp"

#include <algorithm>
#include <cmath>
#include <string>

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

uint8_t to_u8(float v) {
  return static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
}

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
  const torch::Tensor v =
      (luma.to(torch::kCPU, torch::kFloat32) * 255.0f).round_().clamp_(0, 255).to(torch::kUInt8)
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
  if (out.sub_x != 1 || out.sub_y != 1)  // ceil_mode + no padding count: edge blocks average what they cover
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

void ycc_to_rgb8_plane(const uint8_t* y, size_t y_stride, const torch::Tensor& cbcr,
                       PackedRgbLayout layout, int alpha, uint8_t* dst, size_t dst_stride) {
  check_chroma(cbcr);
  const torch::Tensor c = cbcr.to(torch::kCPU, torch::kFloat32).contiguous();
  const int64_t h = c.size(2), w = c.size(3);
  const float* cb = c.data_ptr<float>();
  const float* cr = cb + h * w;
  const float* m = kYccToRgb601;  // rows R, G, B; columns Y, Cb, Cr
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
