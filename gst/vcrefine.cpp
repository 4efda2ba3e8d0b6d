/**
 * SECTION:element-vcrefine
 * @title: vcrefine
 *
 * Temporal refinement of colorized video with the refinement network g of the model file
 * (Lei & Chen, CVPR 2019, §4.2): each frame s is refined with its neighbours s−λ…s+λ
 * (#GstVcRefine:window = λ), warped into s with the optical flow that `vcflow` attached as
 * #GstVcFlowMeta, the confidence maps of eq. 4 (#GstVcRefine:alpha) and g; the neighbours'
 * results are combined (vidcolor/infer/refine_engine.hpp). #GstVcRefine:iterations runs the whole
 * pass again on the refined frames, which reaches further in time.
 *
 * Only the chroma changes; the luma samples, timestamps, flags and metas pass through.
 * Input is any Y'CbCr format `vccolorize` writes (8-, 10- or 16-bit, planar, semi-planar, packed
 * 4:2:2, v210) in any range and matrix: the chroma is read at its planes' own size, turned
 * into the networks' full-range BT.601 for g and written back in the stream's own coding
 * (vidcolor/ops/frame_planes.hpp). R'G'B' is not accepted: its luma is not a plane, so it
 * could not pass through bit-exact (put videoconvert after vcrefine instead).
 *
 * Frame s is output once frame s + window × iterations has arrived, so the element holds
 * frames and adds window × iterations frame durations to the LATENCY query (from the caps
 * framerate; with a variable framerate 0/1 it uses the duration of the last buffer, and adds
 * nothing until a buffer with a duration has been seen), plus #GstVcRefine:processing-latency
 * (one frame duration by default) for g's own computation. It never drops, duplicates or
 * reorders frames, and serialized events (tags, …) stay in order with the held frames.
 * At EOS, SEGMENT, GAP, STREAM_START, a caps change and a DISCONT buffer the held frames
 * are refined with the neighbours that exist and pushed before the event or buffer (the
 * window starts again after it); FLUSH_STOP drops them. A frame without flow meta has no
 * link to the frame before it; if upstream sends none at all (no vcflow), a warning is
 * posted once and the frames come out unrefined. A meta whose data sizes do not match its
 * width x height (gst_vc_flow_meta_is_valid()) is ignored the same way, with its own warning;
 * non-finite flow vectors count as zero and invalid.
 *
 * The model is loaded in the READY→PAUSED transition (an unreadable or invalid file fails
 * it with an error naming the file and the reason).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=in.mp4 ! decodebin ! vcgray ! vccolorize ! vcflow ! \
 *     vcrefine window=1 iterations=2 ! videoconvert ! autovideosink
 * ]|
 */
#include "vcrefine.h"

#include "fields.h"
#include "frame_codes.h"
#include "network_element.h"

#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <vidcolor/core/chain_defaults.hpp>
#include <vidcolor/ops/frame_planes.hpp>
#include <vidcolor/infer/inference_runtime.hpp>
#include <vidcolor/model/model_file.hpp>
#include <vidcolor/infer/refine_engine.hpp>
#include <vidcolor/infer/refine_window.hpp>

#include "vcflowmeta.h"

GST_DEBUG_CATEGORY_STATIC(gst_vc_refine_debug);
#define GST_CAT_DEFAULT gst_vc_refine_debug

#define DEFAULT_WINDOW 1
#define MAX_WINDOW 2
#define DEFAULT_ITERATIONS 1
#define MAX_ITERATIONS 4
#define DEFAULT_ALPHA vidcolor::kConfidenceAlpha

// The shared properties, start and error guard (network_element.h). g's engine is built at
// start for the whole stream (the held window refines with it), so its inference size is fixed
// then; g has no backbone, so any size works (sides are rounded to multiples of 16).
static const VcNetworkClassInfo kNetwork = {
    "vcrefine.cpp",
    "g",
    "refinement",
    "",
    " (its refine_inference_size, else its inference_size), else that, sides rounded to "
    "multiples of 16",
    0,
    false};

// The element's own properties follow the shared ones.
enum { PROP_WINDOW = VC_NETWORK_PROP_N, PROP_ITERATIONS, PROP_ALPHA };

