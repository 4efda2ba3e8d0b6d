#include "duration.hpp"

#include <cmath>
#include <cstdio>

namespace vctools {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e8) return "?";
  const long t = std::lround(seconds);
  char b[32];
  if (t >= 3600)
    std::snprintf(b, sizeof b, "%ldh%02ldm", t / 3600, t / 60 % 60);
  else if (t >= 60)
    std::snprintf(b, sizeof b, "%ldm%02lds", t / 60, t % 60);
  else
    std::snprintf(b, sizeof b, "%lds", t);
  return b;
}

double eta_seconds(int64_t done, int64_t total, double elapsed) {
  if (done <= 0 || !(elapsed > 0)) return -1;
  if (done >= total) return 0;
  return static_cast<double>(total - done) * elapsed / static_cast<double>(done);
}

}  // namespace vctools
