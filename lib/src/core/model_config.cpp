#include "vidcolor/core/model_config.hpp"

#include <algorithm>
#include <cmath>

#include "vidcolor/core/error.hpp"

namespace vidcolor {

nlohmann::json ModelConfig::to_json() const {
  nlohmann::json j = {{"backbone", backbone},
                      {"candidates", candidates},
                      {"colorizer_channels", colorizer_channels},
                      {"refiner_channels", refiner_channels},
                      {"inference_size", inference_size},
                      {"color_space", color_space}};
  // Only when set, so files without it (all before 2026-11-26) keep their exact config JSON.
  if (refine_inference_size > 0) j["refine_inference_size"] = refine_inference_size;
  if (backbone_input_scale != 1.0) j["backbone_input_scale"] = backbone_input_scale;
  if (default_candidate >= 0) j["default_candidate"] = default_candidate;
  if (chroma_classes > 0) {
    j["chroma_classes"] = chroma_classes;
    j["class_temperature"] = class_temperature;
    if (class_debias != 0.0) j["class_debias"] = class_debias;
    if (class_mode_radius != 0.0) j["class_mode_radius"] = class_mode_radius;
  }
  return j;
}

namespace {
template <typename T>
T field(const nlohmann::json& j, const char* name) {
  if (!j.contains(name)) throw Error(std::string("model config: missing field \"") + name + "\"");
  try {
    return j.at(name).get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("model config: field \"") + name + "\" has the wrong type (" +
                e.what() + ")");
  }
}

void check_channels(const std::vector<int>& ch, size_t min_levels, size_t max_levels,
                    const char* name) {
  if (ch.size() < min_levels || ch.size() > max_levels)
    throw Error(std::string("model config: \"") + name + "\" needs " + std::to_string(min_levels) +
                ".." + std::to_string(max_levels) + " levels, got " + std::to_string(ch.size()));
  for (int c : ch)
    if (c < 1 || c > 4096)
      throw Error(std::string("model config: \"") + name + "\" has an invalid channel count " +
                  std::to_string(c));
}
}  // namespace

ModelConfig ModelConfig::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw Error("model config: not a JSON object");
  ModelConfig c;
  c.backbone = field<std::string>(j, "backbone");
  c.candidates = field<int>(j, "candidates");
  c.colorizer_channels = field<std::vector<int>>(j, "colorizer_channels");
  c.refiner_channels = field<std::vector<int>>(j, "refiner_channels");
  c.inference_size = field<int>(j, "inference_size");
  c.color_space = field<std::string>(j, "color_space");
  try {
    backbone_spec(c.backbone);
  } catch (const Error& e) {
    throw Error(std::string("model config: ") + e.what());
  }
  if (j.contains("backbone_input_scale")) {
    c.backbone_input_scale = field<double>(j, "backbone_input_scale");
    if (!(c.backbone_input_scale >= 1 && c.backbone_input_scale <= 4))
      throw Error("model config: backbone_input_scale must be 1..4, got " +
                  std::to_string(c.backbone_input_scale));
  }
  if (c.candidates < 1 || c.candidates > 16)
    throw Error("model config: candidates must be 1..16, got " + std::to_string(c.candidates));
  check_channels(c.colorizer_channels, 3, 5, "colorizer_channels");
  check_channels(c.refiner_channels, 2, 4, "refiner_channels");
  if (c.inference_size < 16 || c.inference_size > 4096)
    throw Error("model config: inference_size must be 16..4096, got " +
                std::to_string(c.inference_size));
  if (j.contains("refine_inference_size")) {
    c.refine_inference_size = field<int>(j, "refine_inference_size");
    if (c.refine_inference_size != 0 &&
        (c.refine_inference_size < 16 || c.refine_inference_size > 4096))
      throw Error("model config: refine_inference_size must be 0 or 16..4096, got " +
                  std::to_string(c.refine_inference_size));
  }
  if (j.contains("default_candidate")) {
    c.default_candidate = field<int>(j, "default_candidate");
    if (c.default_candidate < -1 || c.default_candidate >= c.candidates)
      throw Error("model config: default_candidate must be -1 (none) or 0.." +
                  std::to_string(c.candidates - 1) + ", got " +
                  std::to_string(c.default_candidate));
  }
  if (j.contains("chroma_classes")) {
    c.chroma_classes = field<int>(j, "chroma_classes");
    if (c.chroma_classes != 0 && c.chroma_classes != 313)
      throw Error("model config: chroma_classes must be 0 (none) or 313 (Zhang's ab bins), got " +
                  std::to_string(c.chroma_classes));
  }
  if (j.contains("class_temperature")) {
    c.class_temperature = field<double>(j, "class_temperature");
    if (!(c.class_temperature >= 0.01 && c.class_temperature <= 10))
      throw Error("model config: class_temperature must be 0.01..10, got " +
                  std::to_string(c.class_temperature));
  }
  if (j.contains("class_debias")) {
    c.class_debias = field<double>(j, "class_debias");
    if (!(c.class_debias >= 0 && c.class_debias <= 1))
      throw Error("model config: class_debias must be 0..1, got " + std::to_string(c.class_debias));
  }
  if (j.contains("class_mode_radius")) {
    c.class_mode_radius = field<double>(j, "class_mode_radius");
    if (!(c.class_mode_radius >= 0 && c.class_mode_radius <= 1000))
      throw Error("model config: class_mode_radius must be 0..1000, got " +
                  std::to_string(c.class_mode_radius));
  }
  if (c.color_space != "ycbcr-bt601-full")
    throw Error("model config: unknown color space \"" + c.color_space + "\"");
  return c;
}

