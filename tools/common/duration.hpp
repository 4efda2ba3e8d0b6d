// The tools' one way to show a duration (progress ETAs, elapsed and run times), and the one
// estimate of the time left that the progress lines print.
#pragma once

#include <cstdint>
#include <string>

namespace vctools {

// "1h19m", "4m05s", "7s"; "?" when unknown (negative, not finite, or beyond ~3 years).
std::string format_duration(double seconds);

// Seconds left at the mean rate so far: `done` of `total` after `elapsed` seconds; -1 (shown
// as "?") before the first item is done.
double eta_seconds(int64_t done, int64_t total, double elapsed);

}  // namespace vctools
