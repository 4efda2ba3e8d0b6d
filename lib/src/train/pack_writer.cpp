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
#include "vidcolor/train/jpeg_codec.hpp"
#include "vidcolor/train/pack_codec.hpp"

namespace fs = std::filesystem;

namespace vidcolor {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string lower_extension(const fs::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return e;
}

bool is_image_name(const fs::path& p) {
  static const std::set<std::string> kExt{".jpg",  ".jpeg", ".png", ".bmp",
                                          ".webp", ".tif",  ".tiff"};
  return kExt.count(lower_extension(p)) > 0;
}

bool is_video_name(const fs::path& p) {
  static const std::set<std::string> kExt{".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v"};
  return kExt.count(lower_extension(p)) > 0;
}

// Path components of p, normalised ("a/./b/" -> {a, b}).
std::vector<std::string> components(const std::string& p) {
  std::vector<std::string> out;
  for (const auto& c : fs::path(p).lexically_normal())
    if (!c.empty() && c != "." && c != "/") out.push_back(c.string());
  return out;
}

// The PackOptions::exclude entry that `path` ends with (whole components), or "".
std::string excluded_by(const std::string& path, const std::vector<std::string>& exclude) {
  const auto pc = components(path);
  for (const auto& e : exclude) {
    const auto ec = components(e);
    if (ec.empty() || ec.size() > pc.size()) continue;
    if (std::equal(ec.rbegin(), ec.rend(), pc.rbegin())) return e;
  }
  return {};
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

std::vector<Sequence> collect_sequences(const PackOptions& o, std::vector<std::string>& excluded) {
  std::vector<Sequence> seqs;
  const auto keep = [&](const std::string& p) {
    if (excluded_by(p, o.exclude).empty()) return true;
    excluded.push_back(p);
    return false;
  };
  for (const auto& dir : o.frame_dirs) {
    if (!fs::is_directory(dir)) throw Error(dir + ": no such frame folder");
    if (!keep(dir)) continue;
    auto files = list_image_files(dir);
    if (!files.empty()) seqs.push_back({dir, files, {}});
    std::vector<fs::path> subs;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_directory()) subs.push_back(e.path());
    std::sort(subs.begin(), subs.end());
    for (const auto& s : subs) {
      if (!keep(s.string())) continue;
      auto f = list_image_files(s.string());
      if (!f.empty()) seqs.push_back({s.string(), f, {}});
    }
  }
  for (const auto& v : o.videos) {
    if (fs::is_directory(v)) {  // a folder of videos: each file with a video extension
      if (!keep(v)) continue;
      std::vector<std::string> files;
      for (const auto& e : fs::directory_iterator(v))
        if (e.is_regular_file() && is_video_name(e.path())) files.push_back(e.path().string());
      std::sort(files.begin(), files.end());
      for (const auto& f : files)
        if (keep(f)) seqs.push_back({f, {}, f});
      continue;
    }
    if (!fs::is_regular_file(v)) throw Error(v + ": no such video file");
    if (keep(v)) seqs.push_back({v, {}, v});
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
  if (o.crop < 8 || o.crop > 4096)
    throw Error("vidcolor-pack: crop size " + std::to_string(o.crop) + " outside [8, 4096]");
  if (o.per_image < 0 || o.pairs_per_seq < 0 || o.max_images < 0)
    throw Error("vidcolor-pack: negative counts");
  if (!(o.scale_min > 0 && o.scale_min <= o.scale_max && o.scale_max <= 1.0))
    throw Error("vidcolor-pack: need 0 < scale_min <= scale_max <= 1");
  if (o.format_version != 1 && o.format_version != 2)
    throw Error("vidcolor-pack: format version " + std::to_string(o.format_version) + " (1 or 2)");
  const bool compact = o.format_version == 2;
  if (compact && (o.jpeg_quality < 1 || o.jpeg_quality > 100))
    throw Error("vidcolor-pack: JPEG quality " + std::to_string(o.jpeg_quality) +
                " outside [1, 100]");
  if (compact && (o.flow_factor < 1 || o.crop % o.flow_factor != 0))
    throw Error("vidcolor-pack: flow factor " + std::to_string(o.flow_factor) +
                " does not divide the crop " + std::to_string(o.crop));
  if (compact && !jpeg_supported())
    throw Error(
        "vidcolor-pack: this build has no libjpeg, so it cannot write a compact (version 2) pack");
  const bool knn_graphs = o.knn_graphs && !compact;
  const int s = o.crop;
  std::mt19937_64 rng(o.seed);
  PackStats st;

  // Inputs are checked before any work, so a typo fails at once, not after an hour of images.
  std::vector<std::string> excluded;
  const std::vector<Sequence> seqs = collect_sequences(o, excluded);

  // ---- still images ----
  std::vector<std::string> files;
  for (const auto& d : o.image_dirs) {
    if (!excluded_by(d, o.exclude).empty()) {
      if (!fs::is_directory(d)) throw Error(d + ": no such folder");
      excluded.push_back(d);
      continue;
    }
    for (auto& f : list_image_files(d)) {
      if (excluded_by(f, o.exclude).empty())
        files.push_back(std::move(f));
      else
        excluded.push_back(f);
    }
  }
  st.excluded = static_cast<int64_t>(excluded.size());
  if (o.max_images > 0 && static_cast<int>(files.size()) > o.max_images) {
    std::shuffle(files.begin(), files.end(), rng);
    files.resize(static_cast<size_t>(o.max_images));
    std::sort(files.begin(), files.end());
  }
  std::vector<torch::Tensor> images, knns;
  std::vector<std::vector<uint8_t>> image_jpegs;  // version 2
  // R'G'B' HWC bytes of a BGR crop, as JPEG of the pack's quality.
  const auto jpeg_of = [&](const cv::Mat& bgr) {
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    if (!rgb.isContinuous()) rgb = rgb.clone();
    return encode_jpeg_rgb(rgb.data, rgb.cols, rgb.rows, o.jpeg_quality);
  };
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
      if (compact)
        image_jpegs.push_back(jpeg_of(crop));
      else
        images.push_back(rgb_chw(crop));
      if (knn_graphs) {
        cv::Mat rgb;
        cv::cvtColor(crop, rgb, cv::COLOR_BGR2RGB);
        knns.push_back(knn_graph(rgb, o.knn));
      }
      if (o.progress)
        o.progress({"images", static_cast<int64_t>(images.size() + image_jpegs.size()),
                    total_images, seconds_since(t0)});
    }
  }
  st.images = static_cast<int64_t>(images.size() + image_jpegs.size());
  st.seconds_images = seconds_since(t0);

