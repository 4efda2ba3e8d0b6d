// vidcolor-pack: decodes training data once into a training pack (training_pack.hpp), so
// vidcolor-train needs neither OpenCV nor a KNN search nor optical flow at train time.
//
//   vidcolor-pack --images ../shared/data/images/imagenet-sample
//                 --frames ../shared/data/videos/davis2016 --crop 128 --per-image 2 --pairs-per-seq 64 --seed 1 -o train-128.safetensors
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "common/progress_line.hpp"
#include "vidcolor/train/pack_writer.hpp"

namespace {

void usage(FILE* f) {
  std::fprintf(f,
      "usage: vidcolor-pack [options] -o FILE\n"
      "  --images DIR         folder of still images (repeatable)\n"
      "  --frames DIR         a frame-sequence folder or a folder of them; sorted names are\n"
      "                       consecutive frames (repeatable)\n"
      "  --video FILE|DIR     a video file, or a folder of them (repeatable)\n"
      "  --split FILE         a data split (data/split.json): leave out every input its lists\n"
      "                       other than \"training\" name (validation, report, film clips)\n"
      "  --crop S             crop size in pixels (default 128)\n"
      "  --per-image N        random crops per still image (default 1)\n"
      "  --pairs-per-seq N    consecutive-frame pairs per sequence or video (default 8)\n"
      "  --max-images N       use a seeded random subset of N images (default all)\n"
      "  --scale-min U, --scale-max U\n"
      "                       crop window side as a fraction of the short side (default 0.5, 1)\n"
      "  --knn-k K            neighbours per pixel (default 5)\n"
      "  --knn-lambda L       weight of pixel coordinates vs colors in [0,1] (default 0.002)\n"
      "  --knn-method M       kdtree (exact, default) or brute\n"
      "  --knn-at-load        (version 1) write no KNN graphs (a pack ~4x smaller): vidcolor-train\n"
      "                       builds them when it loads the pack: the same KD-tree on a CPU where\n"
      "                       it has OpenCV (~50 ms a crop), else exact brute force on its device\n"
      "  --format 1|2         2 (default): compact pack, crops and frames as JPEG, flows int16\n"
      "                       at 1/F resolution, masks as bits, KNN graphs built by the trainer\n"
      "                       per batch; 1: raw crops, float16 flows, byte masks, KNN graphs\n"
      "  --jpeg-quality Q     (version 2) JPEG quality of crops and frames (default 85)\n"
      "  --flow-factor F      (version 2) flows stored at 1/F of the crop's resolution, F divides\n"
      "                       the crop (default 4; 1 = full resolution)\n"
      "  --flow NAME          dis-medium (default), dis-fast, dis-ultrafast, farneback, cuda-*\n"
      "  --seed N             random seed (default 1)\n"
      "  -o, --output FILE    the pack to write (safetensors)\n");
}

// Progress with ETA (progress_line.hpp), one line per stage left on a terminal.
void show(vctools::ProgressLine& out, const vidcolor::PackProgress& p) {
  const bool last = p.done == p.total;
  if (!out.due(p.done == 1 || last)) return;
  const double rate = p.elapsed_s > 0 ? p.done / p.elapsed_s : 0.0;
  const double eta = rate > 0 ? (p.total - p.done) / rate : 0.0;
  char line[160];
  std::snprintf(line, sizeof line, "%-6s %6lld/%-6lld  %6.1f/s  elapsed %5.0fs  ETA %5.0fs", p.stage,
                static_cast<long long>(p.done), static_cast<long long>(p.total), rate, p.elapsed_s, eta);
  out.show(line);
  if (last) out.close();
}

}  // namespace

