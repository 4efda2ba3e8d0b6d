// The compact (version 2) training pack without OpenCV: JPEG round trips through libjpeg,
// int16 fixed-point flows, bit-packed masks, blob offsets, and hand-made packs read by
// TrainingPack — valid ones (values within the codecs' tolerances, KNN graphs per batch), corrupt
// ones (each a vidcolor::Error naming the file, never a crash) and version 1 beside them.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <unistd.h>

#include "vidcolor/core/error.hpp"
#include "vidcolor/model/safetensors.hpp"
#include "vidcolor/train/jpeg_codec.hpp"
#include "vidcolor/train/knn_graph_torch.hpp"
#include "vidcolor/train/pack_codec.hpp"
#include "vidcolor/train/training_pack.hpp"

using namespace vidcolor;
namespace fs = std::filesystem;

namespace {

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("vidcolor-codec-" + std::to_string(getpid()) + "-" + name))
      .string();
}

// A smooth colour picture with a soft edge: uint8 [3,h,w] (what JPEG keeps well, like a photo;
// a hard chroma edge in a 16-px picture loses ~6 levels on average to 4:2:0).
torch::Tensor picture(int64_t h, int64_t w, int seed) {
  const auto ys = torch::linspace(0, 1, h).view({h, 1}).expand({h, w});
  const auto xs = torch::linspace(0, 1, w).view({1, w}).expand({h, w});
  const double a = 0.3 + 0.1 * (seed % 5);
  const auto r = 40 + 170 * xs;
  const auto g = 60 + 120 * ys + 40 * torch::sin(6.0 * xs * a + seed);
  const auto b = 50 + 150 * torch::sigmoid((xs + ys - 1.0) * 8.0);  // a soft diagonal edge
  return torch::stack({r, g, b}).round().clamp(0, 255).to(torch::kUInt8).contiguous();
}

std::vector<uint8_t> jpeg_of(const torch::Tensor& chw, int quality = 85) {
  const torch::Tensor hwc = chw.permute({1, 2, 0}).contiguous();
  return encode_jpeg_rgb(hwc.data_ptr<uint8_t>(), static_cast<int>(chw.size(2)),
                         static_cast<int>(chw.size(1)), quality);
}

// A valid version-2 pack of `n` 16x16 images and `m` pairs (flow factor 4), its source
// tensors kept for comparison.
struct HandPack {
  int64_t s = 16, factor = 4, n = 3, m = 2;
  torch::Tensor images, frames, flows, masks;  // sources: uint8, uint8, float [m,2,2,s,s], uint8
  std::map<std::string, torch::Tensor> tensors;
  std::map<std::string, std::string> meta;

  HandPack() {
    std::vector<torch::Tensor> im;
    std::vector<std::vector<uint8_t>> files;
    for (int i = 0; i < n; ++i) {
      im.push_back(picture(s, s, i));
      files.push_back(jpeg_of(im.back()));
    }
    images = torch::stack(im);
    auto [blob, offsets] = concat_blobs(files);
    tensors["image_jpeg"] = blob;
    tensors["image_jpeg_offsets"] = offsets;
    std::vector<torch::Tensor> fr;
    std::vector<std::vector<uint8_t>> pf;
    for (int i = 0; i < 2 * m; ++i) {
      fr.push_back(picture(s, s, 10 + i));
      pf.push_back(jpeg_of(fr.back()));
    }
    frames = torch::stack(fr).view({m, 2, 3, s, s});
    auto [pblob, poffsets] = concat_blobs(pf);
    tensors["pair_jpeg"] = pblob;
    tensors["pair_jpeg_offsets"] = poffsets;
    // A smooth flow (what DIS gives inside an object): linear in x and y.
    const auto ys = torch::arange(s, torch::kFloat32).view({1, 1, 1, s, 1}).expand({m, 2, 1, s, s});
    const auto xs = torch::arange(s, torch::kFloat32).view({1, 1, 1, 1, s}).expand({m, 2, 1, s, s});
    flows = torch::cat({1.5 + 0.1 * xs, -2.25 + 0.05 * ys}, 2).contiguous();
    tensors["pair_flows_q"] = encode_pack_flow(flows, factor);
    torch::manual_seed(3);
    masks = (torch::rand({m, 2, 1, s, s}) > 0.3).to(torch::kUInt8);
    tensors["pair_masks_bits"] = pack_bits(masks.view({m, 2, s * s}));
    meta = {{"format", "vidcolor-pack"},  {"version", "2"},
            {"crop", std::to_string(s)},  {"knn_k", "5"},
            {"knn_lambda", "0.002"},      {"images", std::to_string(n)},
            {"pairs", std::to_string(m)}, {"flow_factor", std::to_string(factor)},
            {"flow_scale", "32"}};
  }
  std::string write(const std::string& name) const {
    const std::string p = temp_path(name);
    write_safetensors(p, tensors, meta);
    return p;
  }
};

