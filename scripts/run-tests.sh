#!/usr/bin/env bash
# Runs the whole test suite of a build (default ./build) and prints meson's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
meson test -C "${1:-build}" --print-errorlogs --num-processes "$(nproc)"
