// The Trainer: sets a run up (options, pack, model, perceptual net, optimizer, resume) and
// runs its loop: a step's batch (batch_sampler), its loss terms (step_terms), one all-reduce
// of gradients, terms and stop flags, Adam, the log and progress (train_log), and the
// checkpoint (train_checkpoint), model file and pictures (train_pictures) every so often.
#include "vidcolor/train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "train/batch_sampler.hpp"
#include "train/step_terms.hpp"
#include "train/train_checkpoint.hpp"
#include "train/train_fail.hpp"
#include "train/train_log.hpp"
#include "train/train_pictures.hpp"
#include "train/train_state.hpp"
#include "vidcolor-config.h"
#include "vidcolor/core/chain_defaults.hpp"
#include "vidcolor/model/ab_bins.hpp"
#include "vidcolor/model/backbone_weights.hpp"
#include "vidcolor/model/memory_format.hpp"
#include "vidcolor/model/model_file.hpp"
#include "vidcolor/train/losses.hpp"
#include "vidcolor/train/mobilenet_perceptual.hpp"
#include "vidcolor/train/png_writer.hpp"
#include "vidcolor/train/training_pack.hpp"

namespace vidcolor {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace train_detail;

namespace {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

struct Trainer::Impl {
  TrainOptions o;
  std::shared_ptr<Collective> coll;
  int rank = 0, world = 1;
  torch::Device dev{torch::kCPU};
  std::unique_ptr<TrainingPack> pack;
  std::unique_ptr<BatchSampler> sampler;  // reads *pack
  Model model;
  std::shared_ptr<MobileNetPerceptual> phi;
  torch::Tensor class_weights;  // [313] rebalancing of the chroma classes (models with classes)
  TrainedTensors trained;
  std::unique_ptr<torch::optim::Adam> adam;
  std::string init_source;
  TrainState state;
  TrainLog history;  // rank 0 only

  fs::path out(const std::string& name) const { return fs::path(o.out_dir) / name; }
  std::string model_path() const {
    return o.model_path.empty() ? out("model.safetensors").string() : o.model_path;
  }
  void say(const std::string& m) const {
    if (rank == 0 && o.log) o.log(m);
  }
  nlohmann::json fingerprint() const { return run_fingerprint(o, *pack, model.config, world); }

  // ---- setup

