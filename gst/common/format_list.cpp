#include "format_list.h"

std::vector<const gchar*> vc_format_list(const gchar* list) {
  std::vector<const gchar*> names;
  gchar** parts = g_strsplit(list, ",", -1);
  for (gchar** p = parts; *p != nullptr; ++p) {
    const gchar* name = g_strstrip(*p);
    if (*name != '\0') names.push_back(g_intern_string(name));
  }
  g_strfreev(parts);
  return names;
}

void vc_structure_set_formats(GstStructure* s, const std::vector<const gchar*>& formats) {
  if (formats.size() == 1) {
    gst_structure_set(s, "format", G_TYPE_STRING, formats.front(), nullptr);
    return;
  }
  GValue list = G_VALUE_INIT;
  gst_value_list_init(&list, static_cast<guint>(formats.size()));
  for (const gchar* f : formats) {
    GValue item = G_VALUE_INIT;
    g_value_init(&item, G_TYPE_STRING);
    g_value_set_string(&item, f);
    gst_value_list_append_and_take_value(&list, &item);
  }
  gst_structure_take_value(s, "format", &list);
}
