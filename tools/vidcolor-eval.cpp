// vidcolor-eval: scores a model on color ground-truth clips (frame folders, video files or
// images). Each clip is made gray (BT.601 luma, as vcgray), colorized through the elements'
// code path (f -> flow -> g, vidcolor::VideoColorizer) and compared with the original:
// PSNR, SSIM, CDC, warp error, colorfulness, the colour metrics (AuC of the ab error, raw and
// rebalanced; chroma spread ratio; colorfulness ratio; tint) and speed, for f + g and for the
// ablations (f alone with the same candidate: auto, or --candidate; the gray input; each of f's
// candidates alone). --film scores gray clips without truth (old film) on what needs none.
// Writes PNG strips (gray | f | f+g | ground truth) to --out. Metric definitions:
// lib/include/vidcolor/eval/metrics.hpp and colour_metrics.hpp.
#include <opencv2/core.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "eval/clip_source.hpp"
#include "eval/contact_sheet.hpp"
#include "eval/frames.hpp"
#include "eval/report.hpp"
#include "common/duration.hpp"
#include "common/flag_parser.hpp"
#include "common/progress_line.hpp"
#include "vidcolor-config.h"
#include "vidcolor/eval/clip_metrics.hpp"
#include "vidcolor/eval/colour_metrics.hpp"
#include "vidcolor/core/error.hpp"
#include "vidcolor/model/model_file.hpp"
#include "vidcolor/flow/optical_flow.hpp"
#include "vidcolor/infer/colorize_engine.hpp"
#include "vidcolor/infer/video_colorizer.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string model;
  std::vector<std::string> clips;
  int max_frames = 0;
  int size = 0;
  int threads = 0;
  int strip_rows = 3;
  int inference_size = 0;         // f's (and g's, unless refine_inference_size) short side
  int refine_inference_size = 0;  // g's short side
  int candidate = -1;             // f's candidate; -1 = auto
  int window = 1;                 // vcrefine's window (lambda)
  int iterations = 1;             // vcrefine's iterations
  double class_temperature = 0;   // f's class decoding: 0 = the model's
  double class_debias = -1;       // -1 = the model's
  bool skip_borders = true;       // vccolorize's skip-borders
  double input_grain = 0;         // grain on the networks' input (a noisy source)
  std::string out;
  bool json = false;
  bool stills = false;
  bool film = false;           // clips without truth: colour and temporal metrics only
  bool each_candidate = true;  // a row for each of f's candidates alone
};

