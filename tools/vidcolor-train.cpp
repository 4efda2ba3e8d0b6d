// vidcolor-train: trains f and g (paper §4-§6) from a training pack; see docs/TRAINING.md.
//
//   vidcolor-pack --images ../shared/data/images/imagenet-sample --frames
//   ../shared/data/videos/davis2016
//                 --crop 128 -o train.pack
//   vidcolor-train --pack train.pack --stages f-images:20000,f-video:10000,g:5000,joint:5000 --out
//   run1
//
// LibTorch only (the trainer is lib/src/train/trainer.cpp); where this build has OpenCV it can also
// pack image folders, frame folders and videos itself (--images/--frames/--video) before training.
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

#include "common/duration.hpp"
#include "common/flag_parser.hpp"
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

const char* kEpilogue =
    "Distributed: start one process per rank with RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,\n"
    "MASTER_PORT set (torchrun --no-python vidcolor-train ... sets them). Collectives run over\n"
    "NCCL with --device cuda where this build has it, else over Gloo; VIDCOLOR_DIST_BACKEND=\n"
    "gloo|nccl forces one.\n";

// The ImageNet MobileNetV2-0.35 of ../shared/data: the default backbone's weights and φ.
std::string shared_backbone() {
  return std::string(VIDCOLOR_SHARED_DATA_DIR) + "/weights/mobilenetv2-0.35";
}

// What the command line sets besides TrainOptions (packing inputs, the stage shorthand).
struct Args {
  std::string stages_text, single_stage = "f-images", config = "fast";
  std::string lr_schedule = "constant";
  int64_t single_steps = 1000;
  int threads = 0;
  std::string backbone_name;  // empty: the config's
  std::string backbone_weights, phi_weights = shared_backbone();
  std::vector<std::string> images, frames, videos;
  int crop = 128, per_image = 1, pairs_per_seq = 8, max_images = 0;
  uint64_t pack_seed = 1;
};