namespace {

// vcrefine's own settings (the shared ones are VcNetwork's), under VcNetwork's lock.
struct Settings {
  guint window = DEFAULT_WINDOW;
  guint iterations = DEFAULT_ITERATIONS;
  double alpha = DEFAULT_ALPHA;
};

struct Snapshot {
  VcNetworkSettings net;
  Settings own;
};

// One frame not yet pushed: its buffer and the events before it. Its pictures' tensors,
// passes and flows to their neighbours are the windows' (vidcolor::RefineWindow), under `tag`:
// a progressive frame is in window 0, an interlaced frame's top field in window 0 and its
// bottom field in window 1, an alternate-mode field in its parity's window (fields.h).
struct Held {
  uint64_t tag = 0;                      // the windows' name for it
  GstBuffer* buffer = nullptr;           // owned until pushed
  std::vector<GstEvent*> events_before;  // serialized events received just before it
  VcPictures pictures;                   // its kind and parities (views unset)
  int pending = 0;                       // pictures the windows have not returned yet
  bool changed[2] = {false, false};      // per window: some pass had a neighbour
  torch::Tensor chroma[2];               // per window: refined chroma [1,2,Hc,Wc], once returned
  bool ready() const { return pending == 0; }
};

// Streaming-thread state: the engine is created in READY->PAUSED, the rest per stream.
struct State {
  std::unique_ptr<vidcolor::RefineEngine> engine;
  guint window = DEFAULT_WINDOW;
  guint iterations = DEFAULT_ITERATIONS;
  // The windows over `engine` (made at the stream's first picture, dropped before the
  // engine): [0] progressive frames or top fields, [1] bottom fields. Each is a sequence of
  // pictures of one parity, so flows and neighbours never mix fields of two parities.
  std::unique_ptr<vidcolor::RefineWindow> refine[2];
  VcPictureKind kind = VcPictureKind::Frame;  // of the pictures the windows hold
  std::deque<Held> frames;  // frames not yet pushed, in order; the first ones may be ready
  uint64_t next_tag = 0;
  std::vector<GstEvent*> pending_events;  // serialized events after the last held frame
  bool warned_no_meta = false;
  bool warned_bad_meta = false;
  GstVideoInfo info;
  bool have_info = false;
  vidcolor::LumaCoding luma_coding;      // of `info`
  vidcolor::ChromaCoding chroma_coding;  // of `info`
  std::vector<uint16_t> luma, cb, cr;    // codes of one frame
};

struct Private {
  VcNetwork net;      // shared settings, their lock, the frame period
  Settings settings;  // under net.lock
  State state;        // streaming thread (and state changes while it is stopped)
};

}  // namespace

struct _GstVcRefine {
  GstElement parent;
  GstPad* sinkpad;
  GstPad* srcpad;
  Private* priv;
};

#define FORMATS "{ " VC_YUV_FORMATS " }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(VC_VIDEO_CAPS_WITH_FIELDS(FORMATS)));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(VC_VIDEO_CAPS_WITH_FIELDS(FORMATS)));

