// The tests' tiny networks, defined once: one candidate, a few channels, a 32-pixel inference
// size, so a random model builds and runs in milliseconds. Header only and free of GoogleTest
// and GLib, so lib tests, element tests and the libFuzzer build of the flow-meta fuzzer share it.
#pragma once

#include <vidcolor/core/model_config.hpp>

namespace vctest {

inline vidcolor::ModelConfig tiny_model_config() {
  vidcolor::ModelConfig c = vidcolor::ModelConfig::fast();
  c.candidates = 1;
  c.colorizer_channels = {4, 4, 4};
  c.refiner_channels = {4, 8};
  c.inference_size = 32;
  return c;
}

}  // namespace vctest
