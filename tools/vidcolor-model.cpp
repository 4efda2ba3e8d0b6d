// vidcolor-model: makes and inspects vidcolor model files.
//   init: a fresh model (random f and g) whose backbone carries the ImageNet-pretrained
//         MobileNetV2 converted from its TensorFlow.js export: the starting point of training.
//   info: metadata, config, provenance, tensor and parameter counts, size; and whether the file
//         loads as a model.
//   combine: f of one model file with g of another (same config): g is trained with f frozen,
//         so a g trained on one f can be paired with a retrained f and both scored.
//   set: the same networks with another operating point (inference sizes, default candidate).
//   widen: the same model with a wider f that computes exactly what the narrow one did (new
//         units start with a zero output side), so training can continue with more capacity.
//   average: the weight average of model files of one config (checkpoints of a run, or runs
//         from one start with other seeds), so a choice does not rest on one seed's luck.
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "common/flag_parser.hpp"
#include "vidcolor-config.h"
#include "vidcolor/model/backbone_weights.hpp"
#include "vidcolor/model/class_decoding.hpp"
#include "vidcolor/model/model_average.hpp"
#include "vidcolor/core/error.hpp"
#include "vidcolor/model/model_file.hpp"
#include "vidcolor/model/widen.hpp"

namespace {

// Each command's options and flags, declared once: parsing and the usage text come from here.
struct Cli {
  struct {
    std::string backbone, out, config = "fast";
    unsigned long seed = 0;
  } init;
  std::vector<std::string> info_files;
  struct {
    std::string f, g, out;
  } combine;
  struct {
    std::vector<std::string> in;
    std::string out;
    int inference_size = -1, refine_inference_size = -1;  // -1 = keep
    int default_candidate = -2;                           // -2 = keep, -1 = none
    double class_temperature = 0;                         // 0 = keep
    double class_debias = -1;                             // -1 = keep
    double class_mode_radius = -1;                        // -1 = keep, 0 = annealed mean
    double backbone_input_scale = 0;                      // 0 = keep
  } set;
  struct {
    std::vector<std::string> in;
    std::vector<int> channels;
    unsigned long seed = 0;
    std::string out;
  } widen;
  struct {
    std::vector<std::string> in;
    std::string out;
  } average;

  vctools::FlagParser init_flags{
      "vidcolor-model init --backbone PATH/model.json [--config fast|quality] [--seed N] -o "
      "OUT.safetensors"};
  vctools::FlagParser info_flags{"vidcolor-model info FILE"};
  vctools::FlagParser combine_flags{
      "vidcolor-model combine --f MODEL_A --g MODEL_B -o OUT.safetensors"};
  vctools::FlagParser set_flags{
      "vidcolor-model set FILE [--inference-size N] [--refine-inference-size N] "
      "[--default-candidate N] "
      "[--class-temperature T] [--class-debias B] [--class-mode-radius R] -o OUT.safetensors"};
  vctools::FlagParser widen_flags{
      "vidcolor-model widen FILE --f-channels C0,C1,... [--seed N] -o OUT.safetensors"};
  vctools::FlagParser average_flags{"vidcolor-model average FILE FILE... -o OUT.safetensors"};

