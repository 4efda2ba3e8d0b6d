// The tools' progress line on stderr: rewritten in place on a terminal; elsewhere (the log of
// a background run) one line every 5 s plus the ones a caller forces (first and last of a
// stage), so logs stay small. Header-only: vidcolor-pack, -train and -eval share it.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace vctools {

class ProgressLine {
 public:
  ProgressLine() : terminal_(isatty(fileno(stderr)) != 0) {}

  // Whether a line should be shown now: always on a terminal, else when `force` or 5 s have
  // passed since the last shown line. A true answer counts as shown.
  bool due(bool force) {
    const auto now = std::chrono::steady_clock::now();
    if (!terminal_ && !force && now - last_ < std::chrono::seconds(5)) return false;
    last_ = now;
    return true;
  }

  // Shows `line`: over the previous one on a terminal (left open), else as a line of its own.
  void show(const std::string& line) {
    if (terminal_)
      std::fprintf(stderr, "\r\033[K%s", line.c_str());
    else
      std::fprintf(stderr, "%s\n", line.c_str());
    std::fflush(stderr);
    open_ = terminal_;
  }

  // Ends a line left open on a terminal (before other output, or when a stage is done).
  void close() {
    if (open_) std::fputc('\n', stderr);
    open_ = false;
  }

 private:
  bool terminal_;
  bool open_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace vctools
