// Which metas the converting elements (vcgray, vccolorize) copy to their output, the rule of
// videoconvert and of GstVideoFilter in newer GStreamer (1.22's GstBaseTransform copies only
// metas without tags, which would lose AFD and bar data): metas without tags (timecode,
// captions) and metas that only describe the picture's geometry (tags video, size,
// orientation: AFD, bar data, SEI user data, regions of interest) describe the same picture
// after a change of colour and go with it, through their own transform function. Metas tied
// to the samples (tags colorspace, memory: GstVideoMeta, vcgray's source frame) are dropped,
// and so is VcFlowMeta: vcflow computes the colour frames' own.
#pragma once

#include <gst/gst.h>

gboolean vc_meta_survives_colour_change(GType api);