  Cli() {
    init_flags.intro(
        "init: a new model: f and g randomly initialised, f's backbone loaded from the\n"
        "ImageNet-pretrained MobileNetV2-0.35 TensorFlow.js export (model.json + weights.bin, "
        "e.g.\n"
        "shared/data/weights/mobilenetv2-0.35/model.json)\n");
    init_flags.flag("--backbone", "PATH/model.json", "the backbone's TF.js export", &init.backbone);
    init_flags.flag("--config", "NAME", "the architecture: fast or quality", &init.config)
        .choices({"fast", "quality"});
    init_flags.flag("--seed", "N", "seed of the random initialisation", &init.seed);
    init_flags.flag("-o, --output", "OUT.safetensors", "the model file to write", &init.out);

    info_flags.intro(
        "info: prints a model file's metadata, config, provenance, tensor count, parameter count\n"
        "and size, and checks that it loads (exit 1 if it does not)\n");
    info_flags.positional("FILE", "the model file", &info_files, 1);

    combine_flags.intro(
        "combine: f of MODEL_A with g of MODEL_B (g's architecture must match; MODEL_A's "
        "inference\n"
        "sizes and default candidate); the provenance keeps both\n");
    combine_flags.flag("--f", "MODEL_A", "the file whose f (and operating point) to take",
                       &combine.f);
    combine_flags.flag("--g", "MODEL_B", "the file whose g to take", &combine.g);
    combine_flags.flag("-o, --output", "OUT.safetensors", "the model file to write", &combine.out);

    set_flags.intro(
        "set: the same networks with another operating point; the provenance keeps the old "
        "config\n");
    set_flags.positional("FILE", "the model file to start from", &set.in, 1);
    set_flags.flag("--inference-size", "N", "the short side f (and g) run at", &set.inference_size)
        .range(0, 4096)
        .default_text("unchanged");
    set_flags
        .flag("--refine-inference-size", "N", "the short side g runs at (0 = as f)",
              &set.refine_inference_size)
        .range(0, 4096)
        .default_text("unchanged");
    set_flags
        .flag("--default-candidate", "N",
              "the candidate the elements show when theirs is auto (-1 = none: the most saturated)",
              &set.default_candidate)
        .range(-1, 15)
        .default_text("unchanged");
    set_flags
        .flag("--class-temperature", "T",
              "the temperature of the annealed mean that decodes f's chroma classes (lower = more "
              "saturated)",
              &set.class_temperature)
        .above(0)
        .default_text("unchanged");
    set_flags
        .flag("--class-debias", "B",
              "how far decoding f's chroma classes undoes the training's class rebalancing: 0 = "
              "not (vivid, biased to rare colours) .. 1 = fully (the data's posterior: accurate, "
              "duller)",
              &set.class_debias)
        .range(0, 1)
        .default_text("unchanged");
    set_flags
        .flag("--class-mode-radius", "R",
              "decode f's chroma classes by the mean near the distribution's mode, within a "
              "Gaussian of sigma R in Lab units (a pixel torn between navy and maroon gets one, "
              "not purple); 0 = the annealed mean",
              &set.class_mode_radius)
        .range(0, 1000)
        .default_text("unchanged");
    set_flags
        .flag("--backbone-input-scale", "S",
              "f's backbone sees f's input resized by S (1 = as is): finer semantics for the "
              "backbone's cost times S squared; f's other weights learned one scale, so train "
              "on from the file this writes (vidcolor-train --init)",
              &set.backbone_input_scale)
        .range(1, 4)
        .default_text("unchanged");
    set_flags.flag("-o, --output", "OUT.safetensors", "the model file to write", &set.out);

    widen_flags.intro(
        "widen: the same model with more channels per level in f's U-Net; the wider f computes\n"
        "exactly what FILE's did (Net2Net: the new units' outputs start at zero) and training\n"
        "continues from it with `vidcolor-train --init OUT`\n");
    widen_flags.positional("FILE", "the model file to start from", &widen.in, 1);
    widen_flags.flag("--f-channels", "C0,C1,...",
                     "f's channels per level, as many levels as FILE's and none narrower",
                     [this](const std::string& v) {
                       widen.channels.clear();
                       size_t at = 0;
                       while (at <= v.size()) {
                         const size_t comma = std::min(v.find(',', at), v.size());
                         const std::string item = v.substr(at, comma - at);
                         size_t used = 0;
                         const int c = std::stoi(item, &used);
                         if (used != item.size() || c <= 0)
                           throw vctools::UsageError("not a channel count: '" + item + "'");
                         widen.channels.push_back(c);
                         at = comma + 1;
                       }
                     });
    widen_flags.flag("--seed", "N", "seed of the new units' random input weights", &widen.seed);
    widen_flags.flag("-o, --output", "OUT.safetensors", "the model file to write", &widen.out);

    average_flags.intro(
        "average: the element-wise mean of the files' weights (f and g, BatchNorm statistics\n"
        "and the class prior included): checkpoints of one run, or runs from one start with\n"
        "other seeds; every file must have the same config (architecture and operating point)");
    average_flags.positional("FILE", "the model files to average (two or more)", &average.in);
    average_flags.flag("-o, --output", "OUT.safetensors", "the model file to write", &average.out);
  }

