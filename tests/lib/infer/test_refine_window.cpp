// RefineWindow with a small random model: every frame comes out exactly once and in order,
// at the wavefront's time (s once s + radius * iterations is pushed), the rest at drain();
// flush() drops; a frame without link cuts the window; non-finite flows count as zero and
// invalid; bad options; and the results equal the code paths the window replaced (the old
// VideoColorizer's lambda = 1 window, and a whole-clip pass-by-pass refinement), bit for bit.
#include <gtest/gtest.h>

#include <limits>
#include <memory>
#include <optional>
#include <vector>

#include "vidcolor/core/chain_defaults.hpp"
#include "common/tiny_model.hpp"
#include "vidcolor/core/error.hpp"
#include "vidcolor/infer/refine_engine.hpp"
#include "vidcolor/infer/refine_window.hpp"

using namespace vidcolor;

namespace {

std::shared_ptr<const Model> random_model() {
  torch::manual_seed(1);
  return std::make_shared<const Model>(make_model(vctest::tiny_model_config()));
}

torch::Tensor smooth(int64_t c, int64_t h, int64_t w, double lo, double hi, int seed) {
  torch::manual_seed(seed);
  auto coarse = torch::rand({1, c, 4, 4});
  auto up =
      torch::nn::functional::interpolate(coarse, torch::nn::functional::InterpolateFuncOptions()
                                                     .size(std::vector<int64_t>{h, w})
                                                     .mode(torch::kBilinear)
                                                     .align_corners(false));
  return lo + (hi - lo) * up;
}

// A clip of n frames 48x64 (4:2:0 chroma), each linked to the one before by small random
// flows at half size with random masks, as vcflow's meta would carry them.
struct Clip {
  std::vector<torch::Tensor> luma, chroma;
  std::vector<std::optional<FlowLink>> links;
};

Clip make_clip(int n) {
  Clip c;
  for (int i = 0; i < n; ++i) {
    c.luma.push_back(smooth(1, 48, 64, 0, 1, 100 + i));
    c.chroma.push_back(smooth(2, 24, 32, -0.3, 0.3, 200 + i));
    if (i == 0) {
      c.links.emplace_back();
      continue;
    }
    FlowLink l;
    l.backward = smooth(2, 24, 32, -2, 2, 300 + i);
    l.forward = smooth(2, 24, 32, -2, 2, 400 + i);
    l.backward_valid = (smooth(1, 24, 32, 0, 1, 500 + i) > 0.2).to(torch::kFloat32);
    l.forward_valid = (smooth(1, 24, 32, 0, 1, 600 + i) > 0.2).to(torch::kFloat32);
    c.links.emplace_back(l);
  }
  return c;
}

WindowFrame frame_of(const Clip& c, int i) {
  return WindowFrame{c.luma[i], c.chroma[i], c.links[i], static_cast<uint64_t>(i)};
}

// Pushes the whole clip and drains; per push the tags that came out, and every frame out.
struct ClipRun {
  std::vector<std::vector<uint64_t>> out_per_push;
  std::vector<RefinedFrame> all;
};

ClipRun run_clip(RefineWindow& w, const Clip& c) {
  ClipRun r;
  torch::InferenceMode guard;
  for (size_t i = 0; i < c.luma.size(); ++i) {
    r.out_per_push.emplace_back();
    for (RefinedFrame& f : w.push(frame_of(c, static_cast<int>(i)))) {
      r.out_per_push.back().push_back(f.tag);
      r.all.push_back(std::move(f));
    }
  }
  for (RefinedFrame& f : w.drain()) r.all.push_back(std::move(f));
  return r;
}

// The whole clip refined pass by pass with every neighbour that exists, written directly
// from the definition (no window): what the window must produce once the clip is drained.
std::vector<torch::Tensor> reference(const RefineEngine& engine, const Clip& c, int radius,
                                     int iterations) {
  torch::InferenceMode guard;
  const int n = static_cast<int>(c.luma.size());
  // F_{s -> s+offset}, chained one frame at a time outwards from s.
  auto flow_to = [&](int s, int offset) -> std::optional<ChainedFlow> {
    const int step = offset > 0 ? 1 : -1;
    std::optional<ChainedFlow> acc;
    for (int at = s; at != s + offset; at += step) {
      const int next = at + step;
      const std::optional<FlowLink>& link = step < 0 ? c.links[at] : c.links[next];
      if (!link) return std::nullopt;
      const ChainedFlow one = step < 0 ? ChainedFlow{link->backward, link->backward_valid}
                                       : ChainedFlow{link->forward, link->forward_valid};
      acc = acc ? chain_flows(acc->flow, acc->valid, one.flow, one.valid) : one;
    }
    return acc;
  };
  std::vector<torch::Tensor> cur = c.chroma;
  for (int k = 1; k <= iterations; ++k) {
    std::vector<torch::Tensor> next(n);
    for (int s = 0; s < n; ++s) {
      std::vector<RefineNeighbour> nbs;
      for (int dir : {-1, 1})
        for (int d = 1; d <= radius; ++d) {
          const int q = s + dir * d;
          if (q < 0 || q >= n) break;
          const auto f = flow_to(s, dir * d);
          if (!f) break;
          nbs.push_back({c.luma[q], cur[q], f->flow, f->valid});
        }
      next[s] = engine.refine(c.luma[s], cur[s], nbs);
    }
    cur = next;
  }
  return cur;
}

}  // namespace

