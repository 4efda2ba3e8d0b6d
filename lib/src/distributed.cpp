#include "vidcolor/distributed.hpp"

#include <cstdlib>
#include <string>

#include "vidcolor-config.h"
#include "vidcolor/error.hpp"

#if VIDCOLOR_HAVE_C10D_GLOO
// ProcessGroupGloo.hpp declares its class only under USE_C10D_GLOO (torch's own build flag).
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace vidcolor {

namespace {

// An integer environment variable; `fallback` when unset.
int env_int(const char* name, int fallback, int min, int max) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  if (*end != '\0' || n < min || n > max)
    throw Error(std::string("distributed: environment variable ") + name + "='" + v +
                "' is not an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  return static_cast<int>(n);
}

#if VIDCOLOR_HAVE_C10D_GLOO
bool is_loopback(const std::string& addr) {
  return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1";
}

class GlooCollective : public Collective {
 public:
  GlooCollective(const DistributedEnv& env, std::chrono::seconds timeout) : env_(env) {
    try {
      c10d::TCPStoreOptions so;
      so.port = static_cast<std::uint16_t>(env.master_port);
      so.isServer = env.rank == 0;
      so.numWorkers = env.world_size;
      so.waitWorkers = true;
      so.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
      auto store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
      auto opts = c10d::ProcessGroupGloo::Options::create();
      opts->timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
      const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
      if (ifname && *ifname)
        opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
      else if (is_loopback(env.master_addr))
        opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      else
        opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      pg_ = c10::make_intrusive<c10d::ProcessGroupGloo>(store, env.rank, env.world_size, opts);
    } catch (const std::exception& e) {
      throw Error("distributed: rank " + std::to_string(env.rank) + " of " +
                  std::to_string(env.world_size) + " could not join the Gloo group at " +
                  env.master_addr + ":" + std::to_string(env.master_port) + ": " + e.what());
    }
  }
  int rank() const override { return env_.rank; }
  int world_size() const override { return env_.world_size; }
  std::string backend() const override { return "gloo"; }

  void allreduce_sum(torch::Tensor& t) override {
    run(t, [this](std::vector<at::Tensor>& v) { return pg_->allreduce(v); }, "allreduce");
  }
  void broadcast(torch::Tensor& t, int root) override {
    run(t,
        [this, root](std::vector<at::Tensor>& v) {
          c10d::BroadcastOptions o;
          o.rootRank = root;
          return pg_->broadcast(v, o);
        },
        "broadcast");
  }

 private:
  // Gloo here works on host memory: other devices go through a CPU copy.
  template <typename Op>
  void run(torch::Tensor& t, Op op, const char* what) {
    std::vector<at::Tensor> v{t.is_cpu() ? t.contiguous() : t.to(torch::kCPU).contiguous()};
    try {
      op(v)->wait();
    } catch (const std::exception& e) {
      throw Error(std::string("distributed: ") + what + " failed on rank " +
                  std::to_string(env_.rank) + ": " + e.what());
    }
    if (!v[0].is_same(t)) t.copy_(v[0]);
  }

  DistributedEnv env_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg_;
};
#endif

}  // namespace

DistributedEnv DistributedEnv::from_environment() {
  DistributedEnv e;
  e.world_size = env_int("WORLD_SIZE", 1, 1, 1 << 20);
  e.rank = env_int("RANK", 0, 0, 1 << 20);
  e.local_rank = env_int("LOCAL_RANK", 0, 0, 1 << 20);
  if (e.rank >= e.world_size)
    throw Error("distributed: RANK=" + std::to_string(e.rank) + " is not below WORLD_SIZE=" +
                std::to_string(e.world_size));
  const char* addr = std::getenv("MASTER_ADDR");
  const bool has_port = std::getenv("MASTER_PORT") && *std::getenv("MASTER_PORT");
  if (e.world_size > 1 && (!addr || !*addr || !has_port))
    throw Error("distributed: WORLD_SIZE=" + std::to_string(e.world_size) +
                " needs MASTER_ADDR and MASTER_PORT (as torchrun sets them)");
  if (addr && *addr) e.master_addr = addr;
  e.master_port = env_int("MASTER_PORT", 29500, 1, 65535);
  return e;
}

bool gloo_available() { return VIDCOLOR_HAVE_C10D_GLOO != 0; }

std::unique_ptr<Collective> make_collective(const DistributedEnv& env, std::chrono::seconds timeout) {
  if (env.world_size <= 1) return std::make_unique<LocalCollective>();
#if VIDCOLOR_HAVE_C10D_GLOO
  return std::make_unique<GlooCollective>(env, timeout);
#else
  (void)timeout;
  throw Error("distributed: WORLD_SIZE=" + std::to_string(env.world_size) +
              " but this build has no c10d Gloo (install libgloo-dev and reconfigure; see "
              "docs/TRAINING.md)");
#endif
}

}  // namespace vidcolor