  // ---- consecutive-frame pairs ----
  std::vector<torch::Tensor> frames, flows, masks;
  std::vector<std::vector<uint8_t>> pair_jpegs;  // version 2: 2 per pair
  // Version 2: the stored flows against the full ones (PackFlowError), summed.
  double sum_epe = 0, sum_change = 0, sum_err = 0;
  int64_t n_over = 0, n_valid = 0;
  double epe_max = 0;
  OpticalFlow flow_engine(o.flow);
  t0 = Clock::now();
  const int64_t total_pairs = static_cast<int64_t>(seqs.size()) * o.pairs_per_seq;
  for (const auto& seq : seqs) {
    if (o.pairs_per_seq == 0) break;
    const int n =
        seq.video.empty() ? static_cast<int>(seq.files.size()) : video_frame_count(seq.video);
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
      const torch::Tensor pair_flow = torch::stack({crop(f_ab), crop(f_ba)}, 0);  // [2,2,S,S]
      const torch::Tensor pair_mask = torch::stack({crop(m_a), crop(m_b)}, 0);    // [2,1,S,S]
      if (compact) {
        const cv::Mat ca = fa(r).clone(), cb = fb(r).clone();
        pair_jpegs.push_back(jpeg_of(ca));
        pair_jpegs.push_back(jpeg_of(cb));
        const torch::Tensor q = encode_pack_flow(pair_flow, o.flow_factor);
        flows.push_back(q);
        masks.push_back(pack_bits(pair_mask.reshape({2, s * s})));
        // What the reader will hold instead of the full flow, and what that changes.
        const torch::Tensor approx = decode_pack_flow(q, o.flow_factor);
        const torch::Tensor valid = pair_mask.squeeze(1) > 0.5;  // [2,S,S]
        const torch::Tensor epe = (approx - pair_flow).square().sum(1).sqrt();
        const torch::Tensor ev = epe.masked_select(valid);
        n_valid += ev.numel();
        if (ev.numel() > 0) {
          sum_epe += ev.sum().item<double>();
          n_over += (ev > 1.0).sum().item<int64_t>();
          epe_max = std::max(epe_max, ev.max().item<double>());
        }
        // Frame t+1 warped to t by F_{t->t+1}, frame t warped to t+1 by F_{t+1->t}.
        const torch::Tensor ta = rgb_chw(ca).unsqueeze(0).to(torch::kFloat32);
        const torch::Tensor tb = rgb_chw(cb).unsqueeze(0).to(torch::kFloat32);
        const torch::Tensor src = torch::cat({tb, ta}), dst = torch::cat({ta, tb});
        const torch::Tensor wf = warp(src, pair_flow), wa = warp(src, approx);
        const torch::Tensor vm = valid.unsqueeze(1).expand({2, 3, s, s});
        sum_change += (wa - wf).abs().masked_select(vm).sum().item<double>() / 3.0;
        sum_err += (wf - dst).abs().masked_select(vm).sum().item<double>() / 3.0;
      } else {
        frames.push_back(torch::stack({rgb_chw(fa(r).clone()), rgb_chw(fb(r).clone())}, 0));
        flows.push_back(pair_flow.to(torch::kFloat16));
        masks.push_back(pair_mask.to(torch::kUInt8));
      }
      if (o.progress)
        o.progress({"pairs", static_cast<int64_t>(frames.size() + pair_jpegs.size() / 2),
                    total_pairs, seconds_since(t0)});
    }
  }
  st.pairs = static_cast<int64_t>(frames.size() + pair_jpegs.size() / 2);
  st.seconds_pairs = seconds_since(t0);
  if (compact && n_valid > 0) {
    PackFlowError& fe = st.flow_error;
    fe.valid_pixels = n_valid;
    fe.epe_mean = sum_epe / n_valid;
    fe.epe_over_1px = static_cast<double>(n_over) / n_valid;
    fe.epe_max = epe_max;
    fe.warp_change = sum_change / n_valid;
    fe.warp_error_full = sum_err / n_valid;
  }
  if (st.images == 0 && st.pairs == 0)
    throw Error(out_path + ": no samples to pack (no readable images or sequences)");

  // ---- write ----
  t0 = Clock::now();
  std::map<std::string, torch::Tensor> tensors;
  if (st.images > 0 && compact) {
    auto [blob, offsets] = concat_blobs(image_jpegs);
    tensors["image_jpeg"] = blob;
    tensors["image_jpeg_offsets"] = offsets;
  } else if (st.images > 0) {
    tensors["images"] = torch::stack(images, 0);
    if (knn_graphs) tensors["image_knn"] = torch::stack(knns, 0);
  }
  if (st.pairs > 0 && compact) {
    auto [blob, offsets] = concat_blobs(pair_jpegs);
    tensors["pair_jpeg"] = blob;
    tensors["pair_jpeg_offsets"] = offsets;
    tensors["pair_flows_q"] = torch::stack(flows, 0);
    tensors["pair_masks_bits"] = torch::stack(masks, 0);
  } else if (st.pairs > 0) {
    tensors["pair_frames"] = torch::stack(frames, 0);
    tensors["pair_flows"] = torch::stack(flows, 0);
    tensors["pair_masks"] = torch::stack(masks, 0);
  }
  // Excluded inputs are listed by the split entry's own words where short, so the metadata
  // stays small when a whole folder of images is left out.
  nlohmann::json sources{{"images", o.image_dirs},    {"frames", o.frame_dirs},
                         {"videos", o.videos},        {"scale", {o.scale_min, o.scale_max}},
                         {"per_image", o.per_image},  {"pairs_per_seq", o.pairs_per_seq},
                         {"max_images", o.max_images}};
  if (!o.exclude.empty()) {
    sources["exclude"] = o.exclude;
    sources["excluded"] = excluded.size() <= 200
                              ? nlohmann::json(excluded)
                              : nlohmann::json(std::to_string(excluded.size()) + " inputs");
  }
  std::map<std::string, std::string> meta{
      {"format", "vidcolor-pack"},
      {"version", compact ? "2" : "1"},
      {"crop", std::to_string(s)},
      {"knn_k", std::to_string(o.knn.k)},
      {"knn_lambda", std::to_string(o.knn.lambda)},
      {"knn_space", "r,g,b in [0,1]; lambda*x, lambda*y in crop pixels"},
      {"knn_graphs", knn_graphs ? "in the pack"
                     : compact  ? "not in the pack: built by the reader per batch (TrainingPack)"
                                : "built by the reader at load"},
      {"images", std::to_string(st.images)},
      {"pairs", std::to_string(st.pairs)},
      {"sources", sources.dump()},
      {"seed", std::to_string(o.seed)},
      {"flow", std::string(flow_backend_name(o.flow)) +
                   " on the resized frame; mask = forward-backward check + in frame"},
  };
  if (compact) {
    meta["jpeg_quality"] = std::to_string(o.jpeg_quality);
    meta["jpeg"] = "libjpeg(-turbo), baseline, 4:2:0, optimized Huffman tables";
    meta["flow_factor"] = std::to_string(o.flow_factor);
    meta["flow_scale"] = std::to_string(static_cast<int>(kPackFlowScale));
    meta["flow_storage"] =
        "int16 round(32 * flow in crop pixels) of the area mean over flow_factor^2 blocks; "
        "read back bilinearly (half-pixel centres)";
    if (st.flow_error.valid_pixels > 0) {
      const PackFlowError& fe = st.flow_error;
      meta["flow_error"] = nlohmann::json{{"valid_pixels", fe.valid_pixels},
                                          {"epe_mean_px", fe.epe_mean},
                                          {"epe_over_1px", fe.epe_over_1px},
                                          {"epe_max_px", fe.epe_max},
                                          {"warp_change_levels", fe.warp_change},
                                          {"warp_error_full_levels", fe.warp_error_full}}
                               .dump();
    }
  }
  write_safetensors(out_path, tensors, meta);
  st.seconds_write = seconds_since(t0);
  std::error_code ec;
  st.bytes = static_cast<int64_t>(fs::file_size(out_path, ec));
  return st;
}

}  // namespace vidcolor