  void setup() {
    if (o.stages.empty()) fail("no stages given");
    if (o.out_dir.empty()) fail("no output folder (--out DIR)");
    if (!(o.lr > 0)) fail("--lr must be > 0");
    if (o.batch_size < 1) fail("--batch must be >= 1");
    if (o.pair_every < 1) fail("--pair-every must be >= 1");
    if (o.checkpoint_every < 1) fail("--checkpoint-every must be >= 1");
    if (!(o.coarse_fraction >= 0 && o.coarse_fraction <= 1))
      fail("--coarse-fraction must be in [0, 1]");
    if (!(o.backbone_lr_scale >= 0 && o.backbone_lr_scale <= 1))
      fail("--backbone-lr-scale must be in [0, 1]");
    if (!(o.class_rebalance_mix > 0 && o.class_rebalance_mix <= 1))
      fail("--class-rebalance must be in (0, 1]");
    if (!(o.tone_gamma >= 1 && o.tone_gamma <= 4)) fail("--tone-gamma must be in [1, 4]");
    if (!(o.grain >= 0 && o.grain <= 0.25)) fail("--grain must be in [0, 0.25]");
    rank = coll->rank();
    world = coll->world_size();
    dev = parse_train_device(o.device, 0);

    TrainingPackOptions pack_options;
    pack_options.knn_device = dev;
    // The graphs serve the bilateral term only; a run without it needs none built.
    pack_options.need_knn = o.weights.bilateral != 0 &&
                            std::any_of(o.stages.begin(), o.stages.end(), [](const StageSpec& st) {
                              return st.kind != StageKind::G;
                            });
    pack_options.knn_progress = [&,
                                 t0 = std::chrono::steady_clock::now()](const KnnBatchProgress& p) {
      // Only a pack written with --knn-at-load gets here; every rank builds its own copy.
      if (rank != 0 || (p.done % 100 != 0 && p.done != p.total)) return;
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr, "building the pack's KNN graphs on %s: %lld/%lld (%.0f s, ETA %.0f s)\n",
                   dev.str().c_str(), static_cast<long long>(p.done),
                   static_cast<long long>(p.total), s, s / p.done * (p.total - p.done));
    };
    pack = std::make_unique<TrainingPack>(o.pack, pack_options);
    const int64_t s = pack->crop_size();
    if (s % 16 != 0)
      fail(o.pack + ": crop " + std::to_string(s) + " is not a multiple of 16 (f needs that)");
    if (o.coarse_size != 0 && (o.coarse_size % 16 != 0 || o.coarse_size < 16 || o.coarse_size >= s))
      fail("--coarse-size must be a multiple of 16 in [16, " + std::to_string(s) +
           ") for this pack, got " + std::to_string(o.coarse_size));
    for (const StageSpec& st : o.stages) {
      if (st.kind == StageKind::FImages && pack->num_images() == 0)
        fail("stage f-images needs image crops, but " + o.pack + " has none");
      if (st.kind != StageKind::FImages && pack->num_pairs() == 0)
        fail(std::string("stage ") + stage_name(st.kind) + " needs frame pairs, but " + o.pack +
             " has none (pack frame folders or videos with vidcolor-pack --frames/--video)");
    }
    sampler = std::make_unique<BatchSampler>(*pack, o.pack, rank, world, o.seed, o.batch_size,
                                             o.pair_every, o.tone_gamma, o.grain, dev);

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
    if (o.phi_weights.empty()) fail("no weights for the perceptual loss (--phi-weights DIR)");
    phi = MobileNetPerceptual::from_tfjs(o.phi_weights);
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
    use_channels_last(*model.f);  // faster convolutions; the values and the file are the same
    // Eval mode throughout: f's only BatchNorms are the backbone's, whose ImageNet statistics
    // must not drift with small colorization batches; the U-Nets have neither BN nor dropout.
    model.f->eval();
    model.g->eval();
    for (auto& p : model.f->backbone->parameters()) p.set_requires_grad(o.finetune_backbone);

    // Trainable tensors in a fixed order (names as in model files).
    for (const auto& [name, t] : model_tensors(model)) {
      if (!t.requires_grad()) continue;  // buffers and the frozen backbone
      trained.names.push_back(name);
      trained.tensors.push_back(t);
    }
    adam = make_adam();