G_DEFINE_TYPE(GstVcRefine, gst_vc_refine, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE(vcrefine, "vcrefine", GST_RANK_NONE, GST_TYPE_VC_REFINE);

static Snapshot read_settings(GstVcRefine* self) {
  VcNetworkLock lock(&self->priv->net);
  return Snapshot{self->priv->net.settings, self->priv->settings};
}

// ------------------------------------------------------------------ frames <-> tensors

// The frame's luma for g ([1,1,H,W] in [0, 1]) and chroma in the networks' space at the
// chroma planes' own size ([1,2,h,w], full-range BT.601).
static void read_planes(State& st, const GstVideoFrame* frame, vidcolor::WindowFrame& f) {
  vc_frame_read_luma(frame, st.luma);
  const int w = GST_VIDEO_FRAME_WIDTH(frame), cw = vc_chroma_width(&frame->info);
  f.luma = vidcolor::luma_codes_to_tensor(st.luma.data(), w, GST_VIDEO_FRAME_HEIGHT(frame), w,
                                          st.luma_coding);
  vc_frame_read_chroma(frame, st.cb, st.cr);
  f.chroma = vidcolor::codes_to_chroma(st.cb.data(), st.cr.data(), cw, cw,
                                       vc_chroma_height(&frame->info), st.chroma_coding);
}

// Writes the refined chroma (at the planes' size) back in the stream's coding.
static void write_chroma(State& st, GstVideoFrame* frame, const torch::Tensor& chroma) {
  const size_t cw = static_cast<size_t>(vc_chroma_width(&frame->info));
  st.cb.resize(cw * vc_chroma_height(&frame->info));
  st.cr.resize(st.cb.size());
  vidcolor::chroma_to_codes(chroma, st.chroma_coding, vidcolor::ChromaLayout{}, st.cb.data(),
                            st.cr.data(), cw);
  vc_frame_replace_chroma(frame, st.cb.data(), st.cr.data());
}

// Interleaved (dx, dy) float flow of the meta -> [1,2,h,w]; uint8 mask -> [1,1,h,w] float.
static torch::Tensor flow_tensor(GBytes* bytes, guint w, guint h) {
  const auto* data = static_cast<const float*>(g_bytes_get_data(bytes, nullptr));
  return torch::from_blob(const_cast<float*>(data),
                          {static_cast<int64_t>(h), static_cast<int64_t>(w), 2}, torch::kFloat32)
      .permute({2, 0, 1})
      .unsqueeze(0)
      .contiguous();
}

static torch::Tensor mask_tensor(GBytes* bytes, guint w, guint h) {
  const auto* data = static_cast<const uint8_t*>(g_bytes_get_data(bytes, nullptr));
  return torch::from_blob(const_cast<uint8_t*>(data),
                          {1, 1, static_cast<int64_t>(h), static_cast<int64_t>(w)}, torch::kUInt8)
      .to(torch::kFloat32);
}

// The meta's flows as the window's link to the frame before (non-finite vectors are the
// window's to neutralise).
static vidcolor::FlowLink link_of(const GstVcFlowMeta* meta) {
  vidcolor::FlowLink l;
  l.backward = flow_tensor(meta->backward, meta->width, meta->height);
  l.backward_valid = mask_tensor(meta->backward_valid, meta->width, meta->height);
  l.forward = flow_tensor(meta->forward, meta->width, meta->height);
  l.forward_valid = mask_tensor(meta->forward_valid, meta->width, meta->height);
  return l;
}

// One field's link from an interlaced frame's meta, whose lines alternate top and bottom
// field flows (vcflowmeta.h): the lines of `parity`.
static vidcolor::FlowLink field_link(const vidcolor::FlowLink& both, int parity) {
  auto rows = [parity](const torch::Tensor& t) {
    return t.slice(2, parity, t.size(2), 2).contiguous();
  };
  vidcolor::FlowLink l;
  l.backward = rows(both.backward);
  l.backward_valid = rows(both.backward_valid);
  l.forward = rows(both.forward);
  l.forward_valid = rows(both.forward_valid);
  return l;
}

// ------------------------------------------------------------------ the window

// A sequence's refinement window (vidcolor::RefineWindow: neighbours, flows, pass order; on a
// GPU device it holds the frames there), made over the engine at its first picture.
static vidcolor::RefineWindow& refine_window(State& st, int w) {
  if (!st.refine[w])
    st.refine[w] = std::make_unique<vidcolor::RefineWindow>(
        *st.engine, vidcolor::RefineWindowOptions{static_cast<int>(st.window),
                                                  static_cast<int>(st.iterations)});
  return *st.refine[w];
}

// Pictures held by window w, pushed or not: 0 means its next picture has none before it.
static size_t window_held(const State& st, int w) {
  return st.refine[w] ? st.refine[w]->held() : 0;
}
static size_t window_held(const State& st) { return window_held(st, 0) + window_held(st, 1); }

static void clear_frames(State& st) {
  for (Held& h : st.frames) {
    if (h.buffer) gst_buffer_unref(h.buffer);
    for (GstEvent* e : h.events_before) gst_event_unref(e);
  }
  st.frames.clear();
  for (auto& r : st.refine)
    if (r) r->flush();
  for (GstEvent* e : st.pending_events) gst_event_unref(e);
  st.pending_events.clear();
}

// Records the pictures window w returned (each once, in push order; tags grow along
// `frames`).
static void take_refined(State& st, int w, std::vector<vidcolor::RefinedFrame> refined) {
  auto it = st.frames.begin();
  for (vidcolor::RefinedFrame& r : refined) {
    while (it != st.frames.end() && it->tag < r.tag) ++it;
    if (it == st.frames.end() || it->tag != r.tag || it->pending == 0)
      throw std::logic_error("vcrefine.cpp: a window returned a frame out of order");
    it->changed[w] = r.changed;
    it->chroma[w] = std::move(r.chroma);
    --it->pending;
    ++it;
  }
}

static GstFlowReturn push_frame(GstVcRefine* self, Held& h) {
  State& st = self->priv->state;
  for (GstEvent* e : h.events_before) gst_pad_push_event(self->srcpad, e);
  h.events_before.clear();
  GstBuffer* buf = h.buffer;
  h.buffer = nullptr;
  const bool changed = h.changed[0] || h.changed[1];
  if (changed) {
    buf = gst_buffer_make_writable(buf);
    GstVideoFrame frame;
    if (!gst_video_frame_map(&frame, &st.info, buf, GST_MAP_READWRITE)) {
      GST_ELEMENT_ERROR(
          self, STREAM, FAILED, ("Cannot map the video frame for writing"),
          ("vcrefine.cpp: buffer of %" G_GSIZE_FORMAT " bytes", gst_buffer_get_size(buf)));
      gst_buffer_unref(buf);
      return GST_FLOW_ERROR;
    }
    try {
      // Each picture's chroma to its own lines (a field left alone stays exact).
      VcPictures pictures = vc_frame_pictures_as(&frame, h.pictures);
      for (int i = 0; i < pictures.count; ++i) {
        const int w = pictures.parity[i];
        if (h.changed[w]) write_chroma(st, &pictures.view[i], h.chroma[w]);
      }
    } catch (...) {
      gst_video_frame_unmap(&frame);
      gst_buffer_unref(buf);
      throw;
    }
    gst_video_frame_unmap(&frame);
  }
  GST_LOG_OBJECT(self, "pushing %" GST_TIME_FORMAT "%s", GST_TIME_ARGS(GST_BUFFER_PTS(buf)),
                 changed ? "" : " (unrefined)");
  return gst_pad_push(self->srcpad, buf);
}

// Pushes the frames whose last pass is done, in order (the window keeps the neighbours it
// still needs itself).
static GstFlowReturn push_ready(GstVcRefine* self) {
  State& st = self->priv->state;
  GstFlowReturn ret = GST_FLOW_OK;
  while (!st.frames.empty() && st.frames.front().ready()) {
    ret = push_frame(self, st.frames.front());
    st.frames.pop_front();
    if (ret != GST_FLOW_OK) break;
  }
  return ret;
}

// Refines every held frame with the neighbours that exist, pushes them and the events
// after them, and starts an empty window. Returns the first non-OK push result.
static GstFlowReturn drain(GstVcRefine* self) {
  State& st = self->priv->state;
  GstFlowReturn ret = GST_FLOW_OK;
  if (!st.frames.empty()) {
    GST_DEBUG_OBJECT(self, "draining %" G_GSIZE_FORMAT " frames", st.frames.size());
    for (int w = 0; w < 2; ++w)
      if (st.refine[w]) take_refined(st, w, st.refine[w]->drain());
    while (!st.frames.empty()) {
      const GstFlowReturn r = push_frame(self, st.frames.front());
      st.frames.pop_front();
      if (ret == GST_FLOW_OK) ret = r;
    }
  }
  for (GstEvent* e : st.pending_events) gst_pad_push_event(self->srcpad, e);
  st.pending_events.clear();
  clear_frames(st);
  return ret;
}

// Drain from an event handler: errors become element errors (the event still goes on).
static void drain_for_event(GstVcRefine* self, GstEvent* event) {
  const bool ok = vc_network_guard(GST_ELEMENT(self), &kNetwork, "Refinement failed", false, [&] {
    const GstFlowReturn r = drain(self);
    if (r != GST_FLOW_OK)
      GST_DEBUG_OBJECT(self, "drain before %s: %s", GST_EVENT_TYPE_NAME(event),
                       gst_flow_get_name(r));
    return true;
  });
  if (!ok) clear_frames(self->priv->state);
}

// ------------------------------------------------------------------ pads

static GstFlowReturn gst_vc_refine_chain(GstPad* pad, GstObject* parent, GstBuffer* buf) {
  GstVcRefine* self = GST_VC_REFINE(parent);
  Private* p = self->priv;
  State& st = p->state;
  (void)pad;
  if (!st.have_info || !st.engine) {
    gst_buffer_unref(buf);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  return vc_network_guard(
      GST_ELEMENT(self), &kNetwork, "Refinement failed", GST_FLOW_ERROR, [&]() -> GstFlowReturn {
        vc_network_apply_threads(GST_ELEMENT(self), &p->net, read_settings(self).net.threads);
        vc_network_note_buffer(&p->net, buf);
        GstFlowReturn ret = GST_FLOW_OK;
        if (GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DISCONT) && window_held(st) > 0) {
          GST_DEBUG_OBJECT(self, "DISCONT at %" GST_TIME_FORMAT ": draining the window",
                           GST_TIME_ARGS(GST_BUFFER_PTS(buf)));
          ret = drain(self);
          if (ret != GST_FLOW_OK) {
            gst_buffer_unref(buf);
            return ret;
          }
        }

        GstVideoFrame frame;
        if (!gst_video_frame_map(&frame, &st.info, buf, GST_MAP_READ)) {
          GST_ELEMENT_ERROR(
              self, STREAM, FORMAT, ("Cannot map the video frame"),
              ("vcrefine.cpp: buffer of %" G_GSIZE_FORMAT " bytes does not hold a %dx%d %s frame",
               gst_buffer_get_size(buf), GST_VIDEO_INFO_WIDTH(&st.info),
               GST_VIDEO_INFO_HEIGHT(&st.info), GST_VIDEO_INFO_NAME(&st.info)));
          gst_buffer_unref(buf);
          return GST_FLOW_ERROR;
        }
        // g refines pictures (fields.h): a progressive frame, or each field with the fields of
        // its parity.
        const VcPictures pictures = vc_frame_pictures(&frame);
        if (pictures.kind != st.kind && window_held(st) > 0) {
          // Mixed content switching between progressive and interlaced frames: the frames before
          // are no neighbours of these pictures (vcflow links none across the switch either).
          GST_DEBUG_OBJECT(self, "%s after %s at %" GST_TIME_FORMAT ": draining the window",
                           vc_picture_kind_name(pictures.kind), vc_picture_kind_name(st.kind),
                           GST_TIME_ARGS(GST_BUFFER_PTS(buf)));
          ret = drain(self);
          if (ret != GST_FLOW_OK) {
            gst_video_frame_unmap(&frame);
            gst_buffer_unref(buf);
            return ret;
          }
        }
        st.kind = pictures.kind;
        bool linkable = false;  // some picture has one before it in its window
        for (int i = 0; i < pictures.count; ++i)
          linkable |= window_held(st, pictures.parity[i]) > 0;

        GstVcFlowMeta* meta = gst_buffer_get_vc_flow_meta(buf);
        const bool had_meta = meta != nullptr;
        if (had_meta && !gst_vc_flow_meta_is_valid(meta)) {
          // A producer that filled the fields itself got the sizes wrong: never read such data.
          if (!st.warned_bad_meta) {
            st.warned_bad_meta = true;
            GST_ELEMENT_WARNING(
                self, STREAM, FAILED, ("Invalid optical flow meta ignored"),
                ("vcrefine.cpp: buffer %" GST_TIME_FORMAT " carries a %ux%u VcFlowMeta "
                 "whose data sizes do not match; such frames are not linked to the "
                 "frame before them",
                 GST_TIME_ARGS(GST_BUFFER_PTS(buf)), meta->width, meta->height));
          }
          meta = nullptr;
        }
        if (!had_meta && linkable && !st.warned_no_meta) {
          st.warned_no_meta = true;
          GST_ELEMENT_WARNING(
              self, STREAM, FAILED, ("No optical flow on the input: frames pass unrefined"),
              ("vcrefine.cpp: buffer %" GST_TIME_FORMAT " follows another frame but "
               "carries no VcFlowMeta; put vcflow before vcrefine",
               GST_TIME_ARGS(GST_BUFFER_PTS(buf))));
        }
        vidcolor::WindowFrame in[2];
        try {
          std::optional<vidcolor::FlowLink> link;
          if (meta != nullptr && linkable) link = link_of(meta);
          for (int i = 0; i < pictures.count; ++i) {
            const int w = pictures.parity[i];
            // An interlaced frame's meta interleaves its two fields' flows (an odd pair of lines
            // is no field pair: such a meta links neither).
            if (link && window_held(st, w) > 0) {
              if (pictures.kind != VcPictureKind::Fields)
                in[i].link = *link;
              else if (meta->height % 2 == 0)
                in[i].link = field_link(*link, w);
            }
            read_planes(st, &pictures.view[i], in[i]);
          }
        } catch (...) {
          gst_video_frame_unmap(&frame);
          gst_buffer_unref(buf);
          throw;
        }
        gst_video_frame_unmap(&frame);
        Held h;
        h.tag = st.next_tag++;
        h.buffer = buf;
        h.events_before.swap(st.pending_events);
        h.pictures = pictures;
        h.pending = pictures.count;
        st.frames.push_back(std::move(h));
        // Each window refines the pictures this one completes (a wavefront of passes) and returns
        // them; a frame goes out once all its pictures have come back.
        for (int i = 0; i < pictures.count; ++i) {
          in[i].tag = st.frames.back().tag;
          const int w = pictures.parity[i];
          take_refined(st, w, refine_window(st, w).push(std::move(in[i])));
        }
        return push_ready(self);
      });
}

// The added latency is counted in frames: a new framerate changes it (a LATENCY message).
static void update_framerate(GstVcRefine* self, const GstVideoInfo& info) {
  vc_network_set_rate(GST_ELEMENT(self), &self->priv->net, &info);
}

static gboolean gst_vc_refine_sink_event(GstPad* pad, GstObject* parent, GstEvent* event) {
  GstVcRefine* self = GST_VC_REFINE(parent);
  State& st = self->priv->state;
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CAPS: {
      GstCaps* caps = nullptr;
      gst_event_parse_caps(event, &caps);
      GstVideoInfo info;
      if (!gst_video_info_from_caps(&info, caps)) {
        GST_ERROR_OBJECT(self, "cannot parse caps %" GST_PTR_FORMAT, caps);
        gst_event_unref(event);
        return FALSE;
      }
      if (st.have_info && gst_video_info_is_equal(&info, &st.info)) break;  // nothing changes
      // Held frames go out with the caps they came with; the window starts again after.
      drain_for_event(self, event);
      st.info = info;
      st.have_info = true;
      st.luma_coding = vc_luma_coding(&info);
      st.chroma_coding = vc_chroma_coding(&info);
      update_framerate(self, info);
      GST_INFO_OBJECT(self, "%s %dx%d", GST_VIDEO_INFO_NAME(&info), GST_VIDEO_INFO_WIDTH(&info),
                      GST_VIDEO_INFO_HEIGHT(&info));
      return gst_pad_push_event(self->srcpad, event);
    }
    case GST_EVENT_EOS:
    case GST_EVENT_SEGMENT:
    case GST_EVENT_GAP:
    case GST_EVENT_STREAM_START:
      drain_for_event(self, event);
      return gst_pad_event_default(pad, parent, event);
    case GST_EVENT_FLUSH_STOP:
      GST_DEBUG_OBJECT(self, "flush: dropping %" G_GSIZE_FORMAT " held frames", st.frames.size());
      clear_frames(st);
      return gst_pad_event_default(pad, parent, event);
    default:
      break;
  }
  // Other serialized events stay in order with the held frames.
  if (GST_EVENT_IS_SERIALIZED(event) && !st.frames.empty()) {
    st.pending_events.push_back(event);
    return TRUE;
  }
  return gst_pad_event_default(pad, parent, event);
}

