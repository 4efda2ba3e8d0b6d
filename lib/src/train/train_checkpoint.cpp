// vidcolor-train's checkpoint (see the header for the format).
#include "train/train_checkpoint.hpp"

#include <map>
#include <memory>
#include <sstream>
#include <type_traits>

#include "train/train_fail.hpp"
#include "vidcolor/model/safetensors.hpp"

namespace vidcolor::train_detail {

namespace {

constexpr const char* kCheckpointFormat = "vidcolor-train-checkpoint";
constexpr int kCheckpointVersion = 1;

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

}  // namespace

nlohmann::json run_fingerprint(const TrainOptions& o, const TrainingPack& pack,
                               const ModelConfig& config, int world) {
  nlohmann::json packmeta = nlohmann::json::object();
  for (const auto& [k, v] : pack.metadata()) packmeta[k] = v;
  nlohmann::json fp = {{"pack", packmeta},
                       {"stages", stages_to_string(o.stages)},
                       {"config", config.to_json()},
                       {"finetune_backbone", o.finetune_backbone},
                       {"weights", o.weights.to_json()},
                       {"lr", o.lr},
                       {"batch_size", o.batch_size},
                       {"seed", o.seed},
                       {"pair_every", o.pair_every},
                       {"coarse_size", o.coarse_size},
                       {"coarse_fraction", o.coarse_fraction},
                       {"world_size", world}};
  // Only when set, so that checkpoints written before the option still resume.
  if (o.diversity_samples > 0) fp["diversity_samples"] = o.diversity_samples;
  if (o.finetune_backbone && o.backbone_lr_scale != 1.0)
    fp["backbone_lr_scale"] = o.backbone_lr_scale;
  if (o.class_rebalance_mix != 0.5) fp["class_rebalance_mix"] = o.class_rebalance_mix;
  if (o.tone_gamma != 1.0) fp["tone_gamma"] = o.tone_gamma;
  if (o.grain != 0.0) fp["grain"] = o.grain;
  if (o.lr_schedule != LrSchedule::Constant) fp["lr_schedule"] = lr_schedule_name(o.lr_schedule);
  return fp;
}

void save_checkpoint(const std::string& path, const Model& model, torch::optim::Adam& adam,
                     const TrainedTensors& trained, const nlohmann::json& fingerprint,
                     const TrainState& state, double seconds_now) {
  std::map<std::string, torch::Tensor> t;
  for (const auto& [name, x] : model_tensors(model)) t["model/" + name] = x.detach();
  auto& states = adam.state();
  for (size_t i = 0; i < trained.tensors.size(); ++i) {
    const auto it = states.find(optimizer_state_key(states, trained.tensors[i]));
    if (it == states.end()) continue;  // not trained yet (e.g. g during f's stages)
    const auto& st = static_cast<const torch::optim::AdamParamState&>(*it->second);
    const std::string p = "adam/" + trained.names[i] + "/";
    t[p + "exp_avg"] = st.exp_avg();
    t[p + "exp_avg_sq"] = st.exp_avg_sq();
    t[p + "step"] = torch::tensor({st.step()}, torch::kInt64);
  }
  const nlohmann::json js = {{"step", state.step},
                             {"stage", state.stage},
                             {"stage_step", state.stage_step},
                             {"stage_seconds", state.stage_seconds},
                             {"fine_from", state.fine_from},
                             {"stage_done", state.stage_done},
                             {"seconds", seconds_now},
                             {"rng", "counter-based: (seed, rank, stage, stage_step)"}};
  write_safetensors(path, t,
                    {{"format", kCheckpointFormat},
                     {"version", std::to_string(kCheckpointVersion)},
                     {"options", fingerprint.dump()},
                     {"state", js.dump()}});
}

TrainState load_checkpoint(const std::string& path, const Model& model, torch::optim::Adam& adam,
                           const TrainedTensors& trained, const nlohmann::json& fingerprint,
                           torch::Device device) {
  SafetensorsFile f = read_safetensors(path);
  const auto meta = [&](const char* k) -> const std::string& {
    const auto it = f.metadata.find(k);
    if (it == f.metadata.end()) fail(path + ": not a vidcolor-train checkpoint (no \"" + k + "\")");
    return it->second;
  };
  if (meta("format") != kCheckpointFormat) fail(path + ": not a vidcolor-train checkpoint");
  if (meta("version") != std::to_string(kCheckpointVersion))
    fail(path + ": checkpoint version " + meta("version") + " is not supported");
  nlohmann::json saved, js;
  try {
    saved = nlohmann::json::parse(meta("options"));
    js = nlohmann::json::parse(meta("state"));
  } catch (const nlohmann::json::exception& e) {
    fail(path + ": bad checkpoint metadata: " + e.what());
  }
  for (const auto& [k, v] : fingerprint.items())
    if (!saved.contains(k) || saved[k] != v)
      fail(path + ": --resume needs the options of the interrupted run, but \"" + k + "\" was " +
           (saved.contains(k) ? saved[k].dump() : std::string("absent")) + " and is now " +
           v.dump());
  torch::NoGradGuard ng;
  for (auto& [name, x] : model_tensors(model)) {
    const auto it = f.tensors.find("model/" + name);
    if (it == f.tensors.end() || it->second.sizes() != x.sizes())
      fail(path + ": tensor model/" + name + " missing or of the wrong shape");
    torch::Tensor dst = x;  // shares the model's storage: the copy lands in the model
    dst.copy_(it->second);
  }
  auto& states = adam.state();
  for (size_t i = 0; i < trained.tensors.size(); ++i) {
    const torch::Tensor& param = trained.tensors[i];
    const std::string p = "adam/" + trained.names[i] + "/";
    const auto m = f.tensors.find(p + "exp_avg");
    if (m == f.tensors.end()) continue;
    const auto v = f.tensors.find(p + "exp_avg_sq");
    const auto s = f.tensors.find(p + "step");
    if (v == f.tensors.end() || s == f.tensors.end() || m->second.sizes() != param.sizes() ||
        v->second.sizes() != param.sizes() || s->second.numel() != 1)
      fail(path + ": incomplete Adam state of " + trained.names[i]);
    auto st = std::make_unique<torch::optim::AdamParamState>();
    st->step(s->second.item<int64_t>());
    st->exp_avg(m->second.to(device).clone());
    st->exp_avg_sq(v->second.to(device).clone());
    states[optimizer_state_key(states, param)] = std::move(st);
  }
  TrainState state;
  try {
    state.step = js.at("step").get<int64_t>();
    state.stage = js.at("stage").get<size_t>();
    state.stage_step = js.at("stage_step").get<int64_t>();
    state.stage_seconds = js.at("stage_seconds").get<double>();
    state.fine_from = js.at("fine_from").get<int64_t>();
    state.stage_done = js.at("stage_done").get<std::vector<int64_t>>();
    state.seconds_before = js.at("seconds").get<double>();
  } catch (const nlohmann::json::exception& e) {
    fail(path + ": bad checkpoint state: " + e.what());
  }
  return state;
}

}  // namespace vidcolor::train_detail
