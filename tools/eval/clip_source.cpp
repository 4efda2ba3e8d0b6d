// Clip discovery and frame reading for vidcolor-eval.
#include "clip_source.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>

#include "vidcolor/core/error.hpp"

namespace fs = std::filesystem;

namespace vceval {

bool is_image_file(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* e : {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
    if (ext == e) return true;
  return false;
}

namespace {

std::vector<std::string> sorted_images(const fs::path& dir) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && is_image_file(e.path().string())) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

std::string stem_name(const fs::path& p) {
  // "davis2016/bear/" has an empty filename; use the last real component.
  const fs::path clean = p.has_filename() ? p : p.parent_path();
  return clean.filename().string();
}

}  // namespace

std::vector<ClipSpec> find_clips(const std::vector<std::string>& args, bool stills) {
  std::vector<ClipSpec> clips;
  for (const auto& arg : args) {
    const fs::path p(arg);
    std::error_code ec;
    if (!fs::exists(p, ec))
      throw vidcolor::Error("vidcolor-eval: " + arg + ": no such file or folder");
    if (fs::is_regular_file(p, ec)) {
      ClipSpec c;
      c.kind = is_image_file(arg) ? ClipSpec::Kind::Image : ClipSpec::Kind::Video;
      c.name = p.stem().string();
      c.path = arg;
      clips.push_back(c);
      continue;
    }
    auto files = sorted_images(p);
    if (!files.empty() && stills) {
      for (const auto& f : files)
        clips.push_back(
            {ClipSpec::Kind::Image, stem_name(p) + "-" + fs::path(f).stem().string(), f, {}});
      continue;
    }
    if (!files.empty()) {
      clips.push_back({ClipSpec::Kind::Frames, stem_name(p), arg, std::move(files)});
      continue;
    }
    std::vector<fs::path> subdirs;
    for (const auto& e : fs::directory_iterator(p))
      if (e.is_directory()) subdirs.push_back(e.path());
    std::sort(subdirs.begin(), subdirs.end());
    size_t found = 0;
    for (const auto& d : subdirs) {
      auto sub = sorted_images(d);
      if (sub.empty()) continue;
      clips.push_back({ClipSpec::Kind::Frames, d.filename().string(), d.string(), std::move(sub)});
      ++found;
    }
    if (found == 0)
      throw vidcolor::Error("vidcolor-eval: " + arg +
                            ": no images, and no folders of images, in it");
  }
  return clips;
}

cv::Size resized_size(int w, int h, int short_side) {
  if (short_side <= 0 || std::min(w, h) == short_side) return {w, h};
  const double s = static_cast<double>(short_side) / std::min(w, h);
  const int nw = w <= h ? short_side : std::max(1, static_cast<int>(std::lround(w * s)));
  const int nh = h < w ? short_side : std::max(1, static_cast<int>(std::lround(h * s)));
  return {nw, nh};
}

ClipReader::ClipReader(const ClipSpec& clip, int max_frames, int short_side)
    : clip_(clip), max_frames_(max_frames), short_side_(short_side) {
  switch (clip.kind) {
    case ClipSpec::Kind::Frames:
      expected_ = static_cast<int>(clip.files.size());
      break;
    case ClipSpec::Kind::Image:
      expected_ = 1;
      break;
    case ClipSpec::Kind::Video:
      if (!cap_.open(clip.path))
        throw vidcolor::Error("vidcolor-eval: " + clip.path + ": cannot open as a video");
      expected_ = std::max(0, static_cast<int>(cap_.get(cv::CAP_PROP_FRAME_COUNT)));
      break;
  }
  if (max_frames_ > 0 && (expected_ == 0 || expected_ > max_frames_)) expected_ = max_frames_;
}

bool ClipReader::next(cv::Mat& bgr) {
  if (max_frames_ > 0 && index_ >= max_frames_) return false;
  cv::Mat raw;
  std::string what = clip_.path;
  switch (clip_.kind) {
    case ClipSpec::Kind::Frames:
      if (index_ >= static_cast<int>(clip_.files.size())) return false;
      what = clip_.files[static_cast<size_t>(index_)];
      raw = cv::imread(what, cv::IMREAD_COLOR);
      break;
    case ClipSpec::Kind::Image:
      if (index_ > 0) return false;
      raw = cv::imread(what, cv::IMREAD_COLOR);
      break;
    case ClipSpec::Kind::Video:
      if (!cap_.read(raw)) return false;
      what += " frame " + std::to_string(index_);
      break;
  }
  if (raw.empty() || raw.type() != CV_8UC3)
    throw vidcolor::Error("vidcolor-eval: " + what + ": cannot read as an 8-bit color image");
  const cv::Size size = resized_size(raw.cols, raw.rows, short_side_);
  if (size == raw.size()) {
    bgr = raw;
  } else {
    const bool shrink = size.area() < raw.size().area();
    cv::resize(raw, bgr, size, 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
  }
  ++index_;
  return true;
}

}  // namespace vceval
