// The training pack: packed from real photos and real DAVIS frames, read back without OpenCV,
// checked for shapes, dtypes, values and flip consistency.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "vidcolor/core/color_tensors.hpp"
#include "vidcolor/core/error.hpp"
#include "vidcolor/train/jpeg_codec.hpp"
#include "vidcolor/train/pack_codec.hpp"
#include "vidcolor/train/pack_writer.hpp"
#include "vidcolor/model/safetensors.hpp"
#include "vidcolor/train/training_pack.hpp"
#include "vidcolor/ops/warp.hpp"

using namespace vidcolor;
namespace fs = std::filesystem;

namespace {

std::string shared_data() {
  const char* d = std::getenv("VIDCOLOR_SHARED_DATA");
  return d ? d : "../shared/data";
}

// Mean |x_p - x_q| over the graph's edges (the bilateral loss of eq. 2, spelled out here so
// this test needs only the reader).
float edge_l1(const torch::Tensor& x, const torch::Tensor& knn) {
  const int64_t n = x.size(0), c = x.size(1), hw = x.size(2) * x.size(3), k = knn.size(2);
  const auto flat = x.reshape({n, c, hw});
  const auto idx = knn.reshape({n, 1, hw * k}).expand({n, c, hw * k});
  return (flat.unsqueeze(3) - flat.gather(2, idx).view({n, c, hw, k})).abs().mean().item<float>();
}

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("vidcolor-" + std::to_string(getpid()) + "-" + name))
      .string();
}

// One pack for the whole suite (packing is the slow part).
class PackTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string images = shared_data() + "/images/bsds500";
    const std::string frames = shared_data() + "/videos/davis2016/car-shadow";
    if (!fs::is_directory(images) || !fs::is_directory(frames)) return;
    path_ = new std::string(temp_path("pack.safetensors"));
    PackOptions o;
    o.image_dirs = {images};
    o.frame_dirs = {frames};
    o.crop = 64;
    o.per_image = 2;
    o.max_images = 3;
    o.pairs_per_seq = 3;
    o.seed = 7;
    stats_ = write_training_pack(o, *path_);
    std::printf("packed %lld crops in %.3f s (%.1f ms each), %lld pairs in %.3f s (%.1f ms each)\n",
                static_cast<long long>(stats_.images), stats_.seconds_images,
                1000 * stats_.seconds_images / std::max<int64_t>(1, stats_.images),
                static_cast<long long>(stats_.pairs), stats_.seconds_pairs,
                1000 * stats_.seconds_pairs / std::max<int64_t>(1, stats_.pairs));
  }
  static void TearDownTestSuite() {
    if (path_) std::remove(path_->c_str());
    delete path_;
    path_ = nullptr;
  }
  void SetUp() override {
    if (!path_) GTEST_SKIP() << "no BSDS500 / DAVIS data in " << shared_data();
  }
  // The suite pack's image options without its pairs: the same crops (images draw from the
  // generator first).
  static PackOptions suite_images_only() {
    PackOptions o;
    o.image_dirs = {shared_data() + "/images/bsds500"};
    o.crop = 64;
    o.max_images = 3;
    o.per_image = 2;
    o.pairs_per_seq = 0;
    o.seed = 7;
    return o;
  }
  static std::string* path_;
  static PackStats stats_;
};
std::string* PackTest::path_ = nullptr;
PackStats PackTest::stats_;

}  // namespace

TEST(PackFlips, HandCheckedKnnAndFlow) {
  // 1x3 grid, K = 1: 0->1, 1->2, 2->1. Mirrored: pixel 0 is old 2 (->1 -> mirrored 1),
  // pixel 1 is old 1 (->2 -> mirrored 0), pixel 2 is old 0 (->1 -> 1).
  const auto knn = torch::tensor({1, 2, 1}, torch::kInt64).view({1, 3, 1});
  EXPECT_TRUE(
      torch::equal(hflip_knn(knn, 1, 3), torch::tensor({1, 0, 1}, torch::kInt64).view({1, 3, 1})));
  // Flow (dx, dy) per pixel [(1,5), (2,6), (3,7)] -> [(-3,7), (-2,6), (-1,5)].
  const auto flow = torch::tensor({1.f, 2.f, 3.f, 5.f, 6.f, 7.f}).view({1, 2, 1, 3});
  EXPECT_TRUE(torch::equal(hflip_flow(flow),
                           torch::tensor({-3.f, -2.f, -1.f, 7.f, 6.f, 5.f}).view({1, 2, 1, 3})));
}

