// vidcolor-bench: speed of the whole chain (issue 7). Runs real 854x480 video (a DAVIS clip,
// decoded into memory first so JPEG decoding is not measured) through
//   appsrc ! vcgray ! queue ! vccolorize ! queue ! vcflow ! queue ! vcrefine ! fakesink
// as fast as it goes, and in the same run the same model frame by frame by a plain loop over
// lib/ (vidcolor::VideoColorizer: f -> flow -> g on one thread, no GStreamer), and reports
//   end-to-end fps of both (and their ratio: what the queues' parallelism buys),
//   per-element time per frame (pad probes: time from a buffer entering an element's sink
//     pad to the element pushing its output, in that element's streaming thread),
//   the latency the pipeline reports (LATENCY query) and the measured one (push -> sink),
//   peak memory (max RSS),
//   the networks' achieved GFLOP/s versus a measured single-core SGEMM peak x cores.
// Results go to a JSON file (--out) and a summary on stdout. Not part of the unit suite:
// run it by hand (docs/BENCHMARKS.md has the command and the numbers).
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sys/resource.h>
#include <torch/torch.h>

#include <algorithm>
#include <numeric>
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/flag_parser.hpp"
#include "vidcolor-config.h"
#include "vidcolor/core/chain_defaults.hpp"
#include "vidcolor/core/error.hpp"
#include "vidcolor/infer/inference_runtime.hpp"
#include "vidcolor/model/model_file.hpp"
#include "vidcolor/model/networks.hpp"
#include "vidcolor/infer/video_colorizer.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string model;
  std::string clip;
  int frames = 200;
  int colorize_threads = 1;
  int refine_threads = 1;
  int inference_size = 0;
  std::string flow_backend = "dis-fast";
  double flow_scale = vidcolor::kChainFlowScale;  // as the vidcolorize bin
  std::string out = "out/bench/bench.json";
  bool skip_plain = false;
  bool realtime = false;  // push at the clip's 25 fps, like a live source, instead of at once
  bool default_malloc = false;
};

// Every flag, declared once: parsing and the usage text both come from here.
void declare(vctools::FlagParser& p, Options& o) {
  p.flag("--model", "FILE", "model file", &o.model).default_text("the shipped default model");
  p.flag("--clip", "DIR", "folder of color frames", &o.clip)
      .default_text("DAVIS 'dog' from ../shared/data");
  p.flag("--frames", "N", "frames to run (the clip repeats)", &o.frames).range(3, 100000);
  p.flag("--colorize-threads", "N", "LibTorch threads of vccolorize", &o.colorize_threads)
      .range(0, 1024);
  p.flag("--refine-threads", "N", "LibTorch threads of vcrefine", &o.refine_threads).range(0, 1024);
  p.flag("--inference-size", "N", "short side f and g run at (0 = the model's)", &o.inference_size)
      .min(0);
  p.flag("--flow", "NAME", "vcflow backend", &o.flow_backend);
  p.flag("--flow-scale", "X", "vcflow's scale, as the vidcolorize bin (0 = the element's own)",
         &o.flow_scale)
      .range(0, 1);
  p.flag("--skip-plain", "do not run the plain lib/ loop", &o.skip_plain);
  p.flag("--default-malloc",
         "leave glibc's malloc thresholds alone (default: keep freed blocks in the process, as "
         "pipelines/ "
         "do)",
         &o.default_malloc);
  p.flag(
      "--realtime",
      "push frames at 25 fps like a live source (then the measured latency is the chain's own, not "
      "frames queued behind it)",
      &o.realtime);
  p.flag("--out", "FILE", "JSON results", &o.out);
}

struct GstObjectDeleter {
  void operator()(gpointer p) const {
    if (p) gst_object_unref(p);
  }
};
using ElementPtr = std::unique_ptr<GstElement, GstObjectDeleter>;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Max resident set size of this process so far, in MiB.
double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

