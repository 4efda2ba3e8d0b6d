#include "vidcolor/train/distributed.hpp"

#include <cstdlib>
#include <string>

#include "vidcolor-config.h"
#include "vidcolor/core/error.hpp"

#if VIDCOLOR_HAVE_C10D_GLOO
// ProcessGroupGloo.hpp declares its class only under USE_C10D_GLOO (torch's own build flag).
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if VIDCOLOR_HAVE_C10D_NCCL
// Likewise under USE_C10D_NCCL; only a CUDA LibTorch built with NCCL has it (meson's probe).
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL 1
#endif
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#if VIDCOLOR_HAVE_C10D_GLOO || VIDCOLOR_HAVE_C10D_NCCL
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
                "' is not an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                "]");
  return static_cast<int>(n);
}

#if VIDCOLOR_HAVE_C10D_GLOO || VIDCOLOR_HAVE_C10D_NCCL
std::string where(const DistributedEnv& env) {
  return "rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) + " at " +
         env.master_addr + ":" + std::to_string(env.master_port);
}

// The rendezvous both backends share: rank 0 serves, the others connect.
c10::intrusive_ptr<c10d::Store> make_store(const DistributedEnv& env,
                                           std::chrono::seconds timeout) {
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(env.master_port);
  so.isServer = env.rank == 0;
  so.numWorkers = env.world_size;
  so.waitWorkers = true;
  so.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  return c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
}

// A c10d process group whose collectives run on tensors on `home`: the CPU for Gloo, this rank's
// GPU for NCCL. Tensors elsewhere (or not contiguous) go through a copy on `home`.
// Held as its concrete class (ProcessGroupGloo / ProcessGroupNCCL): up to LibTorch 1.13 those
// are c10d::ProcessGroups, from 2.0 on c10d::Backends; both have these collectives.
template <typename Group>
class C10dCollective : public Collective {
 public:
  C10dCollective(const DistributedEnv& env, std::string backend, torch::Device home,
                 c10::intrusive_ptr<Group> pg)
      : env_(env), backend_(std::move(backend)), home_(home), pg_(std::move(pg)) {}
  int rank() const override { return env_.rank; }
  int world_size() const override { return env_.world_size; }
  std::string backend() const override { return backend_; }

  void allreduce_sum(torch::Tensor& t) override {
    run(
        t, [this](std::vector<at::Tensor>& v) { return pg_->allreduce(v); }, "allreduce");
  }
  void broadcast(torch::Tensor& t, int root) override {
    run(
        t,
        [this, root](std::vector<at::Tensor>& v) {
          c10d::BroadcastOptions o;
          o.rootRank = root;
          return pg_->broadcast(v, o);
        },
        "broadcast");
  }

 private:
  template <typename Op>
  void run(torch::Tensor& t, Op op, const char* what) {
    std::vector<at::Tensor> v{t.device() == home_ ? t.contiguous() : t.to(home_).contiguous()};
    try {
      // NCCL's wait() orders the current CUDA stream after the collective (no host sync).
      op(v)->wait();
    } catch (const std::exception& e) {
      throw Error("distributed: " + std::string(what) + " over " + backend_ + " failed on rank " +
                  std::to_string(env_.rank) + ": " + e.what());
    }
    if (!v[0].is_same(t)) t.copy_(v[0]);
  }

  DistributedEnv env_;
  std::string backend_;
  torch::Device home_;
  c10::intrusive_ptr<Group> pg_;
};
#endif

#if VIDCOLOR_HAVE_C10D_GLOO
bool is_loopback(const std::string& addr) {
  return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1";
}

// Gloo here works on host memory: tensors on a GPU are staged through a CPU copy.
std::unique_ptr<Collective> make_gloo(const DistributedEnv& env, std::chrono::seconds timeout) {
  try {
    auto store = make_store(env, timeout);
    auto opts = c10d::ProcessGroupGloo::Options::create();
    opts->timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
    const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
    if (ifname && *ifname)
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    else if (is_loopback(env.master_addr))
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else
      opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, env.rank, env.world_size, opts);
    return std::make_unique<C10dCollective<c10d::ProcessGroupGloo>>(
        env, "gloo", torch::Device(torch::kCPU), std::move(pg));
  } catch (const std::exception& e) {
    throw Error("distributed: " + where(env) + " could not join the Gloo group: " + e.what());
  }
}
#endif