// Every flag, declared once: parsing and the usage text both come from here.
void declare(vctools::FlagParser& p, vidcolor::TrainOptions& o, Args& a) {
  p.section("data");
  p.flag("--pack", "FILE", "a training pack from vidcolor-pack (crops, KNN graphs, flows)",
         &o.pack);
  p.flag("--images", "DIR",
         "(builds with OpenCV) still images to pack first into DIR/pack.safetensors", &a.images);
  p.flag("--frames", "DIR", "(builds with OpenCV) frame folders to pack first, likewise",
         &a.frames);
  p.flag("--video", "FILE", "(builds with OpenCV) videos to pack first, likewise", &a.videos);
  p.flag("--crop", "S", "packing: crop size", &a.crop).min(16);
  p.flag("--per-image", "N", "packing: crops per still image", &a.per_image).min(1);
  p.flag("--pairs-per-seq", "N", "packing: frame pairs per sequence or video", &a.pairs_per_seq)
      .min(0);
  p.flag("--max-images", "N", "packing: a seeded random subset of N images", &a.max_images)
      .min(0)
      .default_text("all");
  p.flag("--pack-seed", "N", "packing: random seed", &a.pack_seed);
  p.section("stages");
  p.flag("--stages", "LIST",
         "kind:steps[@minutes],... kinds: f-images (bilateral + diversity), f-video (+ temporal on "
         "frame "
         "pairs), g (refinement, f frozen), joint (f and g together); @minutes = the stage's time "
         "budget",
         &a.stages_text);
  p.flag("--stage", "KIND", "a single stage (without --stages)", &a.single_stage);
  p.flag("--steps", "N", "the single stage's steps", &a.single_steps).min(1);
  p.section("model");
  p.flag("--config", "fast|quality|FILE.json", "architecture of a new model", &a.config);
  p.flag("--init", "MODEL", "start from a model file instead of a new model", &o.init_model);
  p.flag("--fresh-g", "with --init: keep the file's f, start g anew (seeded)", &o.fresh_g);
  p.flag("--backbone", "NAME",
         "a new model's backbone: mobilenetv2-0.35 or mobilenetv2-1.0-nsfwjs "
         "(scripts/fetch-backbone.sh)",
         &a.backbone_name)
      .default_text("the config's");
  p.flag("--backbone-weights", "DIR",
         "TF.js export (model.json) of a new model's backbone, loaded into f",
         &a.backbone_weights)
      .default_text("the shared MobileNetV2-0.35, for that backbone");
  p.flag("--phi-weights", "DIR",
         "TF.js export of an ImageNet MobileNetV2 (input [-1, 1]): φ of the perceptual and "
         "diversity losses",
         &a.phi_weights)
      .default_text("the shared MobileNetV2-0.35");
  p.flag("--finetune-backbone", "train f's backbone too (default: frozen)", &o.finetune_backbone);
  p.flag("--backbone-lr-scale", "X",
         "with --finetune-backbone: the backbone's learning rate is --lr times X (pretrained "
         "features move slower than the layers on top)",
         &o.backbone_lr_scale)
      .range(0, 1);
  p.section("optimisation");
  p.flag("--lr", "X", "Adam's learning rate", &o.lr).min(0);
  p.flag("--lr-schedule", "constant|cosine",
         "the rate over each stage: constant, or a cosine from --lr down towards 0 at the "
         "stage's last step (for a fine-tune that settles instead of drifting)",
         &a.lr_schedule)
      .choices({"constant", "cosine"});
  p.flag("--batch", "N", "batch size per process", &o.batch_size).min(1);
  p.flag("--seed", "N", "random seed", &o.seed);
  p.flag("--pair-every", "N", "f-video / joint: every N-th step is a pair step", &o.pair_every)
      .min(1);
  p.flag("--diversity-samples", "N",
         "the diversity term on the first N (random) samples of each batch only, 0 = all: "
         "φ on d candidates is about half of an f step on a CPU",
         &o.diversity_samples)
      .min(0);
  p.flag("--class-rebalance", "MIX",
         "chroma classes: Zhang's rebalancing mixes the colour prior with MIX of uniform; "
         "towards 1 rare colours are pushed less, 1 = no rebalancing",
         &o.class_rebalance_mix)
      .range(0.01, 1);
  p.flag("--tone-gamma", "G",
         "tone augmentation: f's input luma through a random gamma in [1/G, G] per sample "
         "(the losses keep the true luma), so colours do not hang on one tone curve; 1 = off",
         &o.tone_gamma)
      .range(1, 4);
  p.flag("--grain", "S",
         "grain augmentation: f's input gets Gaussian grain of a random sigma in [0, S] per "
         "sample (luma units, 1 = white; 0.04 is about 10 of 255), the losses keep the clean "
         "luma; 0 = off",
         &o.grain)
      .range(0, 0.25);
  p.flag("--coarse-size", "C",
         "coarse-to-fine: random C x C sub-crops (multiple of 16) for the first --coarse-fraction "
         "of each "
         "stage, then the full crops",
         &o.coarse_size)
      .min(0)
      .default_text("off");
  p.flag("--coarse-fraction", "F", "the coarse share of each stage", &o.coarse_fraction).min(0);
  const char* weight = "loss weight; 0 skips the term";
  p.flag("--w-bilateral", "X", "loss weight; 0 skips the term (and the pack's KNN graphs)",
         &o.weights.bilateral)
      .min(0);
  p.flag("--w-diversity", "X", weight, &o.weights.diversity).min(0);
  p.flag("--w-temporal", "X", weight, &o.weights.temporal).min(0);
  p.flag("--w-refine", "X", weight, &o.weights.refine).min(0);
  p.flag("--w-consistency", "X", weight, &o.weights.refine_consistency).min(0);
  p.flag("--w-classes", "X",
         "loss weight of f's chroma classes (models with classes); 0 skips the term",
         &o.weights.classes)
      .min(0);
  p.section("outputs and running");
  p.flag("--out", "DIR", "checkpoint, model, train-log.csv, samples-*.png, loss-curves.png",
         &o.out_dir);
  p.flag("-o, --output", "MODEL", "the model file", &o.model_path)
      .default_text("DIR/model.safetensors");
  p.flag("--checkpoint-every", "N", "steps; each writes the checkpoint, the model and the PNGs",
         &o.checkpoint_every)
      .min(1);
  p.flag("--checkpoint-minutes", "M", "also after M minutes since the last one (0 = off)",
         &o.checkpoint_minutes)
      .min(0);
  p.flag("--resume", "continue DIR's checkpoint (same options)", &o.resume);
  p.flag("--max-minutes", "M", "stop after M minutes (checkpoint + model written; --resume later)",
         &o.max_minutes)
      .min(0)
      .default_text("none");
  p.flag("--stop-after", "N", "stop after global step N (likewise)", &o.stop_after)
      .min(1)
      .default_text("none");
  p.flag("--device", "cpu|cuda|cuda:N", "the training device", &o.device);
  p.flag("--threads", "N", "LibTorch threads", &a.threads).min(1).default_text("all cores");
  p.flag("--samples", "N", "rows of the sample sheet", &o.samples).min(1);
  p.epilogue(kEpilogue);
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
    std::snprintf(line, sizeof line,
                  "%-8s %lldpx step %lld/%lld (%4.1f%%) loss %.4f (%s) %.2f steps/s ETA %s",
                  p.stage.c_str(), static_cast<long long>(p.crop), static_cast<long long>(p.step),
                  static_cast<long long>(p.total_steps),
                  100.0 * p.step / std::max<int64_t>(1, p.total_steps), p.losses.total,
                  terms.c_str(), p.steps_per_s, vctools::format_duration(p.eta_s).c_str());
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

// The run after parsing: the checks across flags (usage errors too), packing, training.
int train(int argc, char** argv, vidcolor::TrainOptions& o, const Args& a) {
  if (o.out_dir.empty()) throw vctools::UsageError("no output folder (--out DIR)");
  const bool pack_inputs = !a.images.empty() || !a.frames.empty() || !a.videos.empty();
  if (o.pack.empty() && !pack_inputs)
    throw vctools::UsageError(
        "no data: --pack FILE (from vidcolor-pack), or --images/--frames/--video");
  if (!o.pack.empty() && pack_inputs)
    throw vctools::UsageError("give either --pack or --images/--frames/--video, not both");

  o.stages = vidcolor::parse_stages(a.stages_text.empty()
                                        ? a.single_stage + ":" + std::to_string(a.single_steps)
                                        : a.stages_text);
  if (!o.init_model.empty() && a.config != "fast")
    throw vctools::UsageError(
        "--config and --init exclude each other (a model file carries its config)");
  o.lr_schedule = vidcolor::lr_schedule_from_name(a.lr_schedule);
  o.config_name = a.config;
  if (a.config == "fast")
    o.config = vidcolor::ModelConfig::fast();
  else if (a.config == "quality")
    o.config = vidcolor::ModelConfig::quality();
  else {
    std::ifstream in(a.config);
    if (!in)
      throw vctools::UsageError("--config: '" + a.config +
                                "' is not fast, quality or a readable JSON file");
    try {
      o.config = vidcolor::ModelConfig::from_json(nlohmann::json::parse(in));
    } catch (const nlohmann::json::exception& e) {
      throw vidcolor::Error("--config " + a.config + ": not valid JSON (" + e.what() + ")");
    } catch (const vidcolor::Error& e) {
      throw vidcolor::Error("--config " + a.config + ": " + e.what());
    }
  }
  if (!a.backbone_name.empty()) {
    if (!o.init_model.empty())
      throw vctools::UsageError("--backbone and --init exclude each other (a model file carries "
                                "its backbone)");
    vidcolor::backbone_spec(a.backbone_name);  // names the known ones if it is not
    o.config.backbone = a.backbone_name;
  }
  std::string backbone_weights = a.backbone_weights;
  if (backbone_weights.empty() && o.init_model.empty()) {
    if (o.config.backbone != "mobilenetv2-0.35")
      throw vctools::UsageError("backbone " + o.config.backbone +
                                " needs --backbone-weights DIR (scripts/fetch-backbone.sh)");
    backbone_weights = shared_backbone();
  }
  auto model_json = [](const std::string& p) {
    return fs::is_directory(p) ? (fs::path(p) / "model.json").string() : p;
  };
  o.backbone_weights = backbone_weights.empty() ? "" : model_json(backbone_weights);
  o.phi_weights = model_json(a.phi_weights);

  const vidcolor::DistributedEnv env = vidcolor::DistributedEnv::from_environment();
  if (o.device == "cuda" && env.world_size > 1) o.device = "cuda:" + std::to_string(env.local_rank);
  torch::set_num_threads(a.threads > 0 ? a.threads
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
        throw vctools::UsageError(
            "pack first with vidcolor-pack for a distributed run (every rank needs the same pack)");
      fs::create_directories(o.out_dir);
      vidcolor::PackOptions po;
      po.image_dirs = a.images;
      po.frame_dirs = a.frames;
      po.videos = a.videos;
      po.crop = a.crop;
      po.per_image = a.per_image;
      po.pairs_per_seq = a.pairs_per_seq;
      po.max_images = a.max_images;
      po.seed = a.pack_seed;
      const auto st = vidcolor::write_training_pack(po, o.pack);
      printer.message("packed " + std::to_string(st.images) + " image crops and " +
                      std::to_string(st.pairs) + " pairs into " + o.pack);
    }
#else
    throw vctools::UsageError(
        "this build has no OpenCV, so it cannot read images or videos: run vidcolor-pack "
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
    printer.message(
        "training " + vidcolor::stages_to_string(o.stages) + " on " + o.pack + " (" + o.device +
        ", " + std::to_string(torch::get_num_threads()) + " threads" +
        (env.world_size > 1
             ? ", " + std::to_string(env.world_size) + " processes over " + coll->backend()
             : std::string()) +
        ")" + (trainer.step() > 0 ? ", from step " + std::to_string(trainer.step()) : ""));
  const vidcolor::TrainResult r = trainer.run();
  printer.end();
  if (env.rank == 0) {
    std::string how =
        r.finished ? "finished" : "stopped by " + r.stopped_by + "; continue with --resume";
    printer.message("wrote " + r.model_path + " after " + std::to_string(r.steps) + " steps in " +
                    vctools::format_duration(r.seconds) + " (" + how + ")");
  }
  std::fprintf(stderr, "vidcolor-train: rank %d parameters fnv1a64 %s\n", env.rank,
               r.parameters_digest.c_str());
  return r.stopped_by == "signal" ? 130 : 0;
}

int run(int argc, char** argv) {
  vidcolor::TrainOptions o;
  Args args;
  vctools::FlagParser flags("vidcolor-train --pack FILE --out DIR [options]");
  declare(flags, o, args);
  try {
    if (!flags.parse(argc, argv)) {
      std::fputs(flags.usage().c_str(), stdout);
      return 0;
    }
    return train(argc, argv, o, args);
  } catch (const vctools::UsageError& e) {
    std::fprintf(stderr, "vidcolor-train: %s\n\n%s", e.what(), flags.usage().c_str());
    return 2;
  }
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
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nvidcolor-train: %s\n", e.what());
    return 1;
  }
}
