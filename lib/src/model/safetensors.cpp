#include "vidcolor/model/safetensors.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "vidcolor/core/error.hpp"

// The format stores little-endian bytes and we copy them straight into tensors.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors I/O assumes a little-endian host");

namespace vidcolor {
namespace {

using json = nlohmann::json;

// A real header nests three deep (root object, tensor entry, shape array). Anything much
// deeper is hostile; refusing it before parsing bounds the parser's work and memory.
constexpr int kMaxJsonDepth = 8;
// Torch handles more, but no real tensor has more dims; this bounds per-entry work.
constexpr size_t kMaxRank = 32;

struct DtypeInfo {
  const char* name;
  torch::ScalarType type;
  size_t size;
  int alignment_rank;  // order of the reference writer: larger first
};

// The dtypes LibTorch can hold. U16/U32/U64 and the F8 types exist in the format but not in
// LibTorch 1.13, so a file with them is refused with a message that says so.
const DtypeInfo kDtypes[] = {
    {"I64", torch::kInt64, 8, 13},    {"F64", torch::kFloat64, 8, 12},
    {"F32", torch::kFloat32, 4, 11},  {"I32", torch::kInt32, 4, 9},
    {"BF16", torch::kBFloat16, 2, 7}, {"F16", torch::kFloat16, 2, 6},
    {"I16", torch::kInt16, 2, 4},     {"I8", torch::kInt8, 1, 2},
    {"U8", torch::kUInt8, 1, 1},      {"BOOL", torch::kBool, 1, 0},
};
const char* const kKnownUnsupported[] = {"U16", "U32", "U64", "F8_E5M2", "F8_E4M3"};

const DtypeInfo* dtype_by_name(const std::string& n) {
  for (const auto& d : kDtypes)
    if (n == d.name) return &d;
  return nullptr;
}

const DtypeInfo* dtype_by_type(torch::ScalarType t) {
  for (const auto& d : kDtypes)
    if (t == d.type) return &d;
  return nullptr;
}

[[noreturn]] void fail(const std::string& name, const std::string& problem) {
  throw Error("safetensors file '" + name + "': " + problem);
}

uint64_t read_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Deepest nesting of objects/arrays outside strings; stops counting once past `limit`.
int json_depth(const uint8_t* p, size_t n, int limit) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t c = p[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      max_depth = std::max(max_depth, ++depth);
      if (max_depth > limit) return max_depth;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return max_depth;
}

// Parses the header JSON. nlohmann keeps the last of duplicate keys silently; a duplicate
// tensor name or field is ambiguous, so it is an error here.
json parse_header(const uint8_t* p, size_t n, const std::string& name) {
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  json::parser_callback_t cb = [&](int, json::parse_event_t ev, json& parsed) {
    switch (ev) {
      case json::parse_event_t::object_start:
        open_objects.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open_objects.empty() && parsed.is_string() &&
            !open_objects.back().insert(parsed.get<std::string>()).second && duplicate.empty())
          duplicate = parsed.get<std::string>();
        break;
      default:
        break;
    }
    return true;
  };
  json j;
  try {
    j = json::parse(p, p + n, cb);
  } catch (const json::exception& e) {
    fail(name, std::string("header is not valid JSON (") + e.what() + ")");
  }
  if (!duplicate.empty()) fail(name, "header has the key \"" + duplicate + "\" twice");
  return j;
}

struct Entry {
  std::string name;
  const DtypeInfo* dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;
};

uint64_t json_u64(const json& v, const std::string& file, const std::string& what) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) {
    const int64_t s = v.get<int64_t>();
    if (s >= 0) return static_cast<uint64_t>(s);
    fail(file, what + " is negative (" + std::to_string(s) + ")");
  }
  fail(file, what + " is not a non-negative integer (" + v.dump() + ")");
}

