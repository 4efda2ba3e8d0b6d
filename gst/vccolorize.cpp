/**
 * SECTION:element-vccolorize
 * @title: vccolorize
 *
 * Colorizes gray video with the network f of a vidcolor model file (Lei & Chen, CVPR 2019).
 * f predicts d candidate colorizations (d = 4 for the shipped configurations); the output
 * shows one of them (#GstVcColorize:candidate: fixed, or -1 = auto: the model's default
 * candidate when its file names one, else the most saturated over the first 8 frames, then
 * locked until a scene cut or a flush, so it cannot flicker), or
 * all of them as a grid (#GstVcColorize:mosaic), for choosing.
 *
 * Input is full-range luma (GRAY8 or GRAY16_LE, as vcgray outputs). Only chroma is
 * predicted, at the inference size (#GstVcColorize:inference-size), and brought to full
 * resolution with a guided filter on the full-resolution luma.
 *
 * With a model whose f predicts a distribution over colours (chroma classes, as the shipped
 * one), #GstVcColorize:class-debias and #GstVcColorize:class-temperature move the decoding of
 * that distribution off the operating point the model file names: more colour and more of the
 * rare colours (a lower debias), or duller and closer to the average colour (a higher one).
 * The file's point was chosen on held-out clips (models/MODEL_CARD.md); these are for a film
 * that comes out too strong or too faint. Like the candidate and the inference size, they may
 * change while playing (f is rebuilt between two frames).
 *
 * Films often reach us pillarboxed (a 4:3 picture in a 16:9 frame) or letterboxed. By default
 * (#GstVcColorize:skip-borders) f runs on the picture inside the black borders only, at its
 * inference size, and the borders stay neutral black: f learned from pictures without bars.
 *
 * Behind vcgray the output is, by default, the format vcgray's input had (8- or 10-bit,
 * planar, semi-planar, packed 4:2:2, v210; #GstVcColorize:output-format chooses another),
 * with that input's colorimetry (range, matrix, transfer, primaries) and chroma-site, and
 * its luma samples untouched: vcgray hands the original frame along with the gray, and the
 * output's Y is written from it, bit for bit (to another depth by a bit shift, as
 * GStreamer's packers do). The chroma is computed: the networks give full-range BT.601
 * chroma c for the gray; the output carries the output matrix's chroma of that colour with
 * the original luma sample (vidcolor/core/color.hpp, chroma_conversion: the predicted colour
 * moved along the gray axis until its luma in the output's matrix is the original one),
 * coded with the output's range and depth (GStreamer's range offsets: 8-bit limited
 * 128 + 224 c, 10-bit limited 512 + 896 c, ...). Primaries and transfer are labels only: the
 * networks have no notion of them, so no gamut mapping is done. Subsampled chroma is
 * filtered at the output's own sites: the mean of each block for centred siting (jpeg,
 * unknown), a [1 2 1] / 4 triangle on the sample's pixel for co-sited chroma (mpeg2's
 * horizontal siting), so 4:2:2 keeps twice the vertical chroma detail of 4:2:0.
 *
 * Standalone (gray input without vcgray's source fields), or when the source is R'G'B' or
 * gray, Y'CbCr output is full-range BT.601 (colorimetry 1:4:16:4, chroma-site jpeg), the
 * networks' own space, and its Y is the input gray byte for byte; a GRAY16_LE source (a
 * 16-bit film scan) gives 16-bit Y'CbCr by default (P016_LE first, then Y444_16LE and the
 * 10-bit formats), its Y the input's 16-bit codes; output of fewer bits rounds them, e.g.
 * round(v * 255 / 65535) for 8 bits, as vcgray does; an R'G'B' source gets its own R'G'B' format by
 * default. R'G'B' output keeps the luma too: out-of-gamut chroma is scaled towards gray until the
 * pixel fits, instead of clipping channels (alpha is opaque). If vcgray's frame went missing on the
 * way (an element between them converted the gray), the luma is coded back from the gray, with a
 * warning. In mosaic mode each cell shows the frame scaled to the cell, so Y is no longer the
 * input.
 *
 * Latency: the element adds #GstVcColorize:processing-latency (one frame duration by default)
 * to the LATENCY query, the time f may take in a live pipeline before the frame is late.
 *
 * The model is loaded at READY→PAUSED; a missing or corrupt file fails the state change
 * with an error naming the file and the problem. Timestamps and every buffer flag (GAP
 * included) are kept. Metas that describe the picture (untagged ones such as timecode and
 * captions, and those tagged only video/size/orientation such as AFD, bar data, SEI user
 * data) are copied, as videoconvert does; metas tied to the samples (colorspace or memory
 * tags) and VcFlowMeta (vcflow computes the colour frames' own) are not.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=film.mp4 ! decodebin ! vcgray ! vccolorize threads=0 !
 * videoconvert ! autovideosink gst-launch-1.0 videotestsrc ! vcgray ! vccolorize mosaic=true !
 * videoconvert ! autovideosink gst-launch-1.0 filesrc location=film.mp4 ! decodebin ! vcgray !
 * vccolorize class-debias=0.9 ! videoconvert ! autovideosink
 * ]|
 */
#include "vccolorize.h"

#include "fields.h"
#include "format_list.h"
#include "frame_codes.h"
#include "frame_size_check.h"
#include "luma_matrix.h"
#include "meta_copy.h"
#include "network_element.h"
#include "vcsourceframe.h"

#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <vidcolor/core/color.hpp>
#include <vidcolor/infer/colorize_engine.hpp>
#include <vidcolor/core/error.hpp>
#include <vidcolor/ops/frame_planes.hpp>
#include <vidcolor/infer/inference_runtime.hpp>
#include <vidcolor/model/model_file.hpp>

static_assert(G_BYTE_ORDER == G_LITTLE_ENDIAN, "GRAY16_LE planes are read as native uint16");

GST_DEBUG_CATEGORY_STATIC(gst_vc_colorize_debug);
#define GST_CAT_DEFAULT gst_vc_colorize_debug

