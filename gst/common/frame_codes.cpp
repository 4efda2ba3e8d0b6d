#include "frame_codes.h"

#include <algorithm>
#include <string>
#include <vector>

#include <vidcolor/core/error.hpp>

#include "format_list.h"
#include "luma_matrix.h"

namespace {

// One unpacked line: A, Y, U, V per pixel, 8 bits (AYUV) or 16 bits (AYUV64, codes in the
// high bits) per component.
class Line {
 public:
  explicit Line(const GstVideoInfo* info)
      : finfo_(info->finfo),
        wide_(finfo_->unpack_format == GST_VIDEO_FORMAT_AYUV64),
        width_(GST_VIDEO_INFO_WIDTH(info)),
        bytes_(static_cast<size_t>(width_) * (wide_ ? 8 : 4) + 64) {
    if (finfo_->unpack_format != GST_VIDEO_FORMAT_AYUV && !wide_)
      throw vidcolor::Error(std::string("frame_codes: ") + finfo_->name + " is not Y'CbCr");
    if (finfo_->pack_lines != 1)
      throw vidcolor::Error(std::string("frame_codes: ") + finfo_->name + " packs several lines");
  }

  void unpack(const GstVideoFrame* f, int y) {
    finfo_->unpack_func(finfo_, GST_VIDEO_PACK_FLAG_NONE, bytes_.data(), f->data, f->info.stride, 0,
                        y, width_);
  }
  void pack(GstVideoFrame* f, int y) {
    finfo_->pack_func(finfo_, GST_VIDEO_PACK_FLAG_NONE, bytes_.data(), 0, f->data, f->info.stride,
                      f->info.chroma_site, y, width_);
  }

  // Component c (1 = Y, 2 = U, 3 = V) of pixel x as a code of `depth` bits, and back.
  uint16_t get(int x, int c, int depth) const {
    if (!wide_) return bytes_[static_cast<size_t>(4 * x + c)];
    const uint16_t v = reinterpret_cast<const uint16_t*>(bytes_.data())[4 * x + c];
    return static_cast<uint16_t>(v >> (16 - depth));
  }
  void set(int x, int c, uint16_t code, int depth) {
    if (!wide_) {
      bytes_[static_cast<size_t>(4 * x + c)] = static_cast<uint8_t>(code);
      return;
    }
    // High bits carry the code; the low bits repeat its top bits, as GStreamer's unpackers do.
    const int shift = 16 - depth;
    reinterpret_cast<uint16_t*>(bytes_.data())[4 * x + c] =
        static_cast<uint16_t>((code << shift) | (shift > 0 ? code >> (depth - shift) : 0));
  }
  void set_alpha(int x) {
    if (wide_)
      reinterpret_cast<uint16_t*>(bytes_.data())[4 * x] = 0xffff;
    else
      bytes_[static_cast<size_t>(4 * x)] = 0xff;
  }

 private:
  const GstVideoFormatInfo* finfo_;
  bool wide_;
  int width_;
  std::vector<uint8_t> bytes_;
};

int luma_depth(const GstVideoInfo* info) { return GST_VIDEO_INFO_COMP_DEPTH(info, 0); }
int chroma_depth(const GstVideoInfo* info) { return GST_VIDEO_INFO_COMP_DEPTH(info, 1); }

// A code of `from` bits at `to` bits: shifted down, or up with the top bits repeated below.
uint16_t rescale(uint16_t v, int from, int to) {
  if (from == to) return v;
  if (from > to) return static_cast<uint16_t>(v >> (from - to));
  const int up = to - from;
  return static_cast<uint16_t>((v << up) | (v >> (from - std::min(up, from))));
}

void fill_chroma(Line& line, const GstVideoInfo* info, int y, const uint16_t* cb,
                 const uint16_t* cr) {
  const int w = GST_VIDEO_INFO_WIDTH(info), cw = vc_chroma_width(info);
  const int ws = GST_VIDEO_FORMAT_INFO_W_SUB(info->finfo, 1);
  const int hs = GST_VIDEO_FORMAT_INFO_H_SUB(info->finfo, 1);
  const int depth = chroma_depth(info);
  const size_t row = static_cast<size_t>(y >> hs) * cw;
  // Every pixel of a block gets its block's sample, whichever one the packer takes.
  for (int x = 0; x < w; ++x) {
    line.set(x, 2, cb[row + (x >> ws)], depth);
    line.set(x, 3, cr[row + (x >> ws)], depth);
  }
}

}  // namespace

gboolean vc_format_is_chain_yuv(GstVideoFormat format) {
  // Read once from VC_YUV_FORMATS, the pad templates' list, so the two cannot disagree.
  static const std::vector<GstVideoFormat> kChain = [] {
    std::vector<GstVideoFormat> formats;
    for (const gchar* name : vc_format_list(VC_YUV_FORMATS)) {
      formats.push_back(gst_video_format_from_string(name));
      g_assert(formats.back() != GST_VIDEO_FORMAT_UNKNOWN);
    }
    return formats;
  }();
  return std::find(kChain.begin(), kChain.end(), format) != kChain.end();
}

