// Caps format lists written once as strings (the pad templates' "I420, NV12, ...") and used as
// lists: split into names, and set on a caps structure as a single format or a list.
#pragma once

#include <gst/gst.h>

#include <vector>

// The names of a comma-separated format list, in order (interned strings: valid for ever).
std::vector<const gchar*> vc_format_list(const gchar* list);

// Sets `formats` as the structure's "format": a string for one, a list for several.
void vc_structure_set_formats(GstStructure* s, const std::vector<const gchar*>& formats);
