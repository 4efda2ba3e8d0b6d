// Setting the decoding of f's chroma classes on a model (see the header).
#include "vidcolor/model/class_decoding.hpp"

#include <string>

#include "vidcolor/core/error.hpp"

namespace vidcolor {

ModelConfig with_class_decoding(const Model& model, const ClassDecoding& d) {
  ModelConfig c = model.config;
  if (d.empty()) return c;
  if (c.chroma_classes == 0)
    throw Error(
        "class decoding (temperature, debias, mode radius) needs a model with chroma classes; "
        "this one regresses its chroma (chroma_classes 0)");
  if (d.debias && *d.debias > 0 && model.f &&
      model.f->class_log_prior.abs().max().item<float>() == 0.0f)
    throw Error(
        "class debias: this f has no class prior (f.class_log_prior: a file from before the "
        "trainer wrote it), so there is nothing to undo");
  if (d.temperature) c.class_temperature = *d.temperature;
  if (d.debias) c.class_debias = *d.debias;
  if (d.mode_radius) c.class_mode_radius = *d.mode_radius;
  return ModelConfig::from_json(c.to_json());  // the ranges are the model file's own
}

}  // namespace vidcolor
