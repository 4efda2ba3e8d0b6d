#include "vidcolor/train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <type_traits>

#include "vidcolor-config.h"
#include "vidcolor/model/backbone_weights.hpp"
#include "vidcolor/core/color_tensors.hpp"
#include "vidcolor/core/error.hpp"
#include "vidcolor/model/ab_bins.hpp"
#include "vidcolor/train/losses.hpp"
#include "vidcolor/train/mobilenet_perceptual.hpp"
#include "vidcolor/model/model_file.hpp"
#include "vidcolor/train/png_writer.hpp"
#include "vidcolor/model/safetensors.hpp"
#include "vidcolor/train/train_plots.hpp"
#include "vidcolor/train/training_pack.hpp"
#include "vidcolor/ops/warp.hpp"
#include "vidcolor/core/chain_defaults.hpp"

namespace vidcolor {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// The key of a parameter in a LibTorch optimizer's state map: the address of its TensorImpl,
// as a string (c10::guts::to_string, i.e. ostream << pointer) up to LibTorch 1.13, as the
// void* itself from 2.0 on (the CUDA LibTorch a GPU machine has).
template <typename StateMap>
typename StateMap::key_type optimizer_state_key(const StateMap&, const torch::Tensor& p) {
  using Key = typename StateMap::key_type;
  void* impl = p.unsafeGetTensorImpl();
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream s;
    s << impl;
    return s.str();
  } else {
    return static_cast<Key>(impl);
  }
}

constexpr const char* kCheckpointFormat = "vidcolor-train-checkpoint";
constexpr int kCheckpointVersion = 1;

[[noreturn]] void fail(const std::string& what) { throw Error("vidcolor-train: " + what); }

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// A generator for one purpose, from integers that identify it (see trainer.hpp).
std::mt19937_64 make_rng(std::initializer_list<uint64_t> keys) {
  std::vector<uint32_t> words;
  for (uint64_t k : keys) {
    words.push_back(static_cast<uint32_t>(k));
    words.push_back(static_cast<uint32_t>(k >> 32));
  }
  std::seed_seq seq(words.begin(), words.end());
  return std::mt19937_64(seq);
}

// --- sub-crops (coarse-to-fine) and masks ---------------------------------------------------

struct Offset {
  int64_t y, x;
};

// t [B,...,S,S] -> [B,...,C,C] at each sample's offset.
torch::Tensor crop_each(const torch::Tensor& t, const std::vector<Offset>& off, int64_t c) {
  std::vector<torch::Tensor> parts;
  for (size_t b = 0; b < off.size(); ++b)
    parts.push_back(t.narrow(0, static_cast<int64_t>(b), 1)
                        .narrow(-2, off[b].y, c)
                        .narrow(-1, off[b].x, c));
  return torch::cat(parts, 0).contiguous();
}

// The KNN graph of a C x C window of an S x S crop: rows of the window's pixels, neighbours
// re-indexed into the window; a neighbour outside the window becomes the pixel itself (an
// edge of length 0, so it adds nothing to eq. 2).
torch::Tensor crop_knn(const torch::Tensor& knn, int64_t s, const std::vector<Offset>& off,
                       int64_t c) {
  const auto opts = torch::TensorOptions().dtype(torch::kInt64).device(knn.device());
  const torch::Tensor r = torch::arange(c, opts);
  const torch::Tensor self = torch::arange(c * c, opts).unsqueeze(1);
  std::vector<torch::Tensor> parts;
  for (size_t b = 0; b < off.size(); ++b) {
    const torch::Tensor rows = ((r + off[b].y).unsqueeze(1) * s + (r + off[b].x).unsqueeze(0)).flatten();
    const torch::Tensor k = knn[static_cast<int64_t>(b)].index_select(0, rows);
    const torch::Tensor qy = torch::div(k, s, "floor") - off[b].y;
    const torch::Tensor qx = k.remainder(s) - off[b].x;
    const torch::Tensor inside = (qy >= 0) & (qy < c) & (qx >= 0) & (qx < c);
    parts.push_back(torch::where(inside, qy * c + qx, self.expand_as(k)).unsqueeze(0));
  }
  return torch::cat(parts, 0);
}

// 1 where x + flow(x) lands inside the tensor (warp() clamps at the border, so a flow that
// leaves the crop would compare with a wrong pixel) -> [B,1,H,W] float.
torch::Tensor lands_inside(const torch::Tensor& flow) {
  const int64_t h = flow.size(2), w = flow.size(3);
  const auto o = flow.options();
  const torch::Tensor x = torch::arange(w, o).view({1, 1, 1, w}) + flow.narrow(1, 0, 1);
  const torch::Tensor y = torch::arange(h, o).view({1, 1, h, 1}) + flow.narrow(1, 1, 1);
  return ((x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)).to(flow.scalar_type());
}

// --- CSV ------------------------------------------------------------------------------------

struct HistoryRow {
  int64_t step;
  std::string stage;
  int64_t crop;
  std::vector<double> values;  // StepLosses::names() order
  double lr, seconds;
};

std::string csv_header() {
  std::string h = "step,stage,crop";
  for (const auto& n : StepLosses::names()) h += "," + n;
  return h + ",lr,seconds";
}

std::string csv_line(const HistoryRow& r) {
  std::ostringstream s;
  s << r.step << ',' << r.stage << ',' << r.crop;
  s.precision(7);
  for (double v : r.values) {
    s << ',';
    if (std::isfinite(v)) s << v;
  }
  s << ',' << r.lr << ',';
  s.precision(3);
  s << std::fixed << r.seconds;
  return s.str();
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : line) {
    if (ch == ',') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  out.push_back(cur);
  return out;
}

// --- model tensors --------------------------------------------------------------------------

std::string hex64(uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}

}  // namespace

// ---------------------------------------------------------------- stages, losses

const char* stage_name(StageKind k) {
  switch (k) {
    case StageKind::FImages: return "f-images";
    case StageKind::FVideo: return "f-video";
    case StageKind::G: return "g";
    case StageKind::Joint: return "joint";
  }
  return "?";
}

StageKind stage_kind_from_name(const std::string& n) {
  if (n == "f-images") return StageKind::FImages;
  if (n == "f-video") return StageKind::FVideo;
  if (n == "g") return StageKind::G;
  if (n == "joint") return StageKind::Joint;
  fail("unknown stage \"" + n + "\" (f-images, f-video, g or joint)");
}

