// glibc's malloc gives every block over its mmap threshold (128 KiB, rising to at most 32 MiB)
// back to the system when freed, so a loop that allocates frame- or batch-sized tensors
// page-faults them in again every time: measured, a third of a training step's time was system
// time, and a 2-core machine missed a live source's deadlines (docs/BENCHMARKS.md). Raising the
// thresholds keeps such blocks in the process. Used by the elements (once per process) and by
// vidcolor-train.
#pragma once

#include <string>

namespace vidcolor {

// Sets glibc's mmap threshold to 32 MiB and trim threshold to 256 MiB, unless the process
// chose its own (VIDCOLOR_SYSTEM_MALLOC, MALLOC_MMAP_THRESHOLD_ or MALLOC_TRIM_THRESHOLD_ set)
// or the C library is not glibc. Returns what was done, for a log line.
std::string keep_block_memory_in_process();

}  // namespace vidcolor