// The pack at `p` must be refused with a vidcolor::Error naming it and saying `words`.
void expect_refused(const std::string& p, const std::string& words) {
  try {
    TrainingPack pack(p);
    ADD_FAILURE() << "accepted a bad pack (expected: " << words << ")";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(p), std::string::npos) << m;
    EXPECT_NE(m.find(words), std::string::npos) << m;
  }
}

}  // namespace

TEST(PackJpeg, RoundTripWithinJpegTolerance) {
  if (!jpeg_supported()) GTEST_SKIP() << "this build has no libjpeg";
  const torch::Tensor img = picture(48, 64, 1);
  const std::vector<uint8_t> file = jpeg_of(img, 85);
  EXPECT_GT(file.size(), 100u);
  EXPECT_LT(file.size(), 48u * 64 * 3 / 4);
  torch::Tensor back = torch::empty({3, 48, 64}, torch::kUInt8);
  decode_jpeg_rgb_chw(file.data(), file.size(), 64, 48, back.data_ptr<uint8_t>(), "test");
  const auto diff = (back.to(torch::kFloat32) - img.to(torch::kFloat32)).abs();
  EXPECT_LT(diff.mean().item<float>(), 3.0f);
  EXPECT_LT(diff.max().item<float>(), 80.0f);  // chroma at the sharp edge (4:2:0)
  // Decoding is deterministic (the same bytes, the same pixels).
  torch::Tensor again = torch::empty_like(back);
  decode_jpeg_rgb_chw(file.data(), file.size(), 64, 48, again.data_ptr<uint8_t>(), "test");
  EXPECT_TRUE(torch::equal(back, again));
  // Wrong size, garbage, truncation: errors that say what and where.
  try {
    decode_jpeg_rgb_chw(file.data(), file.size(), 32, 48, again.data_ptr<uint8_t>(),
                        "pack.x: image 7");
    ADD_FAILURE() << "a 64x48 JPEG decoded as 32x48";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pack.x: image 7"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("64x48"), std::string::npos) << e.what();
  }
  const std::vector<uint8_t> junk(200, 0x5a);
  EXPECT_THROW(
      decode_jpeg_rgb_chw(junk.data(), junk.size(), 64, 48, again.data_ptr<uint8_t>(), "t"), Error);
  EXPECT_THROW(
      decode_jpeg_rgb_chw(file.data(), file.size() / 2, 64, 48, again.data_ptr<uint8_t>(), "t"),
      Error);
  EXPECT_THROW(decode_jpeg_rgb_chw(file.data(), 0, 64, 48, again.data_ptr<uint8_t>(), "t"), Error);
  EXPECT_THROW(encode_jpeg_rgb(img.data_ptr<uint8_t>(), 64, 48, 0), Error);
}