    const fs::path ckpt = out("checkpoint.safetensors");
    if (o.resume) {
      if (!fs::exists(ckpt)) fail("--resume: no checkpoint at " + ckpt.string());
      state = load_checkpoint(ckpt.string(), model, *adam, trained, fingerprint(), dev);
      say("resumed from " + ckpt.string() + " at step " + std::to_string(state.step));
    } else if (rank == 0 && fs::exists(ckpt)) {
      fail(ckpt.string() + " exists: pass --resume to continue that run, or choose another --out");
    }
    if (rank == 0) {
      std::error_code ec;
      fs::create_directories(o.out_dir, ec);
      if (ec) fail("cannot create " + o.out_dir + ": " + ec.message());
      history.open(out("train-log.csv"), o.resume, state.step);
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

  // Adam over the trained tensors: one group at --lr, or, with a fine-tuned backbone at another
  // rate, the backbone's tensors as a second group at lr * backbone_lr_scale (the usual
  // discriminative rates: pretrained features move slower than the new layers on top).
  std::unique_ptr<torch::optim::Adam> make_adam() const {
    if (!o.finetune_backbone || o.backbone_lr_scale == 1.0)
      return std::make_unique<torch::optim::Adam>(trained.tensors, torch::optim::AdamOptions(o.lr));
    std::vector<torch::Tensor> backbone, rest;
    for (size_t i = 0; i < trained.names.size(); ++i)
      (trained.names[i].rfind("f.backbone.", 0) == 0 ? backbone : rest)
          .push_back(trained.tensors[i]);
    if (backbone.empty()) fail("--backbone-lr-scale: f has no trained backbone tensors");
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(rest, std::make_unique<torch::optim::AdamOptions>(o.lr));
    groups.emplace_back(backbone,
                        std::make_unique<torch::optim::AdamOptions>(o.lr * o.backbone_lr_scale));
    return std::make_unique<torch::optim::Adam>(std::move(groups), torch::optim::AdamOptions(o.lr));
  }

  // Every group of Adam at this step's rate: the first (the rest of the model) at lr, the
  // backbone's (make_adam) at lr * backbone_lr_scale. Set before each step, so a resumed run
  // takes the schedule up where it stopped.
  void set_adam_rates(double lr) {
    auto& groups = adam->param_groups();
    for (size_t i = 0; i < groups.size(); ++i)
      static_cast<torch::optim::AdamOptions&>(groups[i].options())
          .lr(i == 0 ? lr : lr * o.backbone_lr_scale);
  }

  // Zhang's class rebalancing from this pack's prior: the ab bins of (up to 4,000 of) its image
  // crops, or pair frames for a pack without images, at the class logits' resolution (a
  // quarter of the crop), smoothed by a Gaussian of sigma 5 and mixed with uniform
  // (TrainOptions::class_rebalance_mix).
  // Deterministic (the first crops in pack order), so a resumed run gets the same weights.
  torch::Tensor training_class_weights() const {
    torch::Tensor prior = torch::zeros({kAbBinCount}, torch::kFloat64);
    const int64_t s = pack->crop_size();
    const bool images = pack->num_images() > 0;
    const int64_t n = std::min<int64_t>(4000, images ? pack->num_images() : pack->num_pairs());
    for (int64_t at = 0; at < n; at += 64) {
      std::vector<int64_t> idx;
      for (int64_t i = at; i < std::min(n, at + 64); ++i) idx.push_back(i);
      const torch::Tensor rgb = images ? pack->images(idx, {}, /*with_knn=*/false).rgb
                                       : pack->pairs(idx).rgb.select(1, 0);
      prior += ab_bin_histogram(truth_ab_at(rgb, s / 4, s / 4));
    }
    const torch::Tensor w = ab_rebalance_weights(prior, o.class_rebalance_mix, 5.0);
    say("chroma classes: rebalancing weights from " + std::to_string(n) + " crops (" +
        std::to_string((prior > 0).sum().item<int64_t>()) + " of 313 bins seen), weights " +
        std::to_string(w.min().item<float>()) + " .. " + std::to_string(w.max().item<float>()));
    return w;
  }

  // ---- outputs

  // The model file's provenance: how it was trained.
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
      const int64_t done = i < state.stage_done.size() ? state.stage_done[i]
                           : i == state.stage          ? state.stage_step
                                                       : 0;
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
        {"steps", state.step},
        {"batch_size", o.batch_size},
        {"world_size", world},
        {"global_batch", o.batch_size * world},
        {"seed", o.seed},
        {"optimizer",
         {{"name", "adam"},
          {"lr", o.lr},
          {"lr_schedule", lr_schedule_name(o.lr_schedule)},
          {"betas", {0.9, 0.999}}}},
        {"coarse_to_fine",
         {{"coarse_size", o.coarse_size},
          {"fine_size", pack->crop_size()},
          {"fraction", o.coarse_fraction}}},
        {"pair_every", o.pair_every},
        {"diversity_samples", o.diversity_samples},
        {"class_rebalance_mix", o.class_rebalance_mix},
        {"tone_gamma", o.tone_gamma},
        {"grain", o.grain},
        {"losses",
         {{"weights", o.weights.to_json()},
          {"perceptual",
           {{"network", "MobileNetV2-0.35 ImageNet (frozen), input + strides 2..32"},
            {"layer_weights", phi->layer_weights()}}},
          {"diversity_betas", betas},
          {"confidence_alpha", kConfidenceAlpha},
          {"knn",
           {{"k", pack->knn_k()},
            {"built_at_load", pack->knn_built_at_load()},
            {"lambda",
             pack->metadata().count("knn_lambda") ? pack->metadata().at("knn_lambda") : ""}}}}},
        {"init", init_source},
        {"backbone",
         {{"name", model.config.backbone},
          {"weights", o.init_model.empty()
                          ? fs::path(o.backbone_weights).parent_path().filename().string()
                          : std::string("from init model")},
          {"finetuned", o.finetune_backbone},
          {"lr_scale", o.finetune_backbone ? o.backbone_lr_scale : 0.0}}},
        {"phi", fs::path(o.phi_weights).parent_path().filename().string()},
        {"config_preset", o.init_model.empty() ? o.config_name : std::string("from init model")},
        {"final_losses", fl},
        {"wall_seconds", r.seconds},
        {"device", dev.str()},
        {"threads", torch::get_num_threads()},
    };
  }

