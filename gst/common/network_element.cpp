#include "network_element.h"

#include <vidcolor/core/error.hpp>
#include <vidcolor/infer/inference_runtime.hpp>
#include <vidcolor/model/model_file.hpp>
#include <vidcolor/model/networks.hpp>

#include "frame_memory.h"

GST_DEBUG_CATEGORY_STATIC(vc_network_debug);
#define GST_CAT_DEFAULT vc_network_debug

static void ensure_debug_category() {
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(vc_network_debug, "vcnetwork", 0,
                            "vidcolor network elements' shared layer");
    g_once_init_leave(&once, 1);
  }
}

VcNetwork::VcNetwork() {
  g_mutex_init(&lock);
  settings.model = vidcolor::default_model_path();
}

VcNetwork::~VcNetwork() { g_mutex_clear(&lock); }

void vc_network_class_install_properties(GObjectClass* klass, const VcNetworkClassInfo* info) {
  ensure_debug_category();
  // Blurbs name the element's network and the default path is found at run time, so GLib
  // keeps copies of them (no G_PARAM_STATIC_BLURB).
  const auto flags = [](guint mutability) {
    return static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_NAME | G_PARAM_STATIC_NICK |
                                    mutability);
  };
  const GParamFlags ready = flags(GST_PARAM_MUTABLE_READY);
  const GParamFlags playing = flags(GST_PARAM_MUTABLE_PLAYING);
  const std::string model_default = vidcolor::default_model_path();
  g_object_class_install_property(
      klass, VC_NETWORK_PROP_MODEL,
      g_param_spec_string(
          "model", "Model",
          "vidcolor model file (safetensors with f and g). Default: the environment variable "
          "VIDCOLOR_MODEL if set, else the installed model, else the source tree's (uninstalled "
          "builds). Loaded at READY->PAUSED",
          model_default.c_str(), ready));
  gchar* blurb = g_strdup_printf(
      "Where %s runs: cpu, cuda (= cuda:0), cuda:N, or auto (the first GPU when LibTorch has CUDA "
      "and one is present, else cpu). An explicit cuda device without CUDA support fails the "
      "state change",
      info->network);
  g_object_class_install_property(
      klass, VC_NETWORK_PROP_DEVICE,
      g_param_spec_string("device", "Device", blurb, VC_NETWORK_DEFAULT_DEVICE, ready));
  g_free(blurb);
  blurb = g_strdup_printf(
      "LibTorch intra-op threads of the streaming thread that runs %s (0 = all cores; more than "
      "1 helps only on cores the other stages leave idle, best with OMP_WAIT_POLICY=PASSIVE)%s",
      info->network, info->threads_blurb_note);
  g_object_class_install_property(
      klass, VC_NETWORK_PROP_THREADS,
      g_param_spec_int("threads", "Threads", blurb, 0, VC_NETWORK_MAX_THREADS,
                       VC_NETWORK_DEFAULT_THREADS, playing));
  g_free(blurb);
  blurb = g_strdup_printf("Short side (pixels) %s runs at: 0 = the model's configuration%s",
                          info->network, info->inference_size_note);
  g_object_class_install_property(
      klass, VC_NETWORK_PROP_INFERENCE_SIZE,
      g_param_spec_int("inference-size", "Inference size", blurb, 0, VC_NETWORK_MAX_INFERENCE_SIZE,
                       0, info->inference_size_while_playing ? playing : ready));
  g_free(blurb);
  blurb = g_strdup_printf("%s's computation", info->network);
  g_object_class_install_property(klass, VC_NETWORK_PROP_PROCESSING_LATENCY,
                                  vc_processing_latency_param_spec(blurb));
  g_free(blurb);
}

gboolean vc_network_property_settable(GstElement* element, GParamSpec* pspec) {
  if ((pspec->flags & GST_PARAM_MUTABLE_READY) == 0) return TRUE;
  GST_OBJECT_LOCK(element);
  const bool running = GST_STATE(element) > GST_STATE_READY;
  GST_OBJECT_UNLOCK(element);
  if (running)
    GST_WARNING_OBJECT(element, "property '%s' can only change in the NULL or READY state",
                       pspec->name);
  return !running;
}

gboolean vc_network_set_property(GstElement* element, VcNetwork* net,
                                 const VcNetworkClassInfo* info, guint prop_id,
                                 const GValue* value) {
  {
    VcNetworkLock lock(net);
    VcNetworkSettings& s = net->settings;
    switch (prop_id) {
      case VC_NETWORK_PROP_MODEL: {
        const gchar* v = g_value_get_string(value);
        s.model = (v != nullptr && v[0] != '\0') ? v : vidcolor::default_model_path();
        break;
      }
      case VC_NETWORK_PROP_DEVICE: {
        const gchar* v = g_value_get_string(value);
        s.device = (v != nullptr && v[0] != '\0') ? v : VC_NETWORK_DEFAULT_DEVICE;
        break;
      }
      case VC_NETWORK_PROP_THREADS:
        s.threads = g_value_get_int(value);
        break;
      case VC_NETWORK_PROP_INFERENCE_SIZE: {
        const int v = g_value_get_int(value);
        if (v > 0 && v < info->min_inference_size) {
          GST_WARNING_OBJECT(element, "inference-size %d raised to %d", v,
                             info->min_inference_size);
          s.inference_size = info->min_inference_size;
        } else {
          s.inference_size = v;
        }
        break;
      }
      case VC_NETWORK_PROP_PROCESSING_LATENCY:
        s.processing_latency = g_value_get_int64(value);
        break;
      default:
        return FALSE;
    }
  }
  // Outside the lock: the bin's handler queries the latency, which takes it.
  if (prop_id == VC_NETWORK_PROP_PROCESSING_LATENCY)
    gst_element_post_message(element, gst_message_new_latency(GST_OBJECT(element)));
  return TRUE;
}

