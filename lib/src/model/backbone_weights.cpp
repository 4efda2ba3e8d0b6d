#include "vidcolor/model/backbone_weights.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <set>

#include "vidcolor/core/error.hpp"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "TF.js weights are little-endian floats");

namespace vidcolor {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// A TF.js model.json is topology + manifest; real ones are well under a few MB.
constexpr uintmax_t kMaxModelJsonBytes = 64u << 20;
constexpr size_t kMaxRank = 8;

[[noreturn]] void fail(const std::string& file, const std::string& problem) {
  throw Error("weights file '" + file + "': " + problem);
}

std::string read_all(const fs::path& p, uintmax_t limit, const std::string& errname) {
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) fail(errname, "missing or not a regular file");
  const uintmax_t size = fs::file_size(p, ec);
  if (ec) fail(errname, "cannot get its size: " + ec.message());
  if (size > limit) fail(errname, "is " + std::to_string(size) + " bytes, too large");
  std::ifstream in(p, std::ios::binary);
  if (!in) fail(errname, "cannot open");
  std::string s(static_cast<size_t>(size), '\0');
  in.read(s.data(), static_cast<std::streamsize>(s.size()));
  if (static_cast<uintmax_t>(in.gcount()) != size) fail(errname, "read error (file shrank?)");
  return s;
}

// A shard path must stay inside model.json's folder: a manifest is data, not a way to read
// arbitrary files.
fs::path shard_path(const fs::path& dir, const json& p, const std::string& file) {
  if (!p.is_string()) fail(file, "a weightsManifest path is not a string");
  const fs::path rel(p.get<std::string>());
  if (rel.empty() || rel.is_absolute())
    fail(file, "shard path '" + rel.string() + "' is not a relative file name");
  for (const auto& part : rel)
    if (part == "..") fail(file, "shard path '" + rel.string() + "' leaves the model folder");
  return dir / rel;
}

struct Spec {
  std::string name;
  std::vector<int64_t> shape;
  uint64_t numel;
  // TF.js weight quantization: stored as uint8/uint16 q, the value is min + scale * q.
  // bytes = 4 (plain float32), 2 or 1.
  uint64_t bytes = sizeof(float);
  double qmin = 0.0, qscale = 1.0;
};

// The manifest's optional "quantization": {"dtype": "uint8"|"uint16", "min", "scale"} (the
// affine quantization of tensorflowjs_converter --quantize_uint8/16; its float16 mode is not
// supported).
void parse_quantization(const json& q, Spec* s, const std::string& file, const std::string& where) {
  if (!q.is_object()) fail(file, where + "\"quantization\" is not an object");
  const auto dt = q.find("dtype");
  const std::string dtype = dt != q.end() && dt->is_string() ? dt->get<std::string>() : "";
  if (dtype == "uint8")
    s->bytes = 1;
  else if (dtype == "uint16")
    s->bytes = 2;
  else
    fail(file, where + "quantization dtype " + (dt == q.end() ? std::string("missing") : dt->dump()) +
                   " is not supported (uint8 or uint16)");
  const auto mn = q.find("min"), sc = q.find("scale");
  if (mn == q.end() || !mn->is_number() || sc == q.end() || !sc->is_number())
    fail(file, where + "quantization needs numeric \"min\" and \"scale\"");
  s->qmin = mn->get<double>();
  s->qscale = sc->get<double>();
  if (!std::isfinite(s->qmin) || !std::isfinite(s->qscale) || s->qscale < 0.0)
    fail(file, where + "quantization min/scale are not finite, or the scale is negative");
}

Spec parse_spec(const json& w, const std::string& file) {
  if (!w.is_object()) fail(file, "a weightsManifest entry is not an object");
  const auto n = w.find("name");
  if (n == w.end() || !n->is_string() || n->get<std::string>().empty())
    fail(file, "a weightsManifest entry has no name");
  Spec s;
  s.name = n->get<std::string>();
  const std::string where = "tensor \"" + s.name + "\": ";
  if (w.contains("quantization")) parse_quantization(w["quantization"], &s, file, where);
  const auto dt = w.find("dtype");
  if (dt == w.end() || !dt->is_string() || dt->get<std::string>() != "float32")
    fail(file, where + "dtype is " + (dt == w.end() ? std::string("missing") : dt->dump()) +
                   ", only float32 is supported");
  const auto sh = w.find("shape");
  if (sh == w.end() || !sh->is_array() || sh->size() > kMaxRank)
    fail(file, where + "shape is missing, not an array or of absurd rank");
  s.numel = 1;
  for (const auto& d : *sh) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0 ||
        (d.is_number_unsigned() && d.get<uint64_t>() > (uint64_t{1} << 40)))
      fail(file, where + "shape " + sh->dump() + " has a bad dimension");
    const uint64_t dim = d.get<uint64_t>();
    if (__builtin_mul_overflow(s.numel, dim, &s.numel) || s.numel > (uint64_t{1} << 40))
      fail(file, where + "shape " + sh->dump() + " is absurdly large");
    s.shape.push_back(static_cast<int64_t>(dim));
  }
  return s;
}

}  // namespace