Entry parse_entry(const std::string& tname, const json& v, uint64_t data_size,
                  const std::string& file) {
  const std::string where = "tensor \"" + tname + "\"";
  if (tname.empty()) fail(file, "a tensor has an empty name");
  if (!v.is_object()) fail(file, where + ": entry is not an object");
  for (const auto& kv : v.items())
    if (kv.key() != "dtype" && kv.key() != "shape" && kv.key() != "data_offsets")
      fail(file, where + ": unknown field \"" + kv.key() + "\"");
  Entry e;
  e.name = tname;

  const auto dt = v.find("dtype");
  if (dt == v.end() || !dt->is_string()) fail(file, where + ": missing or non-string \"dtype\"");
  const std::string dname = dt->get<std::string>();
  e.dtype = dtype_by_name(dname);
  if (!e.dtype) {
    for (const char* u : kKnownUnsupported)
      if (dname == u) fail(file, where + ": dtype " + dname + " is not supported by LibTorch");
    fail(file, where + ": unknown dtype \"" + dname + "\"");
  }

  const auto sh = v.find("shape");
  if (sh == v.end() || !sh->is_array()) fail(file, where + ": missing or non-array \"shape\"");
  if (sh->size() > kMaxRank)
    fail(file, where + ": shape has " + std::to_string(sh->size()) + " dimensions (at most " +
                   std::to_string(kMaxRank) + ")");
  // Overflow-safe: the product of the non-zero dims must fit int64 (LibTorch's size type), and
  // the byte count must then match the offsets, which are bounded by the file size.
  uint64_t nonzero_product = 1, numel = 1;
  for (const auto& d : *sh) {
    const uint64_t dim = json_u64(d, file, where + ": a shape dimension");
    if (dim != 0 && __builtin_mul_overflow(nonzero_product, dim, &nonzero_product))
      fail(file, where + ": shape " + sh->dump() + " is absurdly large (element count overflows)");
    if (nonzero_product > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail(file, where + ": shape " + sh->dump() + " is absurdly large");
    numel = dim == 0 ? 0 : numel * dim;  // numel <= nonzero_product: cannot overflow
    e.shape.push_back(static_cast<int64_t>(dim));
  }
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(numel, static_cast<uint64_t>(e.dtype->size), &nbytes))
    fail(file, where + ": shape " + sh->dump() + " overflows");

  const auto off = v.find("data_offsets");
  if (off == v.end() || !off->is_array() || off->size() != 2)
    fail(file, where + ": \"data_offsets\" is missing or not a pair");
  e.begin = json_u64((*off)[0], file, where + ": data_offsets[0]");
  e.end = json_u64((*off)[1], file, where + ": data_offsets[1]");
  if (e.begin > e.end)
    fail(file, where + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                   "] end before they begin");
  if (e.end > data_size)
    fail(file, where + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                   "] lie past the end of the data (" + std::to_string(data_size) +
                   " bytes; file truncated?)");
  if (e.end - e.begin != nbytes)
    fail(file, where + ": data_offsets span " + std::to_string(e.end - e.begin) +
                   " bytes but dtype " + e.dtype->name + " x shape " + sh->dump() + " needs " +
                   std::to_string(nbytes));
  return e;
}

std::string errno_text() { return std::strerror(errno); }

// Owns a file descriptor.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

}  // namespace

std::string safetensors_dtype_name(torch::ScalarType t) {
  const DtypeInfo* d = dtype_by_type(t);
  if (!d) throw Error(std::string("safetensors: dtype ") + c10::toString(t) + " cannot be stored");
  return d->name;
}

