// vidcolor-bench-engines: speed of the two networks' stages as vccolorize and vcrefine run them,
// without GStreamer or OpenCV, so it builds with LibTorch alone (e.g. on a GPU machine whose
// LibTorch has CUDA; issue 7's GPU path). Per frame, like the elements:
//   colorize stage (vccolorize): 8-bit luma plane -> tensor -> device, f at inference size,
//     guided upsampling, chroma quantised to 8-bit 4:2:0 planes (the one download);
//   refine stage (vcrefine): the frame's luma and 4:2:0 chroma planes and its flows and masks
//     to the frame before (as vcflow's meta carries them: the chain's flow size) -> device
//     once, into the refinement window (RefineWindow, radius 1, one pass: vcrefine's
//     defaults); g on the frame the window releases with both neighbours; 8-bit planes back.
// Flow itself (vcflow, OpenCV on the CPU) is not part of it: the flows are zero, which costs g
// and the warps the same as real ones. Frames come from a raw 8-bit gray file (scaled to each
// size) or, without one, a moving synthetic pattern. Also compares the device's output with
// the CPU's (float32) on the same frames, in 8-bit levels, so half precision is checked.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/flag_parser.hpp"
#include "vidcolor-config.h"
#include "vidcolor/ops/chroma_read.hpp"
#include "vidcolor/infer/colorize_engine.hpp"
#include "vidcolor/ops/device_transfer.hpp"
#include "vidcolor/core/error.hpp"
#include "vidcolor/ops/frame_planes.hpp"
#include "vidcolor/infer/inference_runtime.hpp"
#include "vidcolor/model/model_file.hpp"
#include "vidcolor/model/networks.hpp"
#include "vidcolor/infer/refine_engine.hpp"
#include "vidcolor/infer/refine_window.hpp"
#include "vidcolor/core/chain_defaults.hpp"
#include "vidcolor/flow/flow_size.hpp"

#if VIDCOLOR_TORCH_HAS_CUDA && __has_include(<c10/cuda/CUDACachingAllocator.h>) && \
    __has_include(<cuda_runtime_api.h>)
#include <c10/cuda/CUDACachingAllocator.h>
#define VC_ALLOCATOR_STATS 1
#else
#define VC_ALLOCATOR_STATS 0
#endif

