// The frame vcgray made its gray from, carried to vccolorize so the output's luma is that
// frame's own samples (bit-exact at any depth and range) instead of the gray converted back.
//
// Two halves, both private to the plugin:
// - VcSourceFrameMeta on each gray buffer vcgray converted: a reference to the input buffer
//   and its video info. Tags video, colorspace, size and orientation: an element that converts
//   or scales the gray between vcgray and vccolorize drops it (the original no longer matches
//   the gray); plain copies (queue, tee, in-place elements) keep it.
// - caps fields on vcgray's output describing the source (format, colorimetry, chroma-site),
//   so that vccolorize can negotiate the source's format and colorimetry before any buffer.
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define VC_SOURCE_FORMAT_FIELD "vc-source-format"
#define VC_SOURCE_COLORIMETRY_FIELD "vc-source-colorimetry"
#define VC_SOURCE_CHROMA_SITE_FIELD "vc-source-chroma-site"

typedef struct {
  GstMeta meta;
  GstBuffer* buffer;  // the source frame (a reference)
  GstVideoInfo info;  // its layout
} VcSourceFrameMeta;

GType vc_source_frame_meta_api_get_type(void);
const GstMetaInfo* vc_source_frame_meta_get_info(void);
#define VC_SOURCE_FRAME_META_API_TYPE (vc_source_frame_meta_api_get_type())

// Attaches `source` (referenced) with its info to `buffer`.
VcSourceFrameMeta* vc_buffer_add_source_frame_meta(GstBuffer* buffer, GstBuffer* source,
                                                   const GstVideoInfo* info);
#define vc_buffer_get_source_frame_meta(b) \
  ((VcSourceFrameMeta*)gst_buffer_get_meta((b), VC_SOURCE_FRAME_META_API_TYPE))

// Writes the source fields for the (fixed) source caps `source` (parsed as `info`) into `s`.
void vc_source_fields_set(GstStructure* s, const GstStructure* source, const GstVideoInfo* info);
// Removes them (caps that are not vcgray's output must not carry them).
void vc_source_fields_remove(GstStructure* s);

G_END_DECLS
