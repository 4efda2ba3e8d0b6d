// The vidcolor plugin: registers every element of the set.
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <gst/gst.h>

#include "vidcolor-config.h"
#include "elements.h"

static gboolean plugin_init(GstPlugin* plugin) {
  gboolean ok = FALSE;
  ok |= GST_ELEMENT_REGISTER(vcgray, plugin);
  ok |= GST_ELEMENT_REGISTER(vcflow, plugin);
  ok |= GST_ELEMENT_REGISTER(vcrefine, plugin);
  ok |= GST_ELEMENT_REGISTER(vidcolorize, plugin);
  ok |= GST_ELEMENT_REGISTER(vccolorize, plugin);
  return ok;
}

#define PACKAGE "vidcolor"
GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, vidcolor,
                  "Fully automatic video colorization (Lei & Chen, CVPR 2019)", plugin_init,
                  VIDCOLOR_VERSION, "MIT/X11", "vidcolor", "https://github.com/vidcolor/vidcolor")
