#!/usr/bin/env bash
# Configures (once) and builds vidcolor into ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -d build ] && [ -f build/build.ninja ]; then
  meson setup --reconfigure build >/dev/null
else
  meson setup build
fi
ninja -C build
