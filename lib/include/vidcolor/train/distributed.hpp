// Data-parallel training across processes on PyTorch's own engine, c10d: a TCPStore for the
// rendezvous and ProcessGroupGloo for the collectives, configured by the environment variables
// torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT), so
//   torchrun --nproc_per_node=2 --no-python vidcolor-train ...
// or the same variables set by hand (or by a cluster scheduler) start a multi-process run.
//
// Two backends, chosen by the training device and VIDCOLOR_DIST_BACKEND (auto | gloo | nccl):
// - NCCL (ProcessGroupNCCL) for a CUDA device, on the GPU tensors themselves: compiled only where
//   meson's probe finds a CUDA LibTorch built with NCCL (-Dtorch_dir; nccl_available()). Debian's
//   LibTorch has neither; built against PyTorch's CUDA LibTorch on a lent H100 it trained with
//   one rank (docs/TRAINING.md); two ranks need two GPUs and have not been run.
// - Gloo (ProcessGroupGloo) otherwise, on CPU tensors; GPU tensors are staged through host
//   memory. Available where the build found c10d's Gloo header and gloo's headers
//   (libgloo-dev): gloo_available().
// A world of one needs neither (LocalCollective).
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <string>

namespace vidcolor {

struct DistributedEnv {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  // VIDCOLOR_DIST_BACKEND: "auto" (NCCL for a CUDA device where built, else Gloo), "gloo", "nccl".
  std::string backend = "auto";

  // From RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT (unset = a world of one) and
  // VIDCOLOR_DIST_BACKEND.
  // Throws vidcolor::Error naming the variable for a malformed or inconsistent value (e.g.
  // RANK >= WORLD_SIZE, or WORLD_SIZE > 1 without MASTER_ADDR/MASTER_PORT).
  static DistributedEnv from_environment();
};

// The collectives the trainer needs. All ranks call them in the same order.
class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  virtual std::string backend() const = 0;
  // In place: every rank ends with the element-wise sum over ranks (bit-identical on all).
  virtual void allreduce_sum(torch::Tensor& t) = 0;
  // In place: every rank ends with root's tensor.
  virtual void broadcast(torch::Tensor& t, int root) = 0;
};

// A world of one: both collectives leave the tensor as it is.
class LocalCollective : public Collective {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  std::string backend() const override { return "none"; }
  void allreduce_sum(torch::Tensor&) override {}
  void broadcast(torch::Tensor&, int) override {}
};

// Whether this build has c10d's ProcessGroupGloo (VIDCOLOR_HAVE_C10D_GLOO).
bool gloo_available();
// Whether this build has c10d's ProcessGroupNCCL (VIDCOLOR_HAVE_C10D_NCCL).
bool nccl_available();

// Joins the process group described by env for training on `device`: rank 0 serves the
// TCPStore at MASTER_ADDR:MASTER_PORT, the others connect; all wait for each other up to
// `timeout`. NCCL (see above) makes `device` (cuda:LOCAL_RANK when it has no index) current.
// Gloo's transport binds to GLOO_SOCKET_IFNAME when set, to 127.0.0.1 when MASTER_ADDR is a
// loopback address, else to the address this host's name resolves to (as torch does).
// A world of one returns a LocalCollective. Throws vidcolor::Error when env.backend is "nccl"
// and this build has no NCCL or `device` is not CUDA (even in a world of one), when the world
// is larger than one and this build has no Gloo for it, or when the rendezvous fails.
std::unique_ptr<Collective> make_collective(
    const DistributedEnv& env, const torch::Device& device = torch::Device(torch::kCPU),
    std::chrono::seconds timeout = std::chrono::seconds(300));

}  // namespace vidcolor