gboolean vc_network_get_property(VcNetwork* net, guint prop_id, GValue* value) {
  VcNetworkLock lock(net);
  const VcNetworkSettings& s = net->settings;
  switch (prop_id) {
    case VC_NETWORK_PROP_MODEL:
      g_value_set_string(value, s.model.c_str());
      return TRUE;
    case VC_NETWORK_PROP_DEVICE:
      g_value_set_string(value, s.device.c_str());
      return TRUE;
    case VC_NETWORK_PROP_THREADS:
      g_value_set_int(value, s.threads);
      return TRUE;
    case VC_NETWORK_PROP_INFERENCE_SIZE:
      g_value_set_int(value, s.inference_size);
      return TRUE;
    case VC_NETWORK_PROP_PROCESSING_LATENCY:
      g_value_set_int64(value, s.processing_latency);
      return TRUE;
    default:
      return FALSE;
  }
}

VcNetworkSettings vc_network_settings(VcNetwork* net) {
  VcNetworkLock lock(net);
  return net->settings;
}

bool vc_network_start(GstElement* element, const VcNetworkClassInfo* info,
                      const VcNetworkSettings& s,
                      const std::function<void(const VcLoadedModel&)>& make_engine) {
  vc_keep_frame_memory(GST_OBJECT(element));
  torch::Device device{torch::kCPU};
  try {
    device = vidcolor::parse_device(s.device);
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(element, RESOURCE, SETTINGS, ("Unusable device \"%s\"", s.device.c_str()),
                      ("%s: %s", info->source, e.what()));
    return false;
  } catch (...) {
    GST_ELEMENT_ERROR(element, RESOURCE, SETTINGS, ("Unusable device \"%s\"", s.device.c_str()),
                      ("%s: unknown exception", info->source));
    return false;
  }
  std::shared_ptr<const vidcolor::Model> model;
  try {
    model = std::make_shared<const vidcolor::Model>(vidcolor::load_model(s.model));
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(element, RESOURCE, OPEN_READ,
                      ("Cannot load the %s model \"%s\"", info->model_noun, s.model.c_str()),
                      ("%s: %s", info->source, e.what()));
    return false;
  } catch (...) {
    GST_ELEMENT_ERROR(element, RESOURCE, OPEN_READ,
                      ("Cannot load the %s model \"%s\"", info->model_noun, s.model.c_str()),
                      ("%s: unknown exception", info->source));
    return false;
  }
  try {
    make_engine(VcLoadedModel{model, device, s.model});
  } catch (const vidcolor::Error& e) {
    // The engines' own checks: a setting (candidate, class decoding, inference size) that this
    // model cannot take; say so rather than blame the device.
    GST_ELEMENT_ERROR(element, RESOURCE, SETTINGS,
                      ("The element's settings do not fit the %s model \"%s\"", info->model_noun,
                       s.model.c_str()),
                      ("%s: %s", info->source, e.what()));
    return false;
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(element, LIBRARY, INIT,
                      ("Cannot run the %s model \"%s\" on %s", info->model_noun, s.model.c_str(),
                       s.device.c_str()),
                      ("%s: %s", info->source, e.what()));
    return false;
  } catch (...) {
    GST_ELEMENT_ERROR(element, LIBRARY, INIT,
                      ("Cannot run the %s model \"%s\" on %s", info->model_noun, s.model.c_str(),
                       s.device.c_str()),
                      ("%s: unknown exception", info->source));
    return false;
  }
  return true;
}

void vc_network_post_failure(GstElement* element, const VcNetworkClassInfo* info, const char* what,
                             const char* reason) {
  GST_ELEMENT_ERROR(element, LIBRARY, FAILED, ("%s", what), ("%s: %s", info->source, reason));
}

void vc_network_apply_threads(GstElement* element, VcNetwork* net, int threads) {
  if (net->threads_thread == std::this_thread::get_id() && net->threads_applied == threads) return;
  vidcolor::set_inference_threads(threads);
  net->threads_thread = std::this_thread::get_id();
  net->threads_applied = threads;
  ensure_debug_category();
  GST_DEBUG_OBJECT(element, "LibTorch threads: %d", vidcolor::resolve_thread_count(threads));
}

void vc_network_set_rate(GstElement* element, VcNetwork* net, const GstVideoInfo* info) {
  gboolean changed;
  {
    VcNetworkLock lock(net);
    changed = vc_frame_period_set_rate(&net->period, info);
  }
  // The processing latency is one frame by default (and vcrefine counts its held frames in
  // frames): a new frame rate changes it.
  if (changed) gst_element_post_message(element, gst_message_new_latency(GST_OBJECT(element)));
}

void vc_network_note_buffer(VcNetwork* net, GstBuffer* buffer) {
  VcNetworkLock lock(net);
  vc_frame_period_note_buffer(&net->period, buffer);
}

GstClockTime vc_network_processing_latency_locked(const VcNetwork* net) {
  return vc_processing_latency(net->settings.processing_latency, &net->period);
}
