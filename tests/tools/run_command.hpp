// Shared by the tool tests: run a shell command (popen) and keep what it printed and how it
// ended, so a test can assert on both and show the output when it fails.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <memory>
#include <string>

namespace vctest {

struct CommandResult {
  int status;          // exit status; -1 when it could not start or did not exit (a signal)
  std::string output;  // its stdout (append 2>&1 to the command for stderr too)
};

inline CommandResult run_command(const std::string& cmd) {
  struct PipeCloser {
    void operator()(FILE* f) const { pclose(f); }
  };
  std::unique_ptr<FILE, PipeCloser> p(popen(cmd.c_str(), "r"));
  if (!p) return {-1, "popen failed: " + cmd};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p.get())) > 0) out.append(buf, n);
  const int st = pclose(p.release());
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

}  // namespace vctest