std::vector<cv::Mat> load_clip(const std::string& dir, int frames) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<cv::Mat> clip;
  for (const auto& f : files) {
    cv::Mat bgr = cv::imread(f.string(), cv::IMREAD_COLOR);
    if (bgr.empty()) continue;
    cv::Mat bgrx;  // 4 bytes a pixel: rows need no padding to GStreamer's 4-byte stride
    cv::cvtColor(bgr, bgrx, cv::COLOR_BGR2BGRA);
    clip.push_back(bgrx);
  }
  if (clip.empty()) throw vidcolor::Error("no readable frames in '" + dir + "'");
  for (const auto& m : clip)
    if (m.size() != clip.front().size())
      throw vidcolor::Error("frames of '" + dir + "' differ in size");
  // Repeat the clip forwards and backwards (a ping-pong keeps motion continuous, so the flow
  // and g see what a longer real clip would give them).
  std::vector<cv::Mat> out;
  for (int i = 0; static_cast<int>(out.size()) < frames; ++i) {
    const int n = static_cast<int>(clip.size());
    const int period = std::max(1, 2 * n - 2);
    const int k = i % period;
    out.push_back(clip[k < n ? k : period - k]);
  }
  return out;
}

// Per-element timing from pad probes. Each element runs in its own streaming thread (the
// queues), so the time from the latest input (buffer or EOS) to each output push is the time
// the element spent producing that output.
struct ElementClock {
  std::string name;
  std::mutex mutex;
  Clock::time_point last_in{};
  bool have_in = false;
  double busy_s = 0.0;
  int64_t outputs = 0;
};

GstPadProbeReturn on_sink(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* c = static_cast<ElementClock*>(data);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) != GST_EVENT_EOS) return GST_PAD_PROBE_OK;
  }
  std::lock_guard<std::mutex> lock(c->mutex);
  c->last_in = Clock::now();
  c->have_in = true;
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn on_src(GstPad*, GstPadProbeInfo*, gpointer data) {
  auto* c = static_cast<ElementClock*>(data);
  std::lock_guard<std::mutex> lock(c->mutex);
  const auto now = Clock::now();
  if (c->have_in) c->busy_s += std::chrono::duration<double>(now - c->last_in).count();
  // The next output of the same input (none here: one out per in) would start from now.
  c->last_in = now;
  ++c->outputs;
  return GST_PAD_PROBE_OK;
}

void watch(GstElement* pipeline, const char* name, ElementClock* clock) {
  ElementPtr e(gst_bin_get_by_name(GST_BIN(pipeline), name));
  if (!e) throw vidcolor::Error(std::string("no element ") + name + " in the pipeline");
  clock->name = name;
  GstPad* sink = gst_element_get_static_pad(e.get(), "sink");
  GstPad* src = gst_element_get_static_pad(e.get(), "src");
  gst_pad_add_probe(
      sink,
      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
      on_sink, clock, nullptr);
  gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, on_src, clock, nullptr);
  gst_object_unref(sink);
  gst_object_unref(src);
}

// Arrival time at the sink of each pts, to measure latency push -> out.
struct Arrivals {
  std::mutex mutex;
  std::map<GstClockTime, Clock::time_point> pushed;
  std::vector<double> latency_s;
  int64_t count = 0;
  GstClockTime last_pts = GST_CLOCK_TIME_NONE;
  bool monotonic = true;
};

GstPadProbeReturn on_arrival(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* a = static_cast<Arrivals*>(data);
  GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
  const GstClockTime pts = GST_BUFFER_PTS(buf);
  std::lock_guard<std::mutex> lock(a->mutex);
  ++a->count;
  if (GST_CLOCK_TIME_IS_VALID(a->last_pts) && pts <= a->last_pts) a->monotonic = false;
  a->last_pts = pts;
  auto it = a->pushed.find(pts);
  if (it != a->pushed.end()) {
    a->latency_s.push_back(std::chrono::duration<double>(Clock::now() - it->second).count());
    a->pushed.erase(it);
  }
  return GST_PAD_PROBE_OK;
}

