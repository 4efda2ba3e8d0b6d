// Where a frame's picture is, inside black letterbox / pillarbox borders.
//
// Why: old films reach us as 4:3 pictures pillarboxed in 16:9 frames, wide films letterboxed.
// f learned from photos without borders, and it colours a picture differently with black bars
// beside it: on the film v05 the bars alone turn the suit's lapels red (models/MODEL_CARD.md,
// "Borders"). So f runs on the picture only, and the borders stay black. LibTorch only.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace vidcolor {

// Rows [top, top + height) and columns [left, left + width) of a frame.
struct PictureBox {
  int64_t top = 0, left = 0, height = 0, width = 0;
  bool operator==(const PictureBox& o) const {
    return top == o.top && left == o.left && height == o.height && width == o.width;
  }
  bool operator!=(const PictureBox& o) const { return !(*this == o); }
  bool contains(const PictureBox& o) const;
  PictureBox united(const PictureBox& o) const;  // the smallest box holding both
};

// Luma at most this (8-bit 25) is border black: film black with its grain and video black
// (16 of limited range) both fall under it.
inline constexpr double kBorderBlack = 0.1;

// The box inside the black borders of luma [1,1,H,W] in [0,1] (any device): a row (column) is
// border black while fewer than a tenth of its pixels are brighter than `black`, so a channel
// logo over a border does not stop it; the picture starts at the first run of at least an
// eighth of the rows (columns) that are not border black, so shorter islands in a border
// (subtitles in a letterbox bar) belong to the border and stay neutral. The whole frame when
// there is no border, or when the box would keep less than a third of the height or width (a
// black frame, a fade, a dark scene). Throws vidcolor::Error for a luma that is not [1,1,H,W].
PictureBox find_picture_box(const torch::Tensor& luma, double black = kBorderBlack);

// Steadies the box over a stream, so that f's view of the picture does not jump: the box grows
// at once to hold a newly found box that reaches beyond it (picture where a border was must be
// colorized), and shrinks only once the same smaller box has been found on `settle_frames`
// frames in a row (the dark edges of a night scene come and go; borders stay).
class PictureAreaTracker {
 public:
  explicit PictureAreaTracker(int settle_frames = 12);
  // The box for this frame (the first frame after construction or reset(): its own box).
  // A frame of another size starts over.
  PictureBox update(const torch::Tensor& luma);
  void reset();

 private:
  int settle_frames_;
  int64_t frame_h_ = 0, frame_w_ = 0;  // the size box_ is for; 0 = none yet
  PictureBox box_, pending_;
  int pending_frames_ = 0;
};

}  // namespace vidcolor
