// vidcolor-train: trains f and g (paper §4-§6) from a training pack; see docs/TRAINING.md.
//
//   vidcolor-pack --images ../shared/data/images/imagenet-sample --frames ../shared/data/videos/davis2016
//                 --crop 128 -o train.pack
//   vidcolor-train --pack train.pack --stages f-images:20000,f-video:10000,g:5000,joint:5000 --out run1
//
// LibTorch only (the trainer is lib/src/train/trainer.cpp); where this build has OpenCV it can also pack
// image folders, frame folders and videos itself (--images/--frames/--video) before training.
// Distributed: run one process per rank with torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK,
// MASTER_ADDR, MASTER_PORT); gradients are averaged over c10d Gloo, rank 0 writes the outputs.
#include <torch/torch.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/progress_line.hpp"
#include "vidcolor-config.h"
#include "vidcolor/train/distributed.hpp"
#include "vidcolor/core/error.hpp"
#include "vidcolor/core/process_memory.hpp"
#include "vidcolor/train/trainer.hpp"
#if VIDCOLOR_HAVE_OPENCV
#include "vidcolor/train/pack_writer.hpp"
#endif

namespace {

namespace fs = std::filesystem;

// Set by SIGINT/SIGTERM: the trainer stops after the current step and writes a checkpoint.
std::atomic<bool> g_stop{false};

extern "C" void on_signal(int sig) {
  g_stop.store(true);
  std::signal(sig, SIG_DFL);  // a second signal ends the process at once
}

const char* kUsage =
    "usage: vidcolor-train --pack FILE --out DIR [options]\n"
    "\n"
    "data\n"
    "  --pack FILE              a training pack from vidcolor-pack (crops, KNN graphs, flows)\n"
    "  --images DIR, --frames DIR, --video FILE\n"
    "                           (builds with OpenCV) pack these first into DIR/pack.safetensors\n"
    "                           with --crop S (128), --per-image N (1), --pairs-per-seq N (8),\n"
    "                           --max-images N (all), --pack-seed N (1)\n"
    "stages\n"
    "  --stages LIST            kind:steps[@minutes],... kinds: f-images (bilateral + diversity),\n"
    "                           f-video (+ temporal on frame pairs), g (refinement, f frozen),\n"
    "                           joint (f and g together); @minutes = the stage's time budget\n"
    "  --stage KIND --steps N   a single stage (default f-images, 1000 steps)\n"
    "model\n"
    "  --config fast|quality|FILE.json   architecture of a new model (default fast)\n"
    "  --init MODEL             start from a model file instead of a new model\n"
    "  --fresh-g                with --init: keep the file's f, start g anew (seeded)\n"
    "  --backbone-weights DIR   MobileNetV2-0.35 TF.js export (model.json) for f's backbone and\n"
    "                           the perceptual loss (default: the shared data's weights)\n"
    "  --finetune-backbone      train f's backbone too (default: frozen)\n"
    "optimisation\n"
    "  --lr X (2e-4)  --batch N (8, per process)  --seed N (1)  --pair-every N (2)\n"
    "  --coarse-size C          coarse-to-fine: random C x C sub-crops (multiple of 16) for the\n"
    "  --coarse-fraction F      first F (0.5) of each stage, then the full crops (default off)\n"
    "  --w-bilateral X (1) --w-diversity X (1) --w-temporal X (1) --w-refine X (1)\n"
    "  --w-consistency X (0.1) --w-classes X (1; f's chroma classes, models with classes)\n"
    "                           loss weights; a weight of 0 skips the term (and bilateral 0\n"
    "                           skips the pack's KNN graphs)\n"
    "outputs and running\n"
    "  --out DIR                checkpoint, model, train-log.csv, samples-*.png, loss-curves.png\n"
    "  -o, --output MODEL       the model file (default DIR/model.safetensors)\n"
    "  --checkpoint-every N     steps (500); each writes the checkpoint, the model and the PNGs\n"
    "  --checkpoint-minutes M   also after M minutes since the last one (15; 0 = off)\n"
    "  --resume                 continue DIR's checkpoint (same options)\n"
    "  --max-minutes M          stop after M minutes (checkpoint + model written; --resume later)\n"
    "  --stop-after N           stop after global step N (likewise)\n"
    "  --device cpu|cuda|cuda:N (cpu)  --threads N (all cores)  --samples N (4)\n"
    "\n"
    "Distributed: start one process per rank with RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,\n"
    "MASTER_PORT set (torchrun --no-python vidcolor-train ... sets them). Collectives run over\n"
    "NCCL with --device cuda where this build has it, else over Gloo; VIDCOLOR_DIST_BACKEND=\n"
    "gloo|nccl forces one.\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string hms(double s) {
  if (!(s >= 0) || s > 1e8) return "?";
  const long t = static_cast<long>(s + 0.5);
  char b[32];
  if (t >= 3600) std::snprintf(b, sizeof b, "%ldh%02ldm", t / 3600, t / 60 % 60);
  else if (t >= 60) std::snprintf(b, sizeof b, "%ldm%02lds", t / 60, t % 60);
  else std::snprintf(b, sizeof b, "%lds", t);
  return b;
}