// Every flag, declared once: parsing and the usage text both come from here.
void declare(vctools::FlagParser& p, Options& o, bool& clips_marker) {
  p.intro(
      "Scores a vidcolor model on color clips: each is turned gray, colorized through the\n"
      "elements' code path (f -> flow -> g) and compared with the original.\n");
  p.positional(
      "PATH",
      "frame folders (sorted names = consecutive frames), folders of such folders, video files, "
      "or images",
      &o.clips);
  p.flag("--model", "FILE", "model file", &o.model).default_text("the shipped default model");
  p.flag("--clips", "marks the start of the PATHs (optional: paths are clips with or without it)",
         &clips_marker);
  p.flag(
      "--stills",
      "folders of images are photo collections: each image is scored alone (no temporal metrics) "
      "instead of as a frame sequence",
      &o.stills);
  p.flag("--max-frames", "N", "score at most N frames per clip", &o.max_frames)
      .min(0)
      .default_text("all");
  p.flag("--size", "N", "resize the clips so their short side is N pixels", &o.size)
      .min(0)
      .default_text("as is");
  p.flag("--threads", "N", "LibTorch and OpenCV threads", &o.threads)
      .min(0)
      .default_text("all cores");
  p.flag("--inference-size", "N",
         "short side f and g run at, as vidcolorize's inference-size (0 = the model's)",
         &o.inference_size)
      .min(0);
  p.flag("--refine-inference-size", "N", "short side g runs at, as vcrefine's inference-size",
         &o.refine_inference_size)
      .min(0)
      .default_text("--inference-size");
  p.flag(
       "--candidate", "N",
       "score f's candidate N (0..d-1) instead of the automatic choice, as the elements' candidate "
       "property (-1: auto)",
       &o.candidate)
      .min(-1);
  p.flag("--class-temperature", "T",
         "decode f's chroma classes at this temperature instead of the model file's, as "
         "vccolorize's class-temperature (0: the file's; else 0.01..10)",
         &o.class_temperature)
      .range(0, 10);
  p.flag("--class-debias", "X",
         "undo this much of the class rebalancing when decoding instead of the model file's, as "
         "vccolorize's class-debias (-1: the file's; else 0..1)",
         &o.class_debias)
      .range(-1, 1);
  p.flag("--whole-frame",
         "f sees the whole frame, black letterbox / pillarbox borders included, as vccolorize's "
         "skip-borders=false (default: the picture inside them)",
         &o.skip_borders, false);
  p.flag("--input-grain", "S",
         "add Gaussian grain of standard deviation S (luma units, 1 = white; 0.04 is about 10 "
         "of 255) to the gray input the networks see, its own per frame, seeded: how a noisy "
         "source is colorized. The output is composed with the clean luma and scored against the "
         "clean truth, so only the colour's loss is measured",
         &o.input_grain)
      .range(0, 0.25);
  p.flag("--window", "N", "neighbours on each side g refines a frame with, as vcrefine's window",
         &o.window)
      .range(1, 2);
  p.flag("--iterations", "N", "passes of g, as vcrefine's iterations", &o.iterations).range(1, 4);
  p.flag("--no-candidates",
         "leave out the rows of each of f's candidates alone (by default every candidate is scored "
         "too: "
         "one more pass of f per frame)",
         &o.each_candidate, false);
  p.flag("--film",
         "the clips have no colour truth (black-and-white film): report what needs none: "
         "colorfulness, "
         "chroma spread, tint (|mean ab|), CDC and warp error (flows on the gray input), for f+g, "
         "f alone "
         "and each candidate",
         &o.film);
  p.flag(
      "--out", "DIR",
      "write one PNG strip per clip: gray | f | f+g | ground truth (--film: gray | f | f+g), and "
      "contact-sheet.png: each clip's middle frame (gray | f+g | truth) under its headline numbers",
      &o.out);
  p.flag("--strip-rows", "N", "frames per strip, spread over the clip", &o.strip_rows).min(0);
  p.flag("--json", "print one JSON object instead of the table", &o.json);
  p.epilogue("Progress and ETA go to stderr.\n");
}

// Progress with ETA on stderr (progress_line.hpp), one line per clip left on a terminal.
class Progress {
 public:
  explicit Progress(long total) : total_(total), start_(Clock::now()) {}
  void frame_done(const std::string& clip, size_t clip_i, size_t clips, int frame, int frames) {
    ++done_;
    if (!line_.due(frame == frames)) return;
    const double el = std::chrono::duration<double>(Clock::now() - start_).count();
    const double rate = done_ / std::max(el, 1e-9);
    const double eta = vctools::eta_seconds(done_, total_, el);
    char line[400];
    std::snprintf(line, sizeof line, "[%zu/%zu] %s: frame %d/%d  %.2f frames/s  ETA %s", clip_i + 1,
                  clips, clip.c_str(), frame, frames, rate, vctools::format_duration(eta).c_str());
    line_.show(line);
  }
  void clip_done() { line_.close(); }

 private:
  long total_, done_ = 0;
  Clock::time_point start_;
  vctools::ProgressLine line_;
};

// One frame waiting for its colorization: the ground truth and what scoring it needs.
struct Pending {
  cv::Mat bgr, gray;  // the truth, and its luma (what the output is composed with)
  cv::Mat input;      // what the networks see: the luma, with --input-grain its grainy copy
  torch::Tensor flow_back, flow_fwd;  // ground-truth flows to the previous frame
};

class ClipRun {
 public:
  // candidates: f for the per-candidate rows (nullptr: none), at the colorizer's inference size.
  ClipRun(const vceval::ClipSpec& spec, const Options& o,
          const std::vector<vceval::Variant>& variants, vidcolor::VideoColorizer& colorizer,
          vidcolor::ColorizeEngine* candidates, vidcolor::OpticalFlow& flow, Progress& progress,
          size_t clip_i, size_t clips)
      : spec_(spec),
        o_(o),
        colorizer_(colorizer),
        candidates_(candidates),
        flow_(flow),
        progress_(progress),
        clip_i_(clip_i),
        clips_(clips),
        metrics_(variant_names(variants)),
        colour_(variants.size()) {}