#define DEFAULT_CANDIDATE -1
#define MAX_CANDIDATE 7
#define DEFAULT_MOSAIC FALSE
#define DEFAULT_OUTPUT_FORMAT GST_VIDEO_FORMAT_UNKNOWN  // auto: the source's format
#define DEFAULT_CLASS_TEMPERATURE 0.0                   // the model file's
#define DEFAULT_CLASS_DEBIAS -1.0                       // the model file's
#define DEFAULT_SKIP_BORDERS TRUE

// The shared properties, start and error guard (network_element.h). f's engine is rebuilt
// between frames, so its inference size may change while playing; below 64 the backbone's
// stride-32 features would be 1 pixel or less, so smaller values are raised to 64.
static const VcNetworkClassInfo kNetwork = {
    "vccolorize.cpp",
    "f",
    "colorization",
    "",
    ", else 64 and more (smaller values are raised to 64); chroma is brought to full resolution "
    "guided by the luma",
    64,
    true};

// The element's own properties follow the shared ones.
enum {
  PROP_CANDIDATE = VC_NETWORK_PROP_N,
  PROP_MOSAIC,
  PROP_OUTPUT_FORMAT,
  PROP_CLASS_TEMPERATURE,
  PROP_CLASS_DEBIAS,
  PROP_SKIP_BORDERS
};

namespace {

// vccolorize's own settings (the shared ones are VcNetwork's), under VcNetwork's lock.
struct Settings {
  int candidate = DEFAULT_CANDIDATE;
  bool mosaic = DEFAULT_MOSAIC;
  GstVideoFormat output_format = DEFAULT_OUTPUT_FORMAT;
  double class_temperature = DEFAULT_CLASS_TEMPERATURE;
  double class_debias = DEFAULT_CLASS_DEBIAS;
  bool skip_borders = DEFAULT_SKIP_BORDERS;
};

struct Snapshot {
  VcNetworkSettings net;
  Settings own;
};

// Running state: created in start, dropped in stop (streaming thread only in between).
struct State {
  std::shared_ptr<const vidcolor::Model> model;
  std::unique_ptr<vidcolor::ColorizeEngine> engine;
  torch::Device device{torch::kCPU};
  // Options that failed to build an engine (warned once; retried when the settings change).
  std::optional<vidcolor::ColorizeOptions> rejected;
  std::vector<uint8_t> y8;             // 8-bit luma scratch for R'G'B' output
  std::vector<uint16_t> luma, cb, cr;  // codes of a Y'CbCr output frame
  bool warned_no_source = false;       // the source frame was missing (once per caps)
  bool source_yuv = false;             // the caps name a Y'CbCr source (vcgray's fields)
  // The matrix of R'G'B' output's luma: vcgray's for an R'G'B' source, else the networks'.
  vidcolor::Matrix rgb_matrix = vidcolor::Matrix::BT601;
};

struct Private {
  VcNetwork net;      // shared settings, their lock, the frame period
  Settings settings;  // under net.lock
  State state;
};

}  // namespace

struct _GstVcColorize {
  GstVideoFilter parent;
  Private* priv;
};

// vccolorize's output formats, in the order the caps prefer them when the source's own format
// is not one of them (the networks' 4:2:0 first, as before there was a source format), each with
// its output-format enum text. The src pad template, both output-format enums and the output
// caps are made from this one table.
struct OutputFormat {
  const char* name;
  const char* description;
};
static const OutputFormat kOutputFormats[] = {{"I420", "8-bit 4:2:0 planar"},
                                              {"NV12", "8-bit 4:2:0, interleaved CbCr"},
                                              {"YV12", "8-bit 4:2:0 planar, Cr first"},
                                              {"NV21", "8-bit 4:2:0, interleaved CrCb"},
                                              {"Y42B", "8-bit 4:2:2 planar"},
                                              {"NV16", "8-bit 4:2:2, interleaved CbCr"},
                                              {"UYVY", "8-bit 4:2:2 packed (SDI order)"},
                                              {"YUY2", "8-bit 4:2:2 packed"},
                                              {"I420_10LE", "10-bit 4:2:0 planar"},
                                              {"I422_10LE", "10-bit 4:2:2 planar"},
                                              {"P010_10LE", "10-bit 4:2:0, interleaved CbCr"},
                                              {"v210", "10-bit 4:2:2 packed (SDI)"},
                                              {"P016_LE", "16-bit 4:2:0, interleaved CbCr"},
                                              {"Y444", "8-bit 4:4:4 planar"},
                                              {"Y444_10LE", "10-bit 4:4:4 planar"},
                                              {"Y444_16LE", "16-bit 4:4:4 planar"},
                                              {"RGB", "8-bit R'G'B'"},
                                              {"BGRx", "8-bit B'G'R'x"},
                                              {"RGBA", "8-bit R'G'B'A (opaque)"},
                                              {"BGR", "8-bit B'G'R'"},
                                              {"RGBx", "8-bit R'G'B'x"},
                                              {"xRGB", "8-bit xR'G'B'"},
                                              {"xBGR", "8-bit xB'G'R'"},
                                              {"BGRA", "8-bit B'G'R'A (opaque)"},
                                              {"ARGB", "8-bit AR'G'B' (opaque)"},
                                              {"ABGR", "8-bit AB'G'R' (opaque)"}};

// The names of the table's formats that `keep` accepts, in the table's order.
static std::vector<const gchar*> output_formats_where(bool (*keep)(const GstVideoFormatInfo*)) {
  std::vector<const gchar*> names;
  for (const OutputFormat& f : kOutputFormats)
    if (keep(gst_video_format_get_info(gst_video_format_from_string(f.name))))
      names.push_back(f.name);
  return names;
}

