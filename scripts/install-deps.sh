#!/usr/bin/env bash
# Installs vidcolor's build and run dependencies from Debian bookworm (run as root).
set -euo pipefail
packages=(
  g++ meson ninja-build pkg-config
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-tools
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-libav
  # pipelines/playout.sh and its test (timecodestamper, cccombiner, h264parse, mpegtsmux,
  # tsdemux), SRT in playout.sh and live.sh (srtsink, srtsrc).
  gstreamer1.0-plugins-bad
  libtorch-dev libopencv-dev nlohmann-json3-dev libgtest-dev libgmock-dev
  libgloo-dev libpng-dev libjpeg62-turbo-dev
  # OpenBLAS in place of the reference BLAS (libblas3) that Debian's LibTorch links by default:
  # its GEMMs (1x1 convolutions, linear layers) run ~20x faster; the OpenMP build shares
  # LibTorch's OpenMP runtime and per-thread thread counts (docs/BENCHMARKS.md).
  libopenblas0-openmp
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "vidcolor: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
