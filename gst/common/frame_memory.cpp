#include "frame_memory.h"

#include <string>

#include "vidcolor/core/process_memory.hpp"

GST_DEBUG_CATEGORY_STATIC(vc_frame_memory_debug);
#define GST_CAT_DEFAULT vc_frame_memory_debug

void vc_keep_frame_memory(GstObject* object) {
  static gsize once = 0;
  if (!g_once_init_enter(&once)) return;
  GST_DEBUG_CATEGORY_INIT(vc_frame_memory_debug, "vcframememory", 0, "vidcolor per-frame memory");
  const std::string what = vidcolor::keep_block_memory_in_process();
  GST_INFO_OBJECT(object, "%s", what.c_str());
  g_once_init_leave(&once, 1);
}