TEST(PackFlow, FixedPointStepAndClamp) {
  torch::manual_seed(1);
  const torch::Tensor f = torch::randn({3, 2, 2, 8, 8}) * 20;
  const torch::Tensor q = encode_pack_flow(f, 1);
  EXPECT_EQ(q.scalar_type(), torch::kInt16);
  EXPECT_EQ(q.sizes(), f.sizes());
  EXPECT_LE((decode_pack_flow(q, 1) - f).abs().max().item<double>(), 0.5 / kPackFlowScale + 1e-6);
  // Clamped to int16, non-finite values are no motion.
  const torch::Tensor odd = torch::tensor({5000.f, -5000.f, NAN, INFINITY}).view({1, 2, 1, 2});
  const torch::Tensor back = decode_pack_flow(
      encode_pack_flow(odd.view({1, 2, 1, 2}).expand({1, 2, 2, 2}).contiguous(), 1), 1);
  EXPECT_NEAR(back[0][0][0][0].item<float>(), 32767.0 / 32, 1e-3);
  EXPECT_NEAR(back[0][0][0][1].item<float>(), -32767.0 / 32, 1e-3);
  EXPECT_EQ(back[0][1][0][0].item<float>(), 0.f);
  EXPECT_EQ(back[0][1][0][1].item<float>(), 0.f);
  // Reduced resolution: a constant flow comes back exactly, a linear one within the step
  // inside (bilinear reproduces linear functions; the border clamps half a block).
  const torch::Tensor c = torch::full({1, 2, 16, 16}, 3.25f);
  EXPECT_EQ(encode_pack_flow(c, 4).sizes(), (std::vector<int64_t>{1, 2, 4, 4}));
  EXPECT_LE((decode_pack_flow(encode_pack_flow(c, 4), 4) - c).abs().max().item<double>(), 1e-6);
  const auto xs = torch::arange(16, torch::kFloat32).view({1, 1, 1, 16}).expand({1, 2, 16, 16});
  const torch::Tensor lin = (0.5 * xs).contiguous();
  const torch::Tensor lb = decode_pack_flow(encode_pack_flow(lin, 4), 4);
  EXPECT_LE((lb - lin).narrow(3, 2, 12).abs().max().item<double>(), 1.0 / kPackFlowScale);
  EXPECT_THROW(encode_pack_flow(c, 3), Error);
}

TEST(PackMasks, BitsRoundTripAndOrder) {
  torch::manual_seed(2);
  const torch::Tensor m = (torch::rand({2, 3, 37}) > 0.5).to(torch::kUInt8);
  const torch::Tensor bits = pack_bits(m);
  EXPECT_EQ(bits.sizes(), (std::vector<int64_t>{2, 3, 5}));
  EXPECT_TRUE(torch::equal(unpack_bits(bits, 37), m));
  // numpy.packbits' order: the first element is the most significant bit.
  const torch::Tensor one = torch::tensor({1, 0, 0, 0, 0, 0, 0, 1, 1}, torch::kUInt8);
  EXPECT_TRUE(torch::equal(pack_bits(one), torch::tensor({129, 128}, torch::kUInt8)));
  EXPECT_THROW(unpack_bits(bits, 41), Error);
}

TEST(PackBlobs, OffsetsChecked) {
  const auto [blob, off] = concat_blobs({{1, 2, 3}, {4}, {5, 6}});
  EXPECT_EQ(blob.numel(), 6);
  EXPECT_TRUE(torch::equal(off, torch::tensor({0, 3, 4, 6}, torch::kInt64)));
  EXPECT_NO_THROW(check_blob_offsets(off, 6, "x"));
  EXPECT_THROW(check_blob_offsets(off, 7, "x"), Error);
  EXPECT_THROW(check_blob_offsets(torch::tensor({1, 3, 6}, torch::kInt64), 6, "x"), Error);
  EXPECT_THROW(check_blob_offsets(torch::tensor({0, 3, 3, 6}, torch::kInt64), 6, "x"), Error);
  EXPECT_THROW(check_blob_offsets(torch::tensor({0, 4, 3, 6}, torch::kInt64), 6, "x"), Error);
  EXPECT_THROW(check_blob_offsets(torch::tensor({0}, torch::kInt64), 0, "x"), Error);
  EXPECT_THROW(check_blob_offsets(torch::tensor({0, 6}, torch::kInt32), 6, "x"), Error);
}

