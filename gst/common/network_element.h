/* The layer the two network elements share (vccolorize runs f, vcrefine runs g), as
 * NNStreamer's tensor_filter_common is for its filter elements: written once here, so the two
 * cannot drift apart again (their property ranges already had: threads up to 256 in one, 1024
 * in the other).
 *
 * - The shared properties: model, device, threads, inference-size, processing-latency, with
 *   one spec each (vc_network_class_install_properties) and one policy for which may change
 *   while playing, written in the specs' flags and enforced for every property of the element
 *   by vc_network_property_settable: model and device shape the loaded state (READY/NULL
 *   only); threads and processing-latency are read per frame (any state); inference-size is
 *   read per frame where the element can rebuild its engine between frames (vccolorize) and
 *   fixed at start where the engine outlives frames (vcrefine's window holds it).
 * - One start (vc_network_start): device, model file, engine, each failure posted with a fixed
 *   error domain and code, naming the device or the file and the reason.
 * - One guard (vc_network_guard): any exception from lib/ (vidcolor::Error, LibTorch's
 *   c10::Error, std::bad_alloc, ...) becomes a GST_ELEMENT_ERROR instead of unwinding through C.
 * - The per-frame housekeeping both need: LibTorch threads of the calling streaming thread, the
 *   frame period and the processing latency added to a LATENCY answer. */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <torch/torch.h>

#include "processing_latency.h"

namespace vidcolor {
struct Model;
}

/* Property ids of the shared properties; an element numbers its own from VC_NETWORK_PROP_N. */
enum {
  VC_NETWORK_PROP_MODEL = 1,
  VC_NETWORK_PROP_DEVICE,
  VC_NETWORK_PROP_THREADS,
  VC_NETWORK_PROP_INFERENCE_SIZE,
  VC_NETWORK_PROP_PROCESSING_LATENCY,
  VC_NETWORK_PROP_N
};

// "auto" uses a GPU when this LibTorch has CUDA and one is present, else the CPU: the right
// choice on both kinds of machine without configuration.
#define VC_NETWORK_DEFAULT_DEVICE "auto"
// One thread by default: in a pipeline the queues already put vccolorize, vcflow and vcrefine
// on different cores, and LibTorch's OpenMP teams spin while waiting, so a multi-thread team
// on cores the other stages use is much slower (measured 15x for f on the 2-core machine; g:
// 85 ms per 854x480 frame with 1 thread, 1.9 s with 2).
#define VC_NETWORK_DEFAULT_THREADS 1
// The wider of the two old ranges (vccolorize 1024, vcrefine 256): every value that was valid
// for either element stays valid.
#define VC_NETWORK_MAX_THREADS 1024
// Likewise the wider of vccolorize's 1080 and vcrefine's 4096 (a DCI 4K short side is 2160).
#define VC_NETWORK_MAX_INFERENCE_SIZE 4096

/* What differs between the two elements' shared properties and messages. */
struct VcNetworkClassInfo {
  const char* source;      // the element's source file, the debug text's prefix ("vccolorize.cpp")
  const char* network;     // "f" or "g", in the blurbs
  const char* model_noun;  // "colorization": errors read "Cannot load the colorization model ..."
  const char* threads_blurb_note;   // appended to the threads blurb
  const char* inference_size_note;  // appended to the inference-size blurb
  int min_inference_size;           // smaller non-zero values are raised to it (0: none)
  bool inference_size_while_playing;
};

struct VcNetworkSettings {
  std::string model;  // never empty: unset means vidcolor::default_model_path()
  std::string device = VC_NETWORK_DEFAULT_DEVICE;
  int threads = VC_NETWORK_DEFAULT_THREADS;
  int inference_size = 0;  // 0 = the model's
  gint64 processing_latency = VC_PROCESSING_LATENCY_AUTO;
};

/* The shared part of a network element's instance data (inside its C++ private struct). */
struct VcNetwork {
  GMutex lock;  // guards settings, period and the element's own settings
  VcNetworkSettings settings;
  VcFramePeriod period = VC_FRAME_PERIOD_UNKNOWN;
  // Streaming thread only: which thread got which LibTorch thread count.
  std::thread::id threads_thread;
  int threads_applied = -1;