std::vector<StageSpec> parse_stages(const std::string& text) {
  std::vector<StageSpec> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const size_t colon = item.find(':');
    if (colon == std::string::npos)
      fail("stage \"" + item + "\" needs a step count: kind:steps[@minutes]");
    StageSpec s;
    s.kind = stage_kind_from_name(item.substr(0, colon));
    std::string rest = item.substr(colon + 1);
    const size_t at = rest.find('@');
    try {
      size_t pos = 0;
      s.steps = std::stoll(rest.substr(0, at), &pos);
      if (pos != rest.substr(0, at).size() || s.steps < 1) throw std::invalid_argument("");
      if (at != std::string::npos) {
        const std::string m = rest.substr(at + 1);
        s.max_minutes = std::stod(m, &pos);
        if (pos != m.size() || !(s.max_minutes > 0)) throw std::invalid_argument("");
      }
    } catch (const std::exception&) {
      fail("stage \"" + item + "\": steps must be a positive integer and @minutes a positive number");
    }
    out.push_back(s);
  }
  if (out.empty()) fail("no stages given");
  return out;
}

std::string stages_to_string(const std::vector<StageSpec>& stages) {
  std::string s;
  for (const StageSpec& st : stages) {
    if (!s.empty()) s += ",";
    s += std::string(stage_name(st.kind)) + ":" + std::to_string(st.steps);
    if (st.max_minutes > 0) {
      std::ostringstream m;
      m << st.max_minutes;
      s += "@" + m.str();
    }
  }
  return s;
}

nlohmann::json LossWeights::to_json() const {
  return {{"bilateral", bilateral},
          {"diversity", diversity},
          {"temporal", temporal},
          {"refine", refine},
          {"refine_consistency", refine_consistency},
          {"classes", classes}};
}

const std::vector<std::string>& StepLosses::names() {
  static const std::vector<std::string> n = {"loss",   "bilateral",          "diversity", "temporal",
                                             "refine", "refine_consistency", "classes"};
  return n;
}

std::vector<double> StepLosses::values() const {
  return {total, bilateral, diversity, temporal, refine, refine_consistency, classes};
}

StepLosses StepLosses::from_values(const std::vector<double>& v) {
  if (v.size() != names().size()) fail("internal: loss vector of the wrong size");
  StepLosses l;
  l.total = v[0];
  l.bilateral = v[1];
  l.diversity = v[2];
  l.temporal = v[3];
  l.refine = v[4];
  l.refine_consistency = v[5];
  l.classes = v[6];
  return l;
}

torch::Device parse_train_device(const std::string& name, int local_rank) {
  if (name == "cpu") return torch::Device(torch::kCPU);
  if (name != "cuda" && name.rfind("cuda:", 0) != 0)
    fail("--device must be cpu, cuda or cuda:N, got \"" + name + "\"");
  if (!torch::cuda::is_available())
    fail(std::string("--device ") + name + ": " +
         (VIDCOLOR_TORCH_HAS_CUDA ? "no CUDA device is visible"
                                  : "this build's LibTorch has no CUDA (build with "
                                    "-Dtorch_dir=/path/to/a CUDA LibTorch)"));
  int index = local_rank;
  if (name != "cuda") {
    const std::string n = name.substr(5);
    char* end = nullptr;
    const long i = std::strtol(n.c_str(), &end, 10);
    if (n.empty() || *end != '\0' || i < 0) fail("--device " + name + ": bad device index");
    index = static_cast<int>(i);
  }
  if (index >= static_cast<int>(torch::cuda::device_count()))
    fail("--device " + name + ": CUDA device " + std::to_string(index) + " does not exist (" +
         std::to_string(torch::cuda::device_count()) + " visible)");
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

std::string model_digest(const Model& m) {
  uint64_t h = 1469598103934665603ull;
  const auto mix = [&h](const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      h ^= p[i];
      h *= 1099511628211ull;
    }
  };
  for (const auto& [name, t] : model_tensors(m)) {
    mix(reinterpret_cast<const uint8_t*>(name.data()), name.size());
    const torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
    mix(static_cast<const uint8_t*>(c.data_ptr()), c.numel() * c.element_size());
  }
  return hex64(h);
}

// ---------------------------------------------------------------- the trainer

struct Trainer::Impl {
  TrainOptions o;
  std::shared_ptr<Collective> coll;
  int rank = 0, world = 1;
  torch::Device dev{torch::kCPU};
  std::unique_ptr<TrainingPack> pack;
  Model model;
  std::shared_ptr<MobileNetPerceptual> phi;
  torch::Tensor class_weights;  // [313] rebalancing of the chroma classes (models with classes)
  std::vector<std::string> param_names;
  std::vector<torch::Tensor> params;
  std::unique_ptr<torch::optim::Adam> adam;
  std::vector<int64_t> image_shard, pair_shard;
  std::string init_source;

  // Training state (what a checkpoint holds besides tensors).
  int64_t step = 0;             // global steps done
  size_t stage = 0;             // current stage
  int64_t stage_step = 0;       // steps done in it
  double stage_seconds = 0;     // time spent in it
  int64_t fine_from = -1;       // stage step where its fine phase began (-1: not yet)
  std::vector<int64_t> stage_done;  // steps done of each finished stage
  double seconds_before = 0;    // wall time of earlier invocations
  std::vector<HistoryRow> history;

  struct Perm {
    int64_t key = -1;
    std::vector<int64_t> order;
  } perm[2];

  bool png_warned = false;

  fs::path out(const std::string& name) const { return fs::path(o.out_dir) / name; }
  std::string model_path() const {
    return o.model_path.empty() ? out("model.safetensors").string() : o.model_path;
  }
  void say(const std::string& m) const {
    if (rank == 0 && o.log) o.log(m);
  }

  int64_t total_steps() const {
    int64_t t = 0;
    for (size_t i = 0; i < o.stages.size(); ++i)
      t += i < stage_done.size() ? stage_done[i] : o.stages[i].steps;
    return t;
  }

  // Seconds left at `steps_per_s`: each remaining stage's steps at that rate, capped by what is
  // left of its time budget (a stage of 100000@45 ends after 45 minutes, not 100000 steps).
  double eta_seconds(double steps_per_s) const {
    if (!(steps_per_s > 0)) return 0;
    double eta = 0;
    for (size_t i = stage; i < o.stages.size(); ++i) {
      const StageSpec& st = o.stages[i];
      const int64_t left = std::max<int64_t>(0, st.steps - (i == stage ? stage_step : 0));
      double t = static_cast<double>(left) / steps_per_s;
      if (st.max_minutes > 0)
        t = std::min(t, std::max(0.0, st.max_minutes * 60 - (i == stage ? stage_seconds : 0.0)));
      eta += t;
    }
    return eta;
  }