TEST(PackVersion2, ReadBackWithinTolerancesAndGraphsPerBatch) {
  if (!jpeg_supported()) GTEST_SKIP() << "this build has no libjpeg";
  const HandPack h;
  const std::string p = h.write("v2.safetensors");
  std::vector<PackLoadProgress> seen;
  TrainingPackOptions po;
  po.decode_threads = 2;
  po.load_progress = [&](const PackLoadProgress& pr) { seen.push_back(pr); };
  const TrainingPack pack(p, po);
  std::remove(p.c_str());
  EXPECT_EQ(pack.version(), 2);
  EXPECT_EQ(pack.num_images(), h.n);
  EXPECT_EQ(pack.num_pairs(), h.m);
  EXPECT_EQ(pack.knn_k(), 5);
  EXPECT_TRUE(pack.knn_per_batch());
  EXPECT_FALSE(pack.knn_built_at_load());
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().done, seen.back().total);

  // Images within JPEG tolerance of the sources.
  const auto b = pack.images({0, 1, 2}, {false, true, false});
  const auto src = h.images.to(torch::kFloat32) / 255.0;
  EXPECT_LT((b.rgb.select(0, 0) - src.select(0, 0)).abs().mean().item<float>(), 4.0f / 255);
  EXPECT_LT((b.rgb.select(0, 1) - src.select(0, 1).flip({-1})).abs().mean().item<float>(),
            4.0f / 255);
  // Per-batch graphs: those of the decoded crops, flipped like a stored graph.
  ASSERT_TRUE(b.knn.defined());
  EXPECT_EQ(b.knn.sizes(), (std::vector<int64_t>{3, h.s * h.s, 5}));
  const auto unflipped = pack.images({1}).rgb;
  const torch::Tensor u8 = (unflipped * 255).round().to(torch::kUInt8);
  KnnBatchOptions ko;
  ko.k = 5;
  ko.lambda = 0.002;
  const torch::Tensor g = knn_graphs_torch(u8, ko).to(torch::kInt64);
  EXPECT_TRUE(torch::equal(b.knn.narrow(0, 1, 1), hflip_knn(g, h.s, h.s)));
  EXPECT_TRUE(torch::equal(pack.images({1}).knn, g));
  EXPECT_FALSE(pack.images({0, 1}, {}, /*with_knn=*/false).knn.defined());

  // Pairs: frames within JPEG tolerance, flows within the fixed-point step (a linear flow is
  // what the reduced resolution keeps; borders excluded), masks exact.
  const auto pr = pack.pairs({0, 1});
  EXPECT_LT((pr.rgb - h.frames.to(torch::kFloat32) / 255.0).abs().mean().item<float>(), 4.0f / 255);
  const torch::Tensor fw = h.flows.select(1, 0), bw = h.flows.select(1, 1);
  const auto inner = [](const torch::Tensor& t) { return t.narrow(2, 2, 12).narrow(3, 2, 12); };
  EXPECT_LE(inner(pr.flow_fw - fw).abs().max().item<double>(), 1.0 / kPackFlowScale + 2e-3);
  EXPECT_LE(inner(pr.flow_bw - bw).abs().max().item<double>(), 1.0 / kPackFlowScale + 2e-3);
  EXPECT_TRUE(torch::equal(pr.mask_fw, h.masks.select(1, 0).to(torch::kFloat32)));
  EXPECT_TRUE(torch::equal(pr.mask_bw, h.masks.select(1, 1).to(torch::kFloat32)));

  // An explicit build at load gives the same graphs.
  const std::string p2 = h.write("v2b.safetensors");
  TrainingPackOptions at_load;
  at_load.knn_build = KnnBuild::AtLoad;
  const TrainingPack loaded(p2, at_load);
  std::remove(p2.c_str());
  EXPECT_TRUE(loaded.knn_built_at_load());
  EXPECT_TRUE(torch::equal(loaded.images({0, 1, 2}, {false, true, false}).knn, b.knn));
}

