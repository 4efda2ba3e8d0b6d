#include "vidcolor/infer/colorize_engine.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "core/shape_string.hpp"
#include "vidcolor/core/color_tensors.hpp"
#include "vidcolor/core/error.hpp"
#include "vidcolor/ops/guided_upsample.hpp"
#include "vidcolor/infer/inference_runtime.hpp"
#include "vidcolor/infer/picture_area.hpp"
#include "vidcolor/model/class_decoding.hpp"
#include "vidcolor/ops/resize.hpp"

namespace vidcolor {

namespace {

[[noreturn]] void fail(const std::string& what) { throw Error("ColorizeEngine: " + what); }

constexpr int64_t kHistogramBins = 16;

// The engine's own copy of f (place_for_inference: channels-last on the CPU, half on CUDA).
// `config` is the model's with the engine's overrides (f's buffers and weights are the same).
std::shared_ptr<ColorizerNetImpl> place_f(const Model& m, const ModelConfig& config,
                                          const torch::Device& device) {
  if (m.f.is_empty()) fail("the model has no network f");
  ColorizerNet copy(config);
  place_for_inference(*m.f, *copy, device);
  return copy.ptr();
}

// Mean HSV saturation per candidate ([1,d,2,h,w] -> [d]): color.hpp's hsv_saturation,
// (max - min) / max of the clamped R'G'B', 0 for black.
torch::Tensor mean_saturation(const torch::Tensor& y_lr, const torch::Tensor& candidates) {
  const torch::Tensor rgb = candidates_to_rgb(y_lr, candidates).clamp(0.0, 1.0);
  const torch::Tensor mx = rgb.amax(2), mn = rgb.amin(2);
  return ((mx - mn) / mx.clamp_min(1e-12)).mean({0, 2, 3});
}

}  // namespace

struct ColorizeEngine::Impl {
  std::shared_ptr<const Model> model;
  std::shared_ptr<ColorizerNetImpl> f;
  torch::Device device;
  ColorizeOptions options;
  ModelConfig config;  // the model's, with the options' inference size and class decoding
  int d = 0;
  int fixed = -1;  // the candidate shown on every frame; -1 = choose by saturation

  // Choice state (auto mode).
  torch::Tensor saturation_sum;  // [d]
  int frames_seen = 0;
  bool is_locked = false;
  int chosen = -1;
  torch::Tensor previous_histogram;  // [bins], sums to 1
  bool last_cut = false;
  PictureAreaTracker borders;  // options.skip_borders: where the picture is in the stream

  Impl(std::shared_ptr<const Model> m, torch::Device dev, ColorizeOptions o)
      : model(std::move(m)), device(dev), options(o) {
    if (!model) fail("no model");
    config = model->config;
    d = config.candidates;
    if (options.candidate < -1 || options.candidate >= d)
      fail("candidate must be -1 (auto) or 0.." + std::to_string(d - 1) + " for this model, got " +
           std::to_string(options.candidate));
    if (options.inference_size < 0 || (options.inference_size > 0 && options.inference_size < 16))
      fail("inference_size must be 0 (the model's) or >= 16, got " +
           std::to_string(options.inference_size));
    if (options.auto_frames < 1)
      fail("auto_frames must be >= 1, got " + std::to_string(options.auto_frames));
    if (!(options.scene_cut_threshold >= 0))
      fail("scene_cut_threshold must be >= 0, got " + std::to_string(options.scene_cut_threshold));
    if (options.guide_radius < 1 || !(options.guide_eps > 0))
      fail("guide_radius must be >= 1 and guide_eps > 0");
    ClassDecoding decoding;
    if (options.class_temperature != 0.0) decoding.temperature = options.class_temperature;
    if (options.class_debias != -1.0) decoding.debias = options.class_debias;
    try {
      config = with_class_decoding(*model, decoding);
    } catch (const Error& e) {
      fail(std::string(e.what()) + " (class_temperature 0 and class_debias -1 keep the model's)");
    }
    if (options.inference_size > 0) config.inference_size = options.inference_size;
    if (config.default_candidate < -1 || config.default_candidate >= d)
      fail("the model's default_candidate must be -1 or 0.." + std::to_string(d - 1) + ", got " +
           std::to_string(config.default_candidate));
    // Auto with a model that names its default candidate: that one, fixed.
    fixed = options.candidate >= 0 ? options.candidate : config.default_candidate;
    f = place_f(*model, config, device);
  }