std::string quote_args(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (i == 0) a = fs::path(a).filename().string();
    if (a.find_first_of(" \t'\"\\$") != std::string::npos) {
      std::string q = "'";
      for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
      a = q + "'";
    }
    s += (i ? " " : "") + a;
  }
  return s;
}

// One progress line (progress_line.hpp), and the tool's messages on lines of their own.
class ProgressPrinter {
 public:
  void operator()(const vidcolor::TrainProgress& p) {
    if (!line_.due(p.step <= 1 || p.step >= p.total_steps)) return;
    std::string terms;
    const auto add = [&terms](const char* n, double v) {
      if (!std::isfinite(v)) return;
      char b[48];
      std::snprintf(b, sizeof b, "%s%s %.4f", terms.empty() ? "" : " ", n, v);
      terms += b;
    };
    add("bil", p.losses.bilateral);
    add("div", p.losses.diversity);
    add("temp", p.losses.temporal);
    add("ref", p.losses.refine);
    add("cons", p.losses.refine_consistency);
    add("cls", p.losses.classes);
    char line[400];
    std::snprintf(line, sizeof line, "%-8s %lldpx step %lld/%lld (%4.1f%%) loss %.4f (%s) %.2f steps/s ETA %s",
                  p.stage.c_str(), static_cast<long long>(p.crop), static_cast<long long>(p.step),
                  static_cast<long long>(p.total_steps), 100.0 * p.step / std::max<int64_t>(1, p.total_steps),
                  p.losses.total, terms.c_str(), p.steps_per_s, hms(p.eta_s).c_str());
    line_.show(line);
  }
  void message(const std::string& m) {
    line_.close();
    std::fprintf(stderr, "vidcolor-train: %s\n", m.c_str());
  }
  void end() { line_.close(); }

 private:
  vctools::ProgressLine line_;
};

