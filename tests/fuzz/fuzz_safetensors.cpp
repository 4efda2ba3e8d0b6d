// libFuzzer target for the safetensors reader: any bytes must give a parsed file or a
// vidcolor::Error; a crash, a sanitizer report or another exception type is a bug.
//
// Built by tests/meson.build when the C++ compiler supports -fsanitize=fuzzer (clang):
//   CXX=clang++ CC=clang meson setup build-fuzz && ninja -C build-fuzz tests/fuzz-safetensors
//   ./build-fuzz/tests/fuzz-safetensors -max_total_time=60 CORPUS_DIR
// (a corpus directory of real .safetensors files, e.g. a model made by vidcolor-model init,
// gives the fuzzer a head start). The target compiles the reader's source itself so that it
// is instrumented for coverage, ASan and UBSan.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "vidcolor/core/error.hpp"
#include "vidcolor/model/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const vidcolor::SafetensorsFile f = vidcolor::read_safetensors(data, size, "fuzz-input");
    // What parses must serialize again and read back to the same tensors.
    const std::string again = vidcolor::serialize_safetensors(f.tensors, f.metadata);
    const vidcolor::SafetensorsFile g = vidcolor::read_safetensors(
        reinterpret_cast<const uint8_t*>(again.data()), again.size(), "fuzz-reserialized");
    if (g.tensors.size() != f.tensors.size() || g.metadata != f.metadata) {
      std::fprintf(stderr, "re-serialized file differs\n");
      std::abort();
    }
  } catch (const vidcolor::Error&) {
    // A clean refusal is the expected outcome for most inputs.
  }
  return 0;
}
