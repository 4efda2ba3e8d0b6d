#include "frame_memory.h"

#include <cstdlib>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

GST_DEBUG_CATEGORY_STATIC(vc_frame_memory_debug);
#define GST_CAT_DEFAULT vc_frame_memory_debug

namespace {

bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && v[0] != '\0';
}

}  // namespace

void vc_keep_frame_memory(GstObject* object) {
  static gsize once = 0;
  if (!g_once_init_enter(&once)) return;
  GST_DEBUG_CATEGORY_INIT(vc_frame_memory_debug, "vcframememory", 0, "vidcolor per-frame memory");
#if defined(__GLIBC__)
  if (env_set("VIDCOLOR_SYSTEM_MALLOC") || env_set("MALLOC_MMAP_THRESHOLD_") ||
      env_set("MALLOC_TRIM_THRESHOLD_")) {
    GST_INFO_OBJECT(object, "malloc settings left to the process (environment)");
  } else {
    const bool ok = mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 256 << 20) == 1;
    GST_INFO_OBJECT(object, "glibc malloc: %s", ok ? "frame-sized blocks kept in the process (mmap "
                                                     "threshold 32 MiB, trim threshold 256 MiB)"
                                                   : "mallopt refused the thresholds");
  }
#else
  GST_INFO_OBJECT(object, "not glibc: malloc settings left alone");
#endif
  g_once_init_leave(&once, 1);
}
