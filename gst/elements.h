// Element registration declarations of the vidcolor plugin.
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

GST_ELEMENT_REGISTER_DECLARE(vcgray);
GST_ELEMENT_REGISTER_DECLARE(vcflow);
GST_ELEMENT_REGISTER_DECLARE(vcrefine);
GST_ELEMENT_REGISTER_DECLARE(vidcolorize);
GST_ELEMENT_REGISTER_DECLARE(vccolorize);

G_END_DECLS
