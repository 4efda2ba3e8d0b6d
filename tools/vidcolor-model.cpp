// vidcolor-model: makes and inspects vidcolor model files.
//   init: a fresh model (random f and g) whose backbone carries the ImageNet-pretrained
//         MobileNetV2 converted from its TensorFlow.js export: the starting point of training.
//   info: metadata, config, provenance, tensor and parameter counts, size; and whether the file
//         loads as a model.
//   combine: f of one model file with g of another (same config): g is trained with f frozen,
//         so a g trained on one f can be paired with a retrained f and both scored.
//   set: the same networks with another operating point (inference sizes, default candidate).
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "vidcolor-config.h"
#include "vidcolor/model/backbone_weights.hpp"
#include "vidcolor/core/error.hpp"
#include "vidcolor/model/model_file.hpp"

namespace {

const char* kUsage =
    "usage: vidcolor-model init --backbone PATH/model.json [--config fast|quality] [--seed N]\n"
    "                           -o OUT.safetensors\n"
    "       vidcolor-model info FILE\n"
    "       vidcolor-model combine --f MODEL_A --g MODEL_B -o OUT.safetensors\n"
    "       vidcolor-model set FILE [--inference-size N] [--refine-inference-size N]\n"
    "                          [--default-candidate N] [--class-temperature T]\n"
    "                          -o OUT.safetensors\n"
    "\n"
    "  init   a new model: f and g randomly initialised (seed N, default 0), f's backbone\n"
    "         loaded from the ImageNet-pretrained MobileNetV2-0.35 TensorFlow.js export\n"
    "         (model.json + weights.bin, e.g. shared/data/weights/mobilenetv2-0.35/model.json)\n"
    "  info   prints a model file's metadata, config, provenance, tensor count, parameter\n"
    "         count and size, and checks that it loads (exit 1 if it does not)\n"
    "  combine  f of MODEL_A with g of MODEL_B (g's architecture must match; MODEL_A's inference\n"
    "         sizes and default candidate); the provenance keeps both\n"
    "  set    the same networks with another operating point: the short side f (and g)\n"
    "         run at, and the one g runs at (0 = as f); the candidate the elements show\n"
    "         when theirs is auto (-1 = none: the most saturated); the temperature of\n"
    "         the annealed mean that decodes f's chroma classes (lower = more saturated);\n"
    "         the provenance keeps the old config\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string next_arg(const std::vector<std::string>& args, size_t* i) {
  if (*i + 1 >= args.size()) throw UsageError(args[*i] + " needs a value");
  return args[++*i];
}

int cmd_init(const std::vector<std::string>& args) {
  std::string backbone, out, config = "fast";
  uint64_t seed = 0;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--backbone") backbone = next_arg(args, &i);
    else if (a == "-o" || a == "--output") out = next_arg(args, &i);
    else if (a == "--config") config = next_arg(args, &i);
    else if (a == "--seed") {
      const std::string v = next_arg(args, &i);
      char* end = nullptr;
      seed = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || v[0] == '-') throw UsageError("--seed needs a non-negative integer, got '" + v + "'");
    } else throw UsageError("init: unknown argument '" + a + "'");
  }
  if (backbone.empty()) throw UsageError("init needs --backbone PATH/model.json");
  if (out.empty()) throw UsageError("init needs -o OUT.safetensors");
  vidcolor::ModelConfig cfg;
  if (config == "fast") cfg = vidcolor::ModelConfig::fast();
  else if (config == "quality") cfg = vidcolor::ModelConfig::quality();
  else throw UsageError("--config must be fast or quality, got '" + config + "'");

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