  // The synopsis of every command, then each command's text and flags.
  std::string usage() const {
    const vctools::FlagParser* all[] = {&init_flags, &info_flags,  &combine_flags,
                                        &set_flags,  &widen_flags, &average_flags};
    std::string u;
    for (const auto* p : all) {
      const std::string first = p->usage().substr(0, p->usage().find('\n') + 1);
      u += u.empty() ? first : "       " + first.substr(7);
    }
    for (const auto* p : all) {
      const std::string full = p->usage();
      u += full.substr(full.find('\n') + 1);
    }
    return u;
  }
};

int cmd_init(const Cli& cli) {
  const std::string& backbone = cli.init.backbone;
  const std::string& out = cli.init.out;
  const std::string& config = cli.init.config;
  const uint64_t seed = cli.init.seed;
  if (backbone.empty()) throw vctools::UsageError("init needs --backbone PATH/model.json");
  if (out.empty()) throw vctools::UsageError("init needs -o OUT.safetensors");
  const vidcolor::ModelConfig cfg =
      config == "quality" ? vidcolor::ModelConfig::quality() : vidcolor::ModelConfig::fast();

  torch::manual_seed(seed);
  vidcolor::Model m = vidcolor::make_model(cfg);
  vidcolor::load_mobilenetv2_tfjs(m.f->backbone, backbone);
  m.provenance = {
      {"created_by", std::string("vidcolor-model init (vidcolor ") + VIDCOLOR_VERSION + ")"},
      {"trained", false},
      {"seed", seed},
      {"config_preset", config},
      {"backbone",
       {{"weights", "ImageNet-pretrained MobileNetV2 alpha=0.35 (Keras Applications, Apache 2.0)"},
        {"source", std::filesystem::path(backbone).filename().string()}}},
  };
  vidcolor::save_model(m, out);
  const vidcolor::ModelFileInfo info = vidcolor::read_model_info(out);
  std::printf("wrote %s: %zu tensors, %lld parameters, %.2f MB\n", out.c_str(), info.tensor_count,
              static_cast<long long>(info.parameter_count), info.tensor_bytes / 1e6);
  return 0;
}

void print_json_field(const char* label, const std::string& text) {
  try {
    std::printf("%s:\n%s\n", label, nlohmann::json::parse(text).dump(2).c_str());
  } catch (const nlohmann::json::exception&) {
    std::printf("%s (not JSON): %s\n", label, text.c_str());
  }
}

int cmd_info(const Cli& cli) {
  if (cli.info_files.size() != 1) throw vctools::UsageError("info takes exactly one FILE");
  const std::string& path = cli.info_files[0];
  const vidcolor::ModelFileInfo info = vidcolor::read_model_info(path);
  std::printf("file: %s\n", path.c_str());
  for (const auto& [k, v] : info.metadata)
    if (k != "config" && k != "provenance") std::printf("%s: %s\n", k.c_str(), v.c_str());
  if (info.metadata.count("config")) print_json_field("config", info.metadata.at("config"));
  if (info.metadata.count("provenance"))
    print_json_field("provenance", info.metadata.at("provenance"));
  std::printf("tensors: %zu\n", info.tensor_count);
  std::printf("parameters: %lld (+ %lld BatchNorm statistics)\n",
              static_cast<long long>(info.parameter_count),
              static_cast<long long>(info.buffer_count));
  std::printf("tensor data: %llu bytes (%.2f MB)\n",
              static_cast<unsigned long long>(info.tensor_bytes), info.tensor_bytes / 1e6);
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec) std::printf("file size: %llu bytes\n", static_cast<unsigned long long>(size));
  try {
    const vidcolor::Model m = vidcolor::load_model(path);
    int64_t f = 0, g = 0;
    for (const auto& p : m.f->parameters()) f += p.numel();
    for (const auto& p : m.g->parameters()) g += p.numel();
    std::printf("model: loads (f: %lld parameters of which backbone %lld, g: %lld)\n",
                static_cast<long long>(f), static_cast<long long>([&] {
                  int64_t b = 0;
                  for (const auto& p : m.f->backbone->parameters()) b += p.numel();
                  return b;
                }()),
                static_cast<long long>(g));
  } catch (const vidcolor::Error& e) {
    std::printf("model: does NOT load: %s\n", e.what());
    return 1;
  }
  return 0;
}