  void reset_choice() {
    saturation_sum = torch::Tensor();
    frames_seen = 0;
    is_locked = fixed >= 0;
    chosen = fixed;
  }

  struct Run {
    torch::Tensor y;           // [1,1,H,W] the frame's luma
    PictureBox box;            // where f ran: the picture inside black borders, or all of y
    torch::Tensor y_pic;       // [1,1,h,w] y inside box
    torch::Tensor y_lr;        // [1,1,h',w'] y_pic at inference size
    torch::Tensor candidates;  // [1,d,2,h',w']
  };

  // f on the frame's picture area: `area` says how it is found (the stream's steadied box,
  // this frame's own, or the whole frame).
  enum class Area { Tracked, ThisFrame, Whole };
  Run run_f(const torch::Tensor& luma, Area area) {
    if (!luma.defined() || luma.dim() != 4 || luma.size(0) != 1 || luma.size(1) != 1 ||
        luma.size(2) < 1 || luma.size(3) < 1 || !luma.is_floating_point())
      fail("luma must be a [1,1,H,W] floating-point tensor in [0,1], got " +
           (luma.defined() ? shape_str(luma) + " " + c10::toString(luma.scalar_type())
                           : std::string("an undefined tensor")));
    if (luma.size(2) > 32768 || luma.size(3) > 32768) fail("frame too large: " + shape_str(luma));
    Run r;
    r.y = luma.to(device, torch::kFloat32);
    r.box = {0, 0, r.y.size(2), r.y.size(3)};
    if (options.skip_borders && area == Area::Tracked) r.box = borders.update(r.y);
    if (options.skip_borders && area == Area::ThisFrame) r.box = find_picture_box(r.y);
    r.y_pic = r.y.narrow(2, r.box.top, r.box.height).narrow(3, r.box.left, r.box.width);
    int w = 0, h = 0;
    config.inference_dims(static_cast<int>(r.box.width), static_cast<int>(r.box.height), &w, &h);
    r.y_lr = resize_planes(r.y_pic, h, w);
    r.candidates = f->forward(network_input(r.y_lr, device)).to(torch::kFloat32);
    return r;
  }

  torch::Tensor upsample(const torch::Tensor& src_lr, const Run& r, const torch::Tensor& guide) {
    return guided_upsample(src_lr, r.y_lr, guide, options.guide_radius, options.guide_eps)
        .clamp_(-0.5, 0.5);
  }

  // Chroma of the picture area [1,C,h,w] -> of the frame [1,C,H,W]: the borders neutral.
  static torch::Tensor in_frame(const torch::Tensor& pic, const Run& r) {
    if (r.box.height == r.y.size(2) && r.box.width == r.y.size(3)) return pic;
    torch::Tensor out = torch::zeros({1, pic.size(1), r.y.size(2), r.y.size(3)}, pic.options());
    out.narrow(2, r.box.top, r.box.height).narrow(3, r.box.left, r.box.width).copy_(pic);
    return out;
  }

