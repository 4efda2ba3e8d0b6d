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

GstClockTime vc_processing_latency(gint64 setting, gint fps_n, gint fps_d, GstClockTime last_duration) {
  if (setting >= 0) return static_cast<GstClockTime>(setting);
  if (fps_n > 0 && fps_d > 0) return gst_util_uint64_scale_int(GST_SECOND, fps_d, fps_n);
  if (GST_CLOCK_TIME_IS_VALID(last_duration)) return last_duration;
  return 0;
}

void vc_query_add_latency(GstQuery* query, GstClockTime add) {
  gboolean live = FALSE;
  GstClockTime min = 0, max = GST_CLOCK_TIME_NONE;
  gst_query_parse_latency(query, &live, &min, &max);
  min += add;
  if (GST_CLOCK_TIME_IS_VALID(max)) max += add;
  gst_query_set_latency(query, live, min, max);
}