int cmd_combine(const Cli& cli) {
  const std::string &f_path = cli.combine.f, &g_path = cli.combine.g, &out = cli.combine.out;
  if (f_path.empty() || g_path.empty() || out.empty())
    throw vctools::UsageError("combine needs --f MODEL_A, --g MODEL_B and -o OUT.safetensors");
  vidcolor::Model a = vidcolor::load_model(f_path);
  const vidcolor::Model b = vidcolor::load_model(g_path);
  // B's g must fit A's config: g's layers depend only on its channels and colour space. f's
  // architecture (backbone, candidates, chroma classes) comes whole from A, as does the
  // operating point (inference sizes, default candidate).
  const bool g_fits = a.config.refiner_channels == b.config.refiner_channels &&
                      a.config.color_space == b.config.color_space;
  if (!g_fits)
    throw vidcolor::Error("combine: " + f_path + " and " + g_path +
                          " have different architectures of g (" + a.config.to_json().dump() +
                          " vs " + b.config.to_json().dump() + ")");
  a.g = b.g;
  a.provenance = {
      {"created_by", std::string("vidcolor-model combine (vidcolor ") + VIDCOLOR_VERSION + ")"},
      {"f_from", {{"file", f_path}, {"provenance", a.provenance}}},
      {"g_from", {{"file", g_path}, {"provenance", b.provenance}}},
  };
  vidcolor::save_model(a, out);
  std::printf("wrote %s: f of %s, g of %s\n", out.c_str(), f_path.c_str(), g_path.c_str());
  return 0;
}

int cmd_set(const Cli& cli) {
  const std::string in = cli.set.in.empty() ? std::string() : cli.set.in[0];
  const std::string& out = cli.set.out;
  const int inference_size = cli.set.inference_size,
            refine_inference_size = cli.set.refine_inference_size;
  const int default_candidate = cli.set.default_candidate;
  const double class_temperature = cli.set.class_temperature, class_debias = cli.set.class_debias,
               class_mode_radius = cli.set.class_mode_radius,
               backbone_input_scale = cli.set.backbone_input_scale;
  if (in.empty() || out.empty()) throw vctools::UsageError("set needs FILE and -o OUT.safetensors");
  if (inference_size < 0 && refine_inference_size < 0 && default_candidate < -1 &&
      class_temperature == 0 && class_debias < 0 && class_mode_radius < 0 &&
      backbone_input_scale == 0)
    throw vctools::UsageError(
        "set: nothing to change (--inference-size, --refine-inference-size, --default-candidate, "
        "--class-temperature, --class-debias, --class-mode-radius, --backbone-input-scale)");
  vidcolor::Model m = vidcolor::load_model(in);
  const nlohmann::json before = m.config.to_json();
  if (inference_size >= 0) m.config.inference_size = inference_size;
  if (refine_inference_size >= 0) m.config.refine_inference_size = refine_inference_size;
  if (default_candidate >= -1) m.config.default_candidate = default_candidate;
  if (backbone_input_scale > 0) m.config.backbone_input_scale = backbone_input_scale;
  // The decoding settings of f's chroma classes: accepted and refused as the elements do.
  vidcolor::ClassDecoding decoding;
  if (class_temperature > 0) decoding.temperature = class_temperature;
  if (class_debias >= 0) decoding.debias = class_debias;
  if (class_mode_radius >= 0) decoding.mode_radius = class_mode_radius;
  try {
    m.config = vidcolor::with_class_decoding(m, decoding);
  } catch (const vidcolor::Error& e) {
    throw vidcolor::Error("set: " + in + ": " + e.what());
  }
  m.config = vidcolor::ModelConfig::from_json(m.config.to_json());  // the file's own validation
  m.provenance = {
      {"created_by", std::string("vidcolor-model set (vidcolor ") + VIDCOLOR_VERSION + ")"},
      {"config_before", before},
      {"from", {{"file", in}, {"provenance", m.provenance}}},
  };
  vidcolor::save_model(m, out);
  std::printf("wrote %s: the networks of %s, config %s\n", out.c_str(), in.c_str(),
              m.config.to_json().dump().c_str());
  return 0;
}

