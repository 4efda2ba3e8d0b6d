// Reader and writer of the safetensors format: an 8-byte little-endian header length N, N
// bytes of JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {string: string}},
// then the raw little-endian tensor bytes. No pickle, so a file cannot run code; and the reader
// validates every field before it touches the data, so a truncated or hostile file gives a
// vidcolor::Error naming the file and the problem, never a crash.
//
// Files written here are standard: Python's `safetensors` package (safe_open / load_file) reads
// them. The layout follows its reference writer: tensors sorted by dtype alignment (largest
// first) then name, so every tensor's data is aligned to its element size; header padded with
// spaces to a multiple of 8 bytes.
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace vidcolor {

struct SafetensorsFile {
  std::map<std::string, torch::Tensor> tensors;  // CPU, contiguous, owning their memory
  std::map<std::string, std::string> metadata;   // "__metadata__" (empty if absent)
};

// The largest header the reader accepts (the reference implementation's limit too).
constexpr uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

// Reads and validates a whole file. Throws vidcolor::Error naming `path` on any problem.
SafetensorsFile read_safetensors(const std::string& path);

// Same from bytes in memory; `name` is used in error messages in place of a path.
SafetensorsFile read_safetensors(const uint8_t* data, size_t size, const std::string& name);

// Serialized bytes of a file holding `tensors` and `metadata`. Tensors may be on any device
// and need not be contiguous; supported dtypes: F64, F32, F16, BF16, I64, I32, I16, I8, U8,
// BOOL. Throws vidcolor::Error for an unsupported dtype or a bad name.
std::string serialize_safetensors(const std::map<std::string, torch::Tensor>& tensors,
                                  const std::map<std::string, std::string>& metadata = {});

// Writes a file atomically: to a temporary file in the same folder, fsync, then rename, so a
// reader never sees a half-written model. Throws vidcolor::Error naming `path`.
void write_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// The safetensors dtype name of a torch dtype ("F32", ...); throws for unsupported ones.
std::string safetensors_dtype_name(torch::ScalarType t);

}  // namespace vidcolor
