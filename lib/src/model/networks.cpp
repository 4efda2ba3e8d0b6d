#include "vidcolor/model/networks.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "vidcolor/core/color_tensors.hpp"
#include "vidcolor/core/error.hpp"
#include "vidcolor/model/ab_bins.hpp"

namespace vidcolor {

namespace nn = torch::nn;
namespace F = torch::nn::functional;

namespace {

// Keras' _make_divisible: channel counts of MobileNetV2 for a width multiplier.
int64_t make_divisible(double v, int64_t divisor = 8) {
  int64_t nv =
      std::max<int64_t>(divisor, static_cast<int64_t>(v + divisor / 2.0) / divisor * divisor);
  if (nv < 0.9 * v) nv += divisor;
  return nv;
}

nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride = 1, int64_t groups = 1,
                int64_t padding = 0, bool bias = false) {
  return nn::Conv2d(
      nn::Conv2dOptions(in, out, k).stride(stride).groups(groups).padding(padding).bias(bias));
}

nn::BatchNorm2d keras_bn(int64_t c) {
  return nn::BatchNorm2d(nn::BatchNorm2dOptions(c).eps(1e-3).momentum(0.01));
}

// Keras correct_pad for a 3x3 stride-2 convolution: (0, 1) on even sizes, (1, 1) on odd.
torch::Tensor keras_stride2_pad(const torch::Tensor& x) {
  const int64_t h = x.size(2), w = x.size(3);
  const int64_t top = 1 - (1 - h % 2), left = 1 - (1 - w % 2);
  return F::pad(x, F::PadFuncOptions({left, 1, top, 1}));
}

// ReLU6. hardtanh, not clamp: same values, but its backward is one fused kernel where clamp's
// builds masks with ge/le/logical_and/where; ~3x faster at training time, where the perceptual
// loss backpropagates through the whole MobileNetV2 (~15% of an f step on the CPU).
torch::Tensor clamp6(const torch::Tensor& x) { return torch::hardtanh(x, 0.0, 6.0); }

// conv3x3 + LeakyReLU(0.2) as in the authors' U-Net.
nn::Sequential conv_block(const std::vector<std::pair<int64_t, int64_t>>& io,
                          std::vector<ConvCost>* costs, int64_t level) {
  nn::Sequential seq;
  for (const auto& [in, out] : io) {
    seq->push_back(conv(in, out, 3, 1, 1, 1, true));
    seq->push_back(nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)));
    costs->push_back({in, out, 3, 1, level});
  }
  return seq;
}

torch::Tensor up_to(const torch::Tensor& x, const torch::Tensor& like) {
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{like.size(2), like.size(3)})
                               .mode(torch::kBilinear)
                               .align_corners(false));
}

double flops_of(const std::vector<ConvCost>& costs, int width, int height) {
  double total = 0.0;
  for (const ConvCost& c : costs) {
    const double scale = std::pow(2.0, static_cast<double>(c.stride_level));
    const double w = std::round(width * c.input_scale), h = std::round(height * c.input_scale);
    const double pixels = std::ceil(w / scale) * std::ceil(h / scale);
    total += 2.0 * pixels * static_cast<double>(c.in / c.groups * c.out * c.kernel * c.kernel);
  }
  return total;
}

}  // namespace

// ---------------------------------------------------------------- MobileNetV2

