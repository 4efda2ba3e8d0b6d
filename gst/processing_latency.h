/* The latency a processing stage (vccolorize: f; vcrefine: g) reports for its own work in the
 * LATENCY query. In a live pipeline the sink waits each frame's timestamp + the reported
 * latency (+ its processing-deadline, 20 ms by default); a frame that takes longer is late and
 * dropped (and QoS makes vccolorize drop more). The networks take a good part of a frame
 * period on a CPU and wait for a core behind the other stages, so each of the two stages
 * reports one frame duration by default: a stage that keeps up with the frame rate finishes a
 * frame within one period of receiving it (measured on the 2-core machine: docs/BENCHMARKS.md). */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* The property: -1 = one frame duration, 0 = none, > 0 = that many nanoseconds. */
#define VC_PROCESSING_LATENCY_AUTO (-1)
#define VC_PROCESSING_LATENCY_MAX (10 * GST_SECOND)

GParamSpec* vc_processing_latency_param_spec(const gchar* what);

/* The latency for `setting` at fps_n/fps_d, or, for a variable frame rate (0/1), per
 * `last_duration` (the last buffer's duration); 0 when `setting` is auto and neither is known. */
GstClockTime vc_processing_latency(gint64 setting, gint fps_n, gint fps_d, GstClockTime last_duration);

/* For a src-pad LATENCY query answered by upstream: adds `add` to min and (if bounded) max. */
void vc_query_add_latency(GstQuery* query, GstClockTime add);

G_END_DECLS