TEST_F(PackTest, ShapesDtypesMetadata) {
  const TrainingPack pack(*path_);
  EXPECT_EQ(pack.crop_size(), 64);
  EXPECT_EQ(pack.knn_k(), 5);
  EXPECT_EQ(pack.num_images(), 6);  // 3 images x 2 crops
  EXPECT_EQ(pack.num_pairs(), 3);
  EXPECT_EQ(pack.metadata().at("format"), "vidcolor-pack");
  // The raw file holds the documented dtypes (and Python's safetensors can read it).
  const auto raw = read_safetensors(*path_);
  EXPECT_EQ(raw.tensors.at("images").scalar_type(), torch::kUInt8);
  EXPECT_EQ(raw.tensors.at("image_knn").scalar_type(), torch::kInt32);
  EXPECT_EQ(raw.tensors.at("pair_flows").scalar_type(), torch::kFloat16);
  EXPECT_EQ(raw.tensors.at("pair_masks").sizes(), (std::vector<int64_t>{3, 2, 1, 64, 64}));

  const auto b = pack.images({0, 5});
  EXPECT_EQ(b.rgb.sizes(), (std::vector<int64_t>{2, 3, 64, 64}));
  EXPECT_EQ(b.y.sizes(), (std::vector<int64_t>{2, 1, 64, 64}));
  EXPECT_EQ(b.cbcr.sizes(), (std::vector<int64_t>{2, 2, 64, 64}));
  EXPECT_EQ(b.knn.sizes(), (std::vector<int64_t>{2, 64 * 64, 5}));
  EXPECT_EQ(b.knn.scalar_type(), torch::kInt64);
  const auto p = pack.pairs({2});
  EXPECT_EQ(p.rgb.sizes(), (std::vector<int64_t>{1, 2, 3, 64, 64}));
  EXPECT_EQ(p.flow_fw.sizes(), (std::vector<int64_t>{1, 2, 64, 64}));
  EXPECT_EQ(p.mask_bw.sizes(), (std::vector<int64_t>{1, 1, 64, 64}));
  EXPECT_THROW(pack.images({6}), Error);
  EXPECT_THROW(pack.pairs({0}, {true, false}), Error);
}

TEST_F(PackTest, ImageValuesAndKnnFollowTheColors) {
  const TrainingPack pack(*path_);
  const auto b = pack.images({0, 1, 2, 3, 4, 5});
  EXPECT_GE(b.rgb.min().item<float>(), 0.0f);
  EXPECT_LE(b.rgb.max().item<float>(), 1.0f);
  EXPECT_GT(b.rgb.std().item<float>(), 0.05f);  // real photos, not blank
  // Y + CbCr give the colours back (Y is quantised to 1/255 like GRAY8 input).
  EXPECT_LT((ycc_to_rgb(b.y, b.cbcr) - b.rgb).abs().max().item<float>(), 1.5f / 255);
  // The graph links pixels of like colour: the ground truth's own bilateral loss over it is
  // far below that over a random graph.
  const float own = edge_l1(b.rgb, b.knn);
  const float rnd = edge_l1(b.rgb, torch::randint(0, 64 * 64, b.knn.sizes(), torch::kInt64));
  EXPECT_LT(own, 0.3f * rnd) << own << " vs random " << rnd;
}

