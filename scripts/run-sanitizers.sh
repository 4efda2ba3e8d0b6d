#!/usr/bin/env bash
# Memory checks of the unit and element tests (issue 8). Not part of CI (a sanitizer build is a
# full second build of the LibTorch-heavy code: 20-40 min on 2 cores).
#
#   scripts/run-sanitizers.sh [--asan] [TEST...]
#       ASan + UBSan build in build-asan (set up if missing: debugoptimized,
#       -Db_sanitize=address,undefined -Db_lundef=false), builds the library, the plugin and the
#       lib/gst test binaries only (no tools), runs the "lib" and "gst" suites (or the named
#       meson tests) with LeakSanitizer on and tests/sanitizers/{lsan,ubsan}.supp.
#   scripts/run-sanitizers.sh --valgrind [TEST...]
#       valgrind memcheck (--leak-check=full --errors-for-leak-kinds=definite, any error fails)
#       of the element tests of a normal build (VIDCOLOR_BUILD, default ./build) with
#       tests/sanitizers/valgrind.supp; LibTorch under valgrind is ~50x slower, so each binary
#       runs a GTest filter (below) that still goes through every pad/event/buffer path.
#
# Environment: VIDCOLOR_ASAN_BUILD (default build-asan), VIDCOLOR_BUILD (default build),
# JOBS (ninja -j, default 2), NICE (default 19).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
supp="$root/tests/sanitizers"
mode=asan
if [[ ${1:-} == --asan ]]; then shift; fi
if [[ ${1:-} == --valgrind ]]; then mode=valgrind; shift; fi
jobs=${JOBS:-2}
nice_n=${NICE:-19}

export G_DEBUG=fatal-criticals,gc-friendly
export G_SLICE=always-malloc

if [[ $mode == asan ]]; then
  build=${VIDCOLOR_ASAN_BUILD:-build-asan}
  if [[ ! -f $build/build.ninja ]]; then
    nice -n "$nice_n" meson setup "$build" -Dbuildtype=debugoptimized \
      -Db_sanitize=address,undefined -Db_lundef=false
  fi
  # Library, plugin and the lib/gst test binaries; the tools (and their tests) are skipped.
  mapfile -t targets < <(ninja -C "$build" -t targets all |
    sed -n 's/^\(lib\/libvidcolor[a-z-]*\.so[.0-9]*\|gst\/libgstvidcolor\.so\|tests\/test-[A-Za-z0-9_-]*\): cpp_LINKER.*/\1/p' |
    grep -v -e '^tests/test-vidcolor-' -e '^tests/test-eval-parts$')
  nice -n "$nice_n" ninja -C "$build" -j "$jobs" "${targets[@]}"
  # GStreamer: scan plugins in-process. The fork+exec'd gst-plugin-scanner is not built with
  # ASan and cannot load a plugin that links the ASan runtime.
  export GST_REGISTRY_FORK=no
  # LibTorch and GLib allocate through malloc from uninstrumented code; mismatches there are
  # not ours (new[]/free pairs inside c10's allocator are consistent within the library).
  # fast_unwind_on_malloc=0: GLib and LibTorch are built without frame pointers, so the fast
  # unwinder stops after one or two frames (g_malloc) and no suppression could tell GLib's
  # process-lifetime blocks from a leak of ours; the DWARF unwinder gives the whole stack.
  export ASAN_OPTIONS="fast_unwind_on_malloc=0:detect_leaks=1:halt_on_error=1:abort_on_error=1:detect_odr_violation=0:alloc_dealloc_mismatch=0:print_summary=1"
  export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=1:report_objects=0"
  export UBSAN_OPTIONS="suppressions=$supp/ubsan.supp:print_stacktrace=1:halt_on_error=1:print_summary=1"
  if [[ $# -gt 0 ]]; then
    nice -n "$nice_n" meson test -C "$build" --no-rebuild --print-errorlogs --num-processes 1 \
      --timeout-multiplier 4 "$@"
  else
    nice -n "$nice_n" meson test -C "$build" --no-rebuild --print-errorlogs --num-processes 1 \
      --timeout-multiplier 4 --suite lib --suite gst
  fi
  exit
fi

# ------------------------------------------------------------------ valgrind
build=${VIDCOLOR_BUILD:-build}
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
declare -A filter=(
  [gst-vcgray]='*'
  [gst-vcflow]='VcFlow.MetaFromTheSecondFrameWithItsResolution:VcFlow.NoMeta*:VcFlow.NeverWrites*:VcFlowMeta.*:VcFlowPipeline.FramesInEqualFramesOut'
  [gst-vccolorize]='VcColorize.KeepsTimestampsFlagsAndVideoMetas:VcColorize.ResolutionChangeMidStream:VcColorize.MissingOrCorruptModel*:VcColorize.RefusesCapsItCannotTake:VcColorize.ClassDecodingProperties:VcColorize.SkipBordersKeepsBlackBarsNeutral'
  [gst-vcrefine]='VcRefine.HoldsWindowTimesIterationsFramesAndDrainsAllAtEos:VcRefine.FlushDropsTheHeldFrames:VcRefine.CapsChange*:VcRefine.Discont*:VcRefine.WithoutFlowMeta*:VcRefine.BadModel*'
)
tests=("$@")
[[ ${#tests[@]} -gt 0 ]] || tests=(gst-vcgray gst-vcflow gst-vccolorize gst-vcrefine)
for t in "${tests[@]}"; do
  nice -n "$nice_n" ninja -C "$build" -j "$jobs" "tests/test-$t" gst/libgstvidcolor.so
done
status=0
for t in "${tests[@]}"; do
  echo "=== valgrind: $t (GTEST_FILTER=${filter[$t]:-*})"
  start=$(date +%s)
  if ! GTEST_FILTER="${filter[$t]:-*}" nice -n "$nice_n" meson test -C "$build" --no-rebuild \
      --print-errorlogs --timeout-multiplier 10 "$t" \
      --wrapper "valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
                 --show-leak-kinds=definite --num-callers=40 --suppressions=$supp/valgrind.supp \
                 --gen-suppressions=all"; then
    status=1
  fi
  echo "=== $t: $(( $(date +%s) - start )) s"
done
exit $status
