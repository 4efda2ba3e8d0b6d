/* Where the networks' per-frame memory goes. vccolorize and vcrefine allocate and free tensors
 * of 1-16 MB on every frame. With glibc's defaults such blocks are handed back to the kernel on
 * free (mmap / heap trimming) and page-faulted in again on the next frame: measured with a
 * 25 fps live source at 854x480 on 2 cores, 90 of 248 frames reached the sink more than 20 ms
 * late that way, 0-8 with the blocks kept (docs/BENCHMARKS.md). */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* Once per process, when the first network element starts: raises glibc's mmap threshold to
 * 32 MiB (its ceiling) and the trim threshold to 256 MiB, so freed frame-sized blocks stay in
 * the process for the next frame (what pipelines/ set with MALLOC_MMAP_THRESHOLD_ and
 * MALLOC_TRIM_THRESHOLD_). Left alone when the process set either of those variables or
 * VIDCOLOR_SYSTEM_MALLOC, and on C libraries other than glibc. Logs what it did on `object`. */
void vc_keep_frame_memory(GstObject* object);

G_END_DECLS