  int choose(const Run& r) {
    if (fixed >= 0) return fixed;
    const torch::Tensor hist =
        torch::histc(r.y_lr, kHistogramBins, 0.0, 1.0) / static_cast<double>(r.y_lr.numel());
    last_cut = false;
    if (previous_histogram.defined()) {
      const double distance = 0.5 * (hist - previous_histogram).abs().sum().item<double>();
      if (distance > options.scene_cut_threshold) {
        last_cut = true;
        reset_choice();
      }
    }
    previous_histogram = hist;
    if (!is_locked) {
      const torch::Tensor s = mean_saturation(r.y_lr, r.candidates);
      saturation_sum = saturation_sum.defined() ? saturation_sum + s : s;
      chosen = static_cast<int>(saturation_sum.argmax().item<int64_t>());
      if (++frames_seen >= options.auto_frames) is_locked = true;
    }
    return chosen;
  }
};

ColorizeEngine::ColorizeEngine(std::shared_ptr<const Model> model, torch::Device device,
                               ColorizeOptions options)
    : impl_(std::make_unique<Impl>(std::move(model), device, options)) {
  impl_->reset_choice();
}

ColorizeEngine::~ColorizeEngine() = default;
ColorizeEngine::ColorizeEngine(ColorizeEngine&&) noexcept = default;
ColorizeEngine& ColorizeEngine::operator=(ColorizeEngine&&) noexcept = default;

torch::Tensor ColorizeEngine::colorize(const torch::Tensor& luma) {
  c10::InferenceMode guard;
  const Impl::Run r = impl_->run_f(luma, Impl::Area::Tracked);
  const int c = impl_->choose(r);
  return Impl::in_frame(impl_->upsample(r.candidates.select(1, c), r, r.y_pic), r);
}

torch::Tensor ColorizeEngine::colorize_all(const torch::Tensor& luma) {
  c10::InferenceMode guard;
  const Impl::Run r = impl_->run_f(luma, Impl::Area::ThisFrame);
  const int64_t d = r.candidates.size(1), h = r.y_lr.size(2), w = r.y_lr.size(3);
  return Impl::in_frame(impl_->upsample(r.candidates.reshape({1, d * 2, h, w}), r, r.y_pic), r)
      .view({1, d, 2, r.y.size(2), r.y.size(3)});
}

MosaicFrame ColorizeEngine::colorize_mosaic(const torch::Tensor& luma) {
  c10::InferenceMode guard;
  const Impl::Run r = impl_->run_f(luma, Impl::Area::Whole);
  const int64_t d = r.candidates.size(1), H = r.y.size(2), W = r.y.size(3);
  const int64_t cols = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(d))));
  const int64_t rows = (d + cols - 1) / cols;
  MosaicFrame out;
  out.luma = torch::empty_like(r.y);
  out.chroma = torch::zeros({1, 2, H, W}, r.y.options());
  for (int64_t row = 0; row < rows; ++row) {
    const int64_t y0 = H * row / rows, y1 = H * (row + 1) / rows;
    for (int64_t col = 0; col < cols; ++col) {
      const int64_t x0 = W * col / cols, x1 = W * (col + 1) / cols;
      if (y1 <= y0 || x1 <= x0) continue;  // frames smaller than the grid
      const torch::Tensor cell = resize_planes(r.y, y1 - y0, x1 - x0);
      out.luma.narrow(2, y0, y1 - y0).narrow(3, x0, x1 - x0).copy_(cell);
      const int64_t i = row * cols + col;
      if (i < d)
        out.chroma.narrow(2, y0, y1 - y0)
            .narrow(3, x0, x1 - x0)
            .copy_(impl_->upsample(r.candidates.select(1, i), r, cell));
    }
  }
  return out;
}

void ColorizeEngine::reset() {
  impl_->reset_choice();
  impl_->borders.reset();
  impl_->previous_histogram = torch::Tensor();
  impl_->last_cut = false;
}

int ColorizeEngine::candidates() const { return impl_->d; }
int ColorizeEngine::chosen_candidate() const { return impl_->chosen; }
bool ColorizeEngine::locked() const { return impl_->is_locked; }
bool ColorizeEngine::last_was_scene_cut() const { return impl_->last_cut; }
const torch::Device& ColorizeEngine::device() const { return impl_->device; }
const ColorizeOptions& ColorizeEngine::options() const { return impl_->options; }
void ColorizeEngine::inference_dims(int width, int height, int* out_width, int* out_height) const {
  impl_->config.inference_dims(width, height, out_width, out_height);
}

}  // namespace vidcolor