TEST_F(PackTest, ImageFlipIsConsistent) {
  const TrainingPack pack(*path_);
  const auto a = pack.images({1, 4});
  const auto f = pack.images({1, 4}, {true, false});
  EXPECT_TRUE(torch::equal(f.rgb[0], a.rgb[0].flip({-1})));
  EXPECT_TRUE(torch::equal(f.rgb[1], a.rgb[1]));
  EXPECT_TRUE(torch::equal(f.knn[1], a.knn[1]));
  // Row m(p) of the flipped graph is row p mirrored, m(y*W+x) = y*W + W-1-x.
  const torch::Tensor ka_t = a.knn[0], kf_t = f.knn[0];
  const auto ka = ka_t.accessor<int64_t, 2>();
  const auto kf = kf_t.accessor<int64_t, 2>();
  const auto m = [](int64_t p) { return (p / 64) * 64 + 63 - p % 64; };
  for (int64_t p = 0; p < 64 * 64; p += 37)
    for (int j = 0; j < 5; ++j) ASSERT_EQ(kf[m(p)][j], m(ka[p][j]));
  // Same pairs, so the same loss on the mirrored colours.
  EXPECT_NEAR(edge_l1(f.cbcr.narrow(0, 0, 1), f.knn.narrow(0, 0, 1)),
              edge_l1(a.cbcr.narrow(0, 0, 1), a.knn.narrow(0, 0, 1)), 1e-6);
}

TEST_F(PackTest, FlowsWarpTheFramesAndFlipConsistently) {
  const TrainingPack pack(*path_);
  for (bool flip : {false, true}) {
    const auto p = pack.pairs({0, 1, 2}, {flip, flip, flip});
    const auto t0 = p.rgb.select(1, 0), t1 = p.rgb.select(1, 1);
    // warp(I_{t+1}, F_{t->t+1}) ~ I_t where the mask says valid; and the other way round.
    const auto err_fw =
        ((warp(t1, p.flow_fw) - t0).abs() * p.mask_fw).sum() / (3 * p.mask_fw.sum());
    const auto err_bw =
        ((warp(t0, p.flow_bw) - t1).abs() * p.mask_bw).sum() / (3 * p.mask_bw.sum());
    const auto err_none = ((t1 - t0).abs() * p.mask_fw).sum() / (3 * p.mask_fw.sum());
    EXPECT_LT(err_fw.item<float>(), 0.04f) << "flip " << flip;
    EXPECT_LT(err_bw.item<float>(), 0.04f) << "flip " << flip;
    EXPECT_LE(err_fw.item<float>(), err_none.item<float>() + 1e-4f) << "flip " << flip;
    EXPECT_GT(p.mask_fw.mean().item<float>(), 0.5f);
    EXPECT_TRUE(((p.mask_fw == 0) | (p.mask_fw == 1)).all().item<bool>());
  }
  const auto a = pack.pairs({1}), f = pack.pairs({1}, {true});
  EXPECT_TRUE(torch::equal(f.rgb, a.rgb.flip({-1})));
  EXPECT_TRUE(torch::equal(f.mask_bw, a.mask_bw.flip({-1})));
  EXPECT_TRUE(torch::equal(f.flow_fw.select(1, 0), -a.flow_fw.select(1, 0).flip({-1})));
  EXPECT_TRUE(torch::equal(f.flow_fw.select(1, 1), a.flow_fw.select(1, 1).flip({-1})));
}

TEST_F(PackTest, SameSeedSamePack) {
  PackOptions o = suite_images_only();
  const std::string again = temp_path("again.safetensors");
  write_training_pack(o, again);
  const auto x = read_safetensors(again), y = read_safetensors(*path_);
  std::remove(again.c_str());
  // Images come first and draw from the generator first, so they match the suite's pack.
  EXPECT_TRUE(torch::equal(x.tensors.at("images"), y.tensors.at("images")));
  EXPECT_TRUE(torch::equal(x.tensors.at("image_knn"), y.tensors.at("image_knn")));
}

// Squared bilateral distance (eq. 2's space, λ = 0.002) of every edge of the graphs: [B,H*W,K].
static torch::Tensor edge_dist2(const torch::Tensor& rgb, const torch::Tensor& knn) {
  const int64_t n = rgb.size(0), h = rgb.size(2), w = rgb.size(3), hw = h * w, k = knn.size(2);
  const auto ys = torch::arange(h).view({1, 1, h, 1}).expand({n, 1, h, w}).to(torch::kFloat64);
  const auto xs = torch::arange(w).view({1, 1, 1, w}).expand({n, 1, h, w}).to(torch::kFloat64);
  const auto pts =
      torch::cat({rgb.to(torch::kFloat64), 0.002 * xs, 0.002 * ys}, 1).reshape({n, 5, hw});
  const auto idx = knn.reshape({n, 1, hw * k}).expand({n, 5, hw * k});
  return (pts.unsqueeze(3) - pts.gather(2, idx).view({n, 5, hw, k})).pow(2).sum(1);
}