TEST(PackVersion2, CorruptPacksAreClearErrors) {
  if (!jpeg_supported()) GTEST_SKIP() << "this build has no libjpeg";
  const std::string p = temp_path("bad.safetensors");
  const auto with = [&](const std::function<void(HandPack&)>& change) {
    HandPack h;
    change(h);
    write_safetensors(p, h.tensors, h.meta);
  };
  with([](HandPack& h) { h.meta["version"] = "3"; });
  expect_refused(p, "version");
  with([](HandPack& h) { h.tensors["image_jpeg_offsets"][3] = 1 << 30; });
  expect_refused(p, "offsets end at");
  with([](HandPack& h) { h.tensors["image_jpeg_offsets"][1] = -5; });
  expect_refused(p, "not increasing");
  with([](HandPack& h) { h.tensors.erase("image_jpeg_offsets"); });
  expect_refused(p, "come together");
  with([](HandPack& h) {  // a byte in the middle of image 1's entropy-coded data
    auto& blob = h.tensors["image_jpeg"];
    const int64_t mid = (h.tensors["image_jpeg_offsets"][1].item<int64_t>() +
                         h.tensors["image_jpeg_offsets"][2].item<int64_t>()) /
                        2;
    blob[mid] = 0xff;
    blob[mid + 1] = 0xd9;  // EOI: the rest of the image is missing
  });
  expect_refused(p, "image 1");
  with([](HandPack& h) {  // image 2's file replaced by an 8x8 JPEG
    std::vector<std::vector<uint8_t>> files;
    for (int i = 0; i < 2; ++i) {
      const auto o = h.tensors["image_jpeg_offsets"];
      const auto b = h.tensors["image_jpeg"];
      const int64_t a = o[i].item<int64_t>(), e = o[i + 1].item<int64_t>();
      files.emplace_back(b.data_ptr<uint8_t>() + a, b.data_ptr<uint8_t>() + e);
    }
    files.push_back(jpeg_of(picture(8, 8, 0)));
    auto [blob, off] = concat_blobs(files);
    h.tensors["image_jpeg"] = blob;
    h.tensors["image_jpeg_offsets"] = off;
  });
  expect_refused(p, "8x8");
  with([](HandPack& h) {
    h.tensors["image_jpeg"] = torch::full({300}, 7, torch::kUInt8);
    h.tensors["image_jpeg_offsets"] = torch::tensor({0, 100, 200, 300}, torch::kInt64);
  });
  expect_refused(p, "image 0");
  with([](HandPack& h) { h.meta["images"] = "4"; });
  expect_refused(p, "\"images\" = 4");
  with([](HandPack& h) { h.meta["flow_factor"] = "3"; });
  expect_refused(p, "flow_factor");
  with([](HandPack& h) { h.meta.erase("flow_factor"); });
  expect_refused(p, "flow_factor");
  with([](HandPack& h) { h.meta["flow_scale"] = "16"; });
  expect_refused(p, "flow_scale");
  with([](HandPack& h) {
    h.tensors["pair_flows_q"] = torch::zeros({2, 2, 2, 8, 8}, torch::kInt16);
  });
  expect_refused(p, "pair_flows_q");
  with([](HandPack& h) {
    h.tensors["pair_flows_q"] = torch::zeros({2, 2, 2, 4, 4}, torch::kFloat16);
  });
  expect_refused(p, "dtype");
  with([](HandPack& h) { h.tensors["pair_masks_bits"] = torch::zeros({2, 2, 31}, torch::kUInt8); });
  expect_refused(p, "pair_masks_bits");
  with([](HandPack& h) {  // 3 frames: not 2 per pair
    h.tensors["pair_jpeg_offsets"] = h.tensors["pair_jpeg_offsets"].narrow(0, 0, 4).clone();
    h.tensors["pair_jpeg"] = h.tensors["pair_jpeg"]
                                 .narrow(0, 0, h.tensors["pair_jpeg_offsets"][3].item<int64_t>())
                                 .clone();
  });
  expect_refused(p, "2 per pair");
  with([](HandPack& h) { h.tensors["images"] = torch::zeros({1, 3, 16, 16}, torch::kUInt8); });
  expect_refused(p, "version-1 tensors");
  with([](HandPack& h) { h.meta["knn_k"] = "many"; });
  expect_refused(p, "knn_k");

  // Random damage to the JPEG bytes: loads or is refused, never crashes. (The header and
  // offsets are the safetensors reader's and check_blob_offsets' job, tested above.)
  const HandPack h;
  std::mt19937 rng(11);
  int refused = 0;
  for (int trial = 0; trial < 150; ++trial) {
    HandPack d = h;
    d.tensors["image_jpeg"] = h.tensors.at("image_jpeg").clone();
    d.tensors["pair_jpeg"] = h.tensors.at("pair_jpeg").clone();
    for (int k = 0; k < 1 + trial % 4; ++k) {
      torch::Tensor& t = d.tensors[(rng() & 1) ? "image_jpeg" : "pair_jpeg"];
      t[static_cast<int64_t>(rng() % static_cast<uint32_t>(t.numel()))] =
          static_cast<int64_t>(rng() & 0xff);
    }
    write_safetensors(p, d.tensors, d.meta);
    try {
      TrainingPack pack(p);
      EXPECT_EQ(pack.num_images(), 3);
    } catch (const Error& e) {
      ++refused;
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
    }
  }
  EXPECT_GT(refused, 10);
  std::remove(p.c_str());
}