vidcolor::LumaCoding vc_luma_coding(const GstVideoInfo* info) {
  gint offset[GST_VIDEO_MAX_COMPONENTS], scale[GST_VIDEO_MAX_COMPONENTS];
  gst_video_color_range_offsets(info->colorimetry.range, info->finfo, offset, scale);
  return {static_cast<float>(offset[0]), static_cast<float>(scale[0]), (1 << luma_depth(info)) - 1};
}

vidcolor::ChromaCoding vc_chroma_coding(const GstVideoInfo* info) {
  gint offset[GST_VIDEO_MAX_COMPONENTS], scale[GST_VIDEO_MAX_COMPONENTS];
  gst_video_color_range_offsets(info->colorimetry.range, info->finfo, offset, scale);
  return {vc_luma_matrix_for(info), static_cast<float>(offset[1]), static_cast<float>(scale[1]),
          (1 << chroma_depth(info)) - 1};
}

vidcolor::ChromaLayout vc_chroma_layout(const GstVideoInfo* info) {
  vidcolor::ChromaLayout l;
  l.sub_x = 1 << GST_VIDEO_FORMAT_INFO_W_SUB(info->finfo, 1);
  l.sub_y = 1 << GST_VIDEO_FORMAT_INFO_H_SUB(info->finfo, 1);
  // An unknown siting counts as centred, as videoconvert's chroma resampler takes it.
  l.cosited_x = (info->chroma_site & GST_VIDEO_CHROMA_SITE_H_COSITED) != 0;
  l.cosited_y = (info->chroma_site & GST_VIDEO_CHROMA_SITE_V_COSITED) != 0;
  return l;
}

int vc_chroma_width(const GstVideoInfo* info) { return GST_VIDEO_INFO_COMP_WIDTH(info, 1); }
int vc_chroma_height(const GstVideoInfo* info) { return GST_VIDEO_INFO_COMP_HEIGHT(info, 1); }

void vc_frame_read_luma(const GstVideoFrame* frame, std::vector<uint16_t>& luma) {
  const GstVideoInfo* info = &frame->info;
  const int w = GST_VIDEO_INFO_WIDTH(info), h = GST_VIDEO_INFO_HEIGHT(info);
  const int depth = luma_depth(info);
  Line line(info);
  luma.resize(static_cast<size_t>(w) * h);
  for (int y = 0; y < h; ++y) {
    line.unpack(frame, y);
    uint16_t* dst = luma.data() + static_cast<size_t>(y) * w;
    for (int x = 0; x < w; ++x) dst[x] = line.get(x, 1, depth);
  }
}

void vc_frame_read_chroma(const GstVideoFrame* frame, std::vector<uint16_t>& cb,
                          std::vector<uint16_t>& cr) {
  const GstVideoInfo* info = &frame->info;
  const int cw = vc_chroma_width(info), ch = vc_chroma_height(info);
  const int ws = GST_VIDEO_FORMAT_INFO_W_SUB(info->finfo, 1);
  const int hs = GST_VIDEO_FORMAT_INFO_H_SUB(info->finfo, 1);
  const int depth = chroma_depth(info);
  Line line(info);
  cb.resize(static_cast<size_t>(cw) * ch);
  cr.resize(cb.size());
  // Unpacking duplicates each sample over its block: the block's first pixel of its first
  // line holds it.
  for (int y = 0; y < ch; ++y) {
    line.unpack(frame, y << hs);
    for (int x = 0; x < cw; ++x) {
      cb[static_cast<size_t>(y) * cw + x] = line.get(x << ws, 2, depth);
      cr[static_cast<size_t>(y) * cw + x] = line.get(x << ws, 3, depth);
    }
  }
}

void vc_frame_write(GstVideoFrame* frame, const uint16_t* luma, int depth_in, const uint16_t* cb,
                    const uint16_t* cr) {
  const GstVideoInfo* info = &frame->info;
  const int w = GST_VIDEO_INFO_WIDTH(info), h = GST_VIDEO_INFO_HEIGHT(info);
  const int depth = luma_depth(info);
  Line line(info);
  for (int y = 0; y < h; ++y) {
    const uint16_t* src = luma + static_cast<size_t>(y) * w;
    for (int x = 0; x < w; ++x) {
      line.set_alpha(x);
      line.set(x, 1, rescale(src[x], depth_in, depth), depth);
    }
    fill_chroma(line, info, y, cb, cr);
    line.pack(frame, y);
  }
}

void vc_frame_replace_chroma(GstVideoFrame* frame, const uint16_t* cb, const uint16_t* cr) {
  const GstVideoInfo* info = &frame->info;
  Line line(info);
  for (int y = 0; y < GST_VIDEO_INFO_HEIGHT(info); ++y) {
    line.unpack(frame, y);
    fill_chroma(line, info, y, cb, cr);
    line.pack(frame, y);
  }
}