#if VIDCOLOR_HAVE_C10D_NCCL
// NCCL on this rank's GPU: the collectives run on the GPU tensors themselves. The GPU is the
// training device's (cuda:LOCAL_RANK from vidcolor-train), made current so that NCCL's
// communicator and streams live there.
std::unique_ptr<Collective> make_nccl(const DistributedEnv& env, torch::Device device,
                                      std::chrono::seconds timeout) {
  const torch::Device gpu(torch::kCUDA, device.has_index()
                                            ? device.index()
                                            : static_cast<c10::DeviceIndex>(env.local_rank));
  try {
    c10::cuda::set_device(gpu.index());
    auto store = make_store(env, timeout);
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
    auto pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, env.rank, env.world_size, opts);
    return std::make_unique<C10dCollective<c10d::ProcessGroupNCCL>>(env, "nccl", gpu,
                                                                    std::move(pg));
  } catch (const std::exception& e) {
    throw Error("distributed: " + where(env) + " could not join the NCCL group on " + gpu.str() +
                ": " + e.what());
  }
}
#endif

}  // namespace

DistributedEnv DistributedEnv::from_environment() {
  DistributedEnv e;
  e.world_size = env_int("WORLD_SIZE", 1, 1, 1 << 20);
  e.rank = env_int("RANK", 0, 0, 1 << 20);
  e.local_rank = env_int("LOCAL_RANK", 0, 0, 1 << 20);
  if (e.rank >= e.world_size)
    throw Error("distributed: RANK=" + std::to_string(e.rank) +
                " is not below WORLD_SIZE=" + std::to_string(e.world_size));
  const char* addr = std::getenv("MASTER_ADDR");
  const bool has_port = std::getenv("MASTER_PORT") && *std::getenv("MASTER_PORT");
  if (e.world_size > 1 && (!addr || !*addr || !has_port))
    throw Error("distributed: WORLD_SIZE=" + std::to_string(e.world_size) +
                " needs MASTER_ADDR and MASTER_PORT (as torchrun sets them)");
  if (addr && *addr) e.master_addr = addr;
  e.master_port = env_int("MASTER_PORT", 29500, 1, 65535);
  const char* backend = std::getenv("VIDCOLOR_DIST_BACKEND");
  if (backend && *backend) e.backend = backend;
  if (e.backend != "auto" && e.backend != "gloo" && e.backend != "nccl")
    throw Error("distributed: VIDCOLOR_DIST_BACKEND='" + e.backend + "' is not auto, gloo or nccl");
  return e;
}

bool gloo_available() { return VIDCOLOR_HAVE_C10D_GLOO != 0; }
bool nccl_available() { return VIDCOLOR_HAVE_C10D_NCCL != 0; }

std::unique_ptr<Collective> make_collective(const DistributedEnv& env, const torch::Device& device,
                                            std::chrono::seconds timeout) {
  // An explicit NCCL request is checked even in a world of one, so that a launch script that
  // asks for it learns at once that this build or device cannot give it.
  if (env.backend == "nccl") {
    if (!nccl_available())
      throw Error(
          "distributed: VIDCOLOR_DIST_BACKEND=nccl but this build has no c10d NCCL (it needs "
          "a CUDA LibTorch built with NCCL, -Dtorch_dir=...; see docs/TRAINING.md); use gloo "
          "or unset it");
    if (!device.is_cuda())
      throw Error(
          "distributed: VIDCOLOR_DIST_BACKEND=nccl needs a CUDA training device (--device cuda), "
          "not " +
          device.str());
  }
  if (env.world_size <= 1) return std::make_unique<LocalCollective>();
#if VIDCOLOR_HAVE_C10D_NCCL
  if (env.backend == "nccl" || (env.backend == "auto" && device.is_cuda()))
    return make_nccl(env, device, timeout);
#endif
#if VIDCOLOR_HAVE_C10D_GLOO
  return make_gloo(env, timeout);
#else
  (void)device;
  (void)timeout;
  throw Error("distributed: WORLD_SIZE=" + std::to_string(env.world_size) +
              " but this build has no c10d Gloo (install libgloo-dev and reconfigure; see "
              "docs/TRAINING.md)");
#endif
}

}  // namespace vidcolor