  // ---- setup

  void setup() {
    if (o.stages.empty()) fail("no stages given");
    if (o.out_dir.empty()) fail("no output folder (--out DIR)");
    if (!(o.lr > 0)) fail("--lr must be > 0");
    if (o.batch_size < 1) fail("--batch must be >= 1");
    if (o.pair_every < 1) fail("--pair-every must be >= 1");
    if (o.checkpoint_every < 1) fail("--checkpoint-every must be >= 1");
    if (!(o.coarse_fraction >= 0 && o.coarse_fraction <= 1)) fail("--coarse-fraction must be in [0, 1]");
    rank = coll->rank();
    world = coll->world_size();
    dev = parse_train_device(o.device, 0);

    TrainingPackOptions pack_options;
    pack_options.knn_device = dev;
    // The graphs serve the bilateral term only; a run without it needs none built.
    pack_options.need_knn = o.weights.bilateral != 0 &&
        std::any_of(o.stages.begin(), o.stages.end(), [](const StageSpec& st) { return st.kind != StageKind::G; });
    pack_options.knn_progress = [&, t0 = std::chrono::steady_clock::now()](const KnnBatchProgress& p) {
      // Only a pack written with --knn-at-load gets here; every rank builds its own copy.
      if (rank != 0 || (p.done % 100 != 0 && p.done != p.total)) return;
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr, "building the pack's KNN graphs on %s: %lld/%lld (%.0f s, ETA %.0f s)\n",
                   dev.str().c_str(), static_cast<long long>(p.done), static_cast<long long>(p.total),
                   s, s / p.done * (p.total - p.done));
    };
    pack = std::make_unique<TrainingPack>(o.pack, pack_options);
    const int64_t s = pack->crop_size();
    if (s % 16 != 0)
      fail(o.pack + ": crop " + std::to_string(s) + " is not a multiple of 16 (f needs that)");
    if (o.coarse_size != 0 && (o.coarse_size % 16 != 0 || o.coarse_size < 16 || o.coarse_size >= s))
      fail("--coarse-size must be a multiple of 16 in [16, " + std::to_string(s) + ") for this pack, got " +
           std::to_string(o.coarse_size));
    for (const StageSpec& st : o.stages) {
      if (st.kind == StageKind::FImages && pack->num_images() == 0)
        fail("stage f-images needs image crops, but " + o.pack + " has none");
      if (st.kind != StageKind::FImages && pack->num_pairs() == 0)
        fail(std::string("stage ") + stage_name(st.kind) + " needs frame pairs, but " + o.pack +
             " has none (pack frame folders or videos with vidcolor-pack --frames/--video)");
    }
    // Each rank trains on its own share of the pack.
    for (int64_t i = rank; i < pack->num_images(); i += world) image_shard.push_back(i);
    for (int64_t i = rank; i < pack->num_pairs(); i += world) pair_shard.push_back(i);
    if (pack->num_images() > 0 && image_shard.empty())
      fail(o.pack + ": " + std::to_string(pack->num_images()) + " images for " + std::to_string(world) + " ranks");
    if (pack->num_pairs() > 0 && pair_shard.empty())
      fail(o.pack + ": " + std::to_string(pack->num_pairs()) + " pairs for " + std::to_string(world) + " ranks");

    // The model: a fresh one (seeded init + the ImageNet backbone) or a given model file.
    if (!o.init_model.empty()) {
      model = load_model(o.init_model);
      init_source = o.init_model;
      // A g whose blend head is saturated (e.g. an identity g, bias -30) gets no gradient from
      // sigmoid; training it again needs a fresh one.
      if (o.fresh_g) {
        torch::manual_seed(o.seed);
        model.g = RefinerNet(model.config);
        init_source += " (f; g fresh, seed " + std::to_string(o.seed) + ")";
      }
    } else {
      if (o.fresh_g) fail("--fresh-g needs --init (a fresh model's g is fresh anyway)");
      if (o.backbone_weights.empty()) fail("no backbone weights (--backbone-weights DIR)");
      torch::manual_seed(o.seed);
      model = make_model(o.config);
      load_mobilenetv2_tfjs(model.f->backbone, o.backbone_weights);
      init_source = "fresh (seed " + std::to_string(o.seed) + ")";
    }
    if (o.backbone_weights.empty()) fail("no backbone weights for the perceptual loss (--backbone-weights DIR)");
    phi = MobileNetPerceptual::from_tfjs(o.backbone_weights);
    phi->to(dev);
    if (model.config.chroma_classes > 0) {
      class_weights = training_class_weights().to(dev);
      // f keeps the prior its logits are trained against (log w = -log mixed prior + const),
      // so decoding can undo the rebalancing (ModelConfig::class_debias).
      torch::NoGradGuard ng;
      const torch::Tensor log_prior = -class_weights.to(torch::kCPU).to(torch::kFloat32).log();
      model.f->class_log_prior.copy_(log_prior - log_prior.mean());
    }
    model.f->to(dev);
    model.g->to(dev);
    // Eval mode throughout: f's only BatchNorms are the backbone's, whose ImageNet statistics
    // must not drift with small colorization batches; the U-Nets have neither BN nor dropout.
    model.f->eval();
    model.g->eval();
    for (auto& p : model.f->backbone->parameters()) p.set_requires_grad(o.finetune_backbone);