TEST_F(PackTest, PackWithoutGraphsGetsThemBuiltAtLoad) {
  // The suite's pack again with knn_graphs = false: same crops, no "image_knn" in the file,
  // and the reader's graphs are the writer's up to ties (the same K nearest distances).
  PackOptions o = suite_images_only();
  o.knn_graphs = false;
  const std::string small = temp_path("noknn.safetensors");
  write_training_pack(o, small);
  EXPECT_EQ(read_safetensors(small).tensors.count("image_knn"), 0u);
  EXPECT_LT(fs::file_size(small) * 3, fs::file_size(*path_));
  int64_t progress_calls = 0;
  TrainingPackOptions po;
  po.knn_progress = [&](const KnnBatchProgress& p) {
    ++progress_calls;
    EXPECT_EQ(p.total, 6);
  };
  const TrainingPack built(small, po);
  const TrainingPack stored(*path_);
  EXPECT_TRUE(built.knn_built_at_load());
  EXPECT_FALSE(stored.knn_built_at_load());
  EXPECT_EQ(progress_calls, 6);
  ASSERT_EQ(built.num_images(), 6);
  EXPECT_EQ(built.knn_k(), 5);
  const std::vector<int64_t> all{0, 1, 2, 3, 4, 5};
  const std::vector<bool> flips{true, false, true, false, false, true};
  std::remove(small.c_str());
  const auto a = built.images(all, flips), b = stored.images(all, flips);
  EXPECT_TRUE(torch::equal(a.rgb, b.rgb));
  // On the CPU of a build with OpenCV the reader uses the writer's KD-tree: the same graphs.
  EXPECT_TRUE(torch::equal(a.knn, b.knn));
  // The brute force (a GPU's search) finds the same K nearest distances, ties aside.
  KnnBatchOptions ko;
  ko.search = KnnSearch::BruteForce;
  const torch::Tensor brute = knn_graphs_torch(read_safetensors(*path_).tensors.at("images"), ko);
  const torch::Tensor stored_knn =
      read_safetensors(*path_).tensors.at("image_knn").to(torch::kInt64);
  const auto rgb = stored.images(all).rgb;
  EXPECT_LT((edge_dist2(rgb, brute.to(torch::kInt64)) - edge_dist2(rgb, stored_knn))
                .abs()
                .max()
                .item<double>(),
            2e-6);
}