namespace {

using vctools::UsageError;

struct Size {
  int w = 0, h = 0;
};

Size parse_size(const std::string& s) {
  Size z;
  char x = 0;
  char rest = 0;
  if (std::sscanf(s.c_str(), "%d%c%d%c", &z.w, &x, &z.h, &rest) != 3 || x != 'x' || z.w < 16 ||
      z.h < 16 || z.w > 16384 || z.h > 16384)
    throw UsageError("a size is WxH with sides 16..16384, got '" + s + "'");
  return z;
}

struct Options {
  std::string model = vidcolor::default_model_path();
  std::string device = "auto";
  std::vector<Size> sizes;
  int frames = 200, warmup = 20, threads = 0, inference_size = 0, compare_frames = 8;
  std::string raw, json;
  Size raw_size;
};

// Every flag, declared once: parsing and the usage text both come from here.
void declare(vctools::FlagParser& p, Options& o) {
  p.flag("--model", "FILE", "model file", &o.model).default_text("the shipped default model");
  p.flag("--device", "cpu|cuda|cuda:N|auto", "where f and g run", &o.device);
  p.flag("--size", "WxH", "frame sizes to run", [&o](const std::string& v) {
     o.sizes.push_back(parse_size(v));
   }).default_text("854x480 and 1920x1080");
  p.flag("--frames", "N", "timed frames per size, after --warmup", &o.frames).range(1, 1000000);
  p.flag("--warmup", "N", "untimed frames first", &o.warmup).range(0, 1000000);
  p.flag("--threads", "N", "LibTorch intra-op threads (0 = all cores)", &o.threads)
      .range(0, 1000000);
  p.flag("--inference-size", "N", "short side f and g run at (0 = the model's)", &o.inference_size)
      .range(0, 1000000);
  p.flag("--raw", "FILE",
         "consecutive 8-bit gray frames of --raw-size (e.g. from gst-launch-1.0 ... ! "
         "video/x-raw,format=GRAY8 ! filesink); default: a moving synthetic pattern",
         &o.raw);
  p.flag("--raw-size", "WxH", "the size of --raw's frames",
         [&o](const std::string& v) { o.raw_size = parse_size(v); });
  p.flag("--compare-frames", "N",
         "frames whose device output is compared with the CPU's (0 = none; only when the device is "
         "not "
         "the CPU)",
         &o.compare_frames)
      .range(0, 1000000);
  p.flag("--json", "OUT", "write the report as JSON", &o.json);
}

// False for --help (the caller prints the usage).
bool parse_args(int argc, char** argv, vctools::FlagParser& flags, Options& o) {
  if (!flags.parse(argc, argv)) return false;
  if (o.sizes.empty()) o.sizes = {{854, 480}, {1920, 1080}};
  if (!o.raw.empty() && o.raw_size.w == 0) throw UsageError("--raw needs --raw-size WxH");
  return true;
}

// Source frames at w x h as 8-bit planes: the raw file's frames scaled (bilinear), or a
// pattern that moves a few pixels per frame.
std::vector<std::vector<uint8_t>> source_frames(const Options& o, Size s) {
  std::vector<torch::Tensor> frames;
  if (!o.raw.empty()) {
    std::ifstream in(o.raw, std::ios::binary);
    if (!in) throw vidcolor::Error("cannot open --raw file '" + o.raw + "'");
    const size_t n = static_cast<size_t>(o.raw_size.w) * o.raw_size.h;
    std::vector<uint8_t> buf(n);
    while (frames.size() < 16 &&
           in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(n)))
      frames.push_back(
          torch::from_blob(buf.data(), {1, 1, o.raw_size.h, o.raw_size.w}, torch::kUInt8)
              .to(torch::kFloat32)
              .clone());
    if (frames.empty())
      throw vidcolor::Error("--raw file '" + o.raw + "' holds no whole " +
                            std::to_string(o.raw_size.w) + "x" + std::to_string(o.raw_size.h) +
                            " frame");
  } else {
    const torch::Tensor x = torch::arange(s.w, torch::kFloat32).view({1, 1, 1, s.w});
    const torch::Tensor y = torch::arange(s.h, torch::kFloat32).view({1, 1, s.h, 1});
    for (int i = 0; i < 16; ++i)
      frames.push_back(127.5 +
                       60 * torch::sin((x + 3 * i) / 17.0) * torch::cos((y - 2 * i) / 23.0) +
                       60 * torch::sin((x + y + 5 * i) / 97.0));
  }
  std::vector<std::vector<uint8_t>> out;
  for (const torch::Tensor& f : frames) {
    const torch::Tensor scaled =
        torch::nn::functional::interpolate(f, torch::nn::functional::InterpolateFuncOptions()
                                                  .size(std::vector<int64_t>{s.h, s.w})
                                                  .mode(torch::kBilinear)
                                                  .align_corners(false))
            .round()
            .clamp(0, 255)
            .to(torch::kUInt8)
            .contiguous();
    out.emplace_back(scaled.data_ptr<uint8_t>(), scaled.data_ptr<uint8_t>() + scaled.numel());
  }
  return out;
}

// A 4:2:0 frame's chroma planes (what vccolorize writes into an I420 buffer).
struct Chroma420 {
  int w = 0, h = 0;
  std::vector<uint8_t> cb, cr;
  explicit Chroma420(Size s)
      : w((s.w + 1) / 2), h((s.h + 1) / 2), cb(size_t(w) * h), cr(size_t(w) * h) {}
  vidcolor::ChromaPlanes8 planes() { return {cb.data(), size_t(w), cr.data(), size_t(w), 1, 2, 2}; }
};

double now_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Stats {
  double mean = 0, p50 = 0, p99 = 0, max = 0;
};

Stats stats_of(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / v.size();
  s.p50 = v[v.size() / 2];
  s.p99 = v[std::min(v.size() - 1, static_cast<size_t>(0.99 * v.size()))];
  s.max = v.back();
  return s;
}

// One frame through both stages as the vidcolorize chain runs them: f (ColorizeEngine), then
// the refinement window (RefineWindow, radius 1 and one pass: vcrefine's defaults) with zero
// flows at the chain's flow size (flow_size at kChainFlowScale, as vcflow in the bin).
class Chain {
 public:
  Chain(std::shared_ptr<const vidcolor::Model> model, torch::Device device, Size s,
        int inference_size)
      : size_(s),
        colorize_(model, device, colorize_options(inference_size)),
        refine_(model, device, vidcolor::kConfidenceAlpha, inference_size),
        window_(refine_) {
    const vidcolor::FlowSize fs = vidcolor::flow_size(s.w, s.h, vidcolor::kChainFlowScale);
    flow_ = torch::zeros({1, 2, fs.height, fs.width});
    valid_ = torch::ones({1, 1, fs.height, fs.width});  // vcrefine's mask tensor: float
  }

