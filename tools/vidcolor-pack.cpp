// vidcolor-pack: decodes training data once into a training pack (training_pack.hpp), so
// vidcolor-train needs neither OpenCV nor a KNN search nor optical flow at train time.
//
//   vidcolor-pack --images ../shared/data/images/imagenet-sample
//                 --frames ../shared/data/videos/davis2016 --crop 128 --per-image 2 --pairs-per-seq
//                 64 --seed 1 -o train-128.safetensors
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/duration.hpp"
#include "common/flag_parser.hpp"
#include "common/progress_line.hpp"
#include "vidcolor/train/pack_writer.hpp"

namespace {

// The data split's non-training lists (data/split.json) as inputs to leave out.
void read_split(const std::string& file, std::vector<std::string>* exclude) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + file);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(file + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object() || !j.contains("training"))
    throw std::runtime_error(file + ": need an object with a \"training\" list");
  for (const auto& [key, list] : j.items()) {
    if (key == "training" || !list.is_array()) continue;
    for (const auto& e : list) {
      if (!e.is_string() || e.get<std::string>().empty())
        throw std::runtime_error(file + ": \"" + key + "\" holds a non-string entry");
      exclude->push_back(e.get<std::string>());
    }
  }
}

// Every flag, declared once: parsing and the usage text both come from here.
void declare(vctools::FlagParser& p, vidcolor::PackOptions& o, std::string& out,
             std::string& knn_method) {
  p.flag("--images", "DIR", "folder of still images", &o.image_dirs);
  p.flag("--frames", "DIR",
         "a frame-sequence folder or a folder of them; sorted names are consecutive frames",
         &o.frame_dirs);
  p.flag("--video", "FILE|DIR", "a video file, or a folder of them", &o.videos);
  p.flag("--split", "FILE",
         "a data split (data/split.json): leave out every input its lists other than \"training\" "
         "name (validation, report, film clips)",
         [&o](const std::string& file) { read_split(file, &o.exclude); });
  p.flag("--crop", "S", "crop size in pixels", &o.crop).range(8, 4096);
  p.flag("--per-image", "N", "random crops per still image", &o.per_image).min(0);
  p.flag("--pairs-per-seq", "N", "consecutive-frame pairs per sequence or video", &o.pairs_per_seq)
      .min(0);
  p.flag("--max-images", "N", "use a seeded random subset of N images", &o.max_images)
      .min(0)
      .default_text("all");
  p.flag("--scale-min", "U", "crop window side as a fraction of the short side: smallest",
         &o.scale_min)
      .range(0, 1);
  p.flag("--scale-max", "U", "crop window side as a fraction of the short side: largest",
         &o.scale_max)
      .range(0, 1);
  p.flag("--knn-k", "K", "neighbours per pixel", &o.knn.k).min(1);
  p.flag("--knn-lambda", "L", "weight of pixel coordinates vs colors in [0,1]", &o.knn.lambda)
      .min(0);
  p.flag("--knn-method", "M", "kdtree (exact) or brute", &knn_method).choices({"kdtree", "brute"});
  p.flag("--knn-at-load",
         "(version 1) write no KNN graphs (a pack ~4x smaller): vidcolor-train builds them when it "
         "loads "
         "the pack: the same KD-tree on a CPU where it has OpenCV (~50 ms a crop), else exact "
         "brute force "
         "on its device",
         &o.knn_graphs, false);
  p.flag(
       "--format", "1|2",
       "2: compact pack, crops and frames as JPEG, flows int16 at 1/F resolution, masks as bits, "
       "KNN "
       "graphs built by the trainer per batch; 1: raw crops, float16 flows, byte masks, KNN graphs",
       &o.format_version)
      .range(1, 2);
  p.flag("--jpeg-quality", "Q", "(version 2) JPEG quality of crops and frames", &o.jpeg_quality)
      .range(1, 100);
  p.flag("--flow-factor", "F",
         "(version 2) flows stored at 1/F of the crop's resolution, F divides the crop (1 = full "
         "resolution)",
         &o.flow_factor)
      .min(1);
  p.flag("--flow", "NAME", "dis-medium, dis-fast, dis-ultrafast, farneback, cuda-*",
         [&o](const std::string& name) { o.flow = vidcolor::flow_backend_from_name(name); })
      .default_text("dis-medium");
  p.flag("--seed", "N", "random seed", &o.seed);
  p.flag("-o, --output", "FILE", "the pack to write (safetensors)", &out);
}

