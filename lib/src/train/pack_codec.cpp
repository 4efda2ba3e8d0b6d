#include "vidcolor/train/pack_codec.hpp"

#include <cstring>

#include "core/shape_string.hpp"
#include "vidcolor/core/error.hpp"

namespace vidcolor {

namespace {

// [..., 2, h, w] -> ([N, 2, h, w], leading sizes)
torch::Tensor as_batch(const torch::Tensor& t, std::vector<int64_t>& lead) {
  lead.assign(t.sizes().begin(), t.sizes().end() - 3);
  return t.reshape({-1, 2, t.size(-2), t.size(-1)});
}

torch::Tensor from_batch(const torch::Tensor& t, const std::vector<int64_t>& lead) {
  std::vector<int64_t> shape = lead;
  shape.insert(shape.end(), {2, t.size(-2), t.size(-1)});
  return t.reshape(shape);
}

}  // namespace

torch::Tensor encode_pack_flow(const torch::Tensor& flow, int64_t factor) {
  if (!flow.defined() || flow.dim() < 3 || flow.size(-3) != 2 || flow.size(-1) != flow.size(-2))
    throw Error("encode_pack_flow: flow must be [...,2,S,S], got " +
                (flow.defined() ? shape_str(flow) : std::string("none")));
  if (factor < 1 || flow.size(-1) % factor != 0)
    throw Error("encode_pack_flow: factor " + std::to_string(factor) + " does not divide " +
                std::to_string(flow.size(-1)));
  std::vector<int64_t> lead;
  torch::Tensor f = as_batch(flow.to(torch::kFloat32), lead);
  f = torch::nan_to_num(f, 0.0, 0.0, 0.0);  // +-inf -> 0 as well: not a motion
  if (factor > 1) f = torch::avg_pool2d(f, {factor, factor}, {factor, factor});
  const double lim = 32767.0;
  torch::Tensor q =
      (f.to(torch::kFloat64) * kPackFlowScale).round().clamp(-lim, lim).to(torch::kInt16);
  return from_batch(q, lead).contiguous();
}

torch::Tensor decode_pack_flow(const torch::Tensor& q, int64_t factor) {
  if (!q.defined() || q.dim() < 3 || q.size(-3) != 2 || q.scalar_type() != torch::kInt16)
    throw Error("decode_pack_flow: need int16 [...,2,s,s], got " +
                (q.defined() ? shape_str(q) : std::string("none")));
  if (factor < 1) throw Error("decode_pack_flow: factor " + std::to_string(factor));
  std::vector<int64_t> lead;
  torch::Tensor f = as_batch(q, lead).to(torch::kFloat32) / kPackFlowScale;
  if (factor > 1 && f.size(0) > 0)
    f = torch::nn::functional::interpolate(
        f, torch::nn::functional::InterpolateFuncOptions()
               .size(std::vector<int64_t>{q.size(-2) * factor, q.size(-1) * factor})
               .mode(torch::kBilinear)
               .align_corners(false));
  else if (factor > 1)
    f = torch::zeros({0, 2, q.size(-2) * factor, q.size(-1) * factor});
  return from_batch(f, lead).contiguous();
}

torch::Tensor pack_bits(const torch::Tensor& masks) {
  if (!masks.defined() || masks.dim() < 1) throw Error("pack_bits: need [...,P]");
  const int64_t p = masks.size(-1), nb = (p + 7) / 8;
  std::vector<int64_t> lead(masks.sizes().begin(), masks.sizes().end() - 1);
  torch::Tensor m = masks.ne(0).to(torch::kUInt8).reshape({-1, p});
  if (nb * 8 != p) m = torch::cat({m, torch::zeros({m.size(0), nb * 8 - p}, torch::kUInt8)}, 1);
  const torch::Tensor weights =
      torch::tensor({128, 64, 32, 16, 8, 4, 2, 1}, torch::kInt32).view({1, 1, 8});
  torch::Tensor packed =
      (m.view({m.size(0), nb, 8}).to(torch::kInt32) * weights).sum(2).to(torch::kUInt8);
  lead.push_back(nb);
  return packed.reshape(lead).contiguous();
}

torch::Tensor unpack_bits(const torch::Tensor& bits, int64_t count) {
  if (!bits.defined() || bits.dim() < 1 || bits.scalar_type() != torch::kUInt8)
    throw Error("unpack_bits: need uint8 [...,B]");
  const int64_t nb = bits.size(-1);
  if (count < 0 || count > nb * 8)
    throw Error("unpack_bits: " + std::to_string(count) + " bits from " + std::to_string(nb) +
                " bytes");
  std::vector<int64_t> lead(bits.sizes().begin(), bits.sizes().end() - 1);
  const torch::Tensor shifts =
      torch::tensor({7, 6, 5, 4, 3, 2, 1, 0}, torch::kInt32).view({1, 1, 8});
  const torch::Tensor b = bits.reshape({-1, nb, 1}).to(torch::kInt32);
  torch::Tensor out = torch::bitwise_and(torch::bitwise_right_shift(b, shifts), 1)
                          .to(torch::kUInt8)
                          .reshape({-1, nb * 8})
                          .narrow(1, 0, count);
  lead.push_back(count);
  return out.reshape(lead).contiguous();
}

std::pair<torch::Tensor, torch::Tensor> concat_blobs(
    const std::vector<std::vector<uint8_t>>& files) {
  std::vector<int64_t> offsets{0};
  for (const auto& f : files) offsets.push_back(offsets.back() + static_cast<int64_t>(f.size()));
  torch::Tensor blob = torch::empty({offsets.back()}, torch::kUInt8);
  uint8_t* dst = blob.data_ptr<uint8_t>();
  for (size_t i = 0; i < files.size(); ++i)
    if (!files[i].empty()) std::memcpy(dst + offsets[i], files[i].data(), files[i].size());
  return {blob, torch::tensor(offsets, torch::kInt64)};
}

void check_blob_offsets(const torch::Tensor& offsets, int64_t blob_size, const std::string& what) {
  if (!offsets.defined() || offsets.dim() != 1 || offsets.size(0) < 2 ||
      offsets.scalar_type() != torch::kInt64)
    throw Error(what + ": offsets must be int64 [n+1] with n >= 1, got " +
                (offsets.defined() ? shape_str(offsets) : std::string("none")));
  const torch::Tensor o = offsets.contiguous();
  const int64_t* v = o.data_ptr<int64_t>();
  const int64_t n = o.size(0);
  if (v[0] != 0) throw Error(what + ": offsets start at " + std::to_string(v[0]) + ", not 0");
  for (int64_t i = 1; i < n; ++i)
    if (v[i] <= v[i - 1])
      throw Error(what + ": offsets not increasing at " + std::to_string(i) + " (" +
                  std::to_string(v[i - 1]) + " then " + std::to_string(v[i]) + ")");
  if (v[n - 1] != blob_size)
    throw Error(what + ": offsets end at " + std::to_string(v[n - 1]) + " but the blob holds " +
                std::to_string(blob_size) + " bytes");
}

}  // namespace vidcolor
