// A random model file for one test binary: written on first use to the temporary folder,
// removed at exit. Without GoogleTest, so the libFuzzer build of the flow-meta fuzzer can use it.
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include <vidcolor/model/model_file.hpp>
#include <vidcolor/model/networks.hpp>

#include "../common/tiny_model.hpp"

namespace vctest {

// TMP/NAME-PID.safetensors holding make_model(config) with random weights from `seed`. One
// file per binary: later calls return the first call's path whatever their arguments.
inline const std::string& temp_model_path(const char* name, const vidcolor::ModelConfig& config,
                                          uint64_t seed) {
  static const std::string path = [&] {
    torch::manual_seed(seed);
    std::string p =
        std::string(g_get_tmp_dir()) + "/" + name + "-" + std::to_string(getpid()) + ".safetensors";
    vidcolor::save_model(vidcolor::make_model(config), p);
    return p;
  }();
  // Registered once `path` is constructed, so it runs before `path` is destroyed (registered
  // inside the initializer it ran after, reading a freed string: valgrind found it).
  static const bool remove_at_exit [[maybe_unused]] =
      std::atexit([] { g_unlink(path.c_str()); }) == 0;
  return path;
}

}  // namespace vctest