MobileNetV2Impl::MobileNetV2Impl(double alpha) {
  const int64_t first = make_divisible(32 * alpha);
  conv1_ = register_module("Conv1", conv(3, first, 3, 2));
  bn_conv1_ = register_module("bn_Conv1", keras_bn(first));
  costs_.push_back({3, first, 3, 1, 1});

  // (expansion t, output channels c, stride s) of the 17 inverted residual blocks.
  struct Spec {
    int t, c, s;
  };
  const Spec specs[] = {{1, 16, 1}, {6, 24, 2},  {6, 24, 1},  {6, 32, 2},  {6, 32, 1}, {6, 32, 1},
                        {6, 64, 2}, {6, 64, 1},  {6, 64, 1},  {6, 64, 1},  {6, 96, 1}, {6, 96, 1},
                        {6, 96, 1}, {6, 160, 2}, {6, 160, 1}, {6, 160, 1}, {6, 320, 1}};
  int64_t in = first;
  int64_t level = 1;
  for (size_t i = 0; i < std::size(specs); ++i) {
    const Spec& sp = specs[i];
    const int64_t out = make_divisible(sp.c * alpha);
    const int64_t mid = in * sp.t;
    const std::string name = i == 0 ? "expanded_conv" : "block_" + std::to_string(i);
    Block b;  // holders share the registered modules
    b.stride = sp.s;
    b.residual = sp.s == 1 && in == out;
    if (sp.t != 1) {
      b.expand = register_module(name + "_expand", conv(in, mid, 1));
      b.expand_bn = register_module(name + "_expand_BN", keras_bn(mid));
      costs_.push_back({in, mid, 1, 1, level});
    }
    if (sp.s == 2) ++level;
    b.depthwise =
        register_module(name + "_depthwise", conv(mid, mid, 3, sp.s, mid, sp.s == 1 ? 1 : 0));
    b.depthwise_bn = register_module(name + "_depthwise_BN", keras_bn(mid));
    b.project = register_module(name + "_project", conv(mid, out, 1));
    b.project_bn = register_module(name + "_project_BN", keras_bn(out));
    costs_.push_back({mid, mid, 3, mid, level});
    costs_.push_back({mid, out, 1, 1, level});
    blocks_.push_back(b);
    in = out;
  }
  // Last block of each stride: 2 (expanded_conv), 4 (block_2), 8 (block_5), 16 (block_12), 32
  // (block_16).
  taps_ = {0, 2, 5, 12, 16};
  for (size_t t : taps_) feature_channels_.push_back(blocks_[t].project->options.out_channels());
}

torch::Tensor MobileNetV2Impl::run_block(const Block& blk, const torch::Tensor& x) {
  Block b = blk;  // module holders are cheap shared handles; their call operator is non-const
  torch::Tensor h = x;
  if (!b.expand.is_empty()) h = clamp6(b.expand_bn(b.expand(h)));
  h = b.stride == 2 ? keras_stride2_pad(h) : h;
  h = clamp6(b.depthwise_bn(b.depthwise(h)));
  h = b.project_bn(b.project(h));
  return b.residual ? h + x : h;
}

std::vector<torch::Tensor> MobileNetV2Impl::forward(const torch::Tensor& rgb) {
  torch::Tensor x = clamp6(bn_conv1_(conv1_(keras_stride2_pad(rgb))));
  std::vector<torch::Tensor> features;
  size_t next_tap = 0;
  for (size_t i = 0; i < blocks_.size(); ++i) {
    x = run_block(blocks_[i], x);
    if (next_tap < taps_.size() && taps_[next_tap] == i) {
      features.push_back(x);
      ++next_tap;
    }
  }
  return features;
}

// ---------------------------------------------------------------- f

int64_t MobileNetV2Impl::channels(int64_t base, double alpha) {
  return make_divisible(static_cast<double>(base) * alpha);
}

ColorizerNetImpl::ColorizerNetImpl(const ModelConfig& c)
    : candidates_(c.candidates),
      classes_(c.chroma_classes),
      class_temperature_(c.class_temperature),
      class_debias_(c.class_debias),
      class_mode_radius_(c.class_mode_radius) {
  if (classes_ != 0 && classes_ != kAbBinCount)
    throw Error("f: chroma_classes must be 0 or " + std::to_string(kAbBinCount));
  const BackboneSpec& spec = backbone_spec(c.backbone);
  backbone_input_low_ = spec.input_low;
  backbone_input_span_ = spec.input_high - spec.input_low;
  backbone_input_scale_ = c.backbone_input_scale;
  backbone = register_module("backbone", MobileNetV2(spec.alpha));
  for (ConvCost cc : backbone->conv_costs()) {
    cc.input_scale = backbone_input_scale_;
    costs_.push_back(cc);
  }
  const std::vector<int64_t> feat = backbone->feature_channels();
  const std::vector<int>& ch = c.colorizer_channels;
  const int64_t levels = static_cast<int64_t>(ch.size());

  // A level's first conv reads the concatenated `parts`; a second one (below full resolution,
  // the costly level) reads the first's output.
  auto add_level = [&](const std::string& name, const std::vector<int64_t>& parts, int64_t l) {
    const int64_t in = std::accumulate(parts.begin(), parts.end(), int64_t{0});
    std::vector<std::pair<int64_t, int64_t>> io = {{in, ch[l]}};
    inputs_.push_back({name + ".0", parts});
    if (l > 0) {
      io.push_back({ch[l], ch[l]});
      inputs_.push_back({name + ".2", {ch[l]}});  // index 1 of the block is its LeakyReLU
    }
    return register_module(name, conv_block(io, &costs_, l));
  };
  // Encoder level l works at stride 2^l and receives the backbone features of that stride;
  // the deepest level also receives every deeper feature map (upsampled).
  for (int64_t l = 0; l < levels; ++l) {
    std::vector<int64_t> parts = {l == 0 ? 1 : ch[l - 1]};
    if (l >= 1) parts.push_back(feat[l - 1]);
    if (l == levels - 1)
      for (int64_t k = l; k < static_cast<int64_t>(feat.size()); ++k) parts.push_back(feat[k]);
    encoders_.push_back(add_level("enc" + std::to_string(l), parts, l));
  }
  // Decoder level l: upsampled level l+1 concatenated with the encoder's skip.
  for (int64_t l = levels - 2; l >= 0; --l)
    decoders_.push_back(add_level("dec" + std::to_string(l), {ch[l + 1], ch[l]}, l));
  // With classes, candidate 0 comes from the class head and the regression head gives the
  // residuals of the other d - 1 candidates.
  const int64_t regressed = classes_ > 0 ? candidates_ - 1 : candidates_;
  if (regressed > 0) {
    head_ = register_module("head", conv(ch[0], 2 * regressed, 1, 1, 1, 0, true));
    costs_.push_back({ch[0], 2 * regressed, 1, 1, 0});
    inputs_.push_back({"head", {ch[0]}});
  }
  if (classes_ > 0) {
    class_head_ = register_module("class_head", conv(ch[2], classes_, 1, 1, 1, 0, true));
    costs_.push_back({ch[2], classes_, 1, 1, 2});
    inputs_.push_back({"class_head", {ch[2]}});
    class_log_prior = register_buffer("class_log_prior", torch::zeros({classes_}));
  }
}