static bool any_format(const GstVideoFormatInfo*) { return true; }
static bool is_rgb(const GstVideoFormatInfo* f) { return GST_VIDEO_FORMAT_INFO_IS_RGB(f); }
static bool is_subsampled_yuv(const GstVideoFormatInfo* f) {
  return GST_VIDEO_FORMAT_INFO_IS_YUV(f) &&
         (GST_VIDEO_FORMAT_INFO_W_SUB(f, 1) != 0 || GST_VIDEO_FORMAT_INFO_H_SUB(f, 1) != 0);
}
static bool is_444_yuv(const GstVideoFormatInfo* f) {
  return GST_VIDEO_FORMAT_INFO_IS_YUV(f) && !is_subsampled_yuv(f);
}
static bool is_deep_yuv(const GstVideoFormatInfo* f) {
  return GST_VIDEO_FORMAT_INFO_IS_YUV(f) && GST_VIDEO_FORMAT_INFO_DEPTH(f, 0) > 8;
}
static bool is_16bit_yuv(const GstVideoFormatInfo* f) {
  return GST_VIDEO_FORMAT_INFO_IS_YUV(f) && GST_VIDEO_FORMAT_INFO_DEPTH(f, 0) == 16;
}

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS,
                            GST_STATIC_CAPS(VC_VIDEO_CAPS_WITH_FIELDS("{ GRAY8, GRAY16_LE }")));

// The src template: every format of the table, progressive or as alternate-mode fields.
static GstPadTemplate* make_src_template() {
  GstCaps* caps = gst_caps_from_string(VC_VIDEO_CAPS_WITH_FIELDS("I420"));
  const std::vector<const gchar*> all = output_formats_where(any_format);
  for (guint i = 0; i < gst_caps_get_size(caps); ++i)
    vc_structure_set_formats(gst_caps_get_structure(caps, i), all);
  GstPadTemplate* t = gst_pad_template_new("src", GST_PAD_SRC, GST_PAD_ALWAYS, caps);
  gst_caps_unref(caps);
  return t;
}

G_DEFINE_TYPE(GstVcColorize, gst_vc_colorize, GST_TYPE_VIDEO_FILTER);

static gboolean is_output_format(GstVideoFormat f) {
  for (const OutputFormat& o : kOutputFormats)
    if (gst_video_format_from_string(o.name) == f) return TRUE;
  return FALSE;
}

// The output-format enums: vccolorize's holds every format of the table, the chain's
// (vidcolorize, whose vcrefine carries Y'CbCr only) the Y'CbCr ones. Each is "auto" + the
// formats + a terminator, in an array with room for either.
using OutputFormatValues = GEnumValue[G_N_ELEMENTS(kOutputFormats) + 2];

// Fills `values` (static storage: GLib keeps the pointer for the type's life) and registers.
static GType register_output_formats(const gchar* type_name, gboolean yuv_only,
                                     OutputFormatValues& values) {
  values[0] = {DEFAULT_OUTPUT_FORMAT,
               "The format of vcgray's input when it is one of these, else I420 (P016_LE for "
               "16-bit gray; or what downstream asks for)",
               "auto"};
  guint used = 1;
  for (const OutputFormat& o : kOutputFormats) {
    const GstVideoFormat f = gst_video_format_from_string(o.name);
    if (!yuv_only || vc_format_is_chain_yuv(f)) values[used++] = {f, o.description, o.name};
  }
  values[used] = {0, nullptr, nullptr};
  return g_enum_register_static(type_name, values);
}

GType gst_vc_colorize_output_format_get_type(void) {
  static GType type = 0;
  static OutputFormatValues values;
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, register_output_formats("GstVcColorizeOutputFormat", FALSE, values));
  return type;
}

GType gst_vc_chain_output_format_get_type(void) {
  static GType type = 0;
  static OutputFormatValues values;
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, register_output_formats("GstVcChainOutputFormat", TRUE, values));
  return type;
}

GST_ELEMENT_REGISTER_DEFINE(vccolorize, "vccolorize", GST_RANK_NONE, GST_TYPE_VC_COLORIZE);

static Snapshot read_settings(GstVcColorize* self) {
  VcNetworkLock lock(&self->priv->net);
  return Snapshot{self->priv->net.settings, self->priv->settings};
}

// Full-range BT.601 (matrix, transfer and primaries of SMPTE 170M, range 0-255): the color
// space of the networks' chroma.
static const gchar* output_colorimetry() {
  static gchar* text = nullptr;
  if (g_once_init_enter(&text)) {
    GstVideoColorimetry c = {GST_VIDEO_COLOR_RANGE_0_255, GST_VIDEO_COLOR_MATRIX_BT601,
                             GST_VIDEO_TRANSFER_BT601, GST_VIDEO_COLOR_PRIMARIES_SMPTE170M};
    g_once_init_leave(&text, gst_video_colorimetry_to_string(&c));
  }
  return text;
}

// What vcgray's fields say about the frame the gray came from (vcsourceframe.h).
struct Source {
  GstVideoFormat format = GST_VIDEO_FORMAT_UNKNOWN;
  const gchar* colorimetry = nullptr;
  const gchar* chroma_site = nullptr;
  bool yuv() const { return vc_format_is_chain_yuv(format); }
  // More than 8 bits of luma (GRAY16_LE: a film scan): the output keeps them by default.
  bool deep() const {
    const GstVideoFormatInfo* finfo = gst_video_format_get_info(format);
    return finfo != nullptr && GST_VIDEO_FORMAT_INFO_DEPTH(finfo, 0) > 8;
  }
};

static Source source_of(const GstStructure* s) {
  Source src;
  const gchar* f = gst_structure_get_string(s, VC_SOURCE_FORMAT_FIELD);
  // Standalone (no vcgray before us), the gray itself is the source.
  if (f == nullptr) f = gst_structure_get_string(s, "format");
  if (f != nullptr) src.format = gst_video_format_from_string(f);
  src.colorimetry = gst_structure_get_string(s, VC_SOURCE_COLORIMETRY_FIELD);
  src.chroma_site = gst_structure_get_string(s, VC_SOURCE_CHROMA_SITE_FIELD);
  return src;
}