  // Returns the refined 4:2:0 chroma of the frame the window released (the one before
  // `luma8`), or false while the window fills. Times go to colorize_ms / refine_ms.
  bool push(const std::vector<uint8_t>& luma8, Chroma420* refined, double* colorize_ms,
            double* refine_ms) {
    const double t0 = now_ms();
    Chroma420 c(size_);
    const torch::Tensor luma =
        vidcolor::gray8_plane_to_tensor(luma8.data(), size_.w, size_.h, size_t(size_.w));
    vidcolor::chroma_to_planes8(colorize_.colorize(luma), c.planes());
    const double t1 = now_ms();
    // As vcrefine: the 8-bit planes as they come from vccolorize, linked to the frame before
    // by vcflow's meta (every frame but the first).
    vidcolor::WindowFrame frame;
    frame.luma = luma;
    frame.chroma = vidcolor::planes8_to_chroma(c.planes(), c.w, c.h);
    if (window_.held() > 0) frame.link = vidcolor::FlowLink{flow_, valid_, flow_, valid_};
    const std::vector<vidcolor::RefinedFrame> out = window_.push(std::move(frame));
    for (const vidcolor::RefinedFrame& r : out)
      vidcolor::chroma_to_planes8(r.chroma, refined->planes());
    const double t2 = now_ms();
    *colorize_ms = t1 - t0;
    *refine_ms = t2 - t1;
    return !out.empty();
  }

 private:
  static vidcolor::ColorizeOptions colorize_options(int inference_size) {
    vidcolor::ColorizeOptions o;
    o.inference_size = inference_size;
    return o;
  }
  Size size_;
  vidcolor::ColorizeEngine colorize_;
  vidcolor::RefineEngine refine_;
  vidcolor::RefineWindow window_;
  torch::Tensor flow_, valid_;
};

struct AllocatorCounts {
  int64_t cuda_mallocs = -1;  // segments the caching allocator has asked cudaMalloc for
  int64_t peak_reserved = -1;
};

AllocatorCounts allocator_counts(const torch::Device& device) {
  AllocatorCounts a;
#if VC_ALLOCATOR_STATS
  if (device.is_cuda()) {
    const auto st = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
    a.cuda_mallocs = st.segment[0].allocated;  // [0] = StatType::AGGREGATE
    a.peak_reserved = st.reserved_bytes[0].peak;
  }
#else
  (void)device;
#endif
  return a;
}

void synchronize(const torch::Device& device) {
#if VIDCOLOR_TORCH_HAS_CUDA
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
#else
  (void)device;
#endif
}

// Runs the first `frames` source frames through a CPU chain and a device chain and compares
// the refined 8-bit chroma: mean and max absolute difference in levels.
nlohmann::json compare_with_cpu(std::shared_ptr<const vidcolor::Model> model, torch::Device device,
                                Size s, int inference_size,
                                const std::vector<std::vector<uint8_t>>& src, int frames) {
  Chain cpu(model, torch::Device(torch::kCPU), s, inference_size);
  Chain dev(model, device, s, inference_size);
  double sum = 0;
  int max_diff = 0;
  int64_t n = 0, over2 = 0;
  int compared = 0;
  for (int i = 0; i < frames; ++i) {
    Chroma420 a(s), b(s);
    double t1 = 0, t2 = 0;
    const bool ra = cpu.push(src[i % src.size()], &a, &t1, &t2);
    const bool rb = dev.push(src[i % src.size()], &b, &t1, &t2);
    if (!ra || !rb) continue;
    ++compared;
    for (size_t k = 0; k < a.cb.size(); ++k)
      for (int d : {std::abs(a.cb[k] - b.cb[k]), std::abs(a.cr[k] - b.cr[k])}) {
        sum += d;
        max_diff = std::max(max_diff, d);
        over2 += d > 2;
        ++n;
      }
  }
  return {{"frames_compared", compared},
          {"mean_abs_diff_levels", n > 0 ? sum / n : 0.0},
          {"max_abs_diff_levels", max_diff},
          {"share_over_2_levels", n > 0 ? static_cast<double>(over2) / n : 0.0}};
}