static GstClockTime added_latency(GstVcRefine* self) {
  Private* p = self->priv;
  VcNetworkLock lock(&p->net);
  const guint64 frames = static_cast<guint64>(p->settings.window) * p->settings.iterations;
  return vc_frame_period_duration(&p->net.period, frames) +
         vc_network_processing_latency_locked(&p->net);
}

static gboolean gst_vc_refine_src_query(GstPad* pad, GstObject* parent, GstQuery* query) {
  GstVcRefine* self = GST_VC_REFINE(parent);
  if (GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
    if (!gst_pad_peer_query(self->sinkpad, query)) return FALSE;
    gboolean live = FALSE;
    GstClockTime min = 0, max = GST_CLOCK_TIME_NONE;
    gst_query_parse_latency(query, &live, &min, &max);
    const GstClockTime add = added_latency(self);
    GST_DEBUG_OBJECT(self, "upstream latency %" GST_TIME_FORMAT ", adding %" GST_TIME_FORMAT,
                     GST_TIME_ARGS(min), GST_TIME_ARGS(add));
    min += add;
    if (GST_CLOCK_TIME_IS_VALID(max)) max += add;
    gst_query_set_latency(query, live, min, max);
    return TRUE;
  }
  return gst_pad_query_default(pad, parent, query);
}