  vceval::ClipResult run() {
    vceval::ClipReader reader(spec_, o_.max_frames, o_.size);
    expected_ = reader.expected_frames();
    cv::Mat bgr, prev_gray;
    while (reader.next(bgr)) {
      Pending p;
      p.bgr = bgr.clone();
      p.gray = vceval::bgr_to_gray8(p.bgr);
      if (!prev_gray.empty()) {
        if (prev_gray.size() != p.gray.size())
          throw vidcolor::Error("vidcolor-eval: " + spec_.path + ": the frame size changes");
        // Flows on the ground truth (its luma), the same for every variant.
        p.flow_back = vidcolor::flow_mat_to_tensor(flow_.compute(p.gray, prev_gray));
        p.flow_fwd = vidcolor::flow_mat_to_tensor(flow_.compute(prev_gray, p.gray));
      }
      prev_gray = p.gray;
      // Grain of its own per frame (seeded by clip and frame), as a noisy source has.
      p.input = vceval::with_grain(p.gray, o_.input_grain, (uint64_t(clip_i_) << 32) + frame_++);
      pending_.push_back(std::move(p));
      const auto t0 = Clock::now();
      auto done = colorizer_.push(pending_.back().input);
      seconds_ += std::chrono::duration<double>(Clock::now() - t0).count();
      for (auto& f : done) score(f);
    }
    const auto t0 = Clock::now();
    auto rest = colorizer_.finish();
    seconds_ += std::chrono::duration<double>(Clock::now() - t0).count();
    for (auto& f : rest) score(f);
    if (!pending_.empty())
      throw vidcolor::Error("vidcolor-eval: the colorizer returned fewer frames than it was given");
    if (scored_ == 0) throw vidcolor::Error("vidcolor-eval: " + spec_.path + ": no frames");
    if (!last_row_.empty() && last_row_index_ != last_added_) strip_.add_row(last_row_);
    if (!o_.out.empty() && !strip_.empty())
      strip_.write((fs::path(o_.out) / (spec_.name + ".png")).string());
    progress_.clip_done();

    vceval::ClipResult r;
    r.name = spec_.name;
    r.path = spec_.path;
    r.frames = scored_;
    r.width = width_;
    r.height = height_;
    r.seconds = seconds_;
    for (size_t i = 0; i < metrics_.variants().size(); ++i) {
      r.scores.push_back(metrics_.scores(i));
      r.colour.push_back(colour_[i].scores());
    }
    r.ground_truth = metrics_.ground_truth_scores();
    return r;
  }

  // The clip's middle frame as gray | f+g | ground truth (film: gray | f+g), for the contact
  // sheet; empty without --out.
  const std::vector<cv::Mat>& sheet_panels() const { return sheet_panels_; }

  // Per variant, the clip's colour accumulators (merged by the caller into the overall ones).
  const std::vector<vidcolor::ColourAccumulator>& colour() const { return colour_; }

 private:
  static std::vector<std::string> variant_names(const std::vector<vceval::Variant>& variants) {
    std::vector<std::string> names;
    for (const auto& v : variants) names.push_back(v.label);
    return names;
  }

  bool strip_row_wanted(int index) const {
    if (o_.strip_rows <= 0 || index == last_added_) return false;
    if (index == 0) return true;
    const int n = std::max(expected_, 1);
    for (int r = 1; r + 1 < o_.strip_rows; ++r)
      if (index ==
          static_cast<int>(std::lround(static_cast<double>(r) * (n - 1) / (o_.strip_rows - 1))))
        return true;
    return false;
  }

