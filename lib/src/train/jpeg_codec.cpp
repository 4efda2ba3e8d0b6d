#include "vidcolor/train/jpeg_codec.hpp"

#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "vidcolor-config.h"
#include "vidcolor/core/error.hpp"

#if VIDCOLOR_HAVE_JPEG
// jpeglib.h needs FILE and size_t declared first.
#include <jerror.h>
#include <jpeglib.h>
#endif

namespace vidcolor {

#if VIDCOLOR_HAVE_JPEG

namespace {

// libjpeg reports fatal errors through error_exit, which must not return: it longjmps back to
// the caller's setjmp. Only plain C data lives between setjmp and longjmp in the functions
// below (no C++ object is created or destroyed there), so the jump skips no destructor.
struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  int warnings;
};

extern "C" void on_error_exit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Level -1 is a warning about corrupt data (libjpeg goes on and fills the rest with gray):
// kept as the error to report. Trace messages (levels >= 0) are dropped.
extern "C" void on_emit_message(j_common_ptr cinfo, int level) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  if (level < 0) {
    if (err->warnings++ == 0) (*cinfo->err->format_message)(cinfo, err->message);
  }
}

extern "C" void on_output_message(j_common_ptr) {}

void init_errors(ErrorManager& e) {
  jpeg_std_error(&e.pub);
  e.pub.error_exit = on_error_exit;
  e.pub.emit_message = on_emit_message;
  e.pub.output_message = on_output_message;
  e.message[0] = '\0';
  e.warnings = 0;
}

// 0 on success, else 1 with err.message set. `out` receives a malloc'ed buffer.
int encode_c(const uint8_t* rgb, int width, int height, int quality, unsigned char** out,
             unsigned long* out_size, ErrorManager& err) {
  jpeg_compress_struct c;
  std::memset(&c, 0, sizeof c);
  init_errors(err);
  c.err = &err.pub;
  if (setjmp(err.jump)) {
    jpeg_destroy_compress(&c);
    return 1;
  }
  jpeg_create_compress(&c);
  jpeg_mem_dest(&c, out, out_size);
  c.image_width = static_cast<JDIMENSION>(width);
  c.image_height = static_cast<JDIMENSION>(height);
  c.input_components = 3;
  c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);  // YCbCr, 4:2:0, baseline
  jpeg_set_quality(&c, quality, TRUE);
  c.optimize_coding = TRUE;
  c.dct_method = JDCT_ISLOW;
  jpeg_start_compress(&c, TRUE);
  const size_t stride = static_cast<size_t>(width) * 3;
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(rgb + c.next_scanline * stride);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  return 0;
}

// 0 on success; 1 libjpeg error (err.message); 2 wrong size or components; 3 corrupt-data
// warning (err.message). `hwc` must hold width * height * 3 bytes.
int decode_c(const uint8_t* data, size_t size, int width, int height, uint8_t* hwc,
             ErrorManager& err, int* got_w, int* got_h, int* got_c) {
  jpeg_decompress_struct d;
  std::memset(&d, 0, sizeof d);
  init_errors(err);
  d.err = &err.pub;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&d);
    return 1;
  }
  jpeg_create_decompress(&d);
  jpeg_mem_src(&d, data, static_cast<unsigned long>(size));
  jpeg_read_header(&d, TRUE);
  *got_w = static_cast<int>(d.image_width);
  *got_h = static_cast<int>(d.image_height);
  *got_c = d.num_components;
  if (*got_w != width || *got_h != height || d.num_components != 3) {
    jpeg_destroy_decompress(&d);
    return 2;
  }
  d.out_color_space = JCS_RGB;
  d.dct_method = JDCT_ISLOW;
  jpeg_start_decompress(&d);
  if (d.output_width != static_cast<JDIMENSION>(width) ||
      d.output_height != static_cast<JDIMENSION>(height) || d.output_components != 3) {
    jpeg_destroy_decompress(&d);
    return 2;
  }
  const size_t stride = static_cast<size_t>(width) * 3;
  while (d.output_scanline < d.output_height) {
    JSAMPROW row = hwc + d.output_scanline * stride;
    jpeg_read_scanlines(&d, &row, 1);
  }
  jpeg_finish_decompress(&d);
  jpeg_destroy_decompress(&d);
  return err.warnings > 0 ? 3 : 0;
}

}  // namespace

bool jpeg_supported() { return true; }

std::vector<uint8_t> encode_jpeg_rgb(const uint8_t* rgb, int width, int height, int quality) {
  if (!rgb || width < 1 || height < 1 || width > 65500 || height > 65500)
    throw Error("encode_jpeg_rgb: bad image " + std::to_string(width) + "x" +
                std::to_string(height));
  if (quality < 1 || quality > 100)
    throw Error("encode_jpeg_rgb: quality " + std::to_string(quality) + " outside [1, 100]");
  ErrorManager err;
  unsigned char* buf = nullptr;
  unsigned long n = 0;
  const int rc = encode_c(rgb, width, height, quality, &buf, &n, err);
  std::vector<uint8_t> out;
  if (rc == 0 && buf) out.assign(buf, buf + n);
  std::free(buf);
  if (rc != 0) throw Error(std::string("encode_jpeg_rgb: libjpeg: ") + err.message);
  return out;
}

void decode_jpeg_rgb_chw(const uint8_t* data, size_t size, int width, int height, uint8_t* out_chw,
                         const std::string& what) {
  if (!data || size == 0) throw Error(what + ": empty JPEG");
  if (width < 1 || height < 1 || width > 65500 || height > 65500)
    throw Error(what + ": bad JPEG size request " + std::to_string(width) + "x" +
                std::to_string(height));
  const size_t plane = static_cast<size_t>(width) * height;
  std::vector<uint8_t> hwc(plane * 3);
  ErrorManager err;
  int gw = 0, gh = 0, gc = 0;
  const int rc = decode_c(data, size, width, height, hwc.data(), err, &gw, &gh, &gc);
  if (rc == 1) throw Error(what + ": not a decodable JPEG (libjpeg: " + err.message + ")");
  if (rc == 2)
    throw Error(what + ": JPEG is " + std::to_string(gw) + "x" + std::to_string(gh) + " with " +
                std::to_string(gc) + " components, expected " + std::to_string(width) + "x" +
                std::to_string(height) + " R'G'B'");
  if (rc == 3) throw Error(what + ": corrupt JPEG data (libjpeg: " + err.message + ")");
  for (size_t p = 0; p < plane; ++p) {
    out_chw[p] = hwc[3 * p];
    out_chw[plane + p] = hwc[3 * p + 1];
    out_chw[2 * plane + p] = hwc[3 * p + 2];
  }
}

#else  // no libjpeg in this build

bool jpeg_supported() { return false; }

std::vector<uint8_t> encode_jpeg_rgb(const uint8_t*, int, int, int) {
  throw Error(
      "encode_jpeg_rgb: this build has no libjpeg (install libjpeg62-turbo-dev and reconfigure)");
}

void decode_jpeg_rgb_chw(const uint8_t*, size_t, int, int, uint8_t*, const std::string& what) {
  throw Error(what +
              ": this build has no libjpeg, so it cannot read a compact (version 2) pack "
              "(install libjpeg62-turbo-dev and reconfigure)");
}

#endif

}  // namespace vidcolor
