#include "vidcolor/train/pack_writer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <random>
#include <set>

#include "vidcolor/core/error.hpp"
#include "vidcolor/model/safetensors.hpp"
#include "vidcolor/ops/warp.hpp"

namespace fs = std::filesystem;

namespace vidcolor {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

bool is_image_name(const fs::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  static const std::set<std::string> kExt{".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"};
  return kExt.count(e) > 0;
}

// A sequence of frames: files of a folder, or a video.
struct Sequence {
  std::string name;
  std::vector<std::string> files;  // empty for a video
  std::string video;
};

// Where one crop comes from: the frame is resized by `scale`, then [x, x+S) x [y, y+S) taken.
struct Window {
  double scale;
  int x, y;
};

Window random_window(int w, int h, const PackOptions& o, std::mt19937_64& rng) {
  const int s = o.crop;
  const double short_side = std::min(w, h);
  // Window side in source pixels: never below S (no upsampling), never above the short side.
  double lo = std::max<double>(s, o.scale_min * short_side);
  double hi = std::max(lo, o.scale_max * short_side);
  lo = std::min(lo, short_side);
  hi = std::min(hi, short_side);
  if (short_side < s) lo = hi = short_side;  // small image: upscaled so its short side is S
  const double side = std::uniform_real_distribution<double>(lo, std::nextafter(hi, hi + 1))(rng);
  Window win{s / side, 0, 0};
  const int sw = std::max(s, static_cast<int>(std::lround(w * win.scale)));
  const int sh = std::max(s, static_cast<int>(std::lround(h * win.scale)));
  win.x = std::uniform_int_distribution<int>(0, sw - s)(rng);
  win.y = std::uniform_int_distribution<int>(0, sh - s)(rng);
  return win;
}

cv::Mat resize_by(const cv::Mat& img, const Window& win, int crop) {
  const int sw = std::max(crop, static_cast<int>(std::lround(img.cols * win.scale)));
  const int sh = std::max(crop, static_cast<int>(std::lround(img.rows * win.scale)));
  cv::Mat out;
  cv::resize(img, out, cv::Size(sw, sh), 0, 0, win.scale < 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

// BGR 8-bit S x S -> uint8 [3,S,S] R'G'B'.
torch::Tensor rgb_chw(const cv::Mat& bgr) {
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return torch::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, torch::kUInt8)
      .permute({2, 0, 1})
      .contiguous();
}

cv::Mat read_bgr(const std::string& path) {
  cv::Mat m = cv::imread(path, cv::IMREAD_COLOR);
  return m;
}

std::vector<Sequence> collect_sequences(const PackOptions& o) {
  std::vector<Sequence> seqs;
  for (const auto& dir : o.frame_dirs) {
    if (!fs::is_directory(dir)) throw Error(dir + ": no such frame folder");
    auto files = list_image_files(dir);
    if (!files.empty()) seqs.push_back({dir, files, {}});
    std::vector<fs::path> subs;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_directory()) subs.push_back(e.path());
    std::sort(subs.begin(), subs.end());
    for (const auto& s : subs) {
      auto f = list_image_files(s.string());
      if (!f.empty()) seqs.push_back({s.string(), f, {}});
    }
  }
  for (const auto& v : o.videos) {
    if (!fs::is_regular_file(v)) throw Error(v + ": no such video file");
    seqs.push_back({v, {}, v});
  }
  return seqs;
}

// Frames t and t+1 for each requested t (sorted, unique) of a sequence, as BGR.
std::map<int, cv::Mat> load_frames(const Sequence& seq, const std::set<int>& needed) {
  std::map<int, cv::Mat> frames;
  if (seq.video.empty()) {
    for (int t : needed) {
      cv::Mat m = read_bgr(seq.files[static_cast<size_t>(t)]);
      if (m.empty()) throw Error(seq.files[static_cast<size_t>(t)] + ": cannot decode image");
      frames[t] = m;
    }
    return frames;
  }
  cv::VideoCapture cap(seq.video);
  if (!cap.isOpened()) throw Error(seq.video + ": cannot open video");
  const int last = needed.empty() ? -1 : *needed.rbegin();
  cv::Mat m;
  for (int t = 0; t <= last && cap.read(m); ++t)
    if (needed.count(t)) frames[t] = m.clone();
  return frames;
}

int video_frame_count(const std::string& path) {
  cv::VideoCapture cap(path);
  if (!cap.isOpened()) throw Error(path + ": cannot open video");
  int n = static_cast<int>(cap.get(cv::CAP_PROP_FRAME_COUNT));
  if (n <= 0) {  // containers without a frame count: decode to count
    n = 0;
    cv::Mat m;
    while (cap.grab()) ++n;
  }
  return n;
}

// Occlusion mask of s for the flow s->t: forward-backward consistent (warp.hpp) and landing
// inside frame t (a border-clamped warp would otherwise "agree" with anything off-frame).
torch::Tensor valid_mask(const torch::Tensor& f_st, const torch::Tensor& f_ts) {
  const int64_t h = f_st.size(2), w = f_st.size(3);
  torch::Tensor m = occlusion_mask(f_st, f_ts);
  const auto xs = torch::arange(w, torch::kFloat32).view({1, 1, 1, w});
  const auto ys = torch::arange(h, torch::kFloat32).view({1, 1, h, 1});
  const auto tx = xs + f_st.narrow(1, 0, 1), ty = ys + f_st.narrow(1, 1, 1);
  const auto inside = (tx >= 0) & (tx <= w - 1) & (ty >= 0) & (ty <= h - 1);
  return m * inside.to(torch::kFloat32);
}

}  // namespace

