// Where a frame's picture is (see the header).
#include "vidcolor/infer/picture_area.hpp"

#include <algorithm>
#include <string>

#include "core/shape_string.hpp"
#include "vidcolor/core/error.hpp"

namespace vidcolor {

bool PictureBox::contains(const PictureBox& o) const {
  return o.top >= top && o.left >= left && o.top + o.height <= top + height &&
         o.left + o.width <= left + width;
}

PictureBox PictureBox::united(const PictureBox& o) const {
  const int64_t t = std::min(top, o.top), l = std::min(left, o.left);
  const int64_t b = std::max(top + height, o.top + o.height),
                r = std::max(left + width, o.left + o.width);
  return {t, l, b - t, r - l};
}

namespace {

// Where the picture starts in `border` (a bool vector, CPU, true = a border line): at the first
// run of at least an eighth of the lines (2 at least) that are not border. Shorter runs before
// it are islands in the border (subtitles in a letterbox bar, a tall logo in a pillar) and
// belong to it. The size when there is no such run.
int64_t leading(const torch::Tensor& border) {
  const auto a = border.accessor<bool, 1>();
  const int64_t n = a.size(0), min_run = std::max<int64_t>(2, n / 8);
  int64_t start = 0, run = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (a[i]) {
      run = 0;
      continue;
    }
    if (run++ == 0) start = i;
    if (run >= min_run) return start;
  }
  return n;
}

// [first, last) of the lines that are not border, or the whole range when too little is kept.
std::pair<int64_t, int64_t> span(const torch::Tensor& border) {
  const int64_t n = border.size(0);
  const int64_t first = leading(border);
  if (first == n) return {0, n};
  const int64_t last = n - leading(border.flip(0));
  if (3 * (last - first) < n) return {0, n};
  return {first, last};
}

}  // namespace

PictureBox find_picture_box(const torch::Tensor& luma, double black) {
  if (!luma.defined() || luma.dim() != 4 || luma.size(0) != 1 || luma.size(1) != 1 ||
      luma.size(2) < 1 || luma.size(3) < 1)
    throw Error("find_picture_box: luma must be [1,1,H,W], got " +
                (luma.defined() ? shape_str(luma) : std::string("an undefined tensor")));
  const torch::Tensor bright = (luma[0][0] > black).to(torch::kFloat32);
  // Columns first, then rows within the picture's columns, so that pillars do not count
  // against a row of picture (and the other way round for a letterbox inside pillars).
  const auto [left, right] = span((bright.mean(0) < 0.1).cpu());
  const auto [top, bottom] = span((bright.narrow(1, left, right - left).mean(1) < 0.1).cpu());
  return {top, left, bottom - top, right - left};
}

PictureAreaTracker::PictureAreaTracker(int settle_frames) : settle_frames_(settle_frames) {}

void PictureAreaTracker::reset() {
  frame_h_ = frame_w_ = 0;
  pending_frames_ = 0;
}

PictureBox PictureAreaTracker::update(const torch::Tensor& luma) {
  const PictureBox found = find_picture_box(luma);
  if (luma.size(2) != frame_h_ || luma.size(3) != frame_w_) {  // the first frame, or a new size
    frame_h_ = luma.size(2);
    frame_w_ = luma.size(3);
    box_ = found;
    pending_frames_ = 0;
    return box_;
  }
  if (!box_.contains(found)) {  // picture where the box saw a border: take it in now
    box_ = box_.united(found);
    pending_frames_ = 0;
  } else if (found != box_) {  // a smaller box: only once it has held for settle_frames
    pending_frames_ = found == pending_ ? pending_frames_ + 1 : 1;
    pending_ = found;
    if (pending_frames_ >= settle_frames_) {
      box_ = found;
      pending_frames_ = 0;
    }
  } else {
    pending_frames_ = 0;
  }
  return box_;
}

}  // namespace vidcolor