constexpr double kSinkProcessingDeadlineMs = 20.0;  // GstBaseSink:processing-deadline default

struct PipelineResult {
  double fps = 0.0;
  int64_t frames_out = 0;
  bool monotonic = true;
  double reported_latency_ms = 0.0;
  double latency_mean_ms = 0.0, latency_p99_ms = 0.0, latency_max_ms = 0.0;
  // Frames that took longer than the reported latency plus a sink's default processing
  // deadline (20 ms): those a synchronising sink after a live source would find late.
  int64_t frames_late = 0;
  std::vector<std::pair<std::string, double>> element_ms;  // per frame
  std::vector<double> latency_ms;  // push -> sink of each frame, in output order
};

PipelineResult run_pipeline(const Options& o, const std::vector<cv::Mat>& frames) {
  const int w = frames.front().cols, h = frames.front().rows;
  std::string desc =
      // Live when paced: GStreamer sums the elements' latencies only over live upstreams.
      std::string("appsrc name=src is-live=") + (o.realtime ? "true" : "false") +
      " format=time block=true max-bytes=20000000 "
      "caps=video/x-raw,format=BGRx,width=" +
      std::to_string(w) + ",height=" + std::to_string(h) +
      ",framerate=25/1 ! vcgray name=gray ! queue max-size-buffers=4 ! vccolorize name=colorize "
      "threads=" +
      std::to_string(o.colorize_threads) +
      (o.inference_size > 0 ? " inference-size=" + std::to_string(o.inference_size)
                            : std::string()) +
      " ! queue max-size-buffers=4 ! vcflow name=flow backend=" + o.flow_backend +
      (o.flow_scale > 0 ? " scale=" + std::to_string(o.flow_scale) : std::string()) +
      " ! queue max-size-buffers=4 ! vcrefine name=refine threads=" +
      std::to_string(o.refine_threads) + " ! fakesink name=sink sync=false";
  GError* err = nullptr;
  ElementPtr pipeline(gst_parse_launch(desc.c_str(), &err));
  if (err) {
    const std::string msg = err->message;
    g_error_free(err);
    throw vidcolor::Error("cannot build the pipeline: " + msg);
  }
  for (const char* name : {"colorize", "refine"}) {
    ElementPtr e(gst_bin_get_by_name(GST_BIN(pipeline.get()), name));
    g_object_set(e.get(), "model", o.model.c_str(), nullptr);
  }
  std::vector<std::unique_ptr<ElementClock>> clocks;
  for (const char* name : {"gray", "colorize", "flow", "refine"}) {
    clocks.push_back(std::make_unique<ElementClock>());
    watch(pipeline.get(), name, clocks.back().get());
  }
  Arrivals arrivals;
  {
    ElementPtr sink(gst_bin_get_by_name(GST_BIN(pipeline.get()), "sink"));
    GstPad* pad = gst_element_get_static_pad(sink.get(), "sink");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_arrival, &arrivals, nullptr);
    gst_object_unref(pad);
  }
  ElementPtr src(gst_bin_get_by_name(GST_BIN(pipeline.get()), "src"));
  if (gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    throw vidcolor::Error("the pipeline did not start (model file? see the bus)");

  const GstClockTime duration = GST_SECOND / 25;
  const auto t0 = Clock::now();
  std::thread feeder([&] {
    for (size_t i = 0; i < frames.size(); ++i) {
      if (o.realtime)
        std::this_thread::sleep_until(t0 +
                                      std::chrono::microseconds(40000 * static_cast<int64_t>(i)));
      const cv::Mat& m = frames[i];
      const size_t bytes = m.total() * m.elemSize();
      GstBuffer* buf = gst_buffer_new_allocate(nullptr, bytes, nullptr);
      gst_buffer_fill(buf, 0, m.data, bytes);  // BGRx rows: stride 4w, as GStreamer lays them out
      GST_BUFFER_PTS(buf) = i * duration;
      GST_BUFFER_DURATION(buf) = duration;
      {
        std::lock_guard<std::mutex> lock(arrivals.mutex);
        arrivals.pushed[i * duration] = Clock::now();
      }
      if (gst_app_src_push_buffer(GST_APP_SRC(src.get()), buf) != GST_FLOW_OK) break;
    }
    gst_app_src_end_of_stream(GST_APP_SRC(src.get()));
  });

  ElementPtr bus(GST_ELEMENT_CAST(gst_element_get_bus(pipeline.get())));
  std::string error;
  for (;;) {
    GstMessage* msg = gst_bus_timed_pop_filtered(
        GST_BUS(bus.get()), 600 * GST_SECOND,
        static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    if (!msg) {
      error = "no EOS within 600 s";
      break;
    }
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
      GError* e = nullptr;
      gchar* dbg = nullptr;
      gst_message_parse_error(msg, &e, &dbg);
      error = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(msg))) + ": " + e->message +
              (dbg ? std::string(" (") + dbg + ")" : std::string());
      g_error_free(e);
      g_free(dbg);
    }
    gst_message_unref(msg);
    break;
  }
  const double wall = seconds_since(t0);
  PipelineResult r;
  // Asked at vcrefine's src pad: the pipeline-level query goes to fakesink, which (sync=false)
  // answers without asking upstream.
  GstQuery* q = gst_query_new_latency();
  ElementPtr refine(gst_bin_get_by_name(GST_BIN(pipeline.get()), "refine"));
  GstPad* refine_src = gst_element_get_static_pad(refine.get(), "src");
  const gboolean answered = gst_pad_query(refine_src, q);
  gst_object_unref(refine_src);
  if (answered) {
    gboolean live;
    GstClockTime min_l, max_l;
    gst_query_parse_latency(q, &live, &min_l, &max_l);
    r.reported_latency_ms = static_cast<double>(min_l) / 1e6;
  }
  gst_query_unref(q);
  if (!error.empty()) gst_app_src_end_of_stream(GST_APP_SRC(src.get()));
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  feeder.join();
  if (!error.empty()) throw vidcolor::Error(error);

  r.frames_out = arrivals.count;
  r.monotonic = arrivals.monotonic;
  r.fps = static_cast<double>(arrivals.count) / wall;
  if (!arrivals.latency_s.empty()) {
    for (double l : arrivals.latency_s) r.latency_ms.push_back(1e3 * l);
    std::vector<double> sorted = r.latency_ms;
    std::sort(sorted.begin(), sorted.end());
    r.latency_mean_ms =
        std::accumulate(sorted.begin(), sorted.end(), 0.0) / static_cast<double>(sorted.size());
    r.latency_max_ms = sorted.back();
    r.latency_p99_ms = sorted[std::min(sorted.size() - 1, sorted.size() * 99 / 100)];
    const double deadline_ms = r.reported_latency_ms + kSinkProcessingDeadlineMs;
    r.frames_late =
        std::count_if(sorted.begin(), sorted.end(), [&](double l) { return l > deadline_ms; });
  }
  for (const auto& c : clocks)
    r.element_ms.emplace_back(c->name,
                              c->outputs ? 1e3 * c->busy_s / static_cast<double>(c->outputs) : 0.0);
  return r;
}

