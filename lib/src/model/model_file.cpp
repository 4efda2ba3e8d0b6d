#include "vidcolor/model/model_file.hpp"

#include <nlohmann/json.hpp>

#include <exception>

#include "vidcolor/core/error.hpp"
#include "vidcolor/model/safetensors.hpp"

namespace vidcolor {
namespace {

// The one tensor a file may lack: f's class prior (networks.hpp), zeros when absent.
constexpr const char* kOptionalClassPrior = "f.class_log_prior";

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw Error("model file '" + path + "': " + problem);
}

uint64_t tensor_bytes(const std::map<std::string, torch::Tensor>& tensors) {
  uint64_t n = 0;
  for (const auto& [name, t] : tensors) {
    (void)name;
    n += static_cast<uint64_t>(t.numel()) * t.element_size();
  }
  return n;
}

// A lower bound of the bytes of f and g for a config: every U-Net level l >= 1 has at least a
// 3x3 convolution from level l-1's channels to its own (float32). A file whose tensors are
// smaller cannot be that model, and refusing it first keeps a tiny hostile file from making
// us build (allocate) a huge network.
uint64_t min_model_bytes(const ModelConfig& c) {
  uint64_t params = 0;
  for (const std::vector<int>* ch : {&c.colorizer_channels, &c.refiner_channels})
    for (size_t l = 1; l < ch->size(); ++l)
      params += 9ull * static_cast<uint64_t>((*ch)[l - 1]) * static_cast<uint64_t>((*ch)[l]);
  return params * 4;
}

const std::string& meta(const SafetensorsFile& f, const std::string& key, const std::string& path) {
  const auto it = f.metadata.find(key);
  if (it == f.metadata.end()) fail(path, "metadata has no \"" + key + "\"");
  return it->second;
}

}  // namespace

void save_model(const Model& m, const std::string& path) {
  if (m.f.is_empty() || m.g.is_empty()) fail(path, "cannot save a model without f and g");
  if (!m.provenance.is_object()) fail(path, "provenance must be a JSON object");
  const std::map<std::string, std::string> metadata = {
      {"format", kModelFormatName},
      {"format_version", std::to_string(kModelFormatVersion)},
      {"config", m.config.to_json().dump()},
      {"provenance", m.provenance.dump()},
  };
  write_safetensors(path, model_tensors(m), metadata);
}

Model load_model(const std::string& path) {
  SafetensorsFile file = read_safetensors(path);
  if (!file.metadata.count("format"))
    fail(path, "no \"format\" in its metadata; not a vidcolor model file");
  const std::string& format = meta(file, "format", path);
  if (format != kModelFormatName)
    fail(path, "format is \"" + format + "\", not \"" + kModelFormatName + "\"");
  const std::string& version = meta(file, "format_version", path);
  if (version != std::to_string(kModelFormatVersion))
    fail(path, "format version \"" + version + "\" is not supported (this build reads version " +
                   std::to_string(kModelFormatVersion) + "); a newer vidcolor may read it");

  ModelConfig config;
  try {
    config = ModelConfig::from_json(nlohmann::json::parse(meta(file, "config", path)));
  } catch (const nlohmann::json::exception& e) {
    fail(path, std::string("\"config\" is not valid JSON (") + e.what() + ")");
  } catch (const Error& e) {
    fail(path, e.what());
  }
  nlohmann::json provenance = nlohmann::json::object();
  if (file.metadata.count("provenance")) {
    try {
      provenance = nlohmann::json::parse(file.metadata.at("provenance"));
    } catch (const nlohmann::json::exception& e) {
      fail(path, std::string("\"provenance\" is not valid JSON (") + e.what() + ")");
    }
    if (!provenance.is_object()) fail(path, "\"provenance\" is not a JSON object");
  }

  const uint64_t have = tensor_bytes(file.tensors), need = min_model_bytes(config);
  if (have < need)
    fail(path, "its tensors hold " + std::to_string(have) +
                   " bytes but its config needs at least " + std::to_string(need) +
                   " (truncated or mismatched config)");

  Model m;
  try {
    m = make_model(config);
  } catch (const std::exception& e) {
    fail(path, std::string("cannot build the networks of its config (") + e.what() + ")");
  }
  m.provenance = std::move(provenance);
  const std::map<std::string, torch::Tensor> expected = model_tensors(m);
  for (const auto& [name, t] : file.tensors)
    if (!expected.count(name))
      fail(path, "unexpected tensor \"" + name + "\" (not part of the model its config describes)");
  for (const auto& [name, dst] : expected) {
    const auto it = file.tensors.find(name);
    // Classed files of the morning of 2026-12-05 predate f's prior buffer: zeros (no debias).
    if (it == file.tensors.end() && name == kOptionalClassPrior) continue;
    if (it == file.tensors.end()) fail(path, "tensor \"" + name + "\" is missing");
    const torch::Tensor& src = it->second;
    if (src.scalar_type() != dst.scalar_type())
      fail(path, "tensor \"" + name + "\" has dtype " + safetensors_dtype_name(src.scalar_type()) +
                     ", expected " + safetensors_dtype_name(dst.scalar_type()));
    if (src.sizes() != dst.sizes())
      fail(path, "tensor \"" + name + "\" has shape " + c10::str(src.sizes()) + ", expected " +
                     c10::str(dst.sizes()));
    // A well-formed file can still hold garbage weights (a diverged run, flipped bytes): NaN
    // makes every frame silently neutral, so it is refused here, where the file is named.
    if (src.is_floating_point() && !torch::isfinite(src).all().item<bool>())
      fail(path, "tensor \"" + name + "\" holds NaN or infinite values (a corrupt file or a " +
                     "diverged training run)");
  }
  {
    torch::NoGradGuard no_grad;
    for (const auto& [name, dst] : expected) {
      torch::Tensor d = dst;  // a handle on the module's own tensor
      const auto it = file.tensors.find(name);
      if (it != file.tensors.end()) d.copy_(it->second);
    }
  }
  m.f->eval();
  m.g->eval();
  return m;
}

ModelFileInfo read_model_info(const std::string& path) {
  const SafetensorsFile file = read_safetensors(path);
  ModelFileInfo info;
  info.metadata = file.metadata;
  info.tensor_count = file.tensors.size();
  info.tensor_bytes = tensor_bytes(file.tensors);
  auto ends_with = [](const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  };
  for (const auto& [name, t] : file.tensors) {
    if (ends_with(name, ".running_mean") || ends_with(name, ".running_var") ||
        ends_with(name, ".num_batches_tracked") || name == kOptionalClassPrior)
      info.buffer_count += t.numel();
    else
      info.parameter_count += t.numel();
  }
  return info;
}

}  // namespace vidcolor
