#include "vidcolor/model/model_average.hpp"

#include <string>

#include "vidcolor/core/error.hpp"

namespace vidcolor {

Model average_models(const std::vector<Model>& models) {
  if (models.size() < 2)
    throw Error("model average: needs at least two models, got " + std::to_string(models.size()));
  const nlohmann::json config = models[0].config.to_json();
  for (size_t i = 1; i < models.size(); ++i)
    if (models[i].config.to_json() != config)
      throw Error("model average: model " + std::to_string(i) + " has another config (" +
                  models[i].config.to_json().dump() + " vs " + config.dump() + ")");
  Model out = make_model(models[0].config);
  const auto target = model_tensors(out);
  std::vector<std::map<std::string, torch::Tensor>> sources;
  for (const Model& m : models) sources.push_back(model_tensors(m));
  torch::NoGradGuard no_grad;
  for (const auto& [name, t] : target) {
    torch::Tensor sum;
    for (size_t i = 0; i < sources.size(); ++i) {
      const auto it = sources[i].find(name);
      if (it == sources[i].end() || it->second.sizes() != t.sizes())
        throw Error("model average: model " + std::to_string(i) +
                    (it == sources[i].end() ? " has no tensor " : " has another shape of ") + name);
      if (!t.is_floating_point()) {
        if (i == 0) t.copy_(it->second);
        continue;
      }
      const torch::Tensor x = it->second.to(torch::kFloat64);
      sum = sum.defined() ? sum + x : x;
    }
    if (t.is_floating_point()) t.copy_(sum / static_cast<double>(sources.size()));
  }
  out.f->eval();
  out.g->eval();
  return out;
}

}  // namespace vidcolor