namespace {

// The header of a file of `size` bytes, validated against that size before any tensor data
// is read: `h` holds the header length field's N bytes.
struct Layout {
  uint64_t header_bytes = 0;   // N
  std::vector<Entry> entries;  // sorted by offset, covering the data exactly
  std::map<std::string, std::string> metadata;
};

uint64_t check_prefix(const uint8_t* first8, uint64_t size, const std::string& name) {
  if (size == 0) fail(name, "file is empty");
  if (size < 8)
    fail(name, "file is truncated: " + std::to_string(size) +
                   " bytes, less than the 8-byte header length");
  const uint64_t n = read_le64(first8);
  if (n > kSafetensorsMaxHeaderBytes)
    fail(name, "header length " + std::to_string(n) + " is absurd (limit " +
                   std::to_string(kSafetensorsMaxHeaderBytes) + " bytes); not a safetensors file?");
  if (n > size - 8)
    fail(name, "header length " + std::to_string(n) + " is larger than the file (" +
                   std::to_string(size) + " bytes); file truncated or not safetensors");
  if (n < 2) fail(name, "header of " + std::to_string(n) + " bytes is too short for a JSON object");
  return n;
}

Layout parse_layout(const uint8_t* h, uint64_t n, uint64_t size, const std::string& name) {
  if (h[0] != '{') fail(name, "header does not start with '{'; not a safetensors file?");
  // Padding: the format pads the header with trailing spaces (0x20) to align the data.
  size_t hn = static_cast<size_t>(n);
  while (hn > 0 && h[hn - 1] == ' ') --hn;
  // JSON never holds a raw NUL; nlohmann would stop parsing at one and ignore what follows,
  // so NUL padding or an embedded NUL is refused here.
  if (std::memchr(h, 0, hn) != nullptr)
    fail(name, "header contains a NUL byte (not valid JSON; padding must be spaces)");
  if (json_depth(h, hn, kMaxJsonDepth) > kMaxJsonDepth)
    fail(name, "header JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  const json header = parse_header(h, hn, name);
  if (!header.is_object()) fail(name, "header is not a JSON object");

  Layout out;
  out.header_bytes = n;
  const uint64_t data_size = size - 8 - n;
  for (const auto& kv : header.items()) {
    if (kv.key() == "__metadata__") {
      if (!kv.value().is_object()) fail(name, "\"__metadata__\" is not an object");
      for (const auto& m : kv.value().items()) {
        if (!m.value().is_string())
          fail(name, "\"__metadata__\" entry \"" + m.key() + "\" is not a string");
        out.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    out.entries.push_back(parse_entry(kv.key(), kv.value(), data_size, name));
  }

  // The data must be covered exactly: sorted by offset, each tensor starts where the previous
  // ended (no overlap, no hole) and the last ends at the end of the file.
  std::sort(out.entries.begin(), out.entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  uint64_t pos = 0;
  for (const Entry& e : out.entries) {
    if (e.begin < pos)
      fail(name, "tensor \"" + e.name + "\" overlaps the previous tensor (starts at " +
                     std::to_string(e.begin) + ", previous ends at " + std::to_string(pos) + ")");
    if (e.begin > pos)
      fail(name, "gap of " + std::to_string(e.begin - pos) + " bytes before tensor \"" + e.name +
                     "\" (offsets must be contiguous)");
    pos = e.end;
  }
  if (pos != data_size)
    fail(name, "tensor data ends at byte " + std::to_string(pos) + " of a data section of " +
                   std::to_string(data_size) + " bytes (trailing bytes or wrong offsets)");
  return out;
}

// Allocates each tensor, lets `fill(dst, data_offset, nbytes)` copy its bytes, then checks them.
template <typename Fill>
SafetensorsFile materialize(Layout&& layout, const std::string& name, Fill fill) {
  SafetensorsFile out;
  out.metadata = std::move(layout.metadata);
  for (const Entry& e : layout.entries) {
    const size_t nbytes = static_cast<size_t>(e.end - e.begin);
    torch::Tensor t;
    try {
      t = torch::empty(e.shape, torch::TensorOptions().dtype(e.dtype->type));
    } catch (const std::exception& ex) {
      fail(name, "tensor \"" + e.name + "\": cannot allocate (" + ex.what() + ")");
    }
    if (nbytes) fill(static_cast<uint8_t*>(t.data_ptr()), e.begin, nbytes);
    if (e.dtype->type == torch::kBool) {
      // Any byte other than 0/1 in a bool tensor is undefined behaviour in LibTorch.
      const uint8_t* b = static_cast<const uint8_t*>(t.data_ptr());
      for (size_t i = 0; i < nbytes; ++i)
        if (b[i] > 1)
          fail(name, "tensor \"" + e.name + "\": BOOL element " + std::to_string(i) + " is " +
                         std::to_string(b[i]) + ", not 0 or 1");
    }
    out.tensors.emplace(e.name, std::move(t));
  }
  return out;
}

// Reads exactly n bytes at `offset`; fails on a short read (the file changed under us).
void pread_all(int fd, uint8_t* dst, size_t n, uint64_t offset, const std::string& path) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, dst + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail(path, "read error: " + errno_text());
    if (r == 0) fail(path, "file shrank while being read");
    got += static_cast<size_t>(r);
  }
}

}  // namespace

SafetensorsFile read_safetensors(const uint8_t* data, size_t size, const std::string& name) {
  const uint64_t n = check_prefix(data, size, name);
  Layout layout = parse_layout(data + 8, n, size, name);
  const uint8_t* base = data + 8 + n;
  return materialize(std::move(layout), name, [base](uint8_t* dst, uint64_t off, size_t nbytes) {
    std::memcpy(dst, base + off, nbytes);
  });
}

SafetensorsFile read_safetensors(const std::string& path) {
  Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (f.fd < 0) fail(path, "cannot open: " + errno_text());
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) fail(path, "cannot stat: " + errno_text());
  if (!S_ISREG(st.st_mode)) fail(path, "not a regular file");
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  // Header first: a truncated or hostile file is refused before its data is read or any
  // tensor memory is allocated.
  uint8_t first8[8] = {};
  if (size >= 8) pread_all(f.fd, first8, 8, 0, path);
  const uint64_t n = check_prefix(first8, size, path);
  std::vector<uint8_t> header(static_cast<size_t>(n));
  pread_all(f.fd, header.data(), header.size(), 8, path);
  Layout layout = parse_layout(header.data(), n, size, path);
  const int fd = f.fd;
  return materialize(std::move(layout), path,
                     [fd, n, &path](uint8_t* dst, uint64_t off, size_t nbytes) {
                       pread_all(fd, dst, nbytes, 8 + n + off, path);
                     });
}

std::string serialize_safetensors(const std::map<std::string, torch::Tensor>& tensors,
                                  const std::map<std::string, std::string>& metadata) {
  struct Item {
    const std::string* name;
    const DtypeInfo* dtype;
    torch::Tensor t;  // CPU, contiguous
  };
  std::vector<Item> items;
  items.reserve(tensors.size());
  for (const auto& [tname, t] : tensors) {
    if (tname.empty()) throw Error("safetensors: a tensor has an empty name");
    if (tname == "__metadata__") throw Error("safetensors: \"__metadata__\" cannot name a tensor");
    if (!t.defined()) throw Error("safetensors: tensor \"" + tname + "\" is undefined");
    const DtypeInfo* d = dtype_by_type(t.scalar_type());
    if (!d)
      throw Error("safetensors: tensor \"" + tname + "\" has dtype " +
                  c10::toString(t.scalar_type()) + ", which the format cannot store");
    items.push_back({&tname, d, t.detach().to(torch::kCPU).contiguous()});
  }
  // The reference writer's order: larger alignment first, then by name; every tensor's data
  // then starts at a multiple of its element size (the header is padded to 8).
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    if (a.dtype->alignment_rank != b.dtype->alignment_rank)
      return a.dtype->alignment_rank > b.dtype->alignment_rank;
    return *a.name < *b.name;
  });

  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    header["__metadata__"] = std::move(m);
  }
  uint64_t offset = 0;
  for (const Item& it : items) {
    const uint64_t nbytes = static_cast<uint64_t>(it.t.numel()) * it.dtype->size;
    nlohmann::ordered_json e = nlohmann::ordered_json::object();
    e["dtype"] = it.dtype->name;
    e["shape"] = it.t.sizes().vec();
    e["data_offsets"] = {offset, offset + nbytes};
    header[*it.name] = std::move(e);
    offset += nbytes;
  }
  std::string hs;
  try {
    hs = header.dump();
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("safetensors: a tensor name or metadata string is not valid UTF-8 (") +
                e.what() + ")");
  }
  hs.append((8 - hs.size() % 8) % 8, ' ');

  std::string out;
  out.reserve(8 + hs.size() + offset);
  const uint64_t n = hs.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  out += hs;
  for (const Item& it : items) {
    const size_t nbytes = static_cast<size_t>(it.t.numel()) * it.dtype->size;
    if (nbytes) out.append(static_cast<const char*>(it.t.data_ptr()), nbytes);
  }
  return out;
}

void write_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::string bytes;
  try {
    bytes = serialize_safetensors(tensors, metadata);
  } catch (const Error& e) {
    throw Error("safetensors file '" + path + "': " + e.what());
  }
  // Temporary file beside the target so rename() is atomic (same file system).
  std::string tmpl = path + ".tmp-XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  Fd f(::mkstemp(name.data()));
  if (f.fd < 0) fail(path, "cannot create a temporary file beside it: " + errno_text());
  const std::string tmp(name.data());
  struct Unlinker {  // removes the temporary file unless the rename succeeded
    const std::string& p;
    bool armed = true;
    ~Unlinker() {
      if (armed) ::unlink(p.c_str());
    }
  } guard{tmp};
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(f.fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) fail(path, "write error: " + errno_text());
    done += static_cast<size_t>(w);
  }
  if (::fchmod(f.fd, 0644) != 0) fail(path, "cannot set permissions: " + errno_text());
  if (::fsync(f.fd) != 0) fail(path, "fsync failed: " + errno_text());
  const int fd = f.fd;
  f.fd = -1;
  if (::close(fd) != 0) fail(path, "close failed: " + errno_text());
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    fail(path, "cannot rename into place: " + errno_text());
  guard.armed = false;
}

}  // namespace vidcolor
