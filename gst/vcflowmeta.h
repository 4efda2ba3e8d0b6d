/* VcFlowMeta: optical flow between a video frame and the one before it, attached by the
 * vidcolor `vcflow` element and read by `vcrefine` (or any application).
 *
 * Public header, C compatible. Reading the meta needs no linking against the plugin: the
 * API type is looked up by name (GST_VC_FLOW_META_API_NAME), which the vidcolor plugin
 * registers when it loads, so gst_buffer_get_vc_flow_meta() below is header-only and
 * returns NULL while no vcflow has ever been created in the process. Adding the meta
 * (gst_buffer_add_vc_flow_meta) is done inside the plugin.
 *
 * Conventions (docs/ARCHITECTURE.md, "Flow"): a flow F_{s->t} gives, for each pixel x of
 * frame s, where that pixel is in frame t: x + F(x). On buffer t the meta carries
 *   backward = F_{t->t-1}  (defined on the pixels of t),
 *   forward  = F_{t-1->t}  (defined on the pixels of t-1),
 * each width x height pixels, row-major, float32 interleaved (dx, dy), in pixels of the
 * *flow* resolution (width x height), not of the frame. The flows cover the whole picture of
 * frame_width x frame_height; to use them at another size, resample and multiply dx by
 * new_w / width and dy by new_h / height (vidcolor::resize_flow does exactly this).
 * backward_valid / forward_valid are width x height uint8, 1 where the flow passes the
 * forward-backward consistency check (Sundaram et al. 2010), 0 where the pixel is occluded
 * in the other frame or the flow is unreliable.
 *
 * The first buffer after start, flush, discontinuity or caps change has no previous frame
 * and carries NO meta (never a zero flow).
 *
 * Interlaced video (gst/common/fields.h): flows link fields of the same parity. On a buffer
 * holding two interleaved fields the rows alternate like the frame's lines: even flow rows
 * are the top field's flow to the previous top field, odd rows the bottom field's to the
 * previous bottom field (height is twice one field's flow height; the meta appears once both
 * fields have a predecessor). On an alternate-mode buffer (one field) the meta is that field's
 * flow to the previous field of its parity, two buffers back, and frame_height is the field's.
 *
 * Transforms: a plain copy (gst_buffer_copy, GstBaseTransform / GstVideoFilter copying metas)
 * shares the GBytes (refcounted, no data copy). A copy of a byte region of the buffer drops
 * the meta (that is no longer the frame). A scale transform (videoscale) keeps the flows
 * unchanged and sets frame_width / frame_height to the new frame size: the flows are in
 * their own pixels and cover the whole picture, so they stay right for a scaled picture
 * (letterboxing by videoscale add-borders=true is not reflected). Every other transform
 * type (e.g. a crop transform) drops the meta. The meta is tagged "video", "size" and
 * "orientation" and not "colorspace", so format converters (videoconvert) keep it.
 * Limitation: GstVideoFilter's default copies every meta whose tags are all among
 * video/size/orientation with a plain copy, so videoflip (which has no meta handling of its
 * own) copies the flows unchanged although the picture is mirrored or rotated; a tag that
 * made videoflip drop the meta would make videoconvert drop it too. Place vcflow after any
 * flip or rotation.
 */
#ifndef __GST_VC_FLOW_META_H__
#define __GST_VC_FLOW_META_H__

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_VC_FLOW_META_API_NAME "VcFlowMetaAPI"
#define GST_VC_FLOW_META_IMPL_NAME "VcFlowMeta"

typedef struct _GstVcFlowMeta GstVcFlowMeta;

struct _GstVcFlowMeta {
  GstMeta meta;

  guint width; /* flow field size */
  guint height;
  guint frame_width; /* size of the video frame the flows describe */
  guint frame_height;

  GBytes* backward;       /* F_{t->t-1}: width*height*2 gfloat (dx, dy) */
  GBytes* forward;        /* F_{t-1->t}: width*height*2 gfloat (dx, dy) */
  GBytes* backward_valid; /* width*height guint8, pixels of t */
  GBytes* forward_valid;  /* width*height guint8, pixels of t-1 */
};

