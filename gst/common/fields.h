// Interlaced video as the networks and the flow see it: pictures, not combed frames.
//
// A buffer holds one picture (a progressive frame), two fields interleaved line by line
// (interlace-mode interleaved, or mixed with GST_VIDEO_BUFFER_FLAG_INTERLACED set) or one
// field (interlace-mode alternate, GST_VIDEO_BUFFER_FLAG_TOP_FIELD / BOTTOM_FIELD). Each
// field is a half-height picture of its own instant: running f or g on the combed frame, or
// computing flow between combed frames, mixes two instants (comb artefacts in the chroma,
// flow that sees the comb). vc_frame_pictures() gives each picture of a mapped frame as a
// progressive GstVideoFrame *view* of the same memory (the field's rows: data offset by one
// line for the bottom field, strides doubled, height halved), so every reader and writer of
// frames (frame_codes.h, the gray planes) works on a field unchanged and the chroma is
// written back interleaved. Chroma rows belong to fields too: in interlaced 4:2:0 chroma line
// 2k is the top field's, 2k+1 the bottom's (GStreamer's interlaced packers, and its plane
// sizes, which round the chroma height up for the bottom field's last line), which is what
// the doubled chroma stride gives.
//
// Fields of one parity form a sequence of pictures: flow and temporal refinement pair a top
// field with the previous top field and a bottom field with the previous bottom one, so the
// field order (TFF/BFF) never mixes instants of different parities.
#pragma once

#include <gst/video/video.h>

// Caps of `formats` (a "{ ... }" list) in system memory, progressive or interlaced, and
// the same in alternate mode, whose caps carry the format:Interlaced feature (one field per
// buffer): what the chain's pad templates accept.
#define VC_VIDEO_CAPS_WITH_FIELDS(formats)                                   \
  GST_VIDEO_CAPS_MAKE(formats)                                               \
  "; " GST_VIDEO_CAPS_MAKE_WITH_FEATURES(GST_CAPS_FEATURE_FORMAT_INTERLACED, \
                                         formats) ", interlace-mode = (string) alternate"

// TRUE for caps features whose buffers the elements can map: none (system memory), ANY,
// system memory, and format:Interlaced (alternate-mode fields in system memory).
gboolean vc_caps_features_mappable(const GstCapsFeatures* features);

// The features a converted structure keeps: a copy of `features` when they name
// format:Interlaced (alternate fields stay alternate fields), else NULL (system memory).
GstCapsFeatures* vc_caps_features_kept(const GstCapsFeatures* features);

// What a buffer holds.
enum class VcPictureKind {
  Frame,   // one progressive picture (also a mixed-mode frame not flagged interlaced)
  Fields,  // two fields of one frame, interleaved (top = even lines)
  Field,   // one field of its own (interlace-mode alternate)
};

struct VcPictures {
  VcPictureKind kind = VcPictureKind::Frame;
  int count = 1;
  // Progressive views of the mapped frame's memory: borrowed, never unmapped themselves.
  GstVideoFrame view[2];
  // Which sequence each picture belongs to: 0 = the frame, or the top field; 1 = the bottom.
  int parity[2] = {0, 1};
};

// The kind of a mapped frame (from its caps' interlace-mode and its flags). Frames of
// fewer than 2 lines count as progressive: a 1-line frame has no second field.
VcPictureKind vc_frame_kind(const GstVideoFrame* frame);

// The pictures of `frame` (mapped), in line order for two fields.
VcPictures vc_frame_pictures(const GstVideoFrame* frame);

// The pictures of `frame` laid out as `like`'s (the same kind and parities): for an output
// or a source frame of another format that belongs to the same buffer as `like`.
VcPictures vc_frame_pictures_as(const GstVideoFrame* frame, const VcPictures& like);

// Human-readable kind, for logs.
const char* vc_picture_kind_name(VcPictureKind kind);