std::vector<std::string> list_image_files(const std::string& dir) {
  if (!fs::is_directory(dir)) throw Error(dir + ": no such folder");
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && is_image_name(e.path())) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

PackStats write_training_pack(const PackOptions& o, const std::string& out_path) {
  if (o.crop < 8 || o.crop > 4096) throw Error("vidcolor-pack: crop size " + std::to_string(o.crop) + " outside [8, 4096]");
  if (o.per_image < 0 || o.pairs_per_seq < 0 || o.max_images < 0)
    throw Error("vidcolor-pack: negative counts");
  if (!(o.scale_min > 0 && o.scale_min <= o.scale_max && o.scale_max <= 1.0))
    throw Error("vidcolor-pack: need 0 < scale_min <= scale_max <= 1");
  const int s = o.crop;
  std::mt19937_64 rng(o.seed);
  PackStats st;

  // Inputs are checked before any work, so a typo fails at once, not after an hour of images.
  const std::vector<Sequence> seqs = collect_sequences(o);

  // ---- still images ----
  std::vector<std::string> files;
  for (const auto& d : o.image_dirs) {
    auto f = list_image_files(d);
    files.insert(files.end(), f.begin(), f.end());
  }
  if (o.max_images > 0 && static_cast<int>(files.size()) > o.max_images) {
    std::shuffle(files.begin(), files.end(), rng);
    files.resize(static_cast<size_t>(o.max_images));
    std::sort(files.begin(), files.end());
  }
  std::vector<torch::Tensor> images, knns;
  auto t0 = Clock::now();
  const int64_t total_images = static_cast<int64_t>(files.size()) * o.per_image;
  for (const auto& path : files) {
    const cv::Mat img = read_bgr(path);
    if (img.empty()) {  // a stray broken file should not stop a long packing run
      ++st.skipped_files;
      continue;
    }
    for (int c = 0; c < o.per_image; ++c) {
      const Window win = random_window(img.cols, img.rows, o, rng);
      const cv::Mat crop = resize_by(img, win, s)(cv::Rect(win.x, win.y, s, s)).clone();
      images.push_back(rgb_chw(crop));
      if (o.knn_graphs) {
        cv::Mat rgb;
        cv::cvtColor(crop, rgb, cv::COLOR_BGR2RGB);
        knns.push_back(knn_graph(rgb, o.knn));
      }
      if (o.progress)
        o.progress({"images", static_cast<int64_t>(images.size()), total_images, seconds_since(t0)});
    }
  }
  st.images = static_cast<int64_t>(images.size());
  st.seconds_images = seconds_since(t0);

  // ---- consecutive-frame pairs ----
  std::vector<torch::Tensor> frames, flows, masks;
  OpticalFlow flow_engine(o.flow);
  t0 = Clock::now();
  const int64_t total_pairs = static_cast<int64_t>(seqs.size()) * o.pairs_per_seq;
  for (const auto& seq : seqs) {
    if (o.pairs_per_seq == 0) break;
    const int n = seq.video.empty() ? static_cast<int>(seq.files.size()) : video_frame_count(seq.video);
    if (n < 2) {
      ++st.skipped_files;
      continue;
    }
    std::vector<int> ts;
    std::set<int> needed;
    for (int i = 0; i < o.pairs_per_seq; ++i) {
      const int t = std::uniform_int_distribution<int>(0, n - 2)(rng);
      ts.push_back(t);
      needed.insert(t);
      needed.insert(t + 1);
    }
    const auto loaded = load_frames(seq, needed);
    for (int t : ts) {
      const auto a = loaded.find(t), b = loaded.find(t + 1);
      if (a == loaded.end() || b == loaded.end() || a->second.size() != b->second.size()) {
        ++st.skipped_files;  // a video shorter than its header said, or a size change
        continue;
      }
      const Window win = random_window(a->second.cols, a->second.rows, o, rng);
      const cv::Mat fa = resize_by(a->second, win, s), fb = resize_by(b->second, win, s);
      // Flow on the whole resized frames, then cropped: motion across the crop border is
      // then still found, and its end points can be checked against the frame.
      cv::Mat ga, gb;
      cv::cvtColor(fa, ga, cv::COLOR_BGR2GRAY);  // BT.601 luma, like vcgray
      cv::cvtColor(fb, gb, cv::COLOR_BGR2GRAY);
      const torch::Tensor f_ab = flow_mat_to_tensor(flow_engine.compute(ga, gb));
      const torch::Tensor f_ba = flow_mat_to_tensor(flow_engine.compute(gb, ga));
      const torch::Tensor m_a = valid_mask(f_ab, f_ba), m_b = valid_mask(f_ba, f_ab);
      const auto crop = [&](const torch::Tensor& t) {
        return t.narrow(2, win.y, s).narrow(3, win.x, s).squeeze(0);
      };
      const cv::Rect r(win.x, win.y, s, s);
      frames.push_back(torch::stack({rgb_chw(fa(r).clone()), rgb_chw(fb(r).clone())}, 0));
      flows.push_back(torch::stack({crop(f_ab), crop(f_ba)}, 0).to(torch::kFloat16));
      masks.push_back(torch::stack({crop(m_a), crop(m_b)}, 0).to(torch::kUInt8));
      if (o.progress)
        o.progress({"pairs", static_cast<int64_t>(frames.size()), total_pairs, seconds_since(t0)});
    }
  }
  st.pairs = static_cast<int64_t>(frames.size());
  st.seconds_pairs = seconds_since(t0);
  if (st.images == 0 && st.pairs == 0) throw Error(out_path + ": no samples to pack (no readable images or sequences)");

  // ---- write ----
  t0 = Clock::now();
  std::map<std::string, torch::Tensor> tensors;
  if (st.images > 0) {
    tensors["images"] = torch::stack(images, 0);
    if (o.knn_graphs) tensors["image_knn"] = torch::stack(knns, 0);
  }
  if (st.pairs > 0) {
    tensors["pair_frames"] = torch::stack(frames, 0);
    tensors["pair_flows"] = torch::stack(flows, 0);
    tensors["pair_masks"] = torch::stack(masks, 0);
  }
  nlohmann::json sources{{"images", o.image_dirs}, {"frames", o.frame_dirs}, {"videos", o.videos},
                         {"scale", {o.scale_min, o.scale_max}}, {"per_image", o.per_image},
                         {"pairs_per_seq", o.pairs_per_seq}, {"max_images", o.max_images}};
  std::map<std::string, std::string> meta{
      {"format", "vidcolor-pack"},
      {"version", "1"},
      {"crop", std::to_string(s)},
      {"knn_k", std::to_string(o.knn.k)},
      {"knn_lambda", std::to_string(o.knn.lambda)},
      {"knn_space", "r,g,b in [0,1]; lambda*x, lambda*y in crop pixels"},
      {"knn_graphs", o.knn_graphs ? "in the pack" : "built by the reader at load"},
      {"images", std::to_string(st.images)},
      {"pairs", std::to_string(st.pairs)},
      {"sources", sources.dump()},
      {"seed", std::to_string(o.seed)},
      {"flow", std::string(flow_backend_name(o.flow)) + " on the resized frame; mask = forward-backward check + in frame"},
  };
  write_safetensors(out_path, tensors, meta);
  st.seconds_write = seconds_since(t0);
  return st;
}

}  // namespace vidcolor