  VcNetwork();
  ~VcNetwork();
  VcNetwork(const VcNetwork&) = delete;
  VcNetwork& operator=(const VcNetwork&) = delete;
};

/* Holds a VcNetwork's lock for a scope. */
class VcNetworkLock {
 public:
  explicit VcNetworkLock(VcNetwork* net) : lock_(&net->lock) { g_mutex_lock(lock_); }
  ~VcNetworkLock() { g_mutex_unlock(lock_); }
  VcNetworkLock(const VcNetworkLock&) = delete;
  VcNetworkLock& operator=(const VcNetworkLock&) = delete;

 private:
  GMutex* lock_;
};

/* class_init: installs the five shared properties with ids VC_NETWORK_PROP_MODEL... */
void vc_network_class_install_properties(GObjectClass* klass, const VcNetworkClassInfo* info);

/* First thing in set_property, for every property of the element: FALSE (with a warning) when
 * the spec allows changes in NULL/READY only (GST_PARAM_MUTABLE_READY) and the element is
 * beyond READY, so a running element never sees model-shaping settings change under it. */
gboolean vc_network_property_settable(GstElement* element, GParamSpec* pspec);

/* set/get_property for the shared ids (takes the lock; a new processing-latency posts a
 * LATENCY message). FALSE for any other id: the element's own. */
gboolean vc_network_set_property(GstElement* element, VcNetwork* net,
                                 const VcNetworkClassInfo* info, guint prop_id,
                                 const GValue* value);
gboolean vc_network_get_property(VcNetwork* net, guint prop_id, GValue* value);

/* A copy of the shared settings, under the lock. */
VcNetworkSettings vc_network_settings(VcNetwork* net);

/* What the start hands the element's engine factory. */
struct VcLoadedModel {
  std::shared_ptr<const vidcolor::Model> model;
  torch::Device device{torch::kCPU};
  const std::string& path;
};

/* READY->PAUSED of a network element: the process's frame-memory policy (frame_memory.h),
 * then, each failure posted with the same domain and code in both elements:
 *   device (vidcolor::parse_device)  RESOURCE / SETTINGS   "Unusable device \"...\""
 *   model file (vidcolor::load_model) RESOURCE / OPEN_READ "Cannot load the <noun> model \"path\""
 *   engine (`make_engine`)            LIBRARY / INIT       "Cannot run the <noun> model \"path\" on
 * <device>" The debug text is "<source>: <reason>". FALSE after posting the error. */
bool vc_network_start(GstElement* element, const VcNetworkClassInfo* info,
                      const VcNetworkSettings& s,
                      const std::function<void(const VcLoadedModel&)>& make_engine);

/* Posts LIBRARY / FAILED "<what>" with "<source>: <reason>" (what the guard does). */
void vc_network_post_failure(GstElement* element, const VcNetworkClassInfo* info, const char* what,
                             const char* reason);

/* Runs `body` and returns its result; any exception becomes a LIBRARY / FAILED element error
 * ("<what>", "<source>: <exception text>") and `on_error` is returned. */
template <typename R, typename Body>
R vc_network_guard(GstElement* element, const VcNetworkClassInfo* info, const char* what,
                   R on_error, Body&& body) noexcept {
  try {
    return body();
  } catch (const std::exception& e) {
    vc_network_post_failure(element, info, what, e.what());
  } catch (...) {
    vc_network_post_failure(element, info, what, "unknown exception");
  }
  return on_error;
}

/* Streaming thread, before the network runs: LibTorch's intra-op thread count is per calling
 * thread (OpenMP), so it is applied when the setting or the streaming thread changes. */
void vc_network_apply_threads(GstElement* element, VcNetwork* net, int threads);

/* Frame period (for the default processing latency): the caps' rate, posting a LATENCY
 * message when it changed; and each buffer's duration (variable frame rates). */
void vc_network_set_rate(GstElement* element, VcNetwork* net, const GstVideoInfo* info);
void vc_network_note_buffer(VcNetwork* net, GstBuffer* buffer);

/* The processing latency this element reports (processing_latency.h); with `net`'s lock held. */
GstClockTime vc_network_processing_latency_locked(const VcNetwork* net);