// One output structure: a Y'CbCr one has the source's colorimetry and siting when the source
// is Y'CbCr, else the networks' full-range BT.601 (siting jpeg where subsampled).
static GstStructure* output_structure(const GstStructure* base,
                                      const std::vector<const gchar*>& formats, const Source& src) {
  GstStructure* s = gst_structure_copy(base);
  vc_structure_set_formats(s, formats);
  const GstVideoFormatInfo* finfo =
      gst_video_format_get_info(gst_video_format_from_string(formats.front()));
  if (GST_VIDEO_FORMAT_INFO_IS_RGB(finfo)) return s;
  const bool subsampled =
      GST_VIDEO_FORMAT_INFO_W_SUB(finfo, 1) != 0 || GST_VIDEO_FORMAT_INFO_H_SUB(finfo, 1) != 0;
  if (src.yuv()) {
    if (src.colorimetry != nullptr)
      gst_structure_set(s, "colorimetry", G_TYPE_STRING, src.colorimetry, nullptr);
    if (src.chroma_site != nullptr && subsampled)
      gst_structure_set(s, "chroma-site", G_TYPE_STRING, src.chroma_site, nullptr);
  } else {
    gst_structure_set(s, "colorimetry", G_TYPE_STRING, output_colorimetry(), nullptr);
    if (subsampled) gst_structure_set(s, "chroma-site", G_TYPE_STRING, "jpeg", nullptr);
  }
  return s;
}

// Sink caps -> output caps, most preferred first: the forced format, else the source's own
// format, else (a source deeper than 8 bits that is not one: GRAY16_LE) 16-bit then 10-bit
// Y'CbCr, then the networks' 4:2:0 and the rest (Y'CbCr, then R'G'B').
static GstCaps* output_caps(const GstStructure* base, const Source& src, GstVideoFormat forced) {
  // The table's groups, filtered once (caps are made at every negotiation).
  static const std::vector<const gchar*> k16bit = output_formats_where(is_16bit_yuv),
                                         kDeep = output_formats_where(is_deep_yuv),
                                         kSubsampled = output_formats_where(is_subsampled_yuv),
                                         k444 = output_formats_where(is_444_yuv),
                                         kRgb = output_formats_where(is_rgb);
  GstCaps* caps = gst_caps_new_empty();
  if (forced != GST_VIDEO_FORMAT_UNKNOWN) {
    const gchar* name = gst_video_format_to_string(forced);
    return gst_caps_merge_structure(caps, output_structure(base, {name}, src));
  }
  if (is_output_format(src.format))
    caps = gst_caps_merge_structure(
        caps, output_structure(base, {gst_video_format_to_string(src.format)}, src));
  else if (src.deep())  // a GRAY16_LE source's luma bit for bit first
    for (const auto* group : {&k16bit, &kDeep})
      caps = gst_caps_merge_structure(caps, output_structure(base, *group, src));
  for (const auto* group : {&kSubsampled, &k444, &kRgb})
    caps = gst_caps_merge_structure(caps, output_structure(base, *group, src));
  return caps;
}

