// The sample sheet and the loss curves of vidcolor-train (see the header).
#include "train/train_pictures.hpp"

#include <algorithm>
#include <vector>

#include "vidcolor/core/chain_defaults.hpp"
#include "vidcolor/core/color_tensors.hpp"
#include "vidcolor/ops/neighbour_warp.hpp"
#include "vidcolor/train/png_writer.hpp"
#include "vidcolor/train/train_plots.hpp"

namespace vidcolor::train_detail {

namespace {

std::vector<SampleRow> sample_rows(Model& model, const TrainingPack& pack, torch::Device dev,
                                   int64_t samples) {
  torch::NoGradGuard ng;
  std::vector<SampleRow> rows;
  const int64_t want = std::max<int64_t>(1, samples);
  int64_t n_pairs = pack.num_pairs() == 0    ? 0
                    : pack.num_images() == 0 ? want
                                             : std::max<int64_t>(1, want / 2);
  n_pairs = std::min(n_pairs, pack.num_pairs());
  const int64_t n_images = std::min(want - n_pairs, pack.num_images());
  const auto spread = [](int64_t count, int64_t total) {
    std::vector<int64_t> idx;
    for (int64_t i = 0; i < count; ++i) idx.push_back(i * total / count);
    return idx;
  };
  const auto cpu = [](const torch::Tensor& x) {
    return x.detach().to(torch::kCPU).clamp(0.0, 1.0);
  };
  if (n_images > 0) {
    const PackImageBatch b =
        pack.images(spread(n_images, pack.num_images()), {}, /*with_knn=*/false).to(dev);
    const torch::Tensor rgb_c = candidates_to_rgb(b.y, model.f->forward(b.y));
    for (int64_t i = 0; i < n_images; ++i)
      rows.push_back({cpu(b.y[i]), cpu(rgb_c[i]), {}, cpu(b.rgb[i])});
  }
  if (n_pairs > 0) {
    PackPairBatch b = pack.pairs(spread(n_pairs, pack.num_pairs())).to(dev);
    const torch::Tensor y_t = b.y.select(1, 0), y_t1 = b.y.select(1, 1);
    const torch::Tensor c_t = model.f->forward(y_t), c_t1 = model.f->forward(y_t1);
    // Candidate 1 of t refined from t+1, with g's inputs as RefineEngine builds them.
    const torch::Tensor cs = c_t.select(1, 0);
    const WarpedNeighbour in =
        warp_neighbour(y_t, cs, y_t1, c_t1.select(1, 0), b.flow_fw, kConfidenceAlpha);
    const torch::Tensor refined = model.g->forward(y_t, cs, in.chroma, in.conf_c, in.conf_x);
    const torch::Tensor rgb_c = candidates_to_rgb(y_t, c_t), rgb_g = ycc_to_rgb(y_t, refined);
    for (int64_t i = 0; i < n_pairs; ++i)
      rows.push_back({cpu(y_t[i]), cpu(rgb_c[i]), cpu(rgb_g[i]), cpu(b.rgb.select(1, 0)[i])});
  }
  return rows;
}

}  // namespace

void write_pictures(const std::filesystem::path& out_dir, int64_t step, const std::string& title,
                    Model& model, const TrainingPack& pack, torch::Device device, int64_t samples,
                    const TrainLog& log) {
  if (!png_supported()) return;
  const std::string digits = std::to_string(step);
  write_png((out_dir / ("samples-" + std::string(8 - std::min<size_t>(8, digits.size()), '0') +
                        digits + ".png"))
                .string(),
            sample_sheet(sample_rows(model, pack, device, samples), title));
  std::vector<double> starts;
  std::vector<std::string> names;
  log.stage_starts(&starts, &names);
  write_png((out_dir / "loss-curves.png").string(), loss_curves_image(log.series(), starts, names));
}

}  // namespace vidcolor::train_detail
