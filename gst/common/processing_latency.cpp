#include "processing_latency.h"

GParamSpec* vc_processing_latency_param_spec(const gchar* what) {
  gchar* blurb = g_strdup_printf(
      "Latency (ns) reported for %s in live pipelines, so a synchronising sink does not count "
      "frames late while they are being computed: -1 = one frame duration, 0 = none",
      what);
  GParamSpec* spec = g_param_spec_int64(
      "processing-latency", "Processing latency", blurb, VC_PROCESSING_LATENCY_AUTO,
      static_cast<gint64>(VC_PROCESSING_LATENCY_MAX), VC_PROCESSING_LATENCY_AUTO,
      static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_NAME | G_PARAM_STATIC_NICK |
                               GST_PARAM_MUTABLE_PLAYING));
  g_free(blurb);  // GLib copied it (no G_PARAM_STATIC_BLURB)
  return spec;
}

gboolean vc_frame_period_set_rate(VcFramePeriod* period, const GstVideoInfo* info) {
  const gboolean changed =
      period->fps_n != GST_VIDEO_INFO_FPS_N(info) || period->fps_d != GST_VIDEO_INFO_FPS_D(info);
  period->fps_n = GST_VIDEO_INFO_FPS_N(info);
  period->fps_d = GST_VIDEO_INFO_FPS_D(info);
  return changed;
}

void vc_frame_period_note_buffer(VcFramePeriod* period, GstBuffer* buffer) {
  if (GST_BUFFER_DURATION_IS_VALID(buffer)) period->last_duration = GST_BUFFER_DURATION(buffer);
}

GstClockTime vc_frame_period_duration(const VcFramePeriod* period, guint64 frames) {
  if (period->fps_n > 0 && period->fps_d > 0)
    return gst_util_uint64_scale_int(frames * GST_SECOND, period->fps_d, period->fps_n);
  if (GST_CLOCK_TIME_IS_VALID(period->last_duration)) return frames * period->last_duration;
  return 0;
}

GstClockTime vc_processing_latency(gint64 setting, const VcFramePeriod* period) {
  return setting >= 0 ? static_cast<GstClockTime>(setting) : vc_frame_period_duration(period, 1);
}

void vc_query_add_latency(GstQuery* query, GstClockTime add) {
  gboolean live = FALSE;
  GstClockTime min = 0, max = GST_CLOCK_TIME_NONE;
  gst_query_parse_latency(query, &live, &min, &max);
  min += add;
  if (GST_CLOCK_TIME_IS_VALID(max)) max += add;
  gst_query_set_latency(query, live, min, max);
}
