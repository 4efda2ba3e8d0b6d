#include "param_spec_copy.h"

#include <algorithm>

namespace {

template <typename Spec, typename T>
void intersect(const std::vector<GParamSpec*>& from, T* min, T* max, T* def) {
  const Spec* first = reinterpret_cast<const Spec*>(from[0]);
  *min = first->minimum;
  *max = first->maximum;
  for (GParamSpec* p : from) {
    *min = std::max(*min, reinterpret_cast<const Spec*>(p)->minimum);
    *max = std::min(*max, reinterpret_cast<const Spec*>(p)->maximum);
  }
  *def = std::clamp(first->default_value, *min, std::max(*min, *max));
}

}  // namespace

GParamSpec* vc_param_spec_copy(const std::vector<GParamSpec*>& from, const gchar* name,
                               const gchar* nick, const gchar* blurb) {
  g_return_val_if_fail(!from.empty() && from[0] != nullptr, nullptr);
  const GType type = G_PARAM_SPEC_TYPE(from[0]);
  bool ready = false, playing = true;
  for (GParamSpec* p : from) {
    g_return_val_if_fail(p != nullptr && G_PARAM_SPEC_TYPE(p) == type, nullptr);
    ready = ready || (p->flags & GST_PARAM_MUTABLE_READY) != 0;
    playing = playing && (p->flags & GST_PARAM_MUTABLE_PLAYING) != 0;
  }
  const auto flags =
      static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_NAME | G_PARAM_STATIC_NICK |
                               (ready     ? GST_PARAM_MUTABLE_READY
                                : playing ? GST_PARAM_MUTABLE_PLAYING
                                          : 0));
  if (type == G_TYPE_PARAM_BOOLEAN)
    return g_param_spec_boolean(name, nick, blurb, G_PARAM_SPEC_BOOLEAN(from[0])->default_value,
                                flags);
  if (type == G_TYPE_PARAM_STRING)
    return g_param_spec_string(name, nick, blurb, G_PARAM_SPEC_STRING(from[0])->default_value,
                               flags);
  if (type == G_TYPE_PARAM_ENUM)
    return g_param_spec_enum(name, nick, blurb, from[0]->value_type,
                             G_PARAM_SPEC_ENUM(from[0])->default_value, flags);
  if (type == G_TYPE_PARAM_INT) {
    gint min, max, def;
    intersect<GParamSpecInt>(from, &min, &max, &def);
    return g_param_spec_int(name, nick, blurb, min, max, def, flags);
  }
  if (type == G_TYPE_PARAM_UINT) {
    guint min, max, def;
    intersect<GParamSpecUInt>(from, &min, &max, &def);
    return g_param_spec_uint(name, nick, blurb, min, max, def, flags);
  }
  if (type == G_TYPE_PARAM_INT64) {
    gint64 min, max, def;
    intersect<GParamSpecInt64>(from, &min, &max, &def);
    return g_param_spec_int64(name, nick, blurb, min, max, def, flags);
  }
  if (type == G_TYPE_PARAM_UINT64) {
    guint64 min, max, def;
    intersect<GParamSpecUInt64>(from, &min, &max, &def);
    return g_param_spec_uint64(name, nick, blurb, min, max, def, flags);
  }
  if (type == G_TYPE_PARAM_FLOAT) {
    gfloat min, max, def;
    intersect<GParamSpecFloat>(from, &min, &max, &def);
    return g_param_spec_float(name, nick, blurb, min, max, def, flags);
  }
  if (type == G_TYPE_PARAM_DOUBLE) {
    gdouble min, max, def;
    intersect<GParamSpecDouble>(from, &min, &max, &def);
    return g_param_spec_double(name, nick, blurb, min, max, def, flags);
  }
  g_critical("vc_param_spec_copy: %s has an unsupported type %s", from[0]->name, g_type_name(type));
  return nullptr;
}
