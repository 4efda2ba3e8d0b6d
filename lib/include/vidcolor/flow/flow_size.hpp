// The one flow-size rule: the size an optical flow is computed at for a frame and a scale.
// vcflow and VideoColorizer both use it (header only and free of OpenCV, so the LibTorch-only
// engines benchmark can size its flows by it too).
#pragma once

#include <algorithm>
#include <cmath>

namespace vidcolor {

// Flow fields smaller than this per side are too coarse for DIS patches (and DIS fails on a
// few pixels): the scaled side is raised to it, upscaling frames smaller than that. The flow's
// consumers resample it to their own size (resize_flow), so any flow size is fine for them.
inline constexpr int kMinFlowSide = 32;

struct FlowSize {
  int width = 0;
  int height = 0;
};

// Each side of the frame times `scale`, rounded, and at least kMinFlowSide.
inline FlowSize flow_size(int width, int height, double scale) {
  auto side = [scale](int full) {
    return std::max(static_cast<int>(std::lround(full * scale)), kMinFlowSide);
  };
  return {side(width), side(height)};
}

}  // namespace vidcolor