std::vector<KerasWeight> read_tfjs_weights(const std::string& model_json_path) {
  const fs::path mj(model_json_path);
  const std::string text = read_all(mj, kMaxModelJsonBytes, model_json_path);
  json model;
  try {
    model = json::parse(text);
  } catch (const json::exception& e) {
    fail(model_json_path, std::string("not valid JSON (") + e.what() + ")");
  }
  if (!model.is_object() || !model.contains("weightsManifest") ||
      !model["weightsManifest"].is_array())
    fail(model_json_path, "no \"weightsManifest\" array; not a TensorFlow.js layers model");
  const fs::path dir = mj.parent_path();

  std::vector<KerasWeight> out;
  std::set<std::string> seen;
  for (const json& group : model["weightsManifest"]) {
    if (!group.is_object() || !group.contains("paths") || !group["paths"].is_array() ||
        !group.contains("weights") || !group["weights"].is_array())
      fail(model_json_path, "a weightsManifest group lacks \"paths\" or \"weights\" arrays");
    std::vector<Spec> specs;
    uint64_t need = 0;
    for (const json& w : group["weights"]) {
      specs.push_back(parse_spec(w, model_json_path));
      if (!seen.insert(specs.back().name).second)
        fail(model_json_path, "tensor \"" + specs.back().name + "\" is listed twice");
      need += specs.back().numel * specs.back().bytes;  // each <= 2^42: no overflow
    }
    // The group's shards are one byte stream, cut into files; weights follow in manifest order.
    std::vector<fs::path> shards;
    std::string shard_names;
    uint64_t have = 0;
    for (const json& p : group["paths"]) {
      shards.push_back(shard_path(dir, p, model_json_path));
      shard_names += (shard_names.empty() ? "" : ", ") + shards.back().string();
      std::error_code ec;
      if (!fs::is_regular_file(shards.back(), ec))
        fail(model_json_path,
             "shard '" + shards.back().string() + "' is missing or not a regular file");
      have += fs::file_size(shards.back(), ec);
      if (ec)
        fail(model_json_path, "cannot get the size of shard '" + shards.back().string() + "'");
    }
    if (have != need)
      fail(model_json_path, "shards [" + shard_names + "] hold " + std::to_string(have) +
                                " bytes but the manifest lists " + std::to_string(need) + " (" +
                                std::to_string(specs.size()) + " tensors)");
    std::string bytes;
    for (const fs::path& sp : shards) bytes += read_all(sp, need - bytes.size(), sp.string());
    if (bytes.size() != need) fail(model_json_path, "shards changed size while being read");
    size_t offset = 0;
    for (const Spec& s : specs) {
      const size_t nbytes = static_cast<size_t>(s.numel * s.bytes);
      torch::Tensor t;
      if (s.bytes == sizeof(float)) {
        t = torch::empty(s.shape, torch::kFloat32);
        if (nbytes) std::memcpy(t.data_ptr(), bytes.data() + offset, nbytes);
      } else {
        // LibTorch has uint8 but no uint16: read uint16 into int32 (little-endian, like TF.js).
        torch::Tensor q = torch::empty(s.shape, s.bytes == 1 ? torch::kUInt8 : torch::kInt32);
        const auto* src = reinterpret_cast<const uint8_t*>(bytes.data() + offset);
        if (s.bytes == 1) {
          if (nbytes) std::memcpy(q.data_ptr(), src, nbytes);
        } else {
          int32_t* dst = q.data_ptr<int32_t>();
          for (uint64_t i = 0; i < s.numel; ++i) dst[i] = src[2 * i] | (src[2 * i + 1] << 8);
        }
        t = (q.to(torch::kFloat64) * s.qscale + s.qmin).to(torch::kFloat32);
      }
      offset += nbytes;
      if (!torch::isfinite(t).all().item<bool>())
        fail(model_json_path, "tensor \"" + s.name + "\" holds non-finite values");
      out.push_back({s.name, std::move(t)});
    }
  }
  return out;
}