// The plain loop: the same frames through lib/ alone, one frame after the other.
double run_plain(const Options& o, const std::vector<cv::Mat>& frames) {
  auto model = std::make_shared<vidcolor::Model>(vidcolor::load_model(o.model));
  if (o.inference_size > 0)  // vidcolorize's inference-size: both networks
    model->config.inference_size = model->config.refine_inference_size = o.inference_size;
  vidcolor::set_inference_threads(o.colorize_threads);
  vidcolor::VideoColorizer colorizer(model);
  std::vector<cv::Mat> gray(frames.size());
  for (size_t i = 0; i < frames.size(); ++i) cv::cvtColor(frames[i], gray[i], cv::COLOR_BGRA2GRAY);
  const auto t0 = Clock::now();
  size_t out = 0;
  for (const cv::Mat& g : gray) out += colorizer.push(g).size();
  out += colorizer.finish().size();
  const double wall = seconds_since(t0);
  if (out != frames.size()) throw vidcolor::Error("plain loop lost frames");
  return static_cast<double>(out) / wall;
}

// Single-core float32 matrix-multiply throughput: the practical peak the networks are
// measured against (times the cores for the machine).
double sgemm_gflops_one_core() {
  at::set_num_threads(1);
  torch::InferenceMode guard;
  const int64_t n = 1024;
  const auto a = torch::rand({n, n}), b = torch::rand({n, n});
  for (int i = 0; i < 2; ++i) torch::mm(a, b);
  const int reps = 10;
  const auto t0 = Clock::now();
  for (int i = 0; i < reps; ++i) torch::mm(a, b);
  return 2.0 * n * n * n * reps / seconds_since(t0) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  Options o;
  o.model = vidcolor::default_model_path();
  o.clip = std::string(VIDCOLOR_SHARED_DATA_DIR) + "/videos/davis2016/dog";
  vctools::FlagParser flags("vidcolor-bench [options]");
  declare(flags, o);
  try {
    if (!flags.parse(argc, argv)) {
      std::fputs(flags.usage().c_str(), stdout);
      return 0;
    }
  } catch (const vctools::UsageError& e) {
    std::fprintf(stderr, "vidcolor-bench: %s\n\n%s", e.what(), flags.usage().c_str());
    return 2;
  }
  try {
    if (!o.default_malloc) {
      // What pipelines/_common.sh sets through MALLOC_*_ for gst-launch: without it glibc
      // returns each freed frame-sized block to the kernel and page-faults it back in on the
      // next frame (~15 % of the chain's time here, docs/BENCHMARKS.md).
      mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's ceiling for this setting
      mallopt(M_TRIM_THRESHOLD, 256 << 20);
    }
    const vidcolor::Model model = vidcolor::load_model(o.model);
    std::fprintf(stderr, "vidcolor-bench: decoding %s ...\n", o.clip.c_str());
    const std::vector<cv::Mat> frames = load_clip(o.clip, o.frames);
    const int w = frames.front().cols, h = frames.front().rows;
    vidcolor::ModelConfig cfg = model.config;
    if (o.inference_size > 0) cfg.inference_size = cfg.refine_inference_size = o.inference_size;
    int iw = 0, ih = 0, gw = 0, gh = 0;  // f's and g's sizes
    cfg.inference_dims(w, h, &iw, &ih);
    cfg.refine_inference_dims(w, h, &gw, &gh);
    const double rss_before = peak_rss_mib();

    std::fprintf(stderr, "vidcolor-bench: pipeline, %d frames of %dx%d ...\n", o.frames, w, h);
    const PipelineResult p = run_pipeline(o, frames);
    const double rss_pipeline = peak_rss_mib();
    double plain_fps = 0.0;
    if (!o.skip_plain) {
      std::fprintf(stderr, "vidcolor-bench: plain lib/ loop ...\n");
      plain_fps = run_plain(o, frames);
    }
    const double peak1 = sgemm_gflops_one_core();
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());

    double f_ms = 0.0, g_ms = 0.0;
    for (const auto& [name, ms] : p.element_ms) {
      if (name == "colorize") f_ms = ms;
      if (name == "refine") g_ms = ms;
    }
    const double f_gflop = vidcolor::colorizer_flops(cfg, iw, ih) / 1e9;
    const double g_gflop = 2.0 * vidcolor::refiner_flops(cfg, gw, gh) / 1e9;  // two neighbours

    nlohmann::json j;
    j["machine"] = {{"cores", cores},
                    {"sgemm_gflops_one_core", peak1},
                    {"sgemm_gflops_all_cores", peak1 * cores}};
    j["input"] = {{"clip", o.clip},
                  {"frames", o.frames},
                  {"width", w},
                  {"height", h},
                  {"inference_width", iw},
                  {"inference_height", ih},
                  {"refine_inference_width", gw},
                  {"refine_inference_height", gh}};
    j["settings"] = {{"model", o.model},
                     {"colorize_threads", o.colorize_threads},
                     {"refine_threads", o.refine_threads},
                     {"flow", o.flow_backend},
                     {"flow_scale", o.flow_scale},
                     {"realtime_source", o.realtime},
                     {"malloc_tuned", !o.default_malloc}};
    j["pipeline"] = {{"fps", p.fps},
                     {"frames_out", p.frames_out},
                     {"timestamps_monotonic", p.monotonic},
                     {"reported_latency_ms", p.reported_latency_ms},
                     {"measured_latency_mean_ms", p.latency_mean_ms},
                     {"measured_latency_p99_ms", p.latency_p99_ms},
                     {"measured_latency_max_ms", p.latency_max_ms},
                     {"frames_later_than_reported_plus_20ms", p.frames_late},
                     {"measured_latency_ms_per_frame", p.latency_ms}};
    for (const auto& [name, ms] : p.element_ms) j["pipeline"]["element_ms_per_frame"][name] = ms;
    j["plain_loop"] = {{"fps", plain_fps},
                       {"pipeline_over_plain", plain_fps > 0 ? p.fps / plain_fps : 0.0}};
    j["networks"] = {{"f_gflop_per_frame", f_gflop},
                     {"g_gflop_per_frame", g_gflop},
                     {"f_gflops_achieved", f_ms > 0 ? f_gflop / (f_ms / 1e3) : 0.0},
                     {"vcrefine_gflops_achieved", g_ms > 0 ? g_gflop / (g_ms / 1e3) : 0.0}};
    j["memory"] = {{"peak_rss_mib_after_decoding", rss_before},
                   {"peak_rss_mib_pipeline", rss_pipeline},
                   {"peak_rss_mib_end", peak_rss_mib()}};

    fs::path out(o.out);
    if (out.has_parent_path()) fs::create_directories(out.parent_path());
    std::ofstream(out) << j.dump(2) << "\n";

    std::printf("vidcolor-bench: %d frames %dx%d (nets at %dx%d), %u cores\n", o.frames, w, h, iw,
                ih, cores);
    std::printf("  pipeline        %6.1f fps  (%lld frames out, timestamps %s)\n", p.fps,
                static_cast<long long>(p.frames_out), p.monotonic ? "monotonic" : "NOT monotonic");
    for (const auto& [name, ms] : p.element_ms)
      std::printf("    %-12s %6.1f ms/frame\n", name.c_str(), ms);
    std::printf(
        "  latency         %6.1f ms reported, %.1f ms mean / %.1f ms p99 / %.1f ms max measured\n",
        p.reported_latency_ms, p.latency_mean_ms, p.latency_p99_ms, p.latency_max_ms);
    if (o.realtime)
      std::printf(
          "                  %lld frames later than reported + 20 ms (a live sink would find them "
          "late)\n",
          static_cast<long long>(p.frames_late));
    else
      std::printf(
          "                  (the source is not paced: measured = time queued behind earlier "
          "frames)\n");
    if (plain_fps > 0)
      std::printf("  plain lib loop  %6.1f fps  (pipeline / plain = %.2f)\n", plain_fps,
                  p.fps / plain_fps);
    std::printf(
        "  networks        f %.2f GFLOP -> %.1f GFLOP/s, g x2 %.2f GFLOP -> %.1f GFLOP/s; "
        "SGEMM peak %.1f GFLOP/s per core\n",
        f_gflop, f_ms > 0 ? f_gflop / (f_ms / 1e3) : 0.0, g_gflop,
        g_ms > 0 ? g_gflop / (g_ms / 1e3) : 0.0, peak1);
    std::printf("  memory          peak RSS %.0f MiB (%.0f MiB after decoding the frames)\n",
                rss_pipeline, rss_before);
    std::printf("  results         %s\n", o.out.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vidcolor-bench: %s\n", e.what());
    return 1;
  }
}
