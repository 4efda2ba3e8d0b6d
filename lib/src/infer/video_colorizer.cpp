#include "vidcolor/infer/video_colorizer.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <deque>
#include <string>
#include <utility>

#include "vidcolor/infer/colorize_engine.hpp"
#include "vidcolor/core/error.hpp"
#include "vidcolor/flow/optical_flow.hpp"
#include "vidcolor/infer/refine_engine.hpp"
#include "vidcolor/ops/warp.hpp"

namespace vidcolor {

namespace {

// The vidcolorize chain's flow settings (gst/vidcolorize.cpp): DIS fast on the luma at a
// quarter size (g's resolution). Kept equal so that vidcolor-eval scores what the chain outputs.
constexpr FlowBackend kFlowBackend = FlowBackend::DisFast;
constexpr double kFlowScale = 0.25;
constexpr int kMinFlowSide = 16;  // as vcflow: DIS patches need a few pixels per side

cv::Mat flow_input(const cv::Mat& gray) {
  auto side = [](int full) {
    return std::min(full, std::max(kMinFlowSide, static_cast<int>(std::lround(full * kFlowScale))));
  };
  cv::Mat small;
  cv::resize(gray, small, cv::Size(side(gray.cols), side(gray.rows)), 0, 0, cv::INTER_AREA);
  return small;
}

struct HeldFrame {
  int64_t index = 0;
  torch::Tensor luma;    // [1,1,H,W] float in [0,1]
  torch::Tensor chroma;  // [1,2,H,W] f's output, full resolution
  cv::Mat flow_gray;     // the luma flow is computed on
  // Flows to and from the previous frame (undefined for the first frame of a clip).
  torch::Tensor flow_to_prev, valid_to_prev;      // F_{t->t-1} and its mask (at t)
  torch::Tensor flow_from_prev, valid_from_prev;  // F_{t-1->t} and its mask (at t-1)
};

}  // namespace

struct VideoColorizer::Impl {
  Impl(std::shared_ptr<const Model> m, const VideoColorizerOptions& o)
      : model(std::move(m)),
        colorizer(model, torch::kCPU, colorize_options(o)),
        refiner(model, torch::kCPU, 15.0, o.refine_inference_size),
        flow(kFlowBackend) {}

  static ColorizeOptions colorize_options(const VideoColorizerOptions& o) {
    ColorizeOptions c;
    c.inference_size = o.colorize_inference_size;
    c.candidate = o.candidate;
    return c;
  }

  std::shared_ptr<const Model> model;
  ColorizeEngine colorizer;
  RefineEngine refiner;
  OpticalFlow flow;
  // At most two frames: the last one output (a neighbour still needed) and the one waiting
  // for its successor.
  std::deque<HeldFrame> held;
  bool waiting = false;  // held.back() has not been output yet
  int64_t next_index = 0;

  ColorizedFrame refine_waiting(const HeldFrame* next) {
    const HeldFrame& s = held.back();
    std::vector<RefineNeighbour> neighbours;
    if (held.size() == 2 && s.flow_to_prev.defined()) {
      const HeldFrame& prev = held.front();
      neighbours.push_back({prev.luma, prev.chroma, s.flow_to_prev, s.valid_to_prev});
    }
    if (next != nullptr)
      neighbours.push_back({next->luma, next->chroma, next->flow_from_prev, next->valid_from_prev});
    ColorizedFrame out;
    out.index = s.index;
    out.chroma_f = s.chroma;
    out.chroma_fg = refiner.refine(s.luma, s.chroma, neighbours);
    return out;
  }
};

VideoColorizer::VideoColorizer(std::shared_ptr<const Model> model, VideoColorizerOptions options) {
  if (!model) throw Error("VideoColorizer: no model");
  impl_ = std::make_unique<Impl>(std::move(model), options);
}

VideoColorizer::~VideoColorizer() = default;

std::vector<ColorizedFrame> VideoColorizer::push(const cv::Mat& gray) {
  if (gray.empty() || gray.type() != CV_8UC1)
    throw Error("VideoColorizer: frames must be non-empty 8-bit gray (CV_8UC1)");
  Impl& im = *impl_;
  if (!im.held.empty() &&
      (im.held.back().luma.size(2) != gray.rows || im.held.back().luma.size(3) != gray.cols))
    throw Error("VideoColorizer: frame " + std::to_string(im.next_index) + " is " +
                std::to_string(gray.cols) + "x" + std::to_string(gray.rows) +
                ", the clip's frames are " + std::to_string(im.held.back().luma.size(3)) + "x" +
                std::to_string(im.held.back().luma.size(2)));
  torch::InferenceMode guard;

  HeldFrame cur;
  cur.index = im.next_index++;
  const cv::Mat contiguous = gray.isContinuous() ? gray : gray.clone();
  cur.luma = torch::from_blob(contiguous.data, {1, 1, gray.rows, gray.cols}, torch::kUInt8)
                 .to(torch::kFloat32)
                 .div_(255.0);
  cur.chroma = im.colorizer.colorize(cur.luma).clone();
  cur.flow_gray = flow_input(gray);
  if (!im.held.empty()) {
    const HeldFrame& prev = im.held.back();
    const torch::Tensor back = flow_mat_to_tensor(im.flow.compute(cur.flow_gray, prev.flow_gray));
    const torch::Tensor fwd = flow_mat_to_tensor(im.flow.compute(prev.flow_gray, cur.flow_gray));
    cur.flow_to_prev = back;
    cur.valid_to_prev = occlusion_mask(back, fwd);
    cur.flow_from_prev = fwd;
    cur.valid_from_prev = occlusion_mask(fwd, back);
  }

  std::vector<ColorizedFrame> done;
  if (im.waiting) done.push_back(im.refine_waiting(&cur));
  im.held.push_back(std::move(cur));
  while (im.held.size() > 2) im.held.pop_front();
  im.waiting = true;
  return done;
}

std::vector<ColorizedFrame> VideoColorizer::finish() {
  Impl& im = *impl_;
  std::vector<ColorizedFrame> done;
  if (im.waiting) {
    torch::InferenceMode guard;
    done.push_back(im.refine_waiting(nullptr));
  }
  im.held.clear();
  im.waiting = false;
  im.next_index = 0;
  im.colorizer.reset();
  return done;
}

}  // namespace vidcolor