int main(int argc, char** argv) {
  vidcolor::PackOptions o;
  o.format_version = 2;
  std::string out;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      const auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
        return argv[++i];
      };
      const auto integer = [&]() {
        const std::string v = value();
        size_t pos = 0;
        const long long n = std::stoll(v, &pos);
        if (pos != v.size()) throw std::runtime_error(a + ": not an integer: " + v);
        return n;
      };
      const auto real = [&]() {
        const std::string v = value();
        size_t pos = 0;
        const double d = std::stod(v, &pos);
        if (pos != v.size()) throw std::runtime_error(a + ": not a number: " + v);
        return d;
      };
      if (a == "-h" || a == "--help") {
        usage(stdout);
        return 0;
      } else if (a == "--images") o.image_dirs.push_back(value());
      else if (a == "--frames") o.frame_dirs.push_back(value());
      else if (a == "--video") o.videos.push_back(value());
      else if (a == "--split") {
        const std::string file = value();
        std::ifstream in(file);
        if (!in) throw std::runtime_error("--split: cannot read " + file);
        nlohmann::json j;
        try {
          j = nlohmann::json::parse(in);
        } catch (const nlohmann::json::exception& e) {
          throw std::runtime_error("--split " + file + ": not valid JSON (" + e.what() + ")");
        }
        if (!j.is_object() || !j.contains("training"))
          throw std::runtime_error("--split " + file + ": need an object with a \"training\" list");
        for (const auto& [key, list] : j.items()) {
          if (key == "training" || !list.is_array()) continue;
          for (const auto& e : list) {
            if (!e.is_string() || e.get<std::string>().empty())
              throw std::runtime_error("--split " + file + ": \"" + key + "\" holds a non-string entry");
            o.exclude.push_back(e.get<std::string>());
          }
        }
      }
      else if (a == "--format") {
        const long long v = integer();
        if (v != 1 && v != 2) throw std::runtime_error("--format: 1 or 2, not " + std::to_string(v));
        o.format_version = static_cast<int>(v);
      }
      else if (a == "--jpeg-quality") o.jpeg_quality = static_cast<int>(integer());
      else if (a == "--flow-factor") o.flow_factor = static_cast<int>(integer());
      else if (a == "--crop") o.crop = static_cast<int>(integer());
      else if (a == "--per-image") o.per_image = static_cast<int>(integer());
      else if (a == "--pairs-per-seq") o.pairs_per_seq = static_cast<int>(integer());
      else if (a == "--max-images") o.max_images = static_cast<int>(integer());
      else if (a == "--scale-min") o.scale_min = real();
      else if (a == "--scale-max") o.scale_max = real();
      else if (a == "--knn-k") o.knn.k = static_cast<int>(integer());
      else if (a == "--knn-lambda") o.knn.lambda = real();
      else if (a == "--knn-method") {
        const std::string m = value();
        if (m == "kdtree") o.knn.method = vidcolor::KnnMethod::KdTree;
        else if (m == "brute") o.knn.method = vidcolor::KnnMethod::BruteForce;
        else throw std::runtime_error("--knn-method: kdtree or brute, not " + m);
      } else if (a == "--knn-at-load") o.knn_graphs = false;
      else if (a == "--flow") o.flow = vidcolor::flow_backend_from_name(value());
      else if (a == "--seed") o.seed = static_cast<uint64_t>(integer());
      else if (a == "-o" || a == "--output") out = value();
      else throw std::runtime_error("unknown option " + a);
    }
    if (out.empty()) throw std::runtime_error("no output file (-o FILE)");
    if (o.image_dirs.empty() && o.frame_dirs.empty() && o.videos.empty())
      throw std::runtime_error("no input (--images, --frames or --video)");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vidcolor-pack: %s\n", e.what());
    usage(stderr);
    return 2;
  }
  vctools::ProgressLine progress_line;
  o.progress = [&progress_line](const vidcolor::PackProgress& p) { show(progress_line, p); };
  try {
    const auto st = vidcolor::write_training_pack(o, out);
    std::fprintf(stderr,
                 "vidcolor-pack: %s (version %d, %.1f MiB): %lld image crops (%.1f ms each), %lld pairs "
                 "(%.1f ms each), %lld skipped, %lld left out by the split, written in %.2f s\n",
                 out.c_str(), o.format_version, st.bytes / 1048576.0, static_cast<long long>(st.images),
                 st.images ? 1000.0 * st.seconds_images / st.images : 0.0,
                 static_cast<long long>(st.pairs),
                 st.pairs ? 1000.0 * st.seconds_pairs / st.pairs : 0.0,
                 static_cast<long long>(st.skipped_files), static_cast<long long>(st.excluded),
                 st.seconds_write);
    const vidcolor::PackFlowError& fe = st.flow_error;
    if (fe.valid_pixels > 0)
      std::fprintf(stderr,
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