static gboolean gst_vc_refine_sink_query(GstPad* pad, GstObject* parent, GstQuery* query) {
  if (GST_QUERY_TYPE(query) == GST_QUERY_ALLOCATION) {
    // Not forwarded: the held frames must not come from a downstream pool of bounded size
    // (it could run dry while we hold them). Upstream makes its own pool; we map frames
    // through GstVideoMeta, so any strides are fine.
    gst_query_add_allocation_meta(query, GST_VIDEO_META_API_TYPE, nullptr);
    return TRUE;
  }
  return gst_pad_query_default(pad, parent, query);
}

// ------------------------------------------------------------------ state

static bool load_engine(GstVcRefine* self) {
  const Snapshot s = read_settings(self);
  State& st = self->priv->state;
  const bool ok =
      vc_network_start(GST_ELEMENT(self), &kNetwork, s.net, [&](const VcLoadedModel& m) {
        st.engine = std::make_unique<vidcolor::RefineEngine>(m.model, m.device, s.own.alpha,
                                                             s.net.inference_size);
      });
  if (!ok) return false;
  st.window = s.own.window;
  st.iterations = s.own.iterations;
  st.warned_no_meta = false;
  st.warned_bad_meta = false;
  GST_INFO_OBJECT(self, "model %s, device %s, window %u, iterations %u", s.net.model.c_str(),
                  s.net.device.c_str(), s.own.window, s.own.iterations);
  return true;
}