int cmd_info(const std::vector<std::string>& args) {
  if (args.size() != 2) throw UsageError("info takes exactly one FILE");
  const std::string& path = args[1];
  const vidcolor::ModelFileInfo info = vidcolor::read_model_info(path);
  std::printf("file: %s\n", path.c_str());
  for (const auto& [k, v] : info.metadata)
    if (k != "config" && k != "provenance") std::printf("%s: %s\n", k.c_str(), v.c_str());
  if (info.metadata.count("config")) print_json_field("config", info.metadata.at("config"));
  if (info.metadata.count("provenance")) print_json_field("provenance", info.metadata.at("provenance"));
  std::printf("tensors: %zu\n", info.tensor_count);
  std::printf("parameters: %lld (+ %lld BatchNorm statistics)\n",
              static_cast<long long>(info.parameter_count), static_cast<long long>(info.buffer_count));
  std::printf("tensor data: %llu bytes (%.2f MB)\n", static_cast<unsigned long long>(info.tensor_bytes),
              info.tensor_bytes / 1e6);
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec) std::printf("file size: %llu bytes\n", static_cast<unsigned long long>(size));
  try {
    const vidcolor::Model m = vidcolor::load_model(path);
    int64_t f = 0, g = 0;
    for (const auto& p : m.f->parameters()) f += p.numel();
    for (const auto& p : m.g->parameters()) g += p.numel();
    std::printf("model: loads (f: %lld parameters of which backbone %lld, g: %lld)\n",
                static_cast<long long>(f),
                static_cast<long long>([&] {
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

int cmd_combine(const std::vector<std::string>& args) {
  std::string f_path, g_path, out;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--f") f_path = next_arg(args, &i);
    else if (a == "--g") g_path = next_arg(args, &i);
    else if (a == "-o" || a == "--output") out = next_arg(args, &i);
    else throw UsageError("combine: unknown argument '" + a + "'");
  }
  if (f_path.empty() || g_path.empty() || out.empty())
    throw UsageError("combine needs --f MODEL_A, --g MODEL_B and -o OUT.safetensors");
  vidcolor::Model a = vidcolor::load_model(f_path);
  const vidcolor::Model b = vidcolor::load_model(g_path);
  // B's g must fit A's config: g's layers depend only on its channels and colour space. f's
  // architecture (backbone, candidates, chroma classes) comes whole from A, as does the
  // operating point (inference sizes, default candidate).
  const bool g_fits = a.config.refiner_channels == b.config.refiner_channels &&
                      a.config.color_space == b.config.color_space;
  if (!g_fits)
    throw vidcolor::Error("combine: " + f_path + " and " + g_path + " have different architectures of g (" +
                          a.config.to_json().dump() + " vs " + b.config.to_json().dump() + ")");
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

int cmd_set(const std::vector<std::string>& args) {
  std::string in, out;
  int inference_size = -1, refine_inference_size = -1;  // -1 = keep
  int default_candidate = -2;                            // -2 = keep, -1 = none
  double class_temperature = 0;                          // 0 = keep
  // The integer value of the flag at *i in lo..hi, else a usage error saying what it needs.
  auto int_arg = [&](size_t* i, long lo, long hi, const std::string& needs) {
    const std::string flag = args[*i], v = next_arg(args, i);
    char* end = nullptr;
    const long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n < lo || n > hi)
      throw UsageError(flag + " needs " + needs + ", got '" + v + "'");
    return static_cast<int>(n);
  };
  auto size_arg = [&](size_t* i) { return int_arg(i, 0, 4096, "a size 0..4096"); };
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--inference-size") inference_size = size_arg(&i);
    else if (a == "--refine-inference-size") refine_inference_size = size_arg(&i);
    else if (a == "--default-candidate")
      default_candidate = int_arg(&i, -1, 15, "-1 (none: the most saturated) or a candidate index");
    else if (a == "--class-temperature") {
      const std::string v = next_arg(args, &i);
      char* end = nullptr;
      class_temperature = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' || !(class_temperature > 0))
        throw UsageError("--class-temperature needs a positive number, got '" + v + "'");
    } else if (a == "-o" || a == "--output") out = next_arg(args, &i);
    else if (!a.empty() && a[0] != '-' && in.empty()) in = a;
    else throw UsageError("set: unknown argument '" + a + "'");
  }
  if (in.empty() || out.empty()) throw UsageError("set needs FILE and -o OUT.safetensors");
  if (inference_size < 0 && refine_inference_size < 0 && default_candidate < -1 && class_temperature == 0)
    throw UsageError(
        "set: nothing to change (--inference-size, --refine-inference-size, --default-candidate, "
        "--class-temperature)");
  vidcolor::Model m = vidcolor::load_model(in);
  const nlohmann::json before = m.config.to_json();
  if (inference_size >= 0) m.config.inference_size = inference_size;
  if (refine_inference_size >= 0) m.config.refine_inference_size = refine_inference_size;
  if (default_candidate >= -1) m.config.default_candidate = default_candidate;
  if (class_temperature > 0) {
    if (m.config.chroma_classes == 0)
      throw vidcolor::Error("set: " + in + " has no chroma classes, so no class temperature");
    m.config.class_temperature = class_temperature;
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

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty() || args[0] == "-h" || args[0] == "--help") {
      std::fputs(kUsage, args.empty() ? stderr : stdout);
      return args.empty() ? 2 : 0;
    }
    if (args[0] == "init") return cmd_init(args);
    if (args[0] == "info") return cmd_info(args);
    if (args[0] == "combine") return cmd_combine(args);
    if (args[0] == "set") return cmd_set(args);
    throw UsageError("unknown command '" + args[0] + "'");
  } catch (const UsageError& e) {
    std::fprintf(stderr, "vidcolor-model: %s\n\n%s", e.what(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vidcolor-model: %s\n", e.what());
    return 1;
  }
}