const BackboneSpec& backbone_spec(const std::string& name) {
  static const BackboneSpec kBackbones[] = {{"mobilenetv2-0.35", 0.35, -1.0, 1.0},
                                            {"mobilenetv2-1.0-nsfwjs", 1.0, 0.0, 1.0}};
  for (const BackboneSpec& b : kBackbones)
    if (name == b.name) return b;
  std::string known;
  for (const BackboneSpec& b : kBackbones) known += std::string(known.empty() ? "" : ", ") + b.name;
  throw Error("unknown backbone \"" + name + "\" (known: " + known + ")");
}

// Sized for real time on a 2-core CPU (docs/BENCHMARKS.md): at 854x480 the nets run at 192x112.
// f keeps 4 U-Net levels (the deepest at stride 8 takes the backbone's stride 8, 16 and 32
// features), g is thin: on chroma it only has to blend and correct smooth fields.
ModelConfig ModelConfig::fast() {
  ModelConfig c;
  c.colorizer_channels = {12, 24, 32, 48};
  c.refiner_channels = {8, 16, 24};
  c.inference_size = 112;
  c.chroma_classes = 313;
  return c;
}

ModelConfig ModelConfig::quality() {
  ModelConfig c;
  c.colorizer_channels = {32, 64, 96, 128, 192};
  c.refiner_channels = {32, 48, 64};
  c.inference_size = 288;
  c.chroma_classes = 313;
  return c;
}

void ModelConfig::inference_dims(int width, int height, int* out_width, int* out_height) const {
  const int short_side = std::max(1, std::min(width, height));
  const double scale = std::min(1.0, static_cast<double>(inference_size) / short_side);
  auto round16 = [](double v) {
    return std::max(16, static_cast<int>(std::lround(v / 16.0)) * 16);
  };
  *out_width = round16(width * scale);
  *out_height = round16(height * scale);
}

void ModelConfig::refine_inference_dims(int width, int height, int* out_width,
                                        int* out_height) const {
  ModelConfig g = *this;
  g.inference_size = refine_size();
  g.inference_dims(width, height, out_width, out_height);
}

bool ModelConfig::operator==(const ModelConfig& o) const { return to_json() == o.to_json(); }

}  // namespace vidcolor