  void write_outputs(TrainResult& r, double seconds_now, bool checkpoint) {
    if (rank != 0) return;
    r.seconds = seconds_now;
    r.final_losses = history.recent_means(50);
    if (checkpoint)
      save_checkpoint(out("checkpoint.safetensors").string(), model, *adam, trained, fingerprint(),
                      state, seconds_now);
    Model m = model;  // shares the modules; only the provenance differs
    m.provenance = provenance(r);
    save_model(m, model_path());
    r.model_path = model_path();
    try {
      write_pictures(
          o.out_dir, state.step,
          "step " + std::to_string(state.step) + "  stage " +
              (state.stage < o.stages.size() ? stage_name(o.stages[state.stage].kind) : "done"),
          model, *pack, dev, o.samples, history);
    } catch (const Error& e) {
      say(std::string("warning: ") + e.what());
    }
  }

  // ---- the loop

  // One step's forward and backward on this rank: its batch, its terms, their gradients.
  StepLosses local_step(StageKind kind, int64_t crop) {
    for (auto& p : trained.tensors)
      p.mutable_grad().reset();  // undefined grad: Adam skips the tensor
    const StepBatch batch = sampler->batch(state.stage, kind, state.stage_step, crop);
    StepTerms t =
        step_terms({model, *phi, class_weights, o.weights, o.diversity_samples}, kind, batch);
    t.total.backward();
    t.losses.total = t.total.item<double>();
    return t.losses;
  }

