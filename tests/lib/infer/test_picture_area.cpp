// find_picture_box and PictureAreaTracker: black letterbox / pillarbox borders on hand-made
// frames (with film grain, a logo over a bar, a black frame, a dark scene), and the tracker's
// steadying over a stream.
#include <gtest/gtest.h>

#include "lib/expect_error.hpp"
#include "vidcolor/infer/picture_area.hpp"

using namespace vidcolor;
using vctest::expect_error;

namespace {

// A frame h x w of picture (random luma in [0.3, 1]) inside black borders of the given widths;
// the borders carry grain up to `grain` (8-bit film black is not 0).
torch::Tensor framed(int64_t h, int64_t w, int64_t top, int64_t bottom, int64_t left, int64_t right,
                     double grain = 0.04) {
  torch::manual_seed(3);
  torch::Tensor y = torch::rand({1, 1, h, w}) * grain;
  y.narrow(2, top, h - top - bottom)
      .narrow(3, left, w - left - right)
      .copy_(torch::rand({1, 1, h - top - bottom, w - left - right}) * 0.7 + 0.3);
  return y;
}

}  // namespace

TEST(PictureArea, FindsPillarsLetterboxAndBoth) {
  EXPECT_EQ(find_picture_box(framed(120, 160, 0, 0, 20, 20)), (PictureBox{0, 20, 120, 120}));
  EXPECT_EQ(find_picture_box(framed(120, 160, 15, 15, 0, 0)), (PictureBox{15, 0, 90, 160}));
  EXPECT_EQ(find_picture_box(framed(120, 160, 10, 6, 20, 8)), (PictureBox{10, 20, 104, 132}));
  // No border: the whole frame.
  EXPECT_EQ(find_picture_box(framed(120, 160, 0, 0, 0, 0)), (PictureBox{0, 0, 120, 160}));
}

TEST(PictureArea, ALogoOverABarDoesNotStopIt) {
  // A bright logo 8 rows tall (under a tenth of the height) over the left bar, as channel logos
  // sit over a film's pillarbox.
  torch::Tensor y = framed(120, 160, 0, 0, 24, 24);
  y.narrow(2, 100, 8).narrow(3, 4, 30).fill_(0.9);
  EXPECT_EQ(find_picture_box(y), (PictureBox{0, 24, 120, 112}));
}

TEST(PictureArea, SubtitlesInALetterboxBarBelongToTheBar) {
  // A bottom bar of 30 rows with a line of white text 8 rows tall in it (under an eighth of the
  // height), 6 black rows below the picture: the text is an island of the border.
  torch::Tensor y = framed(120, 160, 12, 30, 0, 0);
  y.narrow(2, 96, 8).narrow(3, 40, 80).fill_(0.95);
  EXPECT_EQ(find_picture_box(y), (PictureBox{12, 0, 78, 160}));
  // A run as long as an eighth of the side is picture: the box reaches down to it.
  y.narrow(2, 96, 15).narrow(3, 40, 80).fill_(0.95);
  EXPECT_EQ(find_picture_box(y), (PictureBox{12, 0, 99, 160}));
}

TEST(PictureArea, BlackFramesAndSmallPicturesKeepTheWholeFrame) {
  const PictureBox whole{0, 0, 120, 160};
  EXPECT_EQ(find_picture_box(torch::zeros({1, 1, 120, 160})), whole);  // a black frame, a fade
  // A picture narrower than a third of the frame: a dark scene with one lit spot, not a border.
  EXPECT_EQ(find_picture_box(framed(120, 160, 0, 0, 60, 60)), whole);
  EXPECT_EQ(find_picture_box(framed(120, 160, 45, 45, 0, 0)), whole);
  // Border black is at most 0.1: a dark gray margin (0.2) is picture.
  torch::Tensor y = framed(120, 160, 0, 0, 20, 20);
  y.narrow(3, 0, 20).fill_(0.2);
  EXPECT_EQ(find_picture_box(y), (PictureBox{0, 0, 120, 140}));
}

TEST(PictureArea, RefusesBadLuma) {
  expect_error([] { find_picture_box(torch::rand({1, 40, 40})); }, "[1,1,H,W]");
  expect_error([] { find_picture_box(torch::rand({1, 1, 0, 40})); }, "[1,1,H,W]");
  expect_error([] { find_picture_box(torch::Tensor()); }, "undefined");
}

TEST(PictureArea, TrackerGrowsAtOnceAndShrinksOnlyWhenSettled) {
  PictureAreaTracker t(3);
  const torch::Tensor pillars = framed(120, 160, 0, 0, 20, 20),
                      whole = framed(120, 160, 0, 0, 0, 0);
  const PictureBox in_pillars{0, 20, 120, 120}, all{0, 0, 120, 160};
  EXPECT_EQ(t.update(pillars), in_pillars);  // the first frame: its own box
  EXPECT_EQ(t.update(whole), all);           // picture where the bars were: at once
  // Bars again: the box holds for two frames, and shrinks on the third in a row.
  EXPECT_EQ(t.update(pillars), all);
  EXPECT_EQ(t.update(pillars), all);
  EXPECT_EQ(t.update(pillars), in_pillars);
  // An interrupted run of smaller boxes starts its count again.
  EXPECT_EQ(t.update(whole), all);
  EXPECT_EQ(t.update(pillars), all);
  EXPECT_EQ(t.update(pillars), all);
  EXPECT_EQ(t.update(whole), all);
  EXPECT_EQ(t.update(pillars), all);
  // A new frame size, and reset(), start over with the frame's own box.
  EXPECT_EQ(t.update(framed(60, 80, 0, 0, 10, 10)), (PictureBox{0, 10, 60, 60}));
  t.reset();
  EXPECT_EQ(t.update(pillars), in_pillars);
}