  void score(const vidcolor::ColorizedFrame& f) {
    if (pending_.empty() || f.index != scored_)
      throw vidcolor::Error("vidcolor-eval: the colorizer returned frame " +
                            std::to_string(f.index) + " where frame " + std::to_string(scored_) +
                            " was due");
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    const auto fg = vceval::colorized_rgb_tensor(p.gray, f.chroma_fg);
    const auto fo = vceval::colorized_rgb_tensor(p.gray, f.chroma_f);
    const auto gray = vceval::gray_to_rgb_tensor(p.gray);
    // Without truth (film) the gray input stands in for it where ClipMetrics needs a frame;
    // only the metrics that do not compare with it (CDC, warp error, colorfulness) are reported.
    const auto gt = o_.film ? gray : vceval::bgr_to_rgb_tensor(p.bgr);
    // Same order as vceval::variants(): f+g, f only, gray (not film), candidates.
    std::vector<torch::Tensor> outputs{fg, fo};
    if (!o_.film) outputs.push_back(gray);
    if (candidates_ != nullptr) {
      // Not timed: the elements run one candidate; this is the evaluation's extra pass of f.
      const torch::Tensor all = candidates_->colorize_all(vceval::gray_to_tensor(p.input));
      for (int64_t i = 0; i < all.size(1); ++i)
        outputs.push_back(vceval::colorized_rgb_tensor(p.gray, all.select(1, i)));
    }
    metrics_.add(gt, outputs, p.flow_back, p.flow_fwd);
    // The truth's Lab once per frame, scored against every output.
    const vidcolor::ColourFrame truth =
        o_.film ? vidcolor::ColourFrame{} : vidcolor::truth_colour_frame(gt);
    for (size_t i = 0; i < outputs.size(); ++i) {
      if (o_.film)
        colour_[i].add_frame(vidcolor::colour_frame(outputs[i]));
      else
        colour_[i].add_frame(vidcolor::colour_frame(outputs[i]), truth);
    }
    width_ = p.bgr.cols;
    height_ = p.bgr.rows;
    if (!o_.out.empty() && o_.strip_rows > 0) {
      std::vector<cv::Mat> row{vceval::rgb_tensor_to_bgr(gray), vceval::rgb_tensor_to_bgr(fo),
                               vceval::rgb_tensor_to_bgr(fg)};
      if (!o_.film) row.push_back(p.bgr);
      if (strip_row_wanted(scored_)) {
        strip_.add_row(row);
        last_added_ = scored_;
      }
      last_row_ = row;  // the clip's last frame always ends the strip
      last_row_index_ = scored_;
    }
    if (!o_.out.empty() && scored_ == std::max(expected_, 1) / 2) {
      sheet_panels_ = {vceval::rgb_tensor_to_bgr(gray), vceval::rgb_tensor_to_bgr(fg)};
      if (!o_.film) sheet_panels_.push_back(p.bgr);
    }
    ++scored_;
    progress_.frame_done(spec_.name, clip_i_, clips_, scored_, std::max(expected_, scored_));
  }

  const vceval::ClipSpec& spec_;
  const Options& o_;
  vidcolor::VideoColorizer& colorizer_;
  vidcolor::ColorizeEngine* candidates_;
  vidcolor::OpticalFlow& flow_;
  Progress& progress_;
  size_t clip_i_, clips_;
  vidcolor::ClipMetrics metrics_;
  std::vector<vidcolor::ColourAccumulator> colour_;
  std::deque<Pending> pending_;
  vceval::Strip strip_;
  std::vector<cv::Mat> last_row_, sheet_panels_;
  int last_row_index_ = -1, last_added_ = -1;
  int expected_ = 0, scored_ = 0, width_ = 0, height_ = 0;
  uint64_t frame_ = 0;  // frames read: with the clip's index, the seed of each frame's grain
  double seconds_ = 0.0;
};

// The shipped model: from the source tree when run uninstalled, else the installed one.
std::string default_model_path() {
  const fs::path source = fs::path(VIDCOLOR_SOURCE_MODEL_DIR) / VIDCOLOR_DEFAULT_MODEL_NAME;
  if (fs::exists(source)) return source.string();
  return (fs::path(VIDCOLOR_INSTALLED_MODEL_DIR) / VIDCOLOR_DEFAULT_MODEL_NAME).string();
}