TEST_F(PackTest, CompactPackHoldsTheSameSamples) {
  // The suite's pack written as version 2 (same options and seed: the same crops and pairs):
  // images within JPEG tolerance, flows within the fixed-point step at full resolution and
  // close at 1/4, masks exact, and far fewer bytes.
  if (!jpeg_supported()) GTEST_SKIP() << "this build has no libjpeg";
  PackOptions o;
  o.image_dirs = {shared_data() + "/images/bsds500"};
  o.frame_dirs = {shared_data() + "/videos/davis2016/car-shadow"};
  o.crop = 64;
  o.per_image = 2;
  o.max_images = 3;
  o.pairs_per_seq = 3;
  o.seed = 7;
  o.format_version = 2;
  o.flow_factor = 1;
  const std::string full = temp_path("v2-full.safetensors"),
                    quarter = temp_path("v2-quarter.safetensors");
  const PackStats sf = write_training_pack(o, full);
  o.flow_factor = 4;
  const PackStats sq = write_training_pack(o, quarter);
  EXPECT_EQ(sq.images, 6);
  EXPECT_EQ(sq.pairs, 3);
  EXPECT_LT(sq.bytes * 8, static_cast<int64_t>(fs::file_size(*path_)));
  EXPECT_LT(sq.bytes, sf.bytes);
  const auto raw = read_safetensors(quarter);
  EXPECT_EQ(raw.metadata.at("version"), "2");
  EXPECT_EQ(raw.tensors.count("image_knn"), 0u);
  EXPECT_EQ(raw.tensors.at("pair_flows_q").sizes(), (std::vector<int64_t>{3, 2, 2, 16, 16}));
  EXPECT_EQ(raw.tensors.at("pair_masks_bits").sizes(), (std::vector<int64_t>{3, 2, 64 * 64 / 8}));
  // The writer measured what the reduced resolution costs (PackFlowError).
  EXPECT_GT(sq.flow_error.valid_pixels, 0);
  EXPECT_LE(sf.flow_error.epe_max,
            std::sqrt(2.0) * 0.5 / kPackFlowScale + 1e-6);  // half a step per axis
  EXPECT_LT(sq.flow_error.epe_mean, 0.5);
  EXPECT_LT(sq.flow_error.warp_change, sq.flow_error.warp_error_full);

  const TrainingPack v1(*path_), v2(full), v2q(quarter);
  std::remove(full.c_str());
  std::remove(quarter.c_str());
  EXPECT_EQ(v2.version(), 2);
  EXPECT_TRUE(v2.knn_per_batch());
  const std::vector<int64_t> all{0, 1, 2, 3, 4, 5};
  const auto a = v1.images(all), b = v2.images(all);
  // JPEG at quality 85 with 4:2:0 chroma on textured 64-px crops of BSDS photos: ~5 levels.
  EXPECT_LT((a.rgb - b.rgb).abs().mean().item<float>(), 6.0f / 255);
  // Per-batch graphs of the JPEG crops are graphs of nearly the same colours: the ground
  // truth's bilateral loss over them is about that over the stored graphs.
  EXPECT_LT(edge_l1(b.rgb, b.knn), 1.5f * edge_l1(a.rgb, a.knn) + 1e-3f);
  const std::vector<int64_t> pairs{0, 1, 2};
  const std::vector<bool> flips{true, false, true};
  const auto p1 = v1.pairs(pairs, flips), p2 = v2.pairs(pairs, flips), p4 = v2q.pairs(pairs, flips);
  EXPECT_LT((p1.rgb - p2.rgb).abs().mean().item<float>(), 6.0f / 255);
  // v1 holds float16 flows: the fixed point's half step plus float16's rounding.
  EXPECT_LE((p1.flow_fw - p2.flow_fw).abs().max().item<float>(), 1.0f / 32);
  EXPECT_LE((p1.flow_bw - p2.flow_bw).abs().max().item<float>(), 1.0f / 32);
  EXPECT_TRUE(torch::equal(p1.mask_fw, p2.mask_fw));
  EXPECT_TRUE(torch::equal(p1.mask_bw, p4.mask_bw));
  EXPECT_LT(((p1.flow_fw - p4.flow_fw).abs() * p1.mask_fw).sum().item<float>() /
                p1.mask_fw.sum().item<float>(),
            0.5f);
}

TEST(PackSplit, ExcludedInputsAreLeftOut) {
  const std::string davis = shared_data() + "/videos/davis2016";
  if (!fs::is_directory(davis + "/car-shadow") || !fs::is_directory(davis + "/dog"))
    GTEST_SKIP() << "no DAVIS data in " << shared_data();
  PackOptions o;
  o.frame_dirs = {davis};
  o.crop = 32;
  o.pairs_per_seq = 1;
  o.format_version = 2;
  // Every sequence but car-shadow, named the way data/split.json names clips.
  for (const auto& e : fs::directory_iterator(davis))
    if (e.is_directory() && e.path().filename() != "car-shadow")
      o.exclude.push_back("videos/davis2016/" + e.path().filename().string());
  const std::string out = temp_path("split.safetensors");
  const PackStats st = write_training_pack(o, out);
  EXPECT_EQ(st.pairs, 1);
  EXPECT_EQ(st.excluded, static_cast<int64_t>(o.exclude.size()));
  const auto meta = read_safetensors(out).metadata;
  std::remove(out.c_str());
  EXPECT_NE(meta.at("sources").find("videos/davis2016/dog"), std::string::npos);
  // Whole path components only: "og" is not "dog"; a trailing slash is the same folder.
  o.exclude = {"og", "davis2016/car-shadow/"};
  const PackStats st2 = write_training_pack(o, out);
  std::remove(out.c_str());
  EXPECT_EQ(st2.excluded, 1);
  EXPECT_EQ(st2.pairs, st.excluded);  // the 15 other sequences, one pair each
}