// Progress with ETA (progress_line.hpp), one line per stage left on a terminal.
void show(vctools::ProgressLine& out, const vidcolor::PackProgress& p) {
  const bool last = p.done == p.total;
  if (!out.due(p.done == 1 || last)) return;
  const double rate = p.elapsed_s > 0 ? p.done / p.elapsed_s : 0.0;
  char line[160];
  std::snprintf(
      line, sizeof line, "%-6s %6lld/%-6lld  %6.1f/s  elapsed %6s  ETA %6s", p.stage,
      static_cast<long long>(p.done), static_cast<long long>(p.total), rate,
      vctools::format_duration(p.elapsed_s).c_str(),
      vctools::format_duration(vctools::eta_seconds(p.done, p.total, p.elapsed_s)).c_str());
  out.show(line);
  if (last) out.close();
}

}  // namespace

int main(int argc, char** argv) {
  vidcolor::PackOptions o;
  o.format_version = 2;
  std::string out, knn_method = "kdtree";
  vctools::FlagParser flags("vidcolor-pack [options] -o FILE");
  declare(flags, o, out, knn_method);
  try {
    if (!flags.parse(argc, argv)) {
      std::fputs(flags.usage().c_str(), stdout);
      return 0;
    }
    o.knn.method =
        knn_method == "brute" ? vidcolor::KnnMethod::BruteForce : vidcolor::KnnMethod::KdTree;
    if (out.empty()) throw vctools::UsageError("no output file (-o FILE)");
    if (o.image_dirs.empty() && o.frame_dirs.empty() && o.videos.empty())
      throw vctools::UsageError("no input (--images, --frames or --video)");
  } catch (const vctools::UsageError& e) {
    std::fprintf(stderr, "vidcolor-pack: %s\n\n%s", e.what(), flags.usage().c_str());
    return 2;
  }
  vctools::ProgressLine progress_line;
  o.progress = [&progress_line](const vidcolor::PackProgress& p) { show(progress_line, p); };
  try {
    const auto st = vidcolor::write_training_pack(o, out);
    std::fprintf(
        stderr,
        "vidcolor-pack: %s (version %d, %.1f MiB): %lld image crops (%.1f ms each), %lld pairs "
        "(%.1f ms each), %lld skipped, %lld left out by the split, written in %.2f s\n",
        out.c_str(), o.format_version, st.bytes / 1048576.0, static_cast<long long>(st.images),
        st.images ? 1000.0 * st.seconds_images / st.images : 0.0, static_cast<long long>(st.pairs),
        st.pairs ? 1000.0 * st.seconds_pairs / st.pairs : 0.0,
        static_cast<long long>(st.skipped_files), static_cast<long long>(st.excluded),
        st.seconds_write);
    const vidcolor::PackFlowError& fe = st.flow_error;
    if (fe.valid_pixels > 0)
      std::fprintf(
          stderr,
          "vidcolor-pack: stored flows (1/%d resolution, 1/32 px) vs full: end-point error "
          "mean %.3f px, max %.2f px, %.2f %% of valid pixels > 1 px; warped frames change "
          "by %.3f levels (the full flow's own warp error: %.2f levels)\n",
          o.flow_factor, fe.epe_mean, fe.epe_max, 100.0 * fe.epe_over_1px, fe.warp_change,
          fe.warp_error_full);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nvidcolor-pack: %s\n", e.what());
    return 1;
  }
  return 0;
}
