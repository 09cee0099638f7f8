// CUDA backend plumbing: caching allocator reuse, streams, host<->device copies, dtype casts,
// optimizers, and error paths (errors name the op; bad indices never write out of bounds).
#include <doctest/doctest.h>

#include <string>
#include <thread>

#include <cuda_runtime.h>

#include "engine/ops.h"
#include "kernels/cuda/caching_allocator.cuh"
#include "kernels/cuda/cuda_backend.h"
#include "tests/cuda/message_of.h"

using namespace fewshot;
using fewshot::testing::message_of;

TEST_CASE("caching allocator: freed blocks are reused, no cudaMalloc in the steady state") {
  Device dev = Device::cuda(0);
  auto step = [&] {  // one "training step": a few temporaries of the same sizes every time
    Tensor t = Tensor::zeros(Shape{1000, 1000}, DType::Float32, dev);
    Tensor u = add(t, 1.0);
    Tensor v = sum(mul(u, u), {1});
    CHECK(v.numel() == 1000);
  };
  step();  // warm-up fills the cache
  auto before = cuda::allocator_stats(0);
  for (int i = 0; i < 20; ++i) step();
  auto after = cuda::allocator_stats(0);
  CHECK(after.bytes_in_use == before.bytes_in_use);
  if (cuda::CachingAllocator::caching_disabled()) {
    // Checking mode: one cudaMalloc per tensor, nothing kept.
    CHECK(after.cuda_mallocs - before.cuda_mallocs >= 60);
    CHECK(after.reuses == before.reuses);
    CHECK(after.bytes_cached == 0);
    return;
  }
  CHECK(after.cuda_mallocs == before.cuda_mallocs);
  CHECK(after.reuses - before.reuses >= 60);
  cuda::empty_cache(0);
  CHECK(cuda::allocator_stats(0).bytes_cached == 0);
}

TEST_CASE("host <-> device copies, casts and in-place writes round-trip") {
  Device dev = Device::cuda(0);
  Tensor a = Tensor::from_vector({1.5, -2, 3, 4.25}, Shape{2, 2}, DType::Float64, dev);
  CHECK(a.to_vector() == std::vector<double>{1.5, -2, 3, 4.25});
  CHECK(a.to(DType::Float32).to(DType::Int64).to_indices() == std::vector<int64_t>{1, -2, 3, 4});
  Tensor b = Tensor::zeros(Shape{2, 2}, DType::Float32, dev);
  b.copy_(a);  // device-to-device with cast
  CHECK(b.to_vector() == std::vector<double>{1.5, -2, 3, 4.25});
  Tensor c = Tensor::zeros(Shape{2, 2});
  c.copy_(b);  // device-to-host
  CHECK(c.to_vector() == b.to_vector());
  CHECK(Tensor::full(Shape{3}, 7, DType::Int64, dev).to_indices() == std::vector<int64_t>{7, 7, 7});
  Tensor nan = Tensor::from_vector({1, NAN, INFINITY, 2}, Shape{4}, DType::Float32, dev);
  CHECK(backend_for(dev).count_nonfinite(nan) == 2);
}

TEST_CASE("optimizer steps match the CPU") {
  Generator g(1);
  Tensor p = randn(Shape{1000}, g), gr = randn(Shape{1000}, g);
  Tensor pc = p.clone(), pg = p.to(Device::cuda(0));
  Tensor mc = Tensor::zeros(Shape{1000}), vc = Tensor::zeros(Shape{1000});
  Tensor mg = mc.to(Device::cuda(0)), vg = vc.to(Device::cuda(0)), grg = gr.to(Device::cuda(0));
  NoGradGuard no_grad;
  for (int step = 1; step <= 3; ++step) {
    backend_for(pc).adam_step(pc, gr, mc, vc, 1e-2, 0.9, 0.999, 1e-8, 1e-4, step);
    backend_for(pg).adam_step(pg, grg, mg, vg, 1e-2, 0.9, 0.999, 1e-8, 1e-4, step);
    backend_for(pc).sgd_step(pc, gr, mc, 1e-2, 0.9, 0.0, step == 1);
    backend_for(pg).sgd_step(pg, grg, mg, 1e-2, 0.9, 0.0, step == 1);
  }
  auto a = pc.to_vector(), b = pg.to_vector();
  for (size_t i = 0; i < a.size(); ++i) CHECK(std::abs(a[i] - b[i]) < 1e-5);
}

TEST_CASE("per-thread streams: two threads compute side by side on their own streams") {
  Device dev = Device::cuda(0);
  auto work = [&](double v, double* out) {
    cudaStream_t s = nullptr;
    REQUIRE(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) == cudaSuccess);
    {
      cuda::StreamGuard guard(0, s);
      CHECK(cuda::current_stream(0) == static_cast<void*>(s));
      Tensor t = Tensor::full(Shape{512, 512}, v, DType::Float32, dev);
      *out = sum(matmul(t, t)).item();
      cuda::synchronize(0);
    }
    cudaStreamDestroy(s);
  };
  double r1 = 0, r2 = 0;
  std::thread t1(work, 1.0, &r1), t2(work, 2.0, &r2);
  t1.join();
  t2.join();
  CHECK(r1 == doctest::Approx(512.0 * 512 * 512).epsilon(1e-5));
  CHECK(r2 == doctest::Approx(4.0 * 512 * 512 * 512).epsilon(1e-5));
}

TEST_CASE("error paths: CUDA errors name the op, bad indices throw before any write") {
  Device dev = Device::cuda(0);
  // 4 TiB cannot be allocated: the DeviceError names the allocator and the CUDA error.
  std::string oom = message_of([&] { Tensor::empty(Shape{int64_t(1) << 40}, DType::Float32, dev); });
  CHECK(oom.find("cuda: allocator") != std::string::npos);
  CHECK(oom.find("cudaErrorMemoryAllocation") != std::string::npos);
  CHECK_THROWS_AS(Tensor::empty(Shape{int64_t(1) << 40}, DType::Float32, dev), DeviceError);
  // The backend still works after the failed allocation.
  CHECK(Tensor::ones(Shape{3}, DType::Float32, dev).to_vector() == std::vector<double>{1, 1, 1});

  Tensor x = Tensor::ones(Shape{3, 4}, DType::Float32, dev);
  Tensor bad = Tensor::from_indices({0, 4, 1, 1, 2, 2}, Shape{3, 2}, dev);
  CHECK_THROWS_AS(gather(x, 1, bad), ValueError);
  CHECK(message_of([&] { gather(x, 1, bad); }) == "gather: index 4 at position 1 is out of range [0, 4)");
  CHECK_THROWS_AS(index_select(x, 0, Tensor::from_indices({-1}, Shape{1}, dev)), ValueError);
  CHECK_THROWS_AS(one_hot(Tensor::from_indices({0, 9}, Shape{2}, dev), 3), ValueError);
  std::string ce = message_of([&] { cross_entropy(x, Tensor::from_indices({0, 1, 7}, Shape{3}, dev)); });
  CHECK(ce.find("cross_entropy: target 7 of row 2") != std::string::npos);
  // Mixed devices are refused by the ops, naming both.
  CHECK_THROWS_AS(add(x, Tensor::ones(Shape{3, 4})), DeviceError);
  CHECK_THROWS_AS(Tensor::zeros(Shape{1}, DType::Float32, Device::cuda(63)), DeviceError);
}