TEST(RefineWindow, EveryFrameOnceInOrderAtTheWavefrontsTime) {
  const RefineEngine engine(random_model(), torch::kCPU);
  for (int radius : {1, 2})
    for (int iterations : {1, 2, 3})
      for (int n : {1, 2, 3, 5, 8}) {
        SCOPED_TRACE(testing::Message() << "radius " << radius << ", iterations " << iterations
                                        << ", " << n << " frames");
        RefineWindow w(engine, {radius, iterations});
        EXPECT_EQ(w.latency_frames(), static_cast<size_t>(radius * iterations));
        const ClipRun r = run_clip(w, make_clip(n));
        ASSERT_EQ(r.all.size(), static_cast<size_t>(n));
        for (int i = 0; i < n; ++i) EXPECT_EQ(r.all[i].tag, static_cast<uint64_t>(i));
        // Frame s leaves with the push of frame s + radius * iterations, alone.
        const int lag = radius * iterations;
        for (int i = 0; i < n; ++i) {
          if (i >= lag)
            EXPECT_EQ(r.out_per_push[i], std::vector<uint64_t>{static_cast<uint64_t>(i - lag)});
          else
            EXPECT_TRUE(r.out_per_push[i].empty());
        }
        EXPECT_EQ(w.held(), 0u);
        EXPECT_EQ(w.waiting(), 0u);
      }
}

TEST(RefineWindow, EqualsWholeClipRefinementPassByPass) {
  const RefineEngine engine(random_model(), torch::kCPU);
  const Clip clip = make_clip(7);
  for (int radius : {1, 2})
    for (int iterations : {1, 2}) {
      SCOPED_TRACE(testing::Message() << "radius " << radius << ", iterations " << iterations);
      RefineWindow w(engine, {radius, iterations});
      const ClipRun r = run_clip(w, clip);
      const std::vector<torch::Tensor> ref = reference(engine, clip, radius, iterations);
      ASSERT_EQ(r.all.size(), ref.size());
      for (size_t i = 0; i < ref.size(); ++i) {
        EXPECT_TRUE(torch::equal(r.all[i].chroma, ref[i])) << "frame " << i;
        EXPECT_TRUE(torch::equal(r.all[i].input_chroma, clip.chroma[i])) << "frame " << i;
        EXPECT_TRUE(r.all[i].changed);
      }
    }
}

// The window the old VideoColorizer held (lambda = 1, one pass): frame t refined with t - 1
// (F_{t->t-1}, mask on t) and t + 1 (F_{t->t+1} = the forward flow of t + 1), in that order.
TEST(RefineWindow, EqualsTheOldLambdaOneWindow) {
  const RefineEngine engine(random_model(), torch::kCPU, kConfidenceAlpha);
  const Clip clip = make_clip(5);
  RefineWindow w(engine);
  const ClipRun r = run_clip(w, clip);
  torch::InferenceMode guard;
  ASSERT_EQ(r.all.size(), 5u);
  for (int t = 0; t < 5; ++t) {
    std::vector<RefineNeighbour> nbs;
    if (t > 0)
      nbs.push_back({clip.luma[t - 1], clip.chroma[t - 1], clip.links[t]->backward,
                     clip.links[t]->backward_valid});
    if (t < 4)
      nbs.push_back({clip.luma[t + 1], clip.chroma[t + 1], clip.links[t + 1]->forward,
                     clip.links[t + 1]->forward_valid});
    EXPECT_TRUE(torch::equal(r.all[t].chroma, engine.refine(clip.luma[t], clip.chroma[t], nbs)))
        << t;
  }
}

TEST(RefineWindow, SingleFrameComesOutUnchangedAtDrain) {
  const RefineEngine engine(random_model(), torch::kCPU);
  RefineWindow w(engine, {2, 2});
  const Clip clip = make_clip(1);
  torch::InferenceMode guard;
  EXPECT_TRUE(w.push(frame_of(clip, 0)).empty());
  EXPECT_EQ(w.waiting(), 1u);
  const auto out = w.drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].changed);
  EXPECT_TRUE(torch::equal(out[0].chroma, clip.chroma[0]));
  EXPECT_TRUE(w.drain().empty());
}