  TrainResult run() {
    const Clock::time_point t0 = Clock::now();
    Clock::time_point last_checkpoint = t0;
    const int64_t step0 = state.step;
    TrainResult r;
    // Flags agreed by all ranks through the step's all-reduce (rank 0 decides time-based ones).
    enum { kSignal, kBudget, kStopAfter, kEndStage, kFine, kNonFinite, kFlags };
    const size_t n_terms = StepLosses::names().size();
    while (state.stage < o.stages.size()) {
      const StageSpec& spec = o.stages[state.stage];
      if (state.stage_step >= spec.steps) {
        state.next_stage();
        continue;
      }
      const int64_t s = pack->crop_size();
      bool coarse = o.coarse_size > 0 && state.fine_from < 0;
      if (coarse && state.stage_step >= static_cast<int64_t>(o.coarse_fraction * spec.steps)) {
        state.fine_from = state.stage_step;
        coarse = false;
      }
      const Clock::time_point ts = Clock::now();
      const int64_t crop_used = coarse ? o.coarse_size : s;
      const StepLosses local = local_step(spec.kind, crop_used);
      const double dt = seconds_since(ts);

      // One all-reduce carries the gradients, the loss terms and the flags.
      std::vector<torch::Tensor> grads;
      for (auto& p : trained.tensors)
        if (p.grad().defined()) grads.push_back(p.grad());
      std::vector<float> extra;
      for (double v : local.values())
        extra.push_back(static_cast<float>(std::isfinite(v) ? v : 0.0));
      extra.resize(n_terms + kFlags, 0.f);
      float* flags = extra.data() + n_terms;
      flags[kSignal] = o.stop && o.stop->load() ? 1.f : 0.f;
      flags[kNonFinite] = std::isfinite(local.total) ? 0.f : 1.f;  // every rank stops together
      if (rank == 0) {
        const double now = seconds_since(t0);
        flags[kBudget] = o.max_minutes > 0 && now >= o.max_minutes * 60 ? 1.f : 0.f;
        flags[kStopAfter] = o.stop_after > 0 && state.step + 1 >= o.stop_after ? 1.f : 0.f;
        flags[kEndStage] =
            spec.max_minutes > 0 && state.stage_seconds + dt >= spec.max_minutes * 60 ? 1.f : 0.f;
        flags[kFine] = coarse && spec.max_minutes > 0 &&
                               state.stage_seconds + dt >= o.coarse_fraction * spec.max_minutes * 60
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
      const std::vector<float> agreed(ex_cpu.data_ptr<float>(),
                                      ex_cpu.data_ptr<float>() + ex_cpu.numel());
      std::vector<double> vals(n_terms);
      const std::vector<double> lv = local.values();
      for (size_t k = 0; k < n_terms; ++k) vals[k] = std::isfinite(lv[k]) ? agreed[k] / world : NAN;
      const StepLosses l = StepLosses::from_values(vals);
      if (agreed[n_terms + kNonFinite] > 0 || !std::isfinite(l.total))
        fail("the loss is not finite at step " + std::to_string(state.step + 1) + " (stage " +
             stage_name(spec.kind) + "); the last checkpoint is in " + o.out_dir +
             " (try a lower --lr)");
      const double lr_now = o.lr * lr_factor(o.lr_schedule, state.stage_step, spec.steps);
      set_adam_rates(lr_now);
      adam->step();

      ++state.step;
      ++state.stage_step;
      state.stage_seconds += dt;
      const float* fl = agreed.data() + n_terms;
      if (fl[kFine] > 0 && state.fine_from < 0) state.fine_from = state.stage_step;
      const double seconds_now = state.seconds_before + seconds_since(t0);
      if (rank == 0) {
        history.append(
            {state.step, stage_name(spec.kind), crop_used, l.values(), lr_now, seconds_now});
        if (o.progress)
          o.progress(progress_report(state, o.stages, stage_name(spec.kind), crop_used, l,
                                     seconds_now, seconds_since(t0), state.step - step0,
                                     o.max_minutes));
      }
      if (fl[kEndStage] > 0 || state.stage_step >= spec.steps) {
        if (state.stage_step < spec.steps)
          say(std::string("stage ") + stage_name(spec.kind) + " ended by its time budget after " +
              std::to_string(state.stage_step) + " steps");
        state.next_stage();
      }
      if (fl[kSignal] > 0 || fl[kBudget] > 0 || fl[kStopAfter] > 0) {
        r.stopped_by = fl[kSignal] > 0 ? "signal" : fl[kBudget] > 0 ? "time budget" : "stop-after";
        break;
      }
      // Checkpoints by steps, and by time so that slow steps lose little on a crash (rank 0
      // alone writes, so the time rule needs no agreement between ranks).
      const bool by_time = o.checkpoint_minutes > 0 && rank == 0 &&
                           seconds_since(last_checkpoint) >= o.checkpoint_minutes * 60;
      if ((state.step % o.checkpoint_every == 0 || by_time) && state.stage < o.stages.size()) {
        write_outputs(r, seconds_now, true);
        last_checkpoint = Clock::now();
      }
    }
    r.finished = state.stage >= o.stages.size();
    r.steps = state.step;
    write_outputs(r, state.seconds_before + seconds_since(t0), true);
    r.seconds = state.seconds_before + seconds_since(t0);
    r.final_losses = history.recent_means(50);
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
int64_t Trainer::step() const { return impl_->state.step; }
int64_t Trainer::total_steps() const { return impl_->state.total_steps(impl_->o.stages); }

}  // namespace vidcolor
