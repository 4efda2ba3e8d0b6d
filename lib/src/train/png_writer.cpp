#include "vidcolor/train/png_writer.hpp"

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/shape_string.hpp"
#include "vidcolor-config.h"
#include "vidcolor/core/error.hpp"

#if VIDCOLOR_HAVE_PNG
#include <png.h>
#endif

namespace vidcolor {

bool png_supported() { return VIDCOLOR_HAVE_PNG != 0; }

void write_png(const std::string& path, const torch::Tensor& rgb) {
  if (!rgb.defined() || rgb.dim() != 3 || rgb.size(2) != 3 || rgb.scalar_type() != torch::kUInt8 ||
      rgb.size(0) < 1 || rgb.size(1) < 1)
    throw Error("PNG '" + path + "': need a uint8 [H,W,3] image, got " +
                (rgb.defined() ? shape_str(rgb) : std::string("an undefined tensor")));
#if VIDCOLOR_HAVE_PNG
  const torch::Tensor img = rgb.to(torch::kCPU).contiguous();
  // libpng's simplified API: no setjmp, errors come back in image.message.
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(img.size(1));
  image.height = static_cast<png_uint_32>(img.size(0));
  image.format = PNG_FORMAT_RGB;
  const std::string tmp = path + ".tmp";
  if (!png_image_write_to_file(&image, tmp.c_str(), 0, img.data_ptr<uint8_t>(),
                               static_cast<png_int_32>(img.size(1) * 3), nullptr)) {
    std::remove(tmp.c_str());
    throw Error("PNG '" + path + "': " + image.message);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw Error("PNG '" + path + "': cannot rename the temporary file: " + ec.message());
  }
#else
  throw Error("PNG '" + path + "': this build has no libpng (install libpng-dev and reconfigure)");
#endif
}

}  // namespace vidcolor
