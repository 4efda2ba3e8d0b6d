/* A property spec made from other elements' specs, for a bin that forwards one property to
 * several children (vidcolorize): the type, range, default and enum of the children's own
 * specs, so the bin can never drift from them (its hand-written copies had: threads 0..256 on
 * the bin, 0..1024 on vccolorize). */
#pragma once

#include <gst/gst.h>

#include <vector>

/* A new spec named `name` of the type of `from[0]` (boolean, int, uint, int64, uint64, float,
 * double, string, enum), with the range every spec of `from` accepts (the intersection), the
 * default of `from[0]` (clamped into that range) and the strictest mutability of them all
 * (GST_PARAM_MUTABLE_READY if any has it, else GST_PARAM_MUTABLE_PLAYING if all have it).
 * `blurb` is copied. NULL (with a critical) for another type or specs of different types. */
GParamSpec* vc_param_spec_copy(const std::vector<GParamSpec*>& from, const gchar* name,
                               const gchar* nick, const gchar* blurb);
