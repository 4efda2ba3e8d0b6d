// The CSV log and the progress report of vidcolor-train (see the header).
#include "train/train_log.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include "train/train_fail.hpp"

namespace vidcolor::train_detail {

namespace {

std::string csv_header() {
  std::string h = "step,stage,crop";
  for (const auto& n : StepLosses::names()) h += "," + n;
  return h + ",lr,seconds";
}

std::string csv_line(const HistoryRow& r) {
  std::ostringstream s;
  s << r.step << ',' << r.stage << ',' << r.crop;
  s.precision(7);
  for (double v : r.values) {
    s << ',';
    if (std::isfinite(v)) s << v;
  }
  s << ',' << r.lr << ',';
  s.precision(3);
  s << std::fixed << r.seconds;
  return s.str();
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : line) {
    if (ch == ',') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  out.push_back(cur);
  return out;
}

}  // namespace

void TrainLog::open(const std::filesystem::path& csv, bool resume, int64_t step) {
  csv_ = csv;
  rows_.clear();
  if (resume && std::filesystem::exists(csv)) {
    std::ifstream in(csv);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      const auto f = split_csv(line);
      if (f.size() != 3 + StepLosses::names().size() + 2) continue;
      HistoryRow r;
      try {
        r.step = std::stoll(f[0]);
        r.stage = f[1];
        r.crop = std::stoll(f[2]);
        for (size_t i = 0; i < StepLosses::names().size(); ++i)
          r.values.push_back(f[3 + i].empty() ? NAN : std::stod(f[3 + i]));
        r.lr = std::stod(f[f.size() - 2]);
        r.seconds = std::stod(f.back());
      } catch (const std::exception&) {
        continue;  // a row cut short by a crash
      }
      if (r.step <= step) rows_.push_back(r);
    }
  }
  std::ofstream out(csv, std::ios::trunc);
  if (!out) fail("cannot write " + csv.string());
  out << csv_header() << '\n';
  for (const HistoryRow& r : rows_) out << csv_line(r) << '\n';
}

void TrainLog::append(const HistoryRow& r) {
  rows_.push_back(r);
  // Reopened per row, so that the file is complete up to the last step whenever the run dies.
  std::ofstream out(csv_, std::ios::app);
  out << csv_line(r) << '\n';
}

StepLosses TrainLog::recent_means(size_t n) const {
  std::vector<double> sum(StepLosses::names().size(), 0.0), cnt(sum.size(), 0.0);
  for (size_t i = rows_.size() > n ? rows_.size() - n : 0; i < rows_.size(); ++i)
    for (size_t k = 0; k < sum.size(); ++k)
      if (std::isfinite(rows_[i].values[k])) {
        sum[k] += rows_[i].values[k];
        cnt[k] += 1;
      }
  std::vector<double> m(sum.size());
  for (size_t k = 0; k < sum.size(); ++k) m[k] = cnt[k] > 0 ? sum[k] / cnt[k] : NAN;
  return StepLosses::from_values(m);
}

std::vector<LossSeries> TrainLog::series() const {
  std::vector<LossSeries> series;
  for (size_t k = 0; k < StepLosses::names().size(); ++k) {
    LossSeries s{StepLosses::names()[k], {}, {}};
    for (const HistoryRow& r : rows_) {
      s.steps.push_back(static_cast<double>(r.step));
      s.values.push_back(r.values[k]);
    }
    series.push_back(std::move(s));
  }
  return series;
}

void TrainLog::stage_starts(std::vector<double>* steps, std::vector<std::string>* names) const {
  for (size_t i = 0; i < rows_.size(); ++i)
    if (i == 0 || rows_[i].stage != rows_[i - 1].stage) {
      steps->push_back(static_cast<double>(rows_[i].step));
      names->push_back(rows_[i].stage);
    }
}

TrainProgress progress_report(const TrainState& state, const std::vector<StageSpec>& stages,
                              const std::string& stage, int64_t crop, const StepLosses& losses,
                              double seconds_now, double invocation_s, int64_t invocation_steps,
                              double max_minutes) {
  TrainProgress p;
  p.step = state.step;
  p.total_steps = state.total_steps(stages);
  p.stage_index = static_cast<int>(state.stage);
  p.stage = stage;
  p.crop = crop;
  p.losses = losses;
  p.elapsed_s = seconds_now;
  p.steps_per_s = invocation_s > 0 ? static_cast<double>(invocation_steps) / invocation_s : 0;
  p.eta_s = state.eta_seconds(stages, p.steps_per_s);
  if (max_minutes > 0) p.eta_s = std::min(p.eta_s, std::max(0.0, max_minutes * 60 - invocation_s));
  return p;
}

}  // namespace vidcolor::train_detail