TEST(PackVersion1, StillRead) {
  // A hand-made version-1 pack (raw crops, stored graphs, float16 flows, byte masks).
  const int64_t s = 4;
  torch::manual_seed(5);
  const std::string p = temp_path("v1.safetensors");
  write_safetensors(p,
                    {{"images", torch::randint(0, 256, {2, 3, s, s}).to(torch::kUInt8)},
                     {"image_knn", torch::randint(0, s * s, {2, s * s, 3}).to(torch::kInt32)},
                     {"pair_frames", torch::randint(0, 256, {1, 2, 3, s, s}).to(torch::kUInt8)},
                     {"pair_flows", torch::randn({1, 2, 2, s, s}).to(torch::kFloat16)},
                     {"pair_masks", torch::ones({1, 2, 1, s, s}, torch::kUInt8)}},
                    {{"format", "vidcolor-pack"}, {"version", "1"}, {"crop", std::to_string(s)}});
  const SafetensorsFile f = read_safetensors(p);
  const TrainingPack pack(p);
  std::remove(p.c_str());
  EXPECT_EQ(pack.version(), 1);
  EXPECT_FALSE(pack.knn_per_batch());
  EXPECT_EQ(pack.knn_k(), 3);
  const auto b = pack.images({1, 0});
  EXPECT_TRUE(torch::equal((b.rgb * 255).round().to(torch::kUInt8),
                           f.tensors.at("images").index_select(0, torch::tensor({1, 0}))));
  EXPECT_TRUE(torch::equal(
      b.knn, f.tensors.at("image_knn").index_select(0, torch::tensor({1, 0})).to(torch::kInt64)));
  EXPECT_TRUE(torch::equal(pack.pairs({0}).flow_fw,
                           f.tensors.at("pair_flows").select(1, 0).to(torch::kFloat32)));
}
