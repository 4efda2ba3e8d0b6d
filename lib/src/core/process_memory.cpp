#include "vidcolor/core/process_memory.hpp"

#include <cstdlib>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace vidcolor {

namespace {
bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && v[0] != '\0';
}
}  // namespace

std::string keep_block_memory_in_process() {
#if defined(__GLIBC__)
  if (env_set("VIDCOLOR_SYSTEM_MALLOC") || env_set("MALLOC_MMAP_THRESHOLD_") ||
      env_set("MALLOC_TRIM_THRESHOLD_"))
    return "malloc settings left to the process (environment)";
  const bool ok =
      mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 256 << 20) == 1;
  return ok ? "glibc malloc: frame-sized blocks kept in the process (mmap threshold 32 MiB, trim "
              "threshold 256 MiB)"
            : "glibc malloc: mallopt refused the thresholds";
#else
  return "not glibc: malloc settings left alone";
#endif
}

}  // namespace vidcolor