int run(const Options& o) {
  const int threads = o.threads > 0
                          ? o.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads);
  cv::setNumThreads(threads);
  torch::NoGradGuard no_grad;

  const std::string model_path = o.model.empty() ? default_model_path() : o.model;
  auto model = std::make_shared<vidcolor::Model>(vidcolor::load_model(model_path));
  const auto clips = vceval::find_clips(o.clips, o.stills);
  if (!o.out.empty()) fs::create_directories(o.out);

  long total = 0;
  for (const auto& c : clips) {
    vceval::ClipReader r(c, o.max_frames, o.size);
    total += r.expected_frames();
  }
  Progress progress(total);
  vidcolor::VideoColorizerOptions vc_options;
  vc_options.colorize_inference_size = o.inference_size;
  vc_options.refine_inference_size =
      o.refine_inference_size > 0 ? o.refine_inference_size : o.inference_size;
  vc_options.candidate = o.candidate;
  vc_options.window = o.window;  // through VideoColorizer's RefineWindow, as vcrefine
  vc_options.iterations = o.iterations;
  vc_options.class_temperature = o.class_temperature;
  vc_options.class_debias = o.class_debias;
  vc_options.skip_borders = o.skip_borders;
  vidcolor::VideoColorizer colorizer(model, vc_options);
  // f once more per frame for the per-candidate rows: the engine vccolorize runs, at the same
  // inference size, so candidate i's row is what the elements show with candidate = i.
  std::unique_ptr<vidcolor::ColorizeEngine> candidates;
  if (o.each_candidate) {
    vidcolor::ColorizeOptions co;
    co.inference_size = vc_options.colorize_inference_size;
    co.class_temperature = o.class_temperature;
    co.class_debias = o.class_debias;
    co.skip_borders = o.skip_borders;
    candidates = std::make_unique<vidcolor::ColorizeEngine>(model, torch::Device(torch::kCPU), co);
  }
  vceval::Evaluation evaluation;
  evaluation.film = o.film;
  evaluation.variants = vceval::variants(candidates ? candidates->candidates() : 0, o.film);
  // The metric's flow, computed on the ground truth (its luma) at the scoring size with the
  // most accurate CPU backend; it does not depend on the model being scored.
  vidcolor::OpticalFlow flow(vidcolor::FlowBackend::DisMedium);
  std::vector<vidcolor::ColourAccumulator> overall_colour(evaluation.variants.size());
  std::vector<std::vector<cv::Mat>> sheet_panels;
  for (size_t i = 0; i < clips.size(); ++i) {
    ClipRun clip(clips[i], o, evaluation.variants, colorizer, candidates.get(), flow, progress, i,
                 clips.size());
    evaluation.clips.push_back(clip.run());
    for (size_t v = 0; v < overall_colour.size(); ++v) overall_colour[v].merge(clip.colour()[v]);
    sheet_panels.push_back(clip.sheet_panels());
  }
  for (const auto& acc : overall_colour) evaluation.overall_colour.push_back(acc.scores());

  nlohmann::json info;
  info["model"] = model_path;
  info["model_config"] = model->config.to_json();
  info["size"] = o.size;
  info["max_frames"] = o.max_frames;
  info["inference_size"] = vc_options.colorize_inference_size;
  info["refine_inference_size"] = vc_options.refine_inference_size;
  info["candidate"] = o.candidate;
  info["window"] = o.window;
  info["iterations"] = o.iterations;
  info["class_temperature"] = o.class_temperature;
  info["class_debias"] = o.class_debias;
  info["skip_borders"] = o.skip_borders;
  info["input_grain"] = o.input_grain;
  info["candidates_scored"] = candidates ? candidates->candidates() : 0;
  info["film"] = o.film;
  info["threads"] = threads;
  info["version"] = VIDCOLOR_VERSION;
  const auto report = vceval::to_json(evaluation, info);
  if (!o.out.empty()) {
    // One picture of the run: each clip's middle frame under its numbers.
    std::vector<vceval::SheetRow> rows;
    for (size_t i = 0; i < clips.size(); ++i)
      if (!sheet_panels[i].empty())
        rows.push_back({vceval::sheet_caption(evaluation.clips[i].name, report["clips"][i], o.film),
                        sheet_panels[i]});
    if (!rows.empty()) {
      std::vector<std::string> columns{"gray input", "vidcolor (f+g)"};
      if (!o.film) columns.push_back("ground truth");
      vceval::write_contact_sheet((fs::path(o.out) / "contact-sheet.png").string(),
                                  fs::path(model_path).filename().string() + "   " +
                                      vceval::sheet_caption("all clips", report["overall"], o.film),
                                  columns, rows);
    }
  }
  if (o.json)
    std::cout << report.dump(2) << std::endl;
  else
    vceval::print_table(std::cout, report);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  bool clips_marker = false;
  vctools::FlagParser flags("vidcolor-eval [--model FILE] [--clips] PATH... [options]");
  declare(flags, o, clips_marker);
  try {
    if (!flags.parse(argc, argv)) {
      std::cout << flags.usage();
      return 0;
    }
    if (o.clips.empty()) throw vctools::UsageError("no clips given");
  } catch (const vctools::UsageError& e) {
    std::cerr << "vidcolor-eval: " << e.what() << "\n\n" << flags.usage();
    return 2;
  }
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::cerr << e.what() << std::endl;
    return 1;
  }
}