/* The registered API type, or 0 when the vidcolor plugin has not registered it (then no
 * buffer can carry the meta). */
static inline GType gst_vc_flow_meta_api_lookup_type(void) {
  return g_type_from_name(GST_VC_FLOW_META_API_NAME);
}

static inline GstVcFlowMeta* gst_buffer_get_vc_flow_meta(GstBuffer* buffer) {
  GType api = gst_vc_flow_meta_api_lookup_type();
  return api != 0 ? (GstVcFlowMeta*)gst_buffer_get_meta(buffer, api) : NULL;
}

/* TRUE when width x height is non-zero and the four GBytes hold exactly width*height*2 gfloat
 * and width*height bytes (computed without overflow). gst_buffer_add_vc_flow_meta() only
 * attaches such metas, but a producer that fills the fields itself may not: check a meta with
 * gst_vc_flow_meta_is_valid() before reading its data. */
static inline gboolean gst_vc_flow_meta_sizes_valid(guint width, guint height, GBytes* backward,
                                                    GBytes* forward, GBytes* backward_valid,
                                                    GBytes* forward_valid) {
  const guint64 n = (guint64)width * height; /* two 32-bit sides: exact in 64 bits */
  if (n == 0 || n > G_MAXSIZE / (2 * sizeof(gfloat))) return FALSE;
  if (backward == NULL || forward == NULL || backward_valid == NULL || forward_valid == NULL)
    return FALSE;
  return g_bytes_get_size(backward) == (gsize)n * 2 * sizeof(gfloat) &&
         g_bytes_get_size(forward) == (gsize)n * 2 * sizeof(gfloat) &&
         g_bytes_get_size(backward_valid) == (gsize)n &&
         g_bytes_get_size(forward_valid) == (gsize)n;
}

static inline gboolean gst_vc_flow_meta_is_valid(const GstVcFlowMeta* m) {
  return m != NULL && gst_vc_flow_meta_sizes_valid(m->width, m->height, m->backward, m->forward,
                                                   m->backward_valid, m->forward_valid);
}

/* Typed views of the data (valid while the meta lives; see gst_vc_flow_meta_is_valid()). */
static inline const gfloat* gst_vc_flow_meta_backward_data(const GstVcFlowMeta* m) {
  return (const gfloat*)g_bytes_get_data(m->backward, NULL);
}
static inline const gfloat* gst_vc_flow_meta_forward_data(const GstVcFlowMeta* m) {
  return (const gfloat*)g_bytes_get_data(m->forward, NULL);
}
static inline const guint8* gst_vc_flow_meta_backward_valid_data(const GstVcFlowMeta* m) {
  return (const guint8*)g_bytes_get_data(m->backward_valid, NULL);
}
static inline const guint8* gst_vc_flow_meta_forward_valid_data(const GstVcFlowMeta* m) {
  return (const guint8*)g_bytes_get_data(m->forward_valid, NULL);
}

/* Defined in the vidcolor plugin (available to code compiled into it). */
GType gst_vc_flow_meta_api_get_type(void);
const GstMetaInfo* gst_vc_flow_meta_get_info(void);
#define GST_VC_FLOW_META_API_TYPE (gst_vc_flow_meta_api_get_type())
#define GST_VC_FLOW_META_INFO (gst_vc_flow_meta_get_info())

/* Attaches a flow meta; takes a reference on each GBytes (transfer none). The flow bytes
 * must hold width*height*2 gfloat and the masks width*height bytes, or NULL is returned. */
GstVcFlowMeta* gst_buffer_add_vc_flow_meta(GstBuffer* buffer, guint width, guint height,
                                           guint frame_width, guint frame_height, GBytes* backward,
                                           GBytes* forward, GBytes* backward_valid,
                                           GBytes* forward_valid);

G_END_DECLS

#endif /* __GST_VC_FLOW_META_H__ */