// Width, height, framerate and pixel-aspect-ratio carry over; the format maps gray <-> color.
static GstCaps* gst_vc_colorize_transform_caps(GstBaseTransform* trans, GstPadDirection direction,
                                               GstCaps* caps, GstCaps* filter) {
  GstCaps* result = gst_caps_new_empty();
  for (guint i = 0; i < gst_caps_get_size(caps); ++i) {
    GstCapsFeatures* features = gst_caps_get_features(caps, i);
    if (!vc_caps_features_mappable(features)) continue;  // system memory only
    const GstStructure* in = gst_caps_get_structure(caps, i);
    GstStructure* base = gst_structure_copy(in);
    gst_structure_remove_fields(base, "format", "colorimetry", "chroma-site", nullptr);
    vc_source_fields_remove(base);
    if (direction == GST_PAD_SINK) {
      GstVcColorize* self = GST_VC_COLORIZE(trans);
      GstVideoFormat forced;
      {
        VcNetworkLock lock(&self->priv->net);
        forced = self->priv->settings.output_format;
      }
      GstCaps* out = output_caps(base, source_of(in), forced);
      // Alternate-mode fields (format:Interlaced) stay fields.
      if (GstCapsFeatures* kept = vc_caps_features_kept(features))
        gst_caps_set_features_simple(out, kept);
      result = gst_caps_merge(result, out);
    } else {
      GstStructure* gray = gst_structure_copy(base);
      vc_structure_set_formats(gray, {"GRAY8", "GRAY16_LE"});
      result = gst_caps_merge_structure_full(result, gray, vc_caps_features_kept(features));
    }
    gst_structure_free(base);
  }
  if (filter != nullptr) {
    GstCaps* tmp = gst_caps_intersect_full(filter, result, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref(result);
    result = tmp;
  }
  GST_DEBUG_OBJECT(trans, "%s caps %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
                   direction == GST_PAD_SINK ? "sink" : "src", caps, result);
  return result;
}

// The engine's options for the current settings.
static vidcolor::ColorizeOptions engine_options(const Snapshot& s) {
  vidcolor::ColorizeOptions o;
  o.candidate = s.own.candidate;
  o.inference_size = s.net.inference_size;
  o.class_temperature = s.own.class_temperature;
  o.class_debias = s.own.class_debias;
  o.skip_borders = s.own.skip_borders;
  return o;
}

// Whether two option sets build the same engine (the settings that may change while playing).
static bool same_engine(const vidcolor::ColorizeOptions& a, const vidcolor::ColorizeOptions& b) {
  return a.candidate == b.candidate && a.inference_size == b.inference_size &&
         a.class_temperature == b.class_temperature && a.class_debias == b.class_debias &&
         a.skip_borders == b.skip_borders;
}

// Builds the engine for the current settings; throws vidcolor::Error.
static std::unique_ptr<vidcolor::ColorizeEngine> make_engine(const State& st, const Snapshot& s) {
  return std::make_unique<vidcolor::ColorizeEngine>(st.model, st.device, engine_options(s));
}

static gboolean gst_vc_colorize_start(GstBaseTransform* trans) {
  GstVcColorize* self = GST_VC_COLORIZE(trans);
  const Snapshot s = read_settings(self);
  State& st = self->priv->state;
  st = State();
  const bool ok =
      vc_network_start(GST_ELEMENT(self), &kNetwork, s.net, [&](const VcLoadedModel& m) {
        st.model = m.model;
        st.device = m.device;
        st.engine = make_engine(st, s);
      });
  if (!ok) {
    st = State();
    return FALSE;
  }
  GST_INFO_OBJECT(self, "model %s (%d candidates) on %s", s.net.model.c_str(),
                  st.engine->candidates(), st.device.str().c_str());
  return TRUE;
}

static gboolean gst_vc_colorize_stop(GstBaseTransform* trans) {
  GST_VC_COLORIZE(trans)->priv->state = State();
  return TRUE;
}

// vcgray's gray of an R'G'B' source is that source's luma in vc_luma_matrix_for's matrix
// (with matrix=auto); R'G'B' output keeps it in the same one. Without an R'G'B' source: BT.601.
static vidcolor::Matrix rgb_output_matrix(const Source& src, const GstVideoInfo* gray) {
  const GstVideoFormatInfo* finfo = gst_video_format_get_info(src.format);
  if (finfo == nullptr || !GST_VIDEO_FORMAT_INFO_IS_RGB(finfo)) return vidcolor::Matrix::BT601;
  GstVideoInfo info;
  gst_video_info_set_format(&info, src.format, GST_VIDEO_INFO_WIDTH(gray),
                            GST_VIDEO_INFO_HEIGHT(gray));
  if (src.colorimetry != nullptr)
    gst_video_colorimetry_from_string(&info.colorimetry, src.colorimetry);
  return vc_luma_matrix_for(&info);
}

static gboolean gst_vc_colorize_set_info(GstVideoFilter* filter, GstCaps* incaps,
                                         GstVideoInfo* in_info, GstCaps* outcaps,
                                         GstVideoInfo* out_info) {
  GstVcColorize* self = GST_VC_COLORIZE(filter);
  (void)out_info;
  // New caps (a new size, or a new stream): choose the candidate again.
  if (self->priv->state.engine) self->priv->state.engine->reset();
  State& st = self->priv->state;
  const Source src = source_of(gst_caps_get_structure(incaps, 0));
  st.source_yuv = src.yuv();
  st.rgb_matrix = rgb_output_matrix(src, in_info);
  st.warned_no_source = false;
  vc_network_set_rate(GST_ELEMENT(self), &self->priv->net, in_info);
  GST_INFO_OBJECT(self, "%s %dx%d -> %" GST_PTR_FORMAT, GST_VIDEO_INFO_NAME(in_info),
                  GST_VIDEO_INFO_WIDTH(in_info), GST_VIDEO_INFO_HEIGHT(in_info), outcaps);
  return TRUE;
}

static gboolean gst_vc_colorize_sink_event(GstBaseTransform* trans, GstEvent* event) {
  GstVcColorize* self = GST_VC_COLORIZE(trans);
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_FLUSH_STOP:
    case GST_EVENT_STREAM_START:
      GST_DEBUG_OBJECT(self, "%s: choosing the candidate again", GST_EVENT_TYPE_NAME(event));
      if (self->priv->state.engine) self->priv->state.engine->reset();
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS(gst_vc_colorize_parent_class)->sink_event(trans, event);
}

// Streaming-thread housekeeping: LibTorch threads of this thread, and an engine for the
// current candidate / inference-size / class decoding (all may change while playing).
static void update_runtime(GstVcColorize* self, State& st, const Snapshot& s) {
  vc_network_apply_threads(GST_ELEMENT(self), &self->priv->net, s.net.threads);
  const vidcolor::ColorizeOptions wanted = engine_options(s);
  const vidcolor::ColorizeOptions& o = st.engine->options();
  if (same_engine(o, wanted)) return;
  if (st.rejected && same_engine(*st.rejected, wanted)) return;
  try {
    st.engine = make_engine(st, s);
    st.rejected.reset();
  } catch (const std::exception& e) {
    st.rejected = wanted;
    GST_ELEMENT_WARNING(
        self, LIBRARY, SETTINGS, ("Ignoring the new settings"),
        ("vccolorize.cpp: %s; keeping candidate %d, inference-size %d, "
         "class-temperature %g, class-debias %g",
         e.what(), o.candidate, o.inference_size, o.class_temperature, o.class_debias));
  }
}

// The frame vcgray made this gray from (vcsourceframe.h), mapped; FALSE when the buffer
// carries none that fits (standalone use, or an element between vcgray and us dropped it).
// RAII: unmapped with the object.
class SourceFrame {
 public:
  explicit SourceFrame(const GstVideoFrame* in) {
    const VcSourceFrameMeta* meta = vc_buffer_get_source_frame_meta(in->buffer);
    if (meta == nullptr || !vc_format_is_chain_yuv(GST_VIDEO_INFO_FORMAT(&meta->info)) ||
        GST_VIDEO_INFO_WIDTH(&meta->info) != GST_VIDEO_FRAME_WIDTH(in) ||
        GST_VIDEO_INFO_HEIGHT(&meta->info) != GST_VIDEO_FRAME_HEIGHT(in) ||
        GST_VIDEO_INFO_INTERLACE_MODE(&meta->info) != GST_VIDEO_INFO_INTERLACE_MODE(&in->info))
      return;
    GstVideoInfo info = meta->info;
    mapped_ = gst_video_frame_map(&frame_, &info, meta->buffer, GST_MAP_READ) != FALSE;
  }
  ~SourceFrame() {
    if (mapped_) gst_video_frame_unmap(&frame_);
  }
  SourceFrame(const SourceFrame&) = delete;
  SourceFrame& operator=(const SourceFrame&) = delete;
  const GstVideoFrame* get() const { return mapped_ ? &frame_ : nullptr; }

 private:
  GstVideoFrame frame_{};
  bool mapped_ = false;
};

// A Y'CbCr output picture: chroma coded for the output (frame_planes.hpp's chroma_to_codes),
// luma from the source picture (`source`: the same field of vcgray's input frame), else coded
// from `luma` (the gray, or the mosaic's).
static void write_yuv(GstVcColorize* self, const GstVideoFrame* in, const GstVideoFrame* source,
                      GstVideoFrame* out, State& st, const torch::Tensor& luma, bool mosaic,
                      const torch::Tensor& chroma) {
  const GstVideoInfo* info = &out->info;
  const int w = GST_VIDEO_INFO_WIDTH(info), h = GST_VIDEO_INFO_HEIGHT(info);
  const size_t cw = static_cast<size_t>(vc_chroma_width(info));
  st.cb.resize(cw * vc_chroma_height(info));
  st.cr.resize(st.cb.size());
  vidcolor::chroma_to_codes(chroma, vc_chroma_coding(info), vc_chroma_layout(info), st.cb.data(),
                            st.cr.data(), cw);
  int depth = GST_VIDEO_INFO_COMP_DEPTH(info, 0);
  if (!mosaic && source != nullptr) {
    vc_frame_read_luma(source, st.luma);
    depth = GST_VIDEO_INFO_COMP_DEPTH(&source->info, 0);
  } else {
    if (!mosaic && st.source_yuv && !st.warned_no_source) {
      st.warned_no_source = true;
      GST_ELEMENT_WARNING(self, STREAM, FORMAT, ("The input frame's luma is not available"),
                          ("vccolorize.cpp: buffer %" GST_TIME_FORMAT " carries no source frame "
                           "from vcgray (an element between them converted the gray?); the "
                           "luma is coded back from the gray, not copied",
                           GST_TIME_ARGS(GST_BUFFER_PTS(in->buffer))));
    }
    st.luma.resize(static_cast<size_t>(w) * h);
    vidcolor::tensor_to_luma_codes(luma, vc_luma_coding(info), st.luma.data(), w);
  }
  vc_frame_write(out, st.luma.data(), depth, st.cb.data(), st.cr.data());
}

// Packed 8-bit R'G'B' from the gray (or the mosaic's luma) and the chroma, keeping the luma.
static void write_rgb(const GstVideoFrame* in, GstVideoFrame* out, State& st,
                      const torch::Tensor* mosaic_luma, const torch::Tensor& chroma) {
  const int w = GST_VIDEO_FRAME_WIDTH(in), h = GST_VIDEO_FRAME_HEIGHT(in);
  const auto* in_data = static_cast<const guint8*>(GST_VIDEO_FRAME_PLANE_DATA(in, 0));
  const gsize in_stride = GST_VIDEO_FRAME_PLANE_STRIDE(in, 0);
  st.y8.resize(static_cast<size_t>(w) * h);
  if (mosaic_luma != nullptr) {
    vidcolor::tensor_to_gray8_plane(*mosaic_luma, st.y8.data(), w);
  } else {
    for (int y = 0; y < h; ++y) {
      const guint8* src = in_data + y * in_stride;
      guint8* dst = st.y8.data() + static_cast<size_t>(y) * w;
      if (GST_VIDEO_FRAME_FORMAT(in) == GST_VIDEO_FORMAT_GRAY8)
        memcpy(dst, src, w);
      else
        vidcolor::luma16_row_to_gray8(reinterpret_cast<const uint16_t*>(src), dst, w,
                                      vidcolor::Range::Full);
    }
  }
  const GstVideoFormatInfo* finfo = out->info.finfo;
  const int pstride = GST_VIDEO_FRAME_COMP_PSTRIDE(out, 0);
  // The byte that is neither R, G nor B (x or A), set opaque; none in 3-byte formats.
  int alpha = -1;
  if (pstride == 4)
    alpha = 6 - static_cast<int>(GST_VIDEO_FORMAT_INFO_POFFSET(finfo, 0) +
                                 GST_VIDEO_FORMAT_INFO_POFFSET(finfo, 1) +
                                 GST_VIDEO_FORMAT_INFO_POFFSET(finfo, 2));
  const vidcolor::PackedRgbLayout layout{pstride,
                                         static_cast<int>(GST_VIDEO_FORMAT_INFO_POFFSET(finfo, 0)),
                                         static_cast<int>(GST_VIDEO_FORMAT_INFO_POFFSET(finfo, 1)),
                                         static_cast<int>(GST_VIDEO_FORMAT_INFO_POFFSET(finfo, 2))};
  vidcolor::ycc_to_rgb8_plane(st.y8.data(), w, chroma, layout, alpha,
                              static_cast<guint8*>(GST_VIDEO_FRAME_PLANE_DATA(out, 0)),
                              GST_VIDEO_FRAME_PLANE_STRIDE(out, 0), st.rgb_matrix);
}

// Writes one output picture from the input gray and the predicted chroma.
static void write_output(GstVcColorize* self, const GstVideoFrame* in, const GstVideoFrame* source,
                         GstVideoFrame* out, const torch::Tensor& luma,
                         const torch::Tensor* mosaic_luma, const torch::Tensor& chroma) {
  State& st = self->priv->state;
  if (GST_VIDEO_FORMAT_INFO_IS_RGB(out->info.finfo))
    write_rgb(in, out, st, mosaic_luma, chroma);
  else if (vc_format_is_chain_yuv(GST_VIDEO_FRAME_FORMAT(out)))
    write_yuv(self, in, source, out, st, mosaic_luma != nullptr ? *mosaic_luma : luma,
              mosaic_luma != nullptr, chroma);
  else
    throw vidcolor::Error(std::string("unexpected output format ") +
                          gst_video_format_to_string(GST_VIDEO_FRAME_FORMAT(out)));
}

// f on one picture (a progressive frame or one field): gray in, output picture written.
static void colorize_picture(GstVcColorize* self, const Snapshot& s, const GstVideoFrame* in,
                             const GstVideoFrame* source, GstVideoFrame* out) {
  State& st = self->priv->state;
  const int w = GST_VIDEO_FRAME_WIDTH(in), h = GST_VIDEO_FRAME_HEIGHT(in);
  const auto* data = static_cast<const guint8*>(GST_VIDEO_FRAME_PLANE_DATA(in, 0));
  const gsize stride = GST_VIDEO_FRAME_PLANE_STRIDE(in, 0);
  const torch::Tensor luma =
      GST_VIDEO_FRAME_FORMAT(in) == GST_VIDEO_FORMAT_GRAY8
          ? vidcolor::gray8_plane_to_tensor(data, w, h, stride)
          : vidcolor::gray16_plane_to_tensor(reinterpret_cast<const uint16_t*>(data), w, h, stride);
  if (s.own.mosaic) {
    const vidcolor::MosaicFrame m = st.engine->colorize_mosaic(luma);
    write_output(self, in, source, out, luma, &m.luma, m.chroma);
  } else {
    write_output(self, in, source, out, luma, nullptr, st.engine->colorize(luma));
  }
}

static GstFlowReturn gst_vc_colorize_transform_frame(GstVideoFilter* filter, GstVideoFrame* in,
                                                     GstVideoFrame* out) {
  GstVcColorize* self = GST_VC_COLORIZE(filter);
  State& st = self->priv->state;
  if (!st.engine) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("No model loaded"),
                      ("vccolorize.cpp: a frame arrived before start()"));
    return GST_FLOW_ERROR;
  }
  const Snapshot s = read_settings(self);
  vc_network_note_buffer(&self->priv->net, in->buffer);  // variable frame rates: the frame period
  return vc_network_guard(GST_ELEMENT(self), &kNetwork, "Colorization failed", GST_FLOW_ERROR, [&] {
    update_runtime(self, st, s);
    // Interlaced frames: f sees each field as a picture of its own (fields.h), and each
    // field's chroma goes to that field's lines.
    const VcPictures gray = vc_frame_pictures(in);
    VcPictures output = vc_frame_pictures_as(out, gray);
    const SourceFrame source_frame(in);
    VcPictures source;
    if (source_frame.get() != nullptr) source = vc_frame_pictures_as(source_frame.get(), gray);
    for (int i = 0; i < gray.count; ++i)
      colorize_picture(self, s, &gray.view[i], source_frame.get() ? &source.view[i] : nullptr,
                       &output.view[i]);
    return GST_FLOW_OK;
  });
}

