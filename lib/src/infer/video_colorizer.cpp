#include "vidcolor/infer/video_colorizer.hpp"

#include <string>
#include <utility>

#include "vidcolor/core/chain_defaults.hpp"
#include "vidcolor/core/error.hpp"
#include "vidcolor/flow/flow_pair.hpp"
#include "vidcolor/flow/optical_flow.hpp"
#include "vidcolor/infer/colorize_engine.hpp"
#include "vidcolor/infer/refine_engine.hpp"
#include "vidcolor/infer/refine_window.hpp"

namespace vidcolor {

namespace {

// The vidcolorize chain's flow backend (gst/vidcolorize.cpp): DIS fast, at the chain's flow
// scale. Kept equal so that vidcolor-eval scores what the chain outputs.
constexpr FlowBackend kFlowBackend = FlowBackend::DisFast;

}  // namespace

struct VideoColorizer::Impl {
  Impl(std::shared_ptr<const Model> m, const VideoColorizerOptions& o)
      : model(std::move(m)),
        colorizer(model, torch::kCPU, colorize_options(o)),
        refiner(model, torch::kCPU, kConfidenceAlpha, o.refine_inference_size),
        window(refiner, RefineWindowOptions{o.window, o.iterations}),
        flow(kFlowBackend) {}

  static ColorizeOptions colorize_options(const VideoColorizerOptions& o) {
    ColorizeOptions c;
    c.inference_size = o.colorize_inference_size;
    c.candidate = o.candidate;
    c.class_temperature = o.class_temperature;
    c.class_debias = o.class_debias;
    c.skip_borders = o.skip_borders;
    return c;
  }

  static std::vector<ColorizedFrame> colorized(std::vector<RefinedFrame> refined) {
    std::vector<ColorizedFrame> out;
    out.reserve(refined.size());
    for (RefinedFrame& r : refined) {
      ColorizedFrame c;
      c.index = static_cast<int64_t>(r.tag);
      c.chroma_f = std::move(r.input_chroma);
      c.chroma_fg = std::move(r.chroma);
      out.push_back(std::move(c));
    }
    return out;
  }

  std::shared_ptr<const Model> model;
  ColorizeEngine colorizer;
  RefineEngine refiner;
  RefineWindow window;  // reads `refiner`, declared before it
  OpticalFlow flow;
  cv::Mat prev_flow_luma;  // the previous frame's luma at the flow size; empty at a clip's start
  cv::Size frame_size;     // the clip's frames' size, once one has been pushed
  int64_t next_index = 0;
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
  if (im.next_index > 0 && gray.size() != im.frame_size)
    throw Error("VideoColorizer: frame " + std::to_string(im.next_index) + " is " +
                std::to_string(gray.cols) + "x" + std::to_string(gray.rows) +
                ", the clip's frames are " + std::to_string(im.frame_size.width) + "x" +
                std::to_string(im.frame_size.height));
  torch::InferenceMode guard;

  WindowFrame cur;
  cur.tag = static_cast<uint64_t>(im.next_index);
  const cv::Mat contiguous = gray.isContinuous() ? gray : gray.clone();
  cur.luma = torch::from_blob(contiguous.data, {1, 1, gray.rows, gray.cols}, torch::kUInt8)
                 .to(torch::kFloat32)
                 .div_(255.0);
  cur.chroma = im.colorizer.colorize(cur.luma).clone();
  cv::Mat flow_luma_now = flow_luma(gray, kChainFlowScale);
  if (!im.prev_flow_luma.empty()) cur.link = flow_pair(im.flow, im.prev_flow_luma, flow_luma_now);
  std::vector<ColorizedFrame> done = Impl::colorized(im.window.push(std::move(cur)));
  im.prev_flow_luma = std::move(flow_luma_now);
  im.frame_size = gray.size();
  ++im.next_index;
  return done;
}

std::vector<ColorizedFrame> VideoColorizer::finish() {
  Impl& im = *impl_;
  std::vector<ColorizedFrame> done;
  {
    torch::InferenceMode guard;
    done = Impl::colorized(im.window.drain());
  }
  im.prev_flow_luma.release();
  im.next_index = 0;
  im.colorizer.reset();
  return done;
}

}  // namespace vidcolor