    // Trainable tensors in a fixed order (names as in model files).
    for (const auto& [name, t] : model_tensors(model)) {
      if (!t.requires_grad()) continue;  // buffers and the frozen backbone
      param_names.push_back(name);
      params.push_back(t);
    }
    adam = std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(o.lr));

    const fs::path ckpt = out("checkpoint.safetensors");
    if (o.resume) {
      if (!fs::exists(ckpt)) fail("--resume: no checkpoint at " + ckpt.string());
      load_checkpoint(ckpt.string());
    } else if (rank == 0 && fs::exists(ckpt)) {
      fail(ckpt.string() + " exists: pass --resume to continue that run, or choose another --out");
    }
    if (rank == 0) {
      std::error_code ec;
      fs::create_directories(o.out_dir, ec);
      if (ec) fail("cannot create " + o.out_dir + ": " + ec.message());
      reopen_log();
    }
    // All ranks start from rank 0's tensors.
    if (world > 1) {
      torch::NoGradGuard ng;
      for (auto& [name, t] : model_tensors(model)) {
        torch::Tensor x = t;
        coll->broadcast(x, 0);
      }
    }
    if (!png_supported()) say("note: this build has no libpng; no PNGs will be written");
  }

  // Zhang's class rebalancing from this pack's prior: the ab bins of (up to 4,000 of) its image
  // crops, or pair frames for a pack without images, at the class logits' resolution (a
  // quarter of the crop), smoothed by a Gaussian of sigma 5 and mixed half with uniform. Deterministic (the
  // first crops in pack order), so a resumed run gets the same weights.
  torch::Tensor training_class_weights() const {
    torch::Tensor prior = torch::zeros({kAbBinCount}, torch::kFloat64);
    const int64_t s = pack->crop_size();
    const bool images = pack->num_images() > 0;
    const int64_t n = std::min<int64_t>(4000, images ? pack->num_images() : pack->num_pairs());
    for (int64_t at = 0; at < n; at += 64) {
      std::vector<int64_t> idx;
      for (int64_t i = at; i < std::min(n, at + 64); ++i) idx.push_back(i);
      const torch::Tensor rgb = images ? pack->images(idx, {}, /*with_knn=*/false).rgb : pack->pairs(idx).rgb.select(1, 0);
      prior += ab_bin_histogram(truth_ab_at(rgb, s / 4, s / 4));
    }
    const torch::Tensor w = ab_rebalance_weights(prior, 0.5, 5.0);
    say("chroma classes: rebalancing weights from " + std::to_string(n) + " crops (" +
        std::to_string((prior > 0).sum().item<int64_t>()) + " of 313 bins seen), weights " +
        std::to_string(w.min().item<float>()) + " .. " + std::to_string(w.max().item<float>()));
    return w;
  }

  // ---- checkpoints

  nlohmann::json fingerprint() const {
    nlohmann::json packmeta = nlohmann::json::object();
    for (const auto& [k, v] : pack->metadata()) packmeta[k] = v;
    return {{"pack", packmeta},
            {"stages", stages_to_string(o.stages)},
            {"config", model.config.to_json()},
            {"finetune_backbone", o.finetune_backbone},
            {"weights", o.weights.to_json()},
            {"lr", o.lr},
            {"batch_size", o.batch_size},
            {"seed", o.seed},
            {"pair_every", o.pair_every},
            {"coarse_size", o.coarse_size},
            {"coarse_fraction", o.coarse_fraction},
            {"world_size", world}};
  }

  void save_checkpoint(double seconds_now) {
    std::map<std::string, torch::Tensor> t;
    for (const auto& [name, x] : model_tensors(model)) t["model/" + name] = x.detach();
    auto& states = adam->state();
    for (size_t i = 0; i < params.size(); ++i) {
      const auto it = states.find(optimizer_state_key(states, params[i]));
      if (it == states.end()) continue;  // not trained yet (e.g. g during f's stages)
      const auto& st = static_cast<const torch::optim::AdamParamState&>(*it->second);
      const std::string p = "adam/" + param_names[i] + "/";
      t[p + "exp_avg"] = st.exp_avg();
      t[p + "exp_avg_sq"] = st.exp_avg_sq();
      t[p + "step"] = torch::tensor({st.step()}, torch::kInt64);
    }
    const nlohmann::json state = {{"step", step},
                                  {"stage", stage},
                                  {"stage_step", stage_step},
                                  {"stage_seconds", stage_seconds},
                                  {"fine_from", fine_from},
                                  {"stage_done", stage_done},
                                  {"seconds", seconds_now},
                                  {"rng", "counter-based: (seed, rank, stage, stage_step)"}};
    write_safetensors(out("checkpoint.safetensors").string(), t,
                      {{"format", kCheckpointFormat},
                       {"version", std::to_string(kCheckpointVersion)},
                       {"options", fingerprint().dump()},
                       {"state", state.dump()}});
  }

  void load_checkpoint(const std::string& path) {
    SafetensorsFile f = read_safetensors(path);
    const auto meta = [&](const char* k) -> const std::string& {
      const auto it = f.metadata.find(k);
      if (it == f.metadata.end()) fail(path + ": not a vidcolor-train checkpoint (no \"" + k + "\")");
      return it->second;
    };
    if (meta("format") != kCheckpointFormat) fail(path + ": not a vidcolor-train checkpoint");
    if (meta("version") != std::to_string(kCheckpointVersion))
      fail(path + ": checkpoint version " + meta("version") + " is not supported");
    nlohmann::json saved, state;
    try {
      saved = nlohmann::json::parse(meta("options"));
      state = nlohmann::json::parse(meta("state"));
    } catch (const nlohmann::json::exception& e) {
      fail(path + ": bad checkpoint metadata: " + e.what());
    }
    const nlohmann::json now = fingerprint();
    for (const auto& [k, v] : now.items())
      if (!saved.contains(k) || saved[k] != v)
        fail(path + ": --resume needs the options of the interrupted run, but \"" + k + "\" was " +
             (saved.contains(k) ? saved[k].dump() : std::string("absent")) + " and is now " + v.dump());
    torch::NoGradGuard ng;
    for (auto& [name, x] : model_tensors(model)) {
      const auto it = f.tensors.find("model/" + name);
      if (it == f.tensors.end() || it->second.sizes() != x.sizes())
        fail(path + ": tensor model/" + name + " missing or of the wrong shape");
      torch::Tensor dst = x;
      dst.copy_(it->second);
    }
    auto& states = adam->state();
    for (size_t i = 0; i < params.size(); ++i) {
      const std::string p = "adam/" + param_names[i] + "/";
      const auto m = f.tensors.find(p + "exp_avg");
      if (m == f.tensors.end()) continue;
      const auto v = f.tensors.find(p + "exp_avg_sq");
      const auto s = f.tensors.find(p + "step");
      if (v == f.tensors.end() || s == f.tensors.end() || m->second.sizes() != params[i].sizes() ||
          v->second.sizes() != params[i].sizes() || s->second.numel() != 1)
        fail(path + ": incomplete Adam state of " + param_names[i]);
      auto st = std::make_unique<torch::optim::AdamParamState>();
      st->step(s->second.item<int64_t>());
      st->exp_avg(m->second.to(dev).clone());
      st->exp_avg_sq(v->second.to(dev).clone());
      states[optimizer_state_key(states, params[i])] = std::move(st);
    }
    try {
      step = state.at("step").get<int64_t>();
      stage = state.at("stage").get<size_t>();
      stage_step = state.at("stage_step").get<int64_t>();
      stage_seconds = state.at("stage_seconds").get<double>();
      fine_from = state.at("fine_from").get<int64_t>();
      stage_done = state.at("stage_done").get<std::vector<int64_t>>();
      seconds_before = state.at("seconds").get<double>();
    } catch (const nlohmann::json::exception& e) {
      fail(path + ": bad checkpoint state: " + e.what());
    }
    say("resumed from " + path + " at step " + std::to_string(step));
  }

  // The CSV log: on resume, rows after the checkpoint's step are dropped (they will be redone).
  void reopen_log() {
    const fs::path csv = out("train-log.csv");
    history.clear();
    if (o.resume && fs::exists(csv)) {
      std::ifstream in(csv);
      std::string line;
      std::getline(in, line);  // header
      while (std::getline(in, line)) {
        const auto f = split_csv(line);
        if (f.size() != 3 + StepLosses::names().size() + 2) continue;
        HistoryRow r;
        try {
          r.step = std::stoll(f[0]);
          r.stage = f[1];
          r.crop = std::stoll(f[2]);
          for (size_t i = 0; i < StepLosses::names().size(); ++i)
            r.values.push_back(f[3 + i].empty() ? NAN : std::stod(f[3 + i]));
          r.lr = std::stod(f[f.size() - 2]);
          r.seconds = std::stod(f.back());
        } catch (const std::exception&) {
          continue;
        }
        if (r.step <= step) history.push_back(r);
      }
    }
    std::ofstream o_(csv, std::ios::trunc);
    if (!o_) fail("cannot write " + csv.string());
    o_ << csv_header() << '\n';
    for (const HistoryRow& r : history) o_ << csv_line(r) << '\n';
  }

  void append_log(const HistoryRow& r) {
    history.push_back(r);
    std::ofstream o_(out("train-log.csv"), std::ios::app);
    o_ << csv_line(r) << '\n';
  }

  // ---- data

  // `count` shard indices from position `pos` of an endless sequence of per-epoch shuffles.
  std::vector<int64_t> take(int kind, int64_t pos, int64_t count) {
    const std::vector<int64_t>& shard = kind == 0 ? image_shard : pair_shard;
    const int64_t n = static_cast<int64_t>(shard.size());
    std::vector<int64_t> out;
    for (int64_t j = 0; j < count; ++j) {
      const int64_t p = pos + j, epoch = p / n;
      Perm& c = perm[kind];
      const int64_t key = static_cast<int64_t>(stage) * (int64_t(1) << 40) + epoch;
      if (c.key != key) {
        c.key = key;
        c.order.resize(n);
        for (int64_t i = 0; i < n; ++i) c.order[i] = i;
        auto rng = make_rng({o.seed, static_cast<uint64_t>(rank), stage, static_cast<uint64_t>(kind),
                             static_cast<uint64_t>(epoch), 0x7065726dull});
        for (int64_t i = n - 1; i > 0; --i)  // Fisher-Yates with a portable index draw
          std::swap(c.order[i], c.order[rng() % static_cast<uint64_t>(i + 1)]);
      }
      out.push_back(shard[c.order[p % n]]);
    }
    return out;
  }

  // f-video and joint interleave image steps and pair steps (every pair_every-th is a pair).
  bool is_pair_step(StageKind k, int64_t s) const {
    switch (k) {
      case StageKind::FImages: return false;
      case StageKind::G: return true;
      default: return pack->num_images() == 0 || s % o.pair_every == o.pair_every - 1;
    }
  }

  // ---- one step

  struct Terms {
    torch::Tensor total;
    StepLosses l;
    void add(const torch::Tensor& t, double w, double StepLosses::*field) {
      l.*field = t.item<double>();
      const torch::Tensor x = t * w;
      total = total.defined() ? total + x : x;
    }
  };

  // A term whose weight is 0 is not computed (NaN in the log): the diversity term runs φ on
  // every candidate, the costliest part of an f step on a CPU.
  void f_image_terms(const PackImageBatch& b, Terms& t) {
    const ColorizerOutputs f = model.f->forward_outputs(b.y);
    if (o.weights.bilateral != 0)
      t.add(bilateral_loss(f.candidates, b.knn), o.weights.bilateral, &StepLosses::bilateral);
    f_shared_terms(f, b.y, b.rgb, t);
  }

  // The terms of f on any frame: diversity (eq. 7) and the chroma classes.
  void f_shared_terms(const ColorizerOutputs& f, const torch::Tensor& y, const torch::Tensor& rgb,
                      Terms& t) {
    if (o.weights.diversity != 0)
      t.add(diversity_loss(*phi, candidates_to_rgb(y, f.candidates), rgb).loss, o.weights.diversity,
            &StepLosses::diversity);
    if (f.class_logits.defined() && o.weights.classes != 0)
      t.add(chroma_class_loss(f.class_logits, rgb, class_weights), o.weights.classes,
            &StepLosses::classes);
  }

  // g on all d candidates of both frames of each pair, each refined from the other frame.
  void g_terms(const PackPairBatch& b, const torch::Tensor& c_t, const torch::Tensor& c_t1,
               Terms& t) {
    const int64_t d = c_t.size(1);
    const auto rep = [d](const torch::Tensor& x) { return x.repeat_interleave(d, 0); };
    const torch::Tensor y_t = b.y.select(1, 0), y_t1 = b.y.select(1, 1);
    const torch::Tensor cs = torch::cat({c_t.flatten(0, 1), c_t1.flatten(0, 1)});
    const torch::Tensor cn = torch::cat({c_t1.flatten(0, 1), c_t.flatten(0, 1)});
    const torch::Tensor ys = torch::cat({rep(y_t), rep(y_t1)});
    const torch::Tensor yn = torch::cat({rep(y_t1), rep(y_t)});
    const torch::Tensor flow = torch::cat({rep(b.flow_fw), rep(b.flow_bw)});
    const torch::Tensor mask = torch::cat({rep(b.mask_fw), rep(b.mask_bw)});
    const torch::Tensor gt = torch::cat({rep(b.cbcr.select(1, 0)), rep(b.cbcr.select(1, 1))});
    // The inputs exactly as RefineEngine::prepare builds them at inference.
    const torch::Tensor cw = warp(cn, flow);
    const torch::Tensor xw = warp(yn, flow);
    const torch::Tensor conf_c = confidence(cw, cs, kConfidenceAlpha);
    const torch::Tensor conf_x = confidence(xw, ys, kConfidenceAlpha);
    const torch::Tensor out = model.g->forward(ys, cs, cw, conf_c, conf_x);
    t.add(refinement_loss(out, gt), o.weights.refine, &StepLosses::refine);
    if (o.weights.refine_consistency != 0)
      t.add(refinement_consistency_loss(out, cs, cw, conf_x * mask), o.weights.refine_consistency,
            &StepLosses::refine_consistency);
  }

  StepLosses do_step(StageKind kind, int64_t crop, int64_t* crop_used) {
    for (auto& p : params) p.mutable_grad().reset();  // undefined grad: Adam skips the tensor
    const int64_t s = pack->crop_size(), bsz = o.batch_size;
    auto rng = make_rng({o.seed, static_cast<uint64_t>(rank), stage, static_cast<uint64_t>(stage_step),
                         0x73746570ull});
    std::vector<bool> flips(bsz);
    for (int64_t i = 0; i < bsz; ++i) flips[i] = rng() & 1;
    std::vector<Offset> off(bsz, Offset{0, 0});
    if (crop < s)
      for (auto& v : off) {
        v.y = static_cast<int64_t>(rng() % static_cast<uint64_t>(s - crop + 1));
        v.x = static_cast<int64_t>(rng() % static_cast<uint64_t>(s - crop + 1));
      }
    *crop_used = crop;
    Terms t;
    const bool pairs = is_pair_step(kind, stage_step);
    if (!pairs) {
      // Image steps before this one in the stage (all of them in f-images).
      const int64_t before = kind == StageKind::FImages ? stage_step : stage_step - stage_step / o.pair_every;
      PackImageBatch b = pack->images(take(0, before * bsz, bsz), flips).to(dev);
      if (crop < s) {
        if (b.knn.defined()) b.knn = crop_knn(b.knn, s, off, crop);
        b.rgb = crop_each(b.rgb, off, crop);
        b.y = crop_each(b.y, off, crop);
        b.cbcr = crop_each(b.cbcr, off, crop);
      }
      f_image_terms(b, t);
    } else {
      // Pair steps before this one in the stage.
      const int64_t before = kind == StageKind::G || pack->num_images() == 0 ? stage_step
                                                                             : stage_step / o.pair_every;
      PackPairBatch b = pack->pairs(take(1, before * bsz, bsz), flips).to(dev);
      if (crop < s)
        for (torch::Tensor* x : {&b.rgb, &b.y, &b.cbcr, &b.flow_fw, &b.flow_bw, &b.mask_fw, &b.mask_bw})
          *x = crop_each(*x, off, crop);
      b.mask_fw = b.mask_fw * lands_inside(b.flow_fw);
      b.mask_bw = b.mask_bw * lands_inside(b.flow_bw);
      const int64_t n = b.y.size(0);
      const torch::Tensor y2 = torch::cat({b.y.select(1, 0), b.y.select(1, 1)});
      torch::Tensor c2;
      if (kind == StageKind::G) {
        torch::NoGradGuard ng;  // f is frozen while g learns
        c2 = model.f->forward(y2);
      } else {
        const ColorizerOutputs f = model.f->forward_outputs(y2);
        c2 = f.candidates;
        f_shared_terms(f, y2, torch::cat({b.rgb.select(1, 0), b.rgb.select(1, 1)}), t);
      }
      const torch::Tensor c_t = c2.narrow(0, 0, n), c_t1 = c2.narrow(0, n, n);
      if (kind != StageKind::G) {
        // eq. 3 in both directions: t against warped t+1, and t+1 against warped t.
        const torch::Tensor temporal = 0.5 * (temporal_loss(c_t, c_t1, b.flow_fw, b.mask_fw) +
                                              temporal_loss(c_t1, c_t, b.flow_bw, b.mask_bw));
        t.add(temporal, o.weights.temporal, &StepLosses::temporal);
      }
      if (kind == StageKind::G || kind == StageKind::Joint) g_terms(b, c_t, c_t1, t);
    }
    t.total.backward();
    t.l.total = t.total.item<double>();
    return t.l;
  }

  // ---- pictures

  void write_pictures() {
    if (!png_supported()) return;
    try {
      write_png(out("samples-" + std::string(8 - std::min<size_t>(8, std::to_string(step).size()), '0') +
                    std::to_string(step) + ".png").string(),
                sample_sheet(samples(), "step " + std::to_string(step) + "  stage " +
                                            (stage < o.stages.size() ? stage_name(o.stages[stage].kind)
                                                                     : "done")));
      std::vector<LossSeries> series;
      for (size_t k = 0; k < StepLosses::names().size(); ++k) {
        LossSeries s{StepLosses::names()[k], {}, {}};
        for (const HistoryRow& r : history) {
          s.steps.push_back(static_cast<double>(r.step));
          s.values.push_back(r.values[k]);
        }
        series.push_back(std::move(s));
      }
      std::vector<double> starts;
      std::vector<std::string> names;
      for (size_t i = 0; i < history.size(); ++i)
        if (i == 0 || history[i].stage != history[i - 1].stage) {
          starts.push_back(static_cast<double>(history[i].step));
          names.push_back(history[i].stage);
        }
      write_png(out("loss-curves.png").string(), loss_curves_image(series, starts, names));
    } catch (const Error& e) {
      say(std::string("warning: ") + e.what());
    }
  }

  std::vector<SampleRow> samples() {
    torch::NoGradGuard ng;
    std::vector<SampleRow> rows;
    const int64_t want = std::max<int64_t>(1, o.samples);
    int64_t n_pairs = pack->num_pairs() == 0 ? 0
                      : pack->num_images() == 0 ? want
                                                : std::max<int64_t>(1, want / 2);
    n_pairs = std::min(n_pairs, pack->num_pairs());
    const int64_t n_images = std::min(want - n_pairs, pack->num_images());
    const auto spread = [](int64_t count, int64_t total) {
      std::vector<int64_t> idx;
      for (int64_t i = 0; i < count; ++i) idx.push_back(i * total / count);
      return idx;
    };
    const auto cpu = [](const torch::Tensor& x) { return x.detach().to(torch::kCPU).clamp(0.0, 1.0); };
    if (n_images > 0) {
      const PackImageBatch b = pack->images(spread(n_images, pack->num_images()), {}, /*with_knn=*/false).to(dev);
      const torch::Tensor rgb_c = candidates_to_rgb(b.y, model.f->forward(b.y));
      for (int64_t i = 0; i < n_images; ++i)
        rows.push_back({cpu(b.y[i]), cpu(rgb_c[i]), {}, cpu(b.rgb[i])});
    }
    if (n_pairs > 0) {
      PackPairBatch b = pack->pairs(spread(n_pairs, pack->num_pairs())).to(dev);
      const torch::Tensor y_t = b.y.select(1, 0), y_t1 = b.y.select(1, 1);
      const torch::Tensor c_t = model.f->forward(y_t), c_t1 = model.f->forward(y_t1);
      const torch::Tensor cs = c_t.select(1, 0), cw = warp(c_t1.select(1, 0), b.flow_fw);
      const torch::Tensor refined = model.g->forward(
          y_t, cs, cw, confidence(cw, cs, kConfidenceAlpha),
          confidence(warp(y_t1, b.flow_fw), y_t, kConfidenceAlpha));
      const torch::Tensor rgb_c = candidates_to_rgb(y_t, c_t), rgb_g = ycc_to_rgb(y_t, refined);
      for (int64_t i = 0; i < n_pairs; ++i)
        rows.push_back({cpu(y_t[i]), cpu(rgb_c[i]), cpu(rgb_g[i]), cpu(b.rgb.select(1, 0)[i])});
    }
    return rows;
  }

  // ---- outputs

  nlohmann::json provenance(const TrainResult& r) const {
    nlohmann::json packj = {{"path", o.pack}};
    for (const auto& [k, v] : pack->metadata()) {
      if (k == "sources") {
        try {
          packj[k] = nlohmann::json::parse(v);
          continue;
        } catch (const nlohmann::json::exception&) {
        }
      }
      if (k != "format") packj[k] = v;
    }
    nlohmann::json stages = nlohmann::json::array();
    for (size_t i = 0; i < o.stages.size(); ++i) {
      const int64_t done = i < stage_done.size() ? stage_done[i] : i == stage ? stage_step : 0;
      nlohmann::json s = {{"stage", stage_name(o.stages[i].kind)},
                          {"steps_planned", o.stages[i].steps},
                          {"steps_done", done}};
      if (o.stages[i].max_minutes > 0) s["max_minutes"] = o.stages[i].max_minutes;
      stages.push_back(s);
    }
    nlohmann::json fl = nlohmann::json::object();
    const std::vector<double> v = r.final_losses.values();
    for (size_t i = 0; i < v.size(); ++i)
      if (std::isfinite(v[i])) fl[StepLosses::names()[i]] = v[i];
    const auto betas = diversity_betas(model.config.candidates);
    return {
        {"created_by", std::string("vidcolor-train (vidcolor ") + VIDCOLOR_VERSION + ")"},
        {"trained", true},
        {"finished", r.finished},
        {"stopped_by", r.stopped_by},
        {"command", o.command_line},
        {"pack", packj},
        {"stages", stages},
        {"steps", step},
        {"batch_size", o.batch_size},
        {"world_size", world},
        {"global_batch", o.batch_size * world},
        {"seed", o.seed},
        {"optimizer", {{"name", "adam"}, {"lr", o.lr}, {"betas", {0.9, 0.999}}}},
        {"coarse_to_fine",
         {{"coarse_size", o.coarse_size}, {"fine_size", pack->crop_size()}, {"fraction", o.coarse_fraction}}},
        {"pair_every", o.pair_every},
        {"losses",
         {{"weights", o.weights.to_json()},
          {"perceptual", {{"network", "MobileNetV2-0.35 ImageNet (frozen), input + strides 2..32"},
                          {"layer_weights", phi->layer_weights()}}},
          {"diversity_betas", betas},
          {"confidence_alpha", kConfidenceAlpha},
          {"knn", {{"k", pack->knn_k()},
                   {"built_at_load", pack->knn_built_at_load()},
                   {"lambda", pack->metadata().count("knn_lambda") ? pack->metadata().at("knn_lambda") : ""}}}}},
        {"init", init_source},
        {"backbone", {{"weights", fs::path(o.backbone_weights).filename().string()},
                      {"finetuned", o.finetune_backbone}}},
        {"config_preset", o.init_model.empty() ? o.config_name : std::string("from init model")},
        {"final_losses", fl},
        {"wall_seconds", r.seconds},
        {"device", dev.str()},
        {"threads", torch::get_num_threads()},
    };
  }

  StepLosses recent_means(size_t n) const {
    std::vector<double> sum(StepLosses::names().size(), 0.0), cnt(sum.size(), 0.0);
    for (size_t i = history.size() > n ? history.size() - n : 0; i < history.size(); ++i)
      for (size_t k = 0; k < sum.size(); ++k)
        if (std::isfinite(history[i].values[k])) {
          sum[k] += history[i].values[k];
          cnt[k] += 1;
        }
    std::vector<double> m(sum.size());
    for (size_t k = 0; k < sum.size(); ++k) m[k] = cnt[k] > 0 ? sum[k] / cnt[k] : NAN;
    return StepLosses::from_values(m);
  }

  void write_outputs(TrainResult& r, double seconds_now, bool checkpoint) {
    if (rank != 0) return;
    r.seconds = seconds_now;
    r.final_losses = recent_means(50);
    if (checkpoint) save_checkpoint(seconds_now);
    Model m = model;  // shares the modules; only the provenance differs
    m.provenance = provenance(r);
    save_model(m, model_path());
    r.model_path = model_path();
    write_pictures();
  }

  // ---- the loop

  void next_stage() {
    stage_done.push_back(stage_step);
    ++stage;
    stage_step = 0;
    stage_seconds = 0;
    fine_from = -1;
  }

  TrainResult run() {
    const Clock::time_point t0 = Clock::now();
    Clock::time_point last_checkpoint = t0;
    const int64_t step0 = step;
    TrainResult r;
    // Flags agreed by all ranks through the step's all-reduce (rank 0 decides time-based ones).
    enum { kSignal, kBudget, kStopAfter, kEndStage, kFine, kNonFinite, kFlags };
    const size_t n_terms = StepLosses::names().size();
    while (stage < o.stages.size()) {
      const StageSpec& spec = o.stages[stage];
      if (stage_step >= spec.steps) {
        next_stage();
        continue;
      }
      const int64_t s = pack->crop_size();
      bool coarse = o.coarse_size > 0 && fine_from < 0;
      if (coarse && stage_step >= static_cast<int64_t>(o.coarse_fraction * spec.steps)) {
        fine_from = stage_step;
        coarse = false;
      }
      const Clock::time_point ts = Clock::now();
      int64_t crop_used = s;
      const StepLosses local = do_step(spec.kind, coarse ? o.coarse_size : s, &crop_used);
      const double dt = seconds_since(ts);

      // One all-reduce carries the gradients, the loss terms and the flags.
      std::vector<torch::Tensor> grads;
      for (auto& p : params)
        if (p.grad().defined()) grads.push_back(p.grad());
      std::vector<float> extra;
      for (double v : local.values()) extra.push_back(static_cast<float>(std::isfinite(v) ? v : 0.0));
      extra.resize(n_terms + kFlags, 0.f);
      float* flags = extra.data() + n_terms;
      flags[kSignal] = o.stop && o.stop->load() ? 1.f : 0.f;
      flags[kNonFinite] = std::isfinite(local.total) ? 0.f : 1.f;  // every rank stops together
      if (rank == 0) {
        const double now = seconds_since(t0);
        flags[kBudget] = o.max_minutes > 0 && now >= o.max_minutes * 60 ? 1.f : 0.f;
        flags[kStopAfter] = o.stop_after > 0 && step + 1 >= o.stop_after ? 1.f : 0.f;
        flags[kEndStage] = spec.max_minutes > 0 && stage_seconds + dt >= spec.max_minutes * 60 ? 1.f : 0.f;
        flags[kFine] = coarse && spec.max_minutes > 0 &&
                               stage_seconds + dt >= o.coarse_fraction * spec.max_minutes * 60
                           ? 1.f
                           : 0.f;
      }
      torch::Tensor ex = torch::tensor(extra).to(dev);
      if (world > 1) {
        std::vector<torch::Tensor> flat_parts;
        for (auto& g : grads) flat_parts.push_back(g.flatten());
        flat_parts.push_back(ex);
        torch::Tensor flat = torch::cat(flat_parts);
        coll->allreduce_sum(flat);
        int64_t at = 0;
        for (auto& g : grads) {
          g.copy_(flat.narrow(0, at, g.numel()).view_as(g) / static_cast<double>(world));
          at += g.numel();
        }
        ex = flat.narrow(0, at, ex.numel());
      }
      const torch::Tensor ex_cpu = ex.to(torch::kCPU).contiguous();
      const std::vector<float> agreed(ex_cpu.data_ptr<float>(), ex_cpu.data_ptr<float>() + ex_cpu.numel());
      std::vector<double> vals(n_terms);
      const std::vector<double> lv = local.values();
      for (size_t k = 0; k < n_terms; ++k)
        vals[k] = std::isfinite(lv[k]) ? agreed[k] / world : NAN;
      const StepLosses l = StepLosses::from_values(vals);
      if (agreed[n_terms + kNonFinite] > 0 || !std::isfinite(l.total))
        fail("the loss is not finite at step " + std::to_string(step + 1) + " (stage " +
             stage_name(spec.kind) + "); the last checkpoint is in " + o.out_dir +
             " (try a lower --lr)");
      adam->step();

      ++step;
      ++stage_step;
      stage_seconds += dt;
      const float* fl = agreed.data() + n_terms;
      if (fl[kFine] > 0 && fine_from < 0) fine_from = stage_step;
      const double seconds_now = seconds_before + seconds_since(t0);
      if (rank == 0) {
        append_log({step, stage_name(spec.kind), crop_used, l.values(), o.lr, seconds_now});
        if (o.progress) {
          TrainProgress p;
          p.step = step;
          p.total_steps = total_steps();
          p.stage_index = static_cast<int>(stage);
          p.stage = stage_name(spec.kind);
          p.crop = crop_used;
          p.losses = l;
          p.elapsed_s = seconds_now;
          const double inv = seconds_since(t0);
          p.steps_per_s = inv > 0 ? static_cast<double>(step - step0) / inv : 0;
          p.eta_s = eta_seconds(p.steps_per_s);
          if (o.max_minutes > 0) p.eta_s = std::min(p.eta_s, std::max(0.0, o.max_minutes * 60 - inv));
          o.progress(p);
        }
      }
      if (fl[kEndStage] > 0 || stage_step >= spec.steps) {
        if (stage_step < spec.steps)
          say(std::string("stage ") + stage_name(spec.kind) + " ended by its time budget after " +
              std::to_string(stage_step) + " steps");
        next_stage();
      }
      if (fl[kSignal] > 0 || fl[kBudget] > 0 || fl[kStopAfter] > 0) {
        r.stopped_by = fl[kSignal] > 0 ? "signal" : fl[kBudget] > 0 ? "time budget" : "stop-after";
        break;
      }
      // Checkpoints by steps, and by time so that slow steps lose little on a crash (rank 0
      // alone writes, so the time rule needs no agreement between ranks).
      const bool by_time = o.checkpoint_minutes > 0 && rank == 0 &&
                           seconds_since(last_checkpoint) >= o.checkpoint_minutes * 60;
      if ((step % o.checkpoint_every == 0 || by_time) && stage < o.stages.size()) {
        write_outputs(r, seconds_now, true);
        last_checkpoint = Clock::now();
      }
    }
    r.finished = stage >= o.stages.size();
    r.steps = step;
    write_outputs(r, seconds_before + seconds_since(t0), true);
    r.seconds = seconds_before + seconds_since(t0);
    r.final_losses = recent_means(50);
    r.parameters_digest = model_digest(model);
    return r;
  }
};

Trainer::Trainer(TrainOptions options, std::shared_ptr<Collective> collective)
    : impl_(std::make_unique<Impl>()) {
  impl_->o = std::move(options);
  impl_->coll = collective ? std::move(collective) : std::make_shared<LocalCollective>();
  impl_->setup();
}

Trainer::~Trainer() = default;

TrainResult Trainer::run() { return impl_->run(); }
const Model& Trainer::model() const { return impl_->model; }
int64_t Trainer::step() const { return impl_->step; }
int64_t Trainer::total_steps() const { return impl_->total_steps(); }

}  // namespace vidcolor
