// Integer codes in and out of video frames of any Y'CbCr layout GStreamer can pack: the one
// place where the elements touch Y'CbCr samples (vcgray and vcflow read luma, vccolorize
// writes frames, vcrefine reads and rewrites chroma). Lines go through the format's own
// unpack/pack functions (GstVideoFormatInfo), so planar, semi-planar, packed 4:2:2, 10-bit
// and v210 share one path; the arithmetic on the codes (range, matrix, subsampling) is in
// vidcolor/ops/frame_planes.hpp. Luma survives unpack + pack unchanged (tested per format).
#pragma once

#include <gst/video/video.h>

#include <cstdint>
#include <vector>

#include <vidcolor/ops/frame_planes.hpp>

// The Y'CbCr formats the chain carries end to end: what vccolorize writes, vcflow reads and
// vcrefine refines (and, with the R'G'B' and gray ones, what vcgray reads).
#define VC_YUV_FORMATS                                                                      \
  "I420, YV12, NV12, NV21, Y42B, NV16, Y444, UYVY, YUY2, I420_10LE, I422_10LE, Y444_10LE, " \
  "P010_10LE, v210, P016_LE, Y444_16LE"

// TRUE for the formats above.
gboolean vc_format_is_chain_yuv(GstVideoFormat format);

// The caps' coding of luma and chroma (GStreamer's range offsets for the format's depth, the
// matrix of vc_luma_matrix_for) and chroma layout (subsampling, chroma-site).
vidcolor::LumaCoding vc_luma_coding(const GstVideoInfo* info);
vidcolor::ChromaCoding vc_chroma_coding(const GstVideoInfo* info);
vidcolor::ChromaLayout vc_chroma_layout(const GstVideoInfo* info);

// Sizes of the chroma planes (samples).
int vc_chroma_width(const GstVideoInfo* info);
int vc_chroma_height(const GstVideoInfo* info);

// Luma codes of the whole frame at its luma depth, rows `width` samples apart.
void vc_frame_read_luma(const GstVideoFrame* frame, std::vector<uint16_t>& luma);

// Chroma codes at the planes' own size, rows vc_chroma_width samples apart.
void vc_frame_read_chroma(const GstVideoFrame* frame, std::vector<uint16_t>& cb,
                          std::vector<uint16_t>& cr);

// Writes every line of `frame`: luma from `luma` (codes at `luma_depth` bits, rows `width`
// apart, shifted to the frame's depth as GStreamer's packers do when the depths differ),
// chroma from cb/cr at the frame's chroma size (rows vc_chroma_width apart).
void vc_frame_write(GstVideoFrame* frame, const uint16_t* luma, int luma_depth, const uint16_t* cb,
                    const uint16_t* cr);

// Replaces the chroma of `frame` (mapped read-write) and leaves its luma as it is.
void vc_frame_replace_chroma(GstVideoFrame* frame, const uint16_t* cb, const uint16_t* cr);
