// Setting the decoding of f's chroma classes on a model (temperature, debias, mode radius: the
// operating point, ModelConfig). Written once for everything that sets it: the elements'
// class-temperature / class-debias (ColorizeEngine), vidcolor-eval's flags and `vidcolor-model
// set`, so they accept and refuse the same values with the same reasons.
#pragma once

#include <optional>

#include "vidcolor/model/networks.hpp"

namespace vidcolor {

// Each setting left empty keeps the model's.
struct ClassDecoding {
  std::optional<double> temperature;  // ModelConfig::class_temperature
  std::optional<double> debias;       // ModelConfig::class_debias
  std::optional<double> mode_radius;  // ModelConfig::class_mode_radius
  bool empty() const { return !temperature && !debias && !mode_radius; }
};

// model.config with `d` applied and validated as a model file's config is
// (ModelConfig::from_json). Throws vidcolor::Error, naming what is wrong, when d sets anything
// on a model without chroma classes (it regresses its chroma: nothing to decode), when a debias
// above 0 meets an f without the trainer's class prior (nothing to undo), or when a value is out
// of the file's range (naming the field).
ModelConfig with_class_decoding(const Model& model, const ClassDecoding& d);

}  // namespace vidcolor