int run(int argc, char** argv) {
  vidcolor::TrainOptions o;
  std::string stages_text, single_stage = "f-images", config = "fast";
  int64_t single_steps = 1000;
  int threads = 0;
  std::string backbone = std::string(VIDCOLOR_SHARED_DATA_DIR) + "/weights/mobilenetv2-0.35";
  std::vector<std::string> images, frames, videos;
  int crop = 128, per_image = 1, pairs_per_seq = 8, max_images = 0;
  uint64_t pack_seed = 1;

  const std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw UsageError(a + " needs a value");
      return args[++i];
    };
    const auto integer = [&](long long min) {
      const std::string v = value();
      size_t pos = 0;
      long long n = 0;
      try {
        n = std::stoll(v, &pos);
      } catch (const std::exception&) {
        pos = 0;
      }
      if (pos == 0 || pos != v.size() || n < min)
        throw UsageError(a + " needs an integer >= " + std::to_string(min) + ", got '" + v + "'");
      return n;
    };
    const auto real = [&]() {
      const std::string v = value();
      size_t pos = 0;
      double d = 0;
      try {
        d = std::stod(v, &pos);
      } catch (const std::exception&) {
        pos = 0;
      }
      if (pos == 0 || pos != v.size() || !std::isfinite(d) || d < 0)
        throw UsageError(a + " needs a non-negative number, got '" + v + "'");
      return d;
    };
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--pack") o.pack = value();
    else if (a == "--images") images.push_back(value());
    else if (a == "--frames") frames.push_back(value());
    else if (a == "--video") videos.push_back(value());
    else if (a == "--crop") crop = static_cast<int>(integer(16));
    else if (a == "--per-image") per_image = static_cast<int>(integer(1));
    else if (a == "--pairs-per-seq") pairs_per_seq = static_cast<int>(integer(0));
    else if (a == "--max-images") max_images = static_cast<int>(integer(0));
    else if (a == "--pack-seed") pack_seed = static_cast<uint64_t>(integer(0));
    else if (a == "--stages") stages_text = value();
    else if (a == "--stage") single_stage = value();
    else if (a == "--steps") single_steps = integer(1);
    else if (a == "--config") config = value();
    else if (a == "--init") o.init_model = value();
    else if (a == "--fresh-g") o.fresh_g = true;
    else if (a == "--backbone-weights") backbone = value();
    else if (a == "--finetune-backbone") o.finetune_backbone = true;
    else if (a == "--lr") o.lr = real();
    else if (a == "--batch") o.batch_size = integer(1);
    else if (a == "--seed") o.seed = static_cast<uint64_t>(integer(0));
    else if (a == "--pair-every") o.pair_every = integer(1);
    else if (a == "--coarse-size") o.coarse_size = integer(0);
    else if (a == "--coarse-fraction") o.coarse_fraction = real();
    else if (a == "--w-bilateral") o.weights.bilateral = real();
    else if (a == "--w-diversity") o.weights.diversity = real();
    else if (a == "--w-temporal") o.weights.temporal = real();
    else if (a == "--w-refine") o.weights.refine = real();
    else if (a == "--w-consistency") o.weights.refine_consistency = real();
    else if (a == "--w-classes") o.weights.classes = real();
    else if (a == "--out") o.out_dir = value();
    else if (a == "-o" || a == "--output") o.model_path = value();
    else if (a == "--checkpoint-every") o.checkpoint_every = integer(1);
    else if (a == "--checkpoint-minutes") o.checkpoint_minutes = real();
    else if (a == "--resume") o.resume = true;
    else if (a == "--max-minutes") o.max_minutes = real();
    else if (a == "--stop-after") o.stop_after = integer(1);
    else if (a == "--device") o.device = value();
    else if (a == "--threads") threads = static_cast<int>(integer(1));
    else if (a == "--samples") o.samples = integer(1);
    else throw UsageError("unknown argument '" + a + "'");
  }
  if (o.out_dir.empty()) throw UsageError("no output folder (--out DIR)");
  const bool pack_inputs = !images.empty() || !frames.empty() || !videos.empty();
  if (o.pack.empty() && !pack_inputs)
    throw UsageError("no data: --pack FILE (from vidcolor-pack), or --images/--frames/--video");
  if (!o.pack.empty() && pack_inputs)
    throw UsageError("give either --pack or --images/--frames/--video, not both");

  o.stages = vidcolor::parse_stages(stages_text.empty()
                                        ? single_stage + ":" + std::to_string(single_steps)
                                        : stages_text);
  if (!o.init_model.empty() && config != "fast")
    throw UsageError("--config and --init exclude each other (a model file carries its config)");
  o.config_name = config;
  if (config == "fast") o.config = vidcolor::ModelConfig::fast();
  else if (config == "quality") o.config = vidcolor::ModelConfig::quality();
  else {
    std::ifstream in(config);
    if (!in) throw UsageError("--config: '" + config + "' is not fast, quality or a readable JSON file");
    try {
      o.config = vidcolor::ModelConfig::from_json(nlohmann::json::parse(in));
    } catch (const nlohmann::json::exception& e) {
      throw vidcolor::Error("--config " + config + ": not valid JSON (" + e.what() + ")");
    } catch (const vidcolor::Error& e) {
      throw vidcolor::Error("--config " + config + ": " + e.what());
    }
  }
  o.backbone_weights = fs::is_directory(backbone) ? (fs::path(backbone) / "model.json").string() : backbone;

  const vidcolor::DistributedEnv env = vidcolor::DistributedEnv::from_environment();
  if (o.device == "cuda" && env.world_size > 1) o.device = "cuda:" + std::to_string(env.local_rank);
  torch::set_num_threads(threads > 0 ? threads
                                     : std::max(1u, std::thread::hardware_concurrency() /
                                                        static_cast<unsigned>(env.world_size)));
  o.command_line = quote_args(argc, argv);
  // Batch-sized tensors are allocated every step; keep them in the process (process_memory.hpp).
  std::fprintf(stderr, "vidcolor-train: %s\n", vidcolor::keep_block_memory_in_process().c_str());

  ProgressPrinter printer;
  if (pack_inputs) {
#if VIDCOLOR_HAVE_OPENCV
    o.pack = (fs::path(o.out_dir) / "pack.safetensors").string();
    if (!(o.resume && fs::exists(o.pack))) {
      if (env.world_size > 1)
        throw UsageError("pack first with vidcolor-pack for a distributed run (every rank needs the same pack)");
      fs::create_directories(o.out_dir);
      vidcolor::PackOptions po;
      po.image_dirs = images;
      po.frame_dirs = frames;
      po.videos = videos;
      po.crop = crop;
      po.per_image = per_image;
      po.pairs_per_seq = pairs_per_seq;
      po.max_images = max_images;
      po.seed = pack_seed;
      const auto st = vidcolor::write_training_pack(po, o.pack);
      printer.message("packed " + std::to_string(st.images) + " image crops and " +
                      std::to_string(st.pairs) + " pairs into " + o.pack);
    }
#else
    (void)crop; (void)per_image; (void)pairs_per_seq; (void)max_images; (void)pack_seed;
    throw UsageError("this build has no OpenCV, so it cannot read images or videos: run vidcolor-pack "
                     "on a machine that has it and pass --pack FILE");
#endif
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  o.stop = &g_stop;
  if (env.rank == 0) {
    o.progress = [&printer](const vidcolor::TrainProgress& p) { printer(p); };
    o.log = [&printer](const std::string& m) { printer.message(m); };
  }
  // The collective follows the training device: NCCL on a GPU where built, else Gloo.
  std::shared_ptr<vidcolor::Collective> coll =
      vidcolor::make_collective(env, vidcolor::parse_train_device(o.device, env.local_rank));
  vidcolor::Trainer trainer(o, coll);
  if (env.rank == 0)
    printer.message("training " + vidcolor::stages_to_string(o.stages) + " on " + o.pack + " (" +
                    o.device + ", " + std::to_string(torch::get_num_threads()) + " threads" +
                    (env.world_size > 1 ? ", " + std::to_string(env.world_size) + " processes over " + coll->backend()
                                        : std::string()) +
                    ")" + (trainer.step() > 0 ? ", from step " + std::to_string(trainer.step()) : ""));
  const vidcolor::TrainResult r = trainer.run();
  printer.end();
  if (env.rank == 0) {
    std::string how = r.finished ? "finished" : "stopped by " + r.stopped_by + "; continue with --resume";
    printer.message("wrote " + r.model_path + " after " + std::to_string(r.steps) + " steps in " +
                    hms(r.seconds) + " (" + how + ")");
  }
  std::fprintf(stderr, "vidcolor-train: rank %d parameters fnv1a64 %s\n", env.rank,
               r.parameters_digest.c_str());
  return r.stopped_by == "signal" ? 130 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  // LibTorch's OpenMP worker threads spin while they wait (GNU OpenMP's default policy). On a
  // machine shared with other work the spinning steals the cores from the threads that compute:
  // on this project's 2 shared cores one f step took 7-20 s with 2 threads, 0.8 s with
  // OMP_WAIT_POLICY=PASSIVE (1 thread: 0.9-1.5 s). libgomp reads the variable when it loads,
  // before main(), so set it and run this program again, once; an explicit setting is kept.
  if (!std::getenv("OMP_WAIT_POLICY")) {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    execv("/proc/self/exe", argv);  // returns only on failure: then carry on as we are
  }
  try {
    return run(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "vidcolor-train: %s\n\n%s", e.what(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nvidcolor-train: %s\n", e.what());
    return 1;
  }
}
