#include "vidcolor/model/widen.hpp"

#include <string>

#include "vidcolor/core/error.hpp"

namespace vidcolor {

namespace {

// Writes narrow conv (w_n, b_n) into the top-left of wide conv (w_w, b_w): the first rows (the
// narrow net's units) read their old inputs at their new offsets and nothing from the new input
// channels; the remaining rows (new units) keep their random initialisation.
void embed_conv(const torch::Tensor& w_n, const torch::Tensor& b_n, const ConvInputs& narrow_in,
                const ConvInputs& wide_in, torch::Tensor& w_w, torch::Tensor& b_w) {
  const int64_t out_n = w_n.size(0);
  torch::Tensor rows = w_w.narrow(0, 0, out_n);
  rows.zero_();
  int64_t at_n = 0, at_w = 0;
  for (size_t p = 0; p < narrow_in.parts.size(); ++p) {
    const int64_t n = narrow_in.parts[p];
    rows.narrow(1, at_w, n).copy_(w_n.narrow(1, at_n, n));
    at_n += n;
    at_w += wide_in.parts[p];
  }
  if (b_n.defined()) b_w.narrow(0, 0, out_n).copy_(b_n);
}

}  // namespace

Model widen_colorizer(const Model& narrow, const std::vector<int>& channels, uint64_t seed) {
  const std::vector<int>& from = narrow.config.colorizer_channels;
  if (channels.size() != from.size())
    throw Error("widen: f has " + std::to_string(from.size()) + " levels, asked for " +
                std::to_string(channels.size()) + " (widening keeps the levels)");
  for (size_t l = 0; l < from.size(); ++l)
    if (channels[l] < from[l])
      throw Error("widen: level " + std::to_string(l) + " would go from " +
                  std::to_string(from[l]) + " to " + std::to_string(channels[l]) +
                  " channels (widening only adds channels)");
  ModelConfig c = narrow.config;
  c.colorizer_channels = channels;
  c = ModelConfig::from_json(c.to_json());  // the config's own validation

  torch::manual_seed(seed);
  Model wide = make_model(c);
  wide.provenance = narrow.provenance;
  torch::NoGradGuard no_grad;
  std::map<std::string, torch::Tensor> src = model_tensors(narrow), dst = model_tensors(wide);
  std::map<std::string, const ConvInputs*> narrow_inputs;
  for (const ConvInputs& ci : narrow.f->conv_inputs()) narrow_inputs["f." + ci.path] = &ci;
  for (const ConvInputs& ci : wide.f->conv_inputs()) {
    const std::string name = "f." + ci.path;
    const auto it = narrow_inputs.find(name);
    if (it == narrow_inputs.end() || it->second->parts.size() != ci.parts.size())
      throw Error("widen: f's layer " + ci.path + " has no counterpart in the narrow f");
    const torch::Tensor b_n = src.count(name + ".bias") ? src.at(name + ".bias") : torch::Tensor();
    torch::Tensor b_w = dst.count(name + ".bias") ? dst.at(name + ".bias") : torch::Tensor();
    embed_conv(src.at(name + ".weight"), b_n, *it->second, ci, dst.at(name + ".weight"), b_w);
    src.erase(name + ".weight");
    src.erase(name + ".bias");
  }
  // What is left (backbone, class prior, g) has the same shapes in both.
  for (const auto& [name, t] : src) {
    const auto it = dst.find(name);
    if (it == dst.end() || !it->second.sizes().equals(t.sizes()))
      throw Error("widen: tensor " + name + " does not fit the wider model");
    it->second.copy_(t);
  }
  wide.f->eval();
  wide.g->eval();
  return wide;
}

}  // namespace vidcolor
