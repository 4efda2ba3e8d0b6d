// The value types and free functions trainer.hpp declares beside the Trainer: stage lists,
// loss weights and terms, training device names, the parameter digest.
#include "vidcolor/train/trainer.hpp"

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "train/train_fail.hpp"
#include "vidcolor-config.h"

namespace vidcolor {

using train_detail::fail;

namespace {

std::string hex64(uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}

}  // namespace

const char* stage_name(StageKind k) {
  switch (k) {
    case StageKind::FImages:
      return "f-images";
    case StageKind::FVideo:
      return "f-video";
    case StageKind::G:
      return "g";
    case StageKind::Joint:
      return "joint";
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
      fail("stage \"" + item +
           "\": steps must be a positive integer and @minutes a positive number");
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
  static const std::vector<std::string> n = {
      "loss", "bilateral", "diversity", "temporal", "refine", "refine_consistency", "classes"};
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

}  // namespace vidcolor
