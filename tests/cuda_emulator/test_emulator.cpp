// The CUDA emulator itself: kernels run with CUDA's semantics for blocks, threads, shared memory
// and __syncthreads, and the bugs it exists to catch (a missing or divergent barrier, a bad launch
// configuration, a transfer outside device memory) are caught, with the op named.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine/core/error.h"
#include "kernels/cuda/common.cuh"
#include "tests/cuda/message_of.h"

namespace {

using fewshot::cuda::launch;
using fewshot::testing::message_of;

// out[blockIdx.x] = sum of in[blockIdx.x * blockDim.x + t] over the block, through shared memory.
__global__ void block_sums(const double* in, double* out) {
  __shared__ double shared[256];
  double v = in[blockIdx.x * blockDim.x + threadIdx.x];
  double total = fewshot::cuda::block_sum(v, shared);
  if (threadIdx.x == 0) out[blockIdx.x] = total;
}

// Each thread reads its right neighbour's shared slot. With the barrier the neighbour has written
// it; without it the read races the write.
template <bool kBarrier> __global__ void rotate(int* out) {
  __shared__ int slot[64];
  slot[threadIdx.x] = static_cast<int>(threadIdx.x) + 1;
  if (kBarrier) __syncthreads();
  out[threadIdx.x] = slot[(threadIdx.x + 1) % blockDim.x];
}

// Only the first half of the block reaches the barrier: undefined behaviour on a GPU.
__global__ void divergent(int* out) {
  if (threadIdx.x < blockDim.x / 2) __syncthreads();
  out[threadIdx.x] = 1;
}

__global__ void write_index(int* out) { out[(blockIdx.y * gridDim.x + blockIdx.x) * blockDim.x + threadIdx.x] = 7; }

template <typename T> T* device_alloc(size_t n) {
  T* p = nullptr;
  REQUIRE(cudaMalloc(&p, n * sizeof(T)) == cudaSuccess);
  return p;
}

}  // namespace

TEST_CASE("emulator: blocks, threads and a shared-memory tree reduction") {
  const int blocks = 3, threads = 256;
  std::vector<double> in(blocks * threads);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<double>(i % 97) - 40.0;
  double* din = device_alloc<double>(in.size());
  double* dout = device_alloc<double>(blocks);
  REQUIRE(cudaMemcpy(din, in.data(), in.size() * sizeof(double), cudaMemcpyHostToDevice) == cudaSuccess);
  auto before = fewshot::cuda_emulator::counters();
  launch("block_sums", block_sums, dim3(blocks), dim3(threads), 0, nullptr, din, dout);
  auto after = fewshot::cuda_emulator::counters();
  std::vector<double> out(blocks);
  REQUIRE(cudaMemcpy(out.data(), dout, blocks * sizeof(double), cudaMemcpyDeviceToHost) == cudaSuccess);
  for (int b = 0; b < blocks; ++b) {
    double expect = 0;
    for (int t = 0; t < threads; ++t) expect += in[b * threads + t];
    CHECK(out[b] == expect);
  }
  CHECK(after.launches - before.launches == 1);
  CHECK(after.blocks - before.blocks == blocks);
  CHECK(after.threads - before.threads == blocks * threads);
  CHECK(after.barriers - before.barriers >= blocks * 9);  // 1 + log2(256) + 1 barriers per block
  cudaFree(din);
  cudaFree(dout);
}

TEST_CASE("emulator: a missing __syncthreads gives a wrong result, as it may on a GPU") {
  int* d = device_alloc<int>(64);
  std::vector<int> out(64), expect(64);
  for (int t = 0; t < 64; ++t) expect[t] = (t + 1) % 64 + 1;
  launch("rotate", rotate<true>, dim3(1), dim3(64), 0, nullptr, d);
  REQUIRE(cudaMemcpy(out.data(), d, sizeof(int) * 64, cudaMemcpyDeviceToHost) == cudaSuccess);
  CHECK(out == expect);
  REQUIRE(cudaMemset(d, 0, sizeof(int) * 64) == cudaSuccess);
  launch("rotate", rotate<false>, dim3(1), dim3(64), 0, nullptr, d);
  REQUIRE(cudaMemcpy(out.data(), d, sizeof(int) * 64, cudaMemcpyDeviceToHost) == cudaSuccess);
  CHECK(out != expect);
  cudaFree(d);
}

TEST_CASE("emulator: divergent barriers and bad launches fail with the op named") {
  int* d = device_alloc<int>(2048);
  std::string div = message_of([&] { launch("divergent test op", divergent, dim3(2), dim3(32), 0, nullptr, d); });
  CHECK(div.find("cuda: divergent test op: cudaErrorLaunchFailure") == 0);
  CHECK(div.find("block (0, 0, 0) of grid (2, 1, 1): divergent __syncthreads(): 16 thread(s) returned while 16 wait") !=
        std::string::npos);
  std::string big = message_of([&] { launch("too many threads", write_index, dim3(1), dim3(2048), 0, nullptr, d); });
  CHECK(big.find("cuda: too many threads: cudaErrorInvalidConfiguration") == 0);
  CHECK(big.find("block (2048, 1, 1)") != std::string::npos);
  std::string grid = message_of([&] { launch("grid y", write_index, dim3(1, 70000), dim3(1), 0, nullptr, d); });
  CHECK(grid.find("cudaErrorInvalidConfiguration") != std::string::npos);
  // The emulator still works afterwards, and every (block, thread) ran exactly once.
  std::vector<int> out(6 * 32, 0);
  REQUIRE(cudaMemset(d, 0, sizeof(int) * out.size()) == cudaSuccess);
  launch("write_index", write_index, dim3(3, 2), dim3(32), 0, nullptr, d);
  REQUIRE(cudaMemcpy(out.data(), d, sizeof(int) * out.size(), cudaMemcpyDeviceToHost) == cudaSuccess);
  CHECK(out == std::vector<int>(6 * 32, 7));
  cudaFree(d);
}

TEST_CASE("emulator: transfers must stay inside device allocations") {
  int* d = device_alloc<int>(16);
  std::vector<int> host(32, 1);
  CHECK(cudaMemcpy(d, host.data(), sizeof(int) * 16, cudaMemcpyHostToDevice) == cudaSuccess);
  CHECK(cudaMemcpy(d, host.data(), sizeof(int) * 17, cudaMemcpyHostToDevice) == cudaErrorInvalidValue);  // past the end
  CHECK(cudaMemcpy(host.data(), host.data() + 16, sizeof(int) * 4, cudaMemcpyDeviceToHost) == cudaErrorInvalidValue);
  CHECK(cudaGetLastError() == cudaErrorInvalidValue);
  CHECK(cudaGetLastError() == cudaSuccess);  // reading clears it
  CHECK(cudaFree(host.data()) == cudaErrorInvalidValue);
  cudaGetLastError();
  CHECK(cudaFree(d) == cudaSuccess);
}