TEST(PackVideo, PairsFromAVideoFile) {
  // A short MJPEG clip made from real DAVIS frames: pairs come out of cv::VideoCapture.
  const std::string seq = shared_data() + "/videos/davis2016/car-shadow";
  if (!fs::is_directory(seq)) GTEST_SKIP() << "no DAVIS data in " << shared_data();
  const auto files = list_image_files(seq);
  const std::string video = temp_path("clip.avi");
  {
    cv::VideoWriter w(video, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 25, cv::Size(854, 480));
    if (!w.isOpened()) GTEST_SKIP() << "OpenCV cannot write MJPEG AVI here";
    for (int i = 0; i < 5; ++i) w.write(cv::imread(files[static_cast<size_t>(i)]));
  }
  PackOptions o;
  o.videos = {video};
  o.crop = 48;
  o.pairs_per_seq = 2;
  const std::string out = temp_path("video.safetensors");
  const PackStats st = write_training_pack(o, out);
  std::remove(video.c_str());
  EXPECT_EQ(st.pairs, 2);
  EXPECT_EQ(st.images, 0);
  const TrainingPack pack(out);
  std::remove(out.c_str());
  EXPECT_EQ(pack.num_images(), 0);
  ASSERT_EQ(pack.num_pairs(), 2);
  const auto p = pack.pairs({0, 1});
  EXPECT_GT(p.rgb.std().item<float>(), 0.05f);
  EXPECT_GT(p.mask_fw.mean().item<float>(), 0.5f);
  EXPECT_THROW(pack.images({0}), Error);
}

TEST(PackErrors, BadPacksAndOptions) {
  const std::string p = temp_path("bad.safetensors");
  write_safetensors(p, {{"images", torch::zeros({1, 3, 4, 4}, torch::kUInt8)}},
                    {{"format", "other"}});
  EXPECT_THROW(TrainingPack{p}, Error);
  // KNN indices outside the crop must be refused before gather() could see them.
  write_safetensors(p,
                    {{"images", torch::zeros({1, 3, 4, 4}, torch::kUInt8)},
                     {"image_knn", torch::full({1, 16, 5}, 16, torch::kInt32)}},
                    {{"format", "vidcolor-pack"}, {"version", "1"}, {"crop", "4"}});
  try {
    TrainingPack pack(p);
    ADD_FAILURE() << "out-of-range KNN accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(p), std::string::npos);
  }
  // No graphs and nothing to build them with: a clear error, not a crash.
  write_safetensors(p, {{"images", torch::zeros({1, 3, 4, 4}, torch::kUInt8)}},
                    {{"format", "vidcolor-pack"}, {"version", "1"}, {"crop", "4"}});
  EXPECT_THROW(TrainingPack{p}, Error);
  write_safetensors(p, {{"images", torch::zeros({1, 3, 4, 4}, torch::kUInt8)}},
                    {{"format", "vidcolor-pack"},
                     {"version", "1"},
                     {"crop", "4"},
                     {"knn_k", "16"},
                     {"knn_lambda", "0.002"}});
  EXPECT_THROW(TrainingPack{p}, Error);
  std::remove(p.c_str());
  PackOptions o;
  o.image_dirs = {"/nonexistent/vidcolor"};
  EXPECT_THROW(write_training_pack(o, p), Error);
  o.image_dirs = {shared_data() + "/images/bsds500"};
  o.videos = {"/nonexistent/clip.mp4"};
  EXPECT_THROW(write_training_pack(o, p), Error);
  o.videos.clear();
  o.crop = 4;
  EXPECT_THROW(write_training_pack(o, p), Error);
  EXPECT_FALSE(fs::exists(p));
}