// LATENCY from downstream: upstream's answer plus f's processing time (processing_latency.h).
static gboolean gst_vc_colorize_query(GstBaseTransform* trans, GstPadDirection direction,
                                      GstQuery* query) {
  GstVcColorize* self = GST_VC_COLORIZE(trans);
  if (!GST_BASE_TRANSFORM_CLASS(gst_vc_colorize_parent_class)->query(trans, direction, query))
    return FALSE;
  if (direction == GST_PAD_SRC && GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
    GstClockTime add;
    {
      VcNetworkLock lock(&self->priv->net);
      add = vc_network_processing_latency_locked(&self->priv->net);
    }
    GST_DEBUG_OBJECT(self, "adding %" GST_TIME_FORMAT " of processing latency", GST_TIME_ARGS(add));
    vc_query_add_latency(query, add);
  }
  return TRUE;
}

static void gst_vc_colorize_set_property(GObject* object, guint prop_id, const GValue* value,
                                         GParamSpec* pspec) {
  GstVcColorize* self = GST_VC_COLORIZE(object);
  Private* p = self->priv;
  if (!vc_network_property_settable(GST_ELEMENT(self), pspec)) return;
  if (vc_network_set_property(GST_ELEMENT(self), &p->net, &kNetwork, prop_id, value)) return;
  {
    VcNetworkLock lock(&p->net);
    switch (prop_id) {
      case PROP_CANDIDATE:
        p->settings.candidate = g_value_get_int(value);
        break;
      case PROP_MOSAIC:
        p->settings.mosaic = g_value_get_boolean(value);
        break;
      case PROP_OUTPUT_FORMAT:
        p->settings.output_format = static_cast<GstVideoFormat>(g_value_get_enum(value));
        break;
      case PROP_CLASS_TEMPERATURE:
        p->settings.class_temperature = g_value_get_double(value);
        break;
      case PROP_CLASS_DEBIAS:
        p->settings.class_debias = g_value_get_double(value);
        break;
      case PROP_SKIP_BORDERS:
        p->settings.skip_borders = g_value_get_boolean(value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
  }
  // Takes effect on the next caps; ask for a renegotiation so it applies now.
  if (prop_id == PROP_OUTPUT_FORMAT) gst_base_transform_reconfigure_src(GST_BASE_TRANSFORM(self));
}

static void gst_vc_colorize_get_property(GObject* object, guint prop_id, GValue* value,
                                         GParamSpec* pspec) {
  GstVcColorize* self = GST_VC_COLORIZE(object);
  Private* p = self->priv;
  if (vc_network_get_property(&p->net, prop_id, value)) return;
  VcNetworkLock lock(&p->net);
  switch (prop_id) {
    case PROP_CANDIDATE:
      g_value_set_int(value, p->settings.candidate);
      break;
    case PROP_MOSAIC:
      g_value_set_boolean(value, p->settings.mosaic);
      break;
    case PROP_OUTPUT_FORMAT:
      g_value_set_enum(value, p->settings.output_format);
      break;
    case PROP_CLASS_TEMPERATURE:
      g_value_set_double(value, p->settings.class_temperature);
      break;
    case PROP_CLASS_DEBIAS:
      g_value_set_double(value, p->settings.class_debias);
      break;
    case PROP_SKIP_BORDERS:
      g_value_set_boolean(value, p->settings.skip_borders);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_vc_colorize_finalize(GObject* object) {
  GstVcColorize* self = GST_VC_COLORIZE(object);
  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS(gst_vc_colorize_parent_class)->finalize(object);
}

// Metas that describe the picture rather than its samples go with it (meta_copy.h).
static gboolean gst_vc_colorize_transform_meta(GstBaseTransform* trans, GstBuffer* outbuf,
                                               GstMeta* meta, GstBuffer* inbuf) {
  (void)trans;
  (void)outbuf;
  (void)inbuf;
  return vc_meta_survives_colour_change(meta->info->api);
}

// Short buffers are an error, not a silently dropped frame (frame_size_check.h).
static GstFlowReturn gst_vc_colorize_submit_input_buffer(GstBaseTransform* trans,
                                                         gboolean is_discont, GstBuffer* input) {
  if (!vc_video_filter_input_is_whole(GST_VIDEO_FILTER(trans), input)) {
    gst_buffer_unref(input);
    return GST_FLOW_ERROR;
  }
  return GST_BASE_TRANSFORM_CLASS(gst_vc_colorize_parent_class)
      ->submit_input_buffer(trans, is_discont, input);
}

static void gst_vc_colorize_class_init(GstVcColorizeClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass* trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  GstVideoFilterClass* filter_class = GST_VIDEO_FILTER_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(gst_vc_colorize_debug, "vccolorize", 0, "vidcolor colorization (f)");
  (void)vc_source_frame_meta_get_info();

  gobject_class->set_property = gst_vc_colorize_set_property;
  gobject_class->get_property = gst_vc_colorize_get_property;
  gobject_class->finalize = gst_vc_colorize_finalize;

  vc_network_class_install_properties(gobject_class, &kNetwork);
  const GParamFlags playing = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                       GST_PARAM_MUTABLE_PLAYING);
  g_object_class_install_property(
      gobject_class, PROP_CANDIDATE,
      g_param_spec_int("candidate", "Candidate",
                       "Which of the model's d colorizations to output: -1 = auto (the model "
                       "file's default candidate when it names one, else the most saturated "
                       "over the first 8 frames, then locked until a scene cut or a flush), "
                       "0..d-1 = that one (a value >= d fails the state change; set while "
                       "playing, it is ignored with a warning)",
                       -1, MAX_CANDIDATE, DEFAULT_CANDIDATE, playing));
  g_object_class_install_property(
      gobject_class, PROP_MOSAIC,
      g_param_spec_boolean("mosaic", "Mosaic",
                           "Output all d candidates as a grid (2x2 for d = 4) at the output "
                           "size, each cell the frame scaled to it, for choosing a candidate",
                           DEFAULT_MOSAIC, playing));
  g_object_class_install_property(
      gobject_class, PROP_OUTPUT_FORMAT,
      g_param_spec_enum("output-format", "Output format",
                        "Format of the colorized output: auto = the format of vcgray's input "
                        "(with its colorimetry, chroma-site and luma samples) when it is one of "
                        "these, else I420 unless downstream asks for another; any other value "
                        "forces that format (Y'CbCr keeps the source's colorimetry; the luma is "
                        "shifted to its depth)",
                        GST_TYPE_VC_COLORIZE_OUTPUT_FORMAT, DEFAULT_OUTPUT_FORMAT, playing));
  g_object_class_install_property(
      gobject_class, PROP_CLASS_TEMPERATURE,
      g_param_spec_double(
          "class-temperature", "Class temperature",
          "Models with chroma classes: the temperature of the annealed mean that turns f's "
          "colour distribution into one colour per pixel, instead of the model file's: towards "
          "0.01 the most likely colour (vivid, noisy), 1 the mean (safe), above 1 flatter still. "
          "0 = the model file's (chosen on validation clips). On a model without classes a "
          "value other than 0 fails the state change; an invalid one set while playing is "
          "ignored with a warning",
          0.0, 10.0, DEFAULT_CLASS_TEMPERATURE, playing));
  g_object_class_install_property(
      gobject_class, PROP_CLASS_DEBIAS,
      g_param_spec_double(
          "class-debias", "Class debias",
          "Models with chroma classes: how far decoding undoes the class rebalancing of "
          "training, instead of the model file's: 0 = the rebalanced distribution (most colour, "
          "biased to rare colours), 1 = the data's (duller, closer to the average colour); "
          "between, a trade of accuracy against colour (models/MODEL_CARD.md). -1 = the model "
          "file's (chosen on validation clips). Values between -1 and 0, or any value other "
          "than -1 on a model without classes, fail the state change; set while playing, "
          "they are ignored with a warning",
          -1.0, 1.0, DEFAULT_CLASS_DEBIAS, playing));
  g_object_class_install_property(
      gobject_class, PROP_SKIP_BORDERS,
      g_param_spec_boolean(
          "skip-borders", "Skip borders",
          "Colorize only the picture inside black letterbox / pillarbox borders (found on every "
          "frame, steadied over the stream; the borders stay neutral black): f colours a picture "
          "with bars beside it worse than the picture alone. FALSE = f sees the whole frame",
          DEFAULT_SKIP_BORDERS, playing));

  gst_element_class_set_static_metadata(
      element_class, "vidcolor colorization", "Filter/Effect/Video",
      "Colorizes gray video with a neural network (Lei & Chen, CVPR 2019): Y passes through "
      "exactly, chroma is predicted; one of d candidate colorizations or all as a mosaic",
      "vidcolor developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_pad_template(element_class, make_src_template());

  trans_class->transform_caps = GST_DEBUG_FUNCPTR(gst_vc_colorize_transform_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_vc_colorize_sink_event);
  trans_class->start = GST_DEBUG_FUNCPTR(gst_vc_colorize_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_vc_colorize_stop);
  trans_class->submit_input_buffer = GST_DEBUG_FUNCPTR(gst_vc_colorize_submit_input_buffer);
  trans_class->transform_meta = GST_DEBUG_FUNCPTR(gst_vc_colorize_transform_meta);
  trans_class->query = GST_DEBUG_FUNCPTR(gst_vc_colorize_query);
  trans_class->passthrough_on_same_caps = FALSE;
  filter_class->set_info = GST_DEBUG_FUNCPTR(gst_vc_colorize_set_info);
  filter_class->transform_frame = GST_DEBUG_FUNCPTR(gst_vc_colorize_transform_frame);

  gst_type_mark_as_plugin_api(GST_TYPE_VC_COLORIZE_OUTPUT_FORMAT,
                              static_cast<GstPluginAPIFlags>(0));
}

static void gst_vc_colorize_init(GstVcColorize* self) {
  self->priv = new Private();
  // QoS on (BaseTransform's "qos" property): when a synchronising sink reports frames late
  // (a live source faster than the chain), frames already too late are dropped here, before
  // f, flow and g spend time on them, with a QoS message carrying the processed/dropped
  // counts. Non-synchronising sinks (files, sync=false) send no QoS events: nothing is dropped.
  gst_base_transform_set_qos_enabled(GST_BASE_TRANSFORM(self), TRUE);
  // A GAP buffer is colorized like any other and keeps its flag (see vcgray).
  gst_base_transform_set_gap_aware(GST_BASE_TRANSFORM(self), TRUE);
}