nlohmann::json run_size(const Options& o, std::shared_ptr<const vidcolor::Model> model,
                        const torch::Device& device, Size s) {
  const auto src = source_frames(o, s);
  Chain chain(model, device, s, o.inference_size);
  std::vector<double> col, ref, total;
  Chroma420 out(s);
  AllocatorCounts before;
  double wall0 = 0;
  const int n = o.warmup + o.frames;
  for (int i = 0; i < n; ++i) {
    if (i == o.warmup) {
      synchronize(device);
      before = allocator_counts(device);
      wall0 = now_ms();
    }
    double c = 0, r = 0;
    chain.push(src[i % src.size()], &out, &c, &r);
    if (i >= o.warmup) {
      col.push_back(c);
      ref.push_back(r);
      total.push_back(c + r);
    }
    if ((i + 1) % 50 == 0 || i + 1 == n)
      std::fprintf(stderr, "\r%dx%d: frame %d/%d", s.w, s.h, i + 1, n);
  }
  synchronize(device);
  const double wall = now_ms() - wall0;
  std::fprintf(stderr, "\n");
  const AllocatorCounts after = allocator_counts(device);
  const Stats sc = stats_of(col), sr = stats_of(ref), st = stats_of(total);
  int iw = 0, ih = 0, gw = 0, gh = 0;  // f's and g's sizes
  vidcolor::ModelConfig cfg = model->config;
  if (o.inference_size > 0) cfg.inference_size = cfg.refine_inference_size = o.inference_size;
  cfg.inference_dims(s.w, s.h, &iw, &ih);
  cfg.refine_inference_dims(s.w, s.h, &gw, &gh);
  const double gflop =
      (vidcolor::colorizer_flops(cfg, iw, ih) + 2 * vidcolor::refiner_flops(cfg, gw, gh)) / 1e9;
  auto js = [](const Stats& x) {
    return nlohmann::json{{"mean", x.mean}, {"p50", x.p50}, {"p99", x.p99}, {"max", x.max}};
  };
  nlohmann::json j = {{"width", s.w},
                      {"height", s.h},
                      {"inference_width", iw},
                      {"inference_height", ih},
                      {"refine_inference_width", gw},
                      {"refine_inference_height", gh},
                      {"frames", o.frames},
                      {"colorize_ms", js(sc)},
                      {"refine_ms", js(sr)},
                      {"frame_ms", js(st)},
                      {"fps_one_thread", o.frames / (wall / 1000.0)},
                      // vccolorize and vcrefine run in their own streaming threads (queues in
                      // vidcolorize): the chain's rate is set by the slower stage.
                      {"fps_pipelined_estimate", 1000.0 / std::max(sc.mean, sr.mean)},
                      {"network_gflop_per_frame", gflop},
                      {"network_gflops_achieved", gflop * o.frames / (wall / 1000.0)}};
  if (after.cuda_mallocs >= 0) {
    j["cuda_mallocs_during_timed_frames"] = after.cuda_mallocs - before.cuda_mallocs;
    j["cuda_peak_reserved_mib"] = after.peak_reserved / 1048576.0;
  }
  if (!device.is_cpu() && o.compare_frames > 0)
    j["versus_cpu_float32"] =
        compare_with_cpu(model, device, s, o.inference_size, src, o.compare_frames + 2);
  std::printf(
      "%5dx%-5d f %5.2f ms  g %5.2f ms  (p99 %5.2f / %5.2f)  %6.1f fps one thread, %6.1f "
      "pipelined%s\n",
      s.w, s.h, sc.mean, sr.mean, sc.p99, sr.p99, j["fps_one_thread"].get<double>(),
      j["fps_pipelined_estimate"].get<double>(),
      j.contains("cuda_mallocs_during_timed_frames")
          ? (", cudaMalloc calls while timed: " +
             std::to_string(j["cuda_mallocs_during_timed_frames"].get<int64_t>()))
                .c_str()
          : "");
  if (j.contains("versus_cpu_float32"))
    std::printf(
        "             vs CPU float32: mean |diff| %.3f levels, max %d, %.4f%% over 2 levels\n",
        j["versus_cpu_float32"]["mean_abs_diff_levels"].get<double>(),
        j["versus_cpu_float32"]["max_abs_diff_levels"].get<int>(),
        100 * j["versus_cpu_float32"]["share_over_2_levels"].get<double>());
  std::fflush(stdout);
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  vctools::FlagParser flags("vidcolor-bench-engines [options]");
  declare(flags, o);
  try {
    if (!parse_args(argc, argv, flags, o)) {
      std::cout << flags.usage();
      return 0;
    }
    vidcolor::set_inference_threads(o.threads);
    const torch::Device device = vidcolor::parse_device(o.device);
    auto model = std::make_shared<const vidcolor::Model>(vidcolor::load_model(o.model));
    std::printf(
        "vidcolor-bench-engines: model %s, device %s, %d LibTorch threads, %d frames per size\n",
        o.model.c_str(), device.str().c_str(), torch::get_num_threads(), o.frames);
    nlohmann::json report = {{"model", o.model},
                             {"device", device.str()},
                             {"threads", torch::get_num_threads()},
                             {"torch_version", TORCH_VERSION},
                             {"source", o.raw.empty() ? std::string("synthetic") : o.raw},
                             {"sizes", nlohmann::json::array()}};
    for (const Size& s : o.sizes) report["sizes"].push_back(run_size(o, model, device, s));
    if (!o.json.empty()) {
      std::ofstream f(o.json);
      f << report.dump(2) << "\n";
      if (!f) throw vidcolor::Error("cannot write '" + o.json + "'");
      std::printf("report: %s\n", o.json.c_str());
    }
    return 0;
  } catch (const UsageError& e) {
    std::cerr << "vidcolor-bench-engines: " << e.what() << "\n\n" << flags.usage();
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "vidcolor-bench-engines: " << e.what() << "\n";
    return 1;
  }
}
