/* The latency a processing stage (vccolorize: f; vcrefine: g) reports for its own work in the
 * LATENCY query. In a live pipeline the sink waits each frame's timestamp + the reported
 * latency (+ its processing-deadline, 20 ms by default); a frame that takes longer is late and
 * dropped (and QoS makes vccolorize drop more). The networks take a good part of a frame
 * period on a CPU and wait for a core behind the other stages, so each of the two stages
 * reports one frame duration by default: a stage that keeps up with the frame rate finishes a
 * frame within one period of receiving it (measured on the 2-core machine: docs/BENCHMARKS.md). */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

/* A stream's frame period as latency counts it: the caps framerate, or for a variable one
 * (0/1) the duration of the last buffer that had one. Guarded by the owning element's lock. */
typedef struct {
  gint fps_n, fps_d;
  GstClockTime last_duration;
} VcFramePeriod;

#define VC_FRAME_PERIOD_UNKNOWN \
  { 0, 1, GST_CLOCK_TIME_NONE }

/* Records the caps framerate of `info`; TRUE when it changed (the latency in frames did: post
 * a LATENCY message). */
gboolean vc_frame_period_set_rate(VcFramePeriod* period, const GstVideoInfo* info);

/* Records the duration of `buffer`, if it has one. */
void vc_frame_period_note_buffer(VcFramePeriod* period, GstBuffer* buffer);

/* The duration of `frames` frames: exact from the framerate, else frames x the last buffer
 * duration, else 0 (nothing known yet). */
GstClockTime vc_frame_period_duration(const VcFramePeriod* period, guint64 frames);

/* The property: -1 = one frame duration, 0 = none, > 0 = that many nanoseconds. */
#define VC_PROCESSING_LATENCY_AUTO (-1)
#define VC_PROCESSING_LATENCY_MAX (10 * GST_SECOND)

GParamSpec* vc_processing_latency_param_spec(const gchar* what);

/* The latency for `setting`: itself when >= 0, else one frame of `period` (0 while unknown). */
GstClockTime vc_processing_latency(gint64 setting, const VcFramePeriod* period);

/* For a src-pad LATENCY query answered by upstream: adds `add` to min and (if bounded) max. */
void vc_query_add_latency(GstQuery* query, GstClockTime add);

G_END_DECLS