static void reset_state(GstVcRefine* self) {
  State& st = self->priv->state;
  clear_frames(st);
  for (auto& r : st.refine) r.reset();  // they read the engine
  st.engine.reset();
  st.have_info = false;
  VcNetworkLock lock(&self->priv->net);
  self->priv->net.period = VC_FRAME_PERIOD_UNKNOWN;
}

static GstStateChangeReturn gst_vc_refine_change_state(GstElement* element,
                                                       GstStateChange transition) {
  GstVcRefine* self = GST_VC_REFINE(element);
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    reset_state(self);
    if (!load_engine(self)) return GST_STATE_CHANGE_FAILURE;
  }
  const GstStateChangeReturn ret =
      GST_ELEMENT_CLASS(gst_vc_refine_parent_class)->change_state(element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) reset_state(self);  // streaming has stopped
  return ret;
}

// ------------------------------------------------------------------ properties

// Model, device, window, iterations, alpha and inference-size shape the running state: their
// specs say NULL/READY only, which vc_network_property_settable enforces.
static void gst_vc_refine_set_property(GObject* object, guint prop_id, const GValue* value,
                                       GParamSpec* pspec) {
  GstVcRefine* self = GST_VC_REFINE(object);
  Private* p = self->priv;
  if (!vc_network_property_settable(GST_ELEMENT(self), pspec)) return;
  if (vc_network_set_property(GST_ELEMENT(self), &p->net, &kNetwork, prop_id, value)) return;
  VcNetworkLock lock(&p->net);
  switch (prop_id) {
    case PROP_WINDOW:
      p->settings.window = g_value_get_uint(value);
      break;
    case PROP_ITERATIONS:
      p->settings.iterations = g_value_get_uint(value);
      break;
    case PROP_ALPHA:
      p->settings.alpha = g_value_get_double(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_vc_refine_get_property(GObject* object, guint prop_id, GValue* value,
                                       GParamSpec* pspec) {
  GstVcRefine* self = GST_VC_REFINE(object);
  Private* p = self->priv;
  if (vc_network_get_property(&p->net, prop_id, value)) return;
  VcNetworkLock lock(&p->net);
  switch (prop_id) {
    case PROP_WINDOW:
      g_value_set_uint(value, p->settings.window);
      break;
    case PROP_ITERATIONS:
      g_value_set_uint(value, p->settings.iterations);
      break;
    case PROP_ALPHA:
      g_value_set_double(value, p->settings.alpha);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_vc_refine_finalize(GObject* object) {
  GstVcRefine* self = GST_VC_REFINE(object);
  clear_frames(self->priv->state);
  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS(gst_vc_refine_parent_class)->finalize(object);
}

static void gst_vc_refine_class_init(GstVcRefineClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(gst_vc_refine_debug, "vcrefine", 0, "vidcolor temporal refinement");
  // The flow meta API must exist for gst_buffer_get_vc_flow_meta() (looked up by name).
  (void)gst_vc_flow_meta_get_info();

  gobject_class->set_property = gst_vc_refine_set_property;
  gobject_class->get_property = gst_vc_refine_get_property;
  gobject_class->finalize = gst_vc_refine_finalize;

  const auto ready_only = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                   GST_PARAM_MUTABLE_READY);
  vc_network_class_install_properties(gobject_class, &kNetwork);
  g_object_class_install_property(
      gobject_class, PROP_WINDOW,
      g_param_spec_uint("window", "Window",
                        "Neighbours on each side used to refine a frame (the paper's lambda; "
                        "frames further than 1 use chained flows). Adds window x iterations "
                        "frames of latency",
                        1, MAX_WINDOW, DEFAULT_WINDOW, ready_only));
  g_object_class_install_property(
      gobject_class, PROP_ITERATIONS,
      g_param_spec_uint("iterations", "Iterations",
                        "Refinement passes; each pass refines the previous pass's frames, so "
                        "information travels further in time. Adds window x iterations frames "
                        "of latency",
                        1, MAX_ITERATIONS, DEFAULT_ITERATIONS, ready_only));
  g_object_class_install_property(
      gobject_class, PROP_ALPHA,
      g_param_spec_double("alpha", "Alpha",
                          "Confidence map sharpness of eq. 4: W = max(1 - alpha |difference|, 0)",
                          0.01, 1000.0, DEFAULT_ALPHA, ready_only));

  gst_element_class_set_static_metadata(
      element_class, "vidcolor temporal refinement", "Filter/Effect/Video",
      "Refines the chroma of colorized video with its neighbouring frames (network g, optical "
      "flow from VcFlowMeta, confidence maps); luma passes through",
      "vidcolor developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  element_class->change_state = GST_DEBUG_FUNCPTR(gst_vc_refine_change_state);
}

static void gst_vc_refine_init(GstVcRefine* self) {
  self->priv = new Private();
  gst_video_info_init(&self->priv->state.info);

  self->sinkpad = gst_pad_new_from_static_template(&sink_template, "sink");
  gst_pad_set_chain_function(self->sinkpad, GST_DEBUG_FUNCPTR(gst_vc_refine_chain));
  gst_pad_set_event_function(self->sinkpad, GST_DEBUG_FUNCPTR(gst_vc_refine_sink_event));
  gst_pad_set_query_function(self->sinkpad, GST_DEBUG_FUNCPTR(gst_vc_refine_sink_query));
  GST_PAD_SET_PROXY_CAPS(self->sinkpad);
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template(&src_template, "src");
  gst_pad_set_query_function(self->srcpad, GST_DEBUG_FUNCPTR(gst_vc_refine_src_query));
  GST_PAD_SET_PROXY_CAPS(self->srcpad);
  gst_element_add_pad(GST_ELEMENT(self), self->srcpad);
}