int cmd_widen(const Cli& cli) {
  const std::string in = cli.widen.in.empty() ? std::string() : cli.widen.in[0];
  const std::string& out = cli.widen.out;
  if (in.empty() || out.empty() || cli.widen.channels.empty())
    throw vctools::UsageError("widen needs FILE, --f-channels C0,C1,... and -o OUT.safetensors");
  const vidcolor::Model narrow = vidcolor::load_model(in);
  vidcolor::Model wide = vidcolor::widen_colorizer(narrow, cli.widen.channels, cli.widen.seed);
  wide.provenance = {
      {"created_by", std::string("vidcolor-model widen (vidcolor ") + VIDCOLOR_VERSION + ")"},
      {"colorizer_channels_before", narrow.config.colorizer_channels},
      {"seed", cli.widen.seed},
      {"from", {{"file", in}, {"provenance", narrow.provenance}}},
  };
  vidcolor::save_model(wide, out);
  std::printf("wrote %s: the model of %s with f's channels %s\n", out.c_str(), in.c_str(),
              nlohmann::json(wide.config.colorizer_channels).dump().c_str());
  return 0;
}

int cmd_average(const Cli& cli) {
  const std::vector<std::string>& in = cli.average.in;
  const std::string& out = cli.average.out;
  if (in.size() < 2 || out.empty())
    throw vctools::UsageError("average needs two or more FILEs and -o OUT.safetensors");
  std::vector<vidcolor::Model> models;
  nlohmann::json sources = nlohmann::json::array();
  for (const std::string& path : in) {
    models.push_back(vidcolor::load_model(path));
    sources.push_back({{"file", path}, {"provenance", models.back().provenance}});
  }
  vidcolor::Model avg = vidcolor::average_models(models);
  avg.provenance = {
      {"created_by", std::string("vidcolor-model average (vidcolor ") + VIDCOLOR_VERSION + ")"},
      {"mean_of", sources},
  };
  vidcolor::save_model(avg, out);
  std::printf("wrote %s: the mean of %zu models\n", out.c_str(), in.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  Cli cli;
  try {
    if (args.empty() || args[0] == "-h" || args[0] == "--help") {
      std::fputs(cli.usage().c_str(), args.empty() ? stderr : stdout);
      return args.empty() ? 2 : 0;
    }
    const struct {
      const char* name;
      vctools::FlagParser* flags;
      int (*run)(const Cli&);
    } commands[] = {
        {"init", &cli.init_flags, cmd_init},          {"info", &cli.info_flags, cmd_info},
        {"combine", &cli.combine_flags, cmd_combine}, {"set", &cli.set_flags, cmd_set},
        {"widen", &cli.widen_flags, cmd_widen},       {"average", &cli.average_flags, cmd_average}};
    for (const auto& c : commands) {
      if (args[0] != c.name) continue;
      if (!c.flags->parse(args, 1)) {
        std::fputs(cli.usage().c_str(), stdout);
        return 0;
      }
      return c.run(cli);
    }
    throw vctools::UsageError("unknown command '" + args[0] + "'");
  } catch (const vctools::UsageError& e) {
    std::fprintf(stderr, "vidcolor-model: %s\n\n%s", e.what(), cli.usage().c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vidcolor-model: %s\n", e.what());
    return 1;
  }
}