torch::Tensor ColorizerNetImpl::forward(const torch::Tensor& gray) {
  return forward_outputs(gray).candidates;
}

ColorizerOutputs ColorizerNetImpl::forward_outputs(const torch::Tensor& gray) {
  TORCH_CHECK(gray.dim() == 4 && gray.size(1) == 1, "f expects [N,1,H,W] gray");
  // The backbone's view: f's input, resized when the config asks (its features are brought to
  // each level's size below, whatever their own).
  const torch::Tensor view =
      backbone_input_scale_ == 1.0
          ? gray
          : F::interpolate(gray, F::InterpolateFuncOptions()
                                     .size(std::vector<int64_t>{
                                         std::lround(gray.size(2) * backbone_input_scale_),
                                         std::lround(gray.size(3) * backbone_input_scale_)})
                                     .mode(torch::kBilinear)
                                     .align_corners(false));
  const std::vector<torch::Tensor> feats = backbone->forward(
      (view * backbone_input_span_ + backbone_input_low_).expand({-1, 3, -1, -1}));
  const size_t levels = encoders_.size();
  std::vector<torch::Tensor> skips;
  torch::Tensor x = gray;
  for (size_t l = 0; l < levels; ++l) {
    if (l > 0) {
      x = F::max_pool2d(x, F::MaxPool2dFuncOptions(2));
      std::vector<torch::Tensor> parts = {x, up_to(feats[l - 1], x)};
      if (l == levels - 1)
        for (size_t k = l; k < feats.size(); ++k) parts.push_back(up_to(feats[k], x));
      x = torch::cat(parts, 1);
    }
    x = encoders_[l]->forward(x);
    skips.push_back(x);
  }
  // Stride 4, where the class head reads (as Zhang's): the decoder's level 2, or the deepest
  // encoder level when that is level 2 (a 3-level f).
  torch::Tensor stride4 = levels == 3 ? x : torch::Tensor();
  for (size_t i = 0; i < decoders_.size(); ++i) {
    const torch::Tensor& skip = skips[levels - 2 - i];
    x = decoders_[i]->forward(torch::cat({up_to(x, skip), skip}, 1));
    if (levels - 2 - i == 2) stride4 = x;
  }
  const int64_t n = x.size(0), h = x.size(2), w = x.size(3);
  ColorizerOutputs out;
  if (classes_ == 0) {
    out.candidates = (0.5 * torch::tanh(head_(x))).view({n, candidates_, 2, h, w});
    return out;
  }
  out.class_logits = class_head_(stride4);
  // Candidate 0: the annealed mean in ab (or its mean near the mode, ModelConfig::
  // class_mode_radius), full size, as CbCr under the frame's lightness. The trainer's loss sees
  // the raw logits; decoding may undo part of the rebalancing first.
  const torch::Tensor decoded =
      class_debias_ == 0.0 ? out.class_logits
                           : out.class_logits + class_debias_ * class_log_prior.view({1, -1, 1, 1});
  const torch::Tensor ab = F::interpolate(
      class_mode_radius_ > 0 ? ab_mode_mean(decoded, class_temperature_, class_mode_radius_)
                             : ab_annealed_mean(decoded, class_temperature_),
      F::InterpolateFuncOptions()
          .size(std::vector<int64_t>{h, w})
          .mode(torch::kBilinear)
          .align_corners(false));
  const torch::Tensor rgb = lab_to_rgb(torch::cat({gray_to_lightness(gray), ab}, 1));
  const torch::Tensor base = rgb_to_ycc(rgb).narrow(1, 1, 2).clamp(-0.5, 0.5);
  if (candidates_ == 1) {
    out.candidates = base.unsqueeze(1);
    return out;
  }
  const torch::Tensor residual = (0.5 * torch::tanh(head_(x))).view({n, candidates_ - 1, 2, h, w});
  out.candidates =
      torch::cat({base.unsqueeze(1), (base.unsqueeze(1) + residual).clamp(-0.5, 0.5)}, 1);
  return out;
}

