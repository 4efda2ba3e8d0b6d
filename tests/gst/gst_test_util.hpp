// Helpers shared by the element tests: GStreamer init as a GTest environment, RAII for
// harnesses/buffers, and frame builders.
#pragma once

#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

namespace vctest {

class GstEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { gst_init(nullptr, nullptr); }
};

struct HarnessDeleter {
  void operator()(GstHarness* h) const { gst_harness_teardown(h); }
};
using HarnessPtr = std::unique_ptr<GstHarness, HarnessDeleter>;

struct BufferDeleter {
  void operator()(GstBuffer* b) const { gst_buffer_unref(b); }
};
using BufferPtr = std::unique_ptr<GstBuffer, BufferDeleter>;

struct CapsDeleter {
  void operator()(GstCaps* c) const { gst_caps_unref(c); }
};
using CapsPtr = std::unique_ptr<GstCaps, CapsDeleter>;

inline HarnessPtr make_harness(const char* element) { return HarnessPtr(gst_harness_new(element)); }

inline std::string video_caps(const char* format, int w, int h, const char* extra = "") {
  return std::string("video/x-raw,format=") + format + ",width=" + std::to_string(w) +
         ",height=" + std::to_string(h) + ",framerate=25/1" + extra;
}

// A buffer laid out for `info` (with its padding) whose pixels are written by `fill`.
inline GstBuffer* make_frame(const GstVideoInfo* info,
                             const std::function<void(GstVideoFrame*)>& fill) {
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(info), nullptr);
  GstVideoFrame frame;
  if (!gst_video_frame_map(&frame, info, buf, GST_MAP_WRITE)) {
    gst_buffer_unref(buf);
    return nullptr;
  }
  fill(&frame);
  gst_video_frame_unmap(&frame);
  return buf;
}

// Runs a gst-launch style pipeline to EOS or error, returning the error text (empty on
// success). Gives up after timeout_s.
// Adds a buffer probe on the sink pad of the element named `sink_name` (e.g. a fakesink).
inline void add_sink_buffer_probe(GstElement* pipeline, GstPadProbeCallback probe, gpointer data,
                                  const char* sink_name = "sink") {
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), sink_name);
  ASSERT_NE(sink, nullptr) << "no element named " << sink_name;
  GstPad* pad = gst_element_get_static_pad(sink, "sink");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, probe, data, nullptr);
  gst_object_unref(pad);
  gst_object_unref(sink);
}

// `before_play`, when given, sees the built pipeline before it is set to PLAYING (to add
// probes, set properties).
inline std::string run_pipeline(const std::string& description, int timeout_s = 60,
                                GstElement** keep = nullptr,
                                const std::function<void(GstElement*)>& before_play = {}) {
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(description.c_str(), &err);
  if (err != nullptr) {
    std::string msg = std::string("parse error: ") + err->message;
    g_error_free(err);
    if (pipeline) gst_object_unref(pipeline);
    return msg;
  }
  if (before_play) before_play(pipeline);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* msg =
      gst_bus_timed_pop_filtered(bus, static_cast<GstClockTime>(timeout_s) * GST_SECOND,
                                 static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  std::string result;
  if (msg == nullptr) {
    result = "timeout";
  } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError* e = nullptr;
    gchar* dbg = nullptr;
    gst_message_parse_error(msg, &e, &dbg);
    result = std::string("error from ") + GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)) + ": " +
             e->message + (dbg ? std::string(" (") + dbg + ")" : "");
    g_error_free(e);
    g_free(dbg);
  }
  if (msg) gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  if (keep != nullptr)
    *keep = pipeline;
  else
    gst_object_unref(pipeline);
  return result;
}

}  // namespace vctest

// Registers the environment once per test binary.
#define VCTEST_GST_MAIN_ENV                                               \
  static ::testing::Environment* const vctest_gst_env_ [[maybe_unused]] = \
      ::testing::AddGlobalTestEnvironment(new vctest::GstEnvironment)
