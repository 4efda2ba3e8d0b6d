// Where vidcolor-eval's color ground truth comes from: frame folders (sorted file names are
// consecutive frames), video files (cv::VideoCapture) and single images, read as 8-bit BGR
// frames, optionally resized so the short side is a given length.
#pragma once

#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>

#include <string>
#include <vector>

namespace vceval {

struct ClipSpec {
  enum class Kind { Frames, Video, Image };
  Kind kind = Kind::Frames;
  std::string name;                // for reports and strip file names
  std::string path;                // the folder, video or image
  std::vector<std::string> files;  // Frames: the sorted frame files
};

// Expands the command line's --clips arguments: an image file is a one-frame clip, any
// other file a video; a folder holding images is a frame-folder clip (or, with `stills`, one
// one-frame clip per image: for photo collections, whose images are not a sequence); a
// folder holding only folders (e.g. davis2016/) is one clip per sub-folder that holds
// images, in name order. Throws vidcolor::Error for a path that does not exist or yields no clip.
std::vector<ClipSpec> find_clips(const std::vector<std::string>& args, bool stills = false);

// True for the file extensions read as still images (.jpg .jpeg .png .bmp .tif .tiff .webp).
bool is_image_file(const std::string& path);

// Reads one clip frame by frame.
class ClipReader {
 public:
  // max_frames <= 0: all; short_side <= 0: keep the size, otherwise resize (cv::INTER_AREA
  // when shrinking, INTER_LINEAR when growing) so the short side is short_side pixels.
  ClipReader(const ClipSpec& clip, int max_frames, int short_side);
  // Next frame as 8-bit BGR; false at the end. Throws vidcolor::Error on an unreadable frame.
  bool next(cv::Mat& bgr);
  // Frames this clip will yield (for a video, as the container reports it; may be 0 if unknown).
  int expected_frames() const { return expected_; }

 private:
  const ClipSpec& clip_;
  int max_frames_, short_side_;
  int index_ = 0, expected_ = 0;
  cv::VideoCapture cap_;
};

// The size a frame of w x h gets with short side `short_side` (aspect kept, rounded).
cv::Size resized_size(int w, int h, int short_side);

}  // namespace vceval