TEST(RefineWindow, FlushDropsEverythingAndTheNextFrameStartsAfresh) {
  const RefineEngine engine(random_model(), torch::kCPU);
  RefineWindow w(engine, {1, 2});
  const Clip clip = make_clip(4);
  torch::InferenceMode guard;
  for (int i = 0; i < 2; ++i) EXPECT_TRUE(w.push(frame_of(clip, i)).empty());
  EXPECT_EQ(w.push(frame_of(clip, 2)).size(), 1u);  // frame 0, two passes done
  EXPECT_EQ(w.held(), 3u);
  EXPECT_EQ(w.waiting(), 2u);
  w.flush();
  EXPECT_EQ(w.held(), 0u);
  EXPECT_TRUE(w.drain().empty());
  // Frame 3 carries a link to frame 2, which is gone: it is the first of a new window.
  EXPECT_TRUE(w.push(frame_of(clip, 3)).empty());
  const auto out = w.drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tag, 3u);
  EXPECT_FALSE(out[0].changed);
  EXPECT_TRUE(torch::equal(out[0].chroma, clip.chroma[3]));
}

TEST(RefineWindow, FrameWithoutLinkCutsTheWindow) {
  const RefineEngine engine(random_model(), torch::kCPU);
  Clip clip = make_clip(6);
  clip.links[3].reset();  // frames 0-2 and 3-5 are two shots
  for (int radius : {1, 2}) {
    RefineWindow w(engine, {radius, 2});
    const ClipRun r = run_clip(w, clip);
    const std::vector<torch::Tensor> ref = reference(engine, clip, radius, 2);
    ASSERT_EQ(r.all.size(), 6u);
    for (int i = 0; i < 6; ++i)
      EXPECT_TRUE(torch::equal(r.all[i].chroma, ref[i])) << radius << " " << i;
    // No information crosses the cut: the first shot alone gives the same frames.
    Clip first = clip;
    for (auto* v : {&first.luma, &first.chroma}) v->resize(3);
    first.links.resize(3);
    const std::vector<torch::Tensor> alone = reference(engine, first, radius, 2);
    for (int i = 0; i < 3; ++i)
      EXPECT_TRUE(torch::equal(r.all[i].chroma, alone[i])) << radius << " " << i;
  }
}

TEST(RefineWindow, NonFiniteFlowCountsAsZeroAndInvalid) {
  const RefineEngine engine(random_model(), torch::kCPU);
  Clip bad = make_clip(3), clean = bad;
  FlowLink& l = *bad.links[1];
  l.backward = l.backward.clone();
  l.backward.index_put_({0, 0, 5, 7}, std::numeric_limits<float>::quiet_NaN());
  l.backward.index_put_({0, 1, 9, 2}, std::numeric_limits<float>::infinity());
  FlowLink& c = *clean.links[1];
  c.backward = c.backward.clone();
  c.backward.index_put_({0, torch::indexing::Slice(), 5, 7}, 0.0);
  c.backward.index_put_({0, torch::indexing::Slice(), 9, 2}, 0.0);
  c.backward_valid = c.backward_valid.clone();
  c.backward_valid.index_put_({0, 0, 5, 7}, 0.0);
  c.backward_valid.index_put_({0, 0, 9, 2}, 0.0);
  RefineWindow wb(engine), wc(engine);
  const ClipRun rb = run_clip(wb, bad), rc = run_clip(wc, clean);
  ASSERT_EQ(rb.all.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(torch::isfinite(rb.all[i].chroma).all().item<bool>());
    EXPECT_TRUE(torch::equal(rb.all[i].chroma, rc.all[i].chroma)) << i;
  }
}

TEST(RefineWindow, Uint8MasksReadAsFloat) {
  const RefineEngine engine(random_model(), torch::kCPU);
  const Clip clip = make_clip(4);
  Clip bytes = clip;
  for (auto& l : bytes.links)
    if (l) {
      l->backward_valid = l->backward_valid.to(torch::kUInt8);
      l->forward_valid = l->forward_valid.to(torch::kUInt8);
    }
  RefineWindow a(engine, {2, 1}), b(engine, {2, 1});
  const ClipRun ra = run_clip(a, clip), rb = run_clip(b, bytes);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(torch::equal(ra.all[i].chroma, rb.all[i].chroma)) << i;
}

TEST(RefineWindow, RejectsRadiusOrIterationsBelowOne) {
  const RefineEngine engine(random_model(), torch::kCPU);
  EXPECT_THROW(RefineWindow(engine, {0, 1}), Error);
  EXPECT_THROW(RefineWindow(engine, {1, 0}), Error);
  EXPECT_NO_THROW(RefineWindow(engine, {2, 4}));
}