// ---------------------------------------------------------------- g

RefinerNetImpl::RefinerNetImpl(const ModelConfig& c) {
  const std::vector<int>& ch = c.refiner_channels;
  const int64_t levels = static_cast<int64_t>(ch.size());
  // Inputs: Y^s (1), C^s (2), w(C^t) (2), W(C^t, C^s) (1), W(X^t, X^s) (1).
  for (int64_t l = 0; l < levels; ++l) {
    const int64_t in = l == 0 ? 7 : ch[l - 1];
    encoders_.push_back(register_module("enc" + std::to_string(l),
                                        conv_block({{in, ch[l]}, {ch[l], ch[l]}}, &costs_, l)));
  }
  for (int64_t l = levels - 2; l >= 0; --l)
    decoders_.push_back(register_module("dec" + std::to_string(l),
                                        conv_block({{ch[l + 1] + ch[l], ch[l]}}, &costs_, l)));
  head_ = register_module("head", conv(ch[0], 3, 1, 1, 1, 0, true));
  costs_.push_back({ch[0], 3, 1, 1, 0});
}

torch::Tensor RefinerNetImpl::forward(const torch::Tensor& y_s, const torch::Tensor& c_s,
                                      const torch::Tensor& c_t_warped, const torch::Tensor& conf_c,
                                      const torch::Tensor& conf_x) {
  torch::Tensor x = torch::cat({y_s, c_s, c_t_warped, conf_c, conf_x}, 1);
  const size_t levels = encoders_.size();
  std::vector<torch::Tensor> skips;
  for (size_t l = 0; l < levels; ++l) {
    if (l > 0) x = F::max_pool2d(x, F::MaxPool2dFuncOptions(2));
    x = encoders_[l]->forward(x);
    skips.push_back(x);
  }
  for (size_t i = 0; i < decoders_.size(); ++i) {
    const torch::Tensor& skip = skips[levels - 2 - i];
    x = decoders_[i]->forward(torch::cat({up_to(x, skip), skip}, 1));
  }
  const torch::Tensor h = head_(x);
  // Channel slices are strided; LibTorch's vectorized sigmoid/tanh need contiguous memory
  // (a slice takes ~10x longer on the CPU), so slice after the nonlinearity.
  const torch::Tensor blend = torch::sigmoid(h).narrow(1, 0, 1);
  const torch::Tensor correction = 0.1 * torch::tanh(h).narrow(1, 1, 2);
  return torch::clamp(c_s + blend * (c_t_warped - c_s) + correction, -0.5, 0.5);
}

// ---------------------------------------------------------------- bundle

Model make_model(const ModelConfig& c) {
  Model m;
  m.config = c;
  m.f = ColorizerNet(c);
  m.g = RefinerNet(c);
  return m;
}

std::map<std::string, torch::Tensor> model_tensors(const Model& m) {
  std::map<std::string, torch::Tensor> out;
  auto add = [&out](const std::string& prefix, const torch::nn::Module& mod) {
    for (const auto& p : mod.named_parameters(true)) out.emplace(prefix + p.key(), p.value());
    for (const auto& b : mod.named_buffers(true)) out.emplace(prefix + b.key(), b.value());
  };
  add("f.", *m.f);
  add("g.", *m.g);
  return out;
}

double colorizer_flops(const ModelConfig& c, int width, int height) {
  return flops_of(ColorizerNet(c)->conv_costs(), width, height);
}

double refiner_flops(const ModelConfig& c, int width, int height) {
  return flops_of(RefinerNet(c)->conv_costs(), width, height);
}

}  // namespace vidcolor