TorchWeight keras_to_torch(const KerasWeight& w) {
  const auto slash = w.name.rfind('/');
  if (slash == std::string::npos || slash == 0)
    throw Error("Keras weight \"" + w.name + "\": name is not \"layer/kind\"");
  const std::string layer = w.name.substr(0, slash), kind = w.name.substr(slash + 1);
  const torch::Tensor& v = w.value;
  auto bad_rank = [&]() -> TorchWeight {
    throw Error("Keras weight \"" + w.name + "\": unexpected shape " + c10::str(v.sizes()) +
                " for a " + kind);
  };
  if (kind == "kernel") {
    if (v.dim() == 4) return {layer + ".weight", v.permute({3, 2, 0, 1}).contiguous()};
    if (v.dim() == 2) return {layer + ".weight", v.t().contiguous()};
    return bad_rank();
  }
  if (kind == "depthwise_kernel") {
    if (v.dim() != 4) return bad_rank();
    // (H, W, in, mult) -> torch groups=in conv weight (in*mult, 1, H, W), channel c*mult+m.
    const int64_t h = v.size(0), wd = v.size(1), in = v.size(2), mult = v.size(3);
    return {layer + ".weight", v.permute({2, 3, 0, 1}).reshape({in * mult, 1, h, wd}).contiguous()};
  }
  static const std::map<std::string, std::string> vectors = {{"bias", "bias"},
                                                             {"gamma", "weight"},
                                                             {"beta", "bias"},
                                                             {"moving_mean", "running_mean"},
                                                             {"moving_variance", "running_var"}};
  const auto it = vectors.find(kind);
  if (it == vectors.end())
    throw Error("Keras weight \"" + w.name + "\": unknown kind \"" + kind + "\"");
  if (v.dim() != 1) return bad_rank();
  return {layer + "." + it->second, v.contiguous()};
}

void load_keras_weights(torch::nn::Module& module, const std::vector<KerasWeight>& weights,
                        const std::string& source,
                        const std::function<bool(const std::string&)>& ignore) {
  std::map<std::string, torch::Tensor> targets;
  for (const auto& p : module.named_parameters(true)) targets.emplace(p.key(), p.value());
  for (const auto& b : module.named_buffers(true)) {
    const std::string& k = b.key();
    const std::string tail = "num_batches_tracked";
    if (k.size() >= tail.size() && k.compare(k.size() - tail.size(), tail.size(), tail) == 0)
      continue;
    targets.emplace(k, b.value());
  }
  std::map<std::string, const KerasWeight*> assigned;  // torch name -> its Keras source
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;
  for (const KerasWeight& w : weights) {
    if (ignore && ignore(w.name)) continue;
    TorchWeight tw;
    try {
      tw = keras_to_torch(w);
    } catch (const Error& e) {
      fail(source, e.what());
    }
    const auto t = targets.find(tw.name);
    if (t == targets.end())
      fail(source, "tensor \"" + w.name + "\" has no place in the network (no \"" + tw.name +
                       "\"); a different architecture?");
    if (!assigned.emplace(tw.name, &w).second)
      fail(source, "tensors \"" + assigned[tw.name]->name + "\" and \"" + w.name +
                       "\" both map to \"" + tw.name + "\"");
    if (t->second.sizes() != tw.value.sizes())
      fail(source, "tensor \"" + w.name + "\" of Keras shape " + c10::str(w.value.sizes()) +
                       " becomes " + c10::str(tw.value.sizes()) + " but \"" + tw.name + "\" is " +
                       c10::str(t->second.sizes()) +
                       " (a different width multiplier or architecture?)");
    copies.emplace_back(t->second, tw.value);
  }
  for (const auto& [name, t] : targets) {
    (void)t;
    if (!assigned.count(name))
      fail(source, "no tensor for \"" + name + "\" of the network (manifest incomplete?)");
  }
  // Only now that everything matched: a failed load leaves the module untouched.
  torch::NoGradGuard no_grad;
  for (auto& [dst, src] : copies) dst.copy_(src.to(dst.device(), dst.scalar_type()));
}

void load_mobilenetv2_tfjs(MobileNetV2& net, const std::string& model_json_path) {
  load_mobilenetv2_weights(net, read_tfjs_weights(model_json_path), model_json_path);
}

void load_mobilenetv2_weights(MobileNetV2& net, const std::vector<KerasWeight>& weights,
                              const std::string& source) {
  if (net.is_empty())
    throw Error("load_mobilenetv2_weights: the network is empty (nullptr holder)");
  // The classifier head after the backbone's last block: Keras' Conv_1 / Conv_1_bn (1x1 conv to
  // 1280 channels) and any Dense layers on top (ImageNet "predictions" or a custom head).
  auto is_head = [](const std::string& name) {
    const std::string layer = name.substr(0, name.rfind('/'));
    return layer == "Conv_1" || layer == "Conv_1_bn" || layer == "predictions" ||
           layer.rfind("dense", 0) == 0;
  };
  load_keras_weights(*net, weights, source, is_head);
}

double mobilenetv2_alpha_of(const std::vector<KerasWeight>& weights, const std::string& source) {
  for (const KerasWeight& w : weights) {
    if (w.name != "block_16_project/kernel" || w.value.dim() != 4) continue;
    const int64_t out = w.value.size(3);  // Keras (H, W, in, out)
    for (double alpha : {0.35, 0.5, 0.75, 1.0, 1.3, 1.4})
      if (MobileNetV2Impl::channels(320, alpha) == out) return alpha;
    fail(source, "block_16_project has " + std::to_string(out) +
                     " output channels, which no MobileNetV2 width gives");
  }
  fail(source, "no \"block_16_project/kernel\": not a Keras MobileNetV2");
}

}  // namespace vidcolor
