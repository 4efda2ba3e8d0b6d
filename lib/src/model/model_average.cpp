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
    std::vector<torch::Tensor> same_name;
    for (size_t i = 0; i < sources.size(); ++i) {
      const auto it = sources[i].find(name);
      if (it == sources[i].end() || it->second.sizes() != t.sizes())
        throw Error("model average: model " + std::to_string(i) +
                    (it == sources[i].end() ? " has no tensor " : " has another shape of ") + name);
      same_name.push_back(it->second.to(torch::kFloat64));
    }
    // Integer buffers are counters, not weights: the first model's.
    t.copy_(t.is_floating_point() ? torch::stack(same_name).mean(0) : same_name[0]);
  }
  out.f->eval();
  out.g->eval();
  return out;
}

}  // namespace vidcolor
