#pragma once
// Shared by every CUDA kernel file: the check macro (every CUDA call and every launch goes through
// it, and a failure throws fewshot::DeviceError naming the op), a launch helper and grid sizing.
// Host-compilable: backend_cuda.cpp (g++) includes the .cuh entry points, which include this.
#include <cstdint>

#include <cuda_runtime.h>

namespace fewshot::cuda {

// Throws DeviceError "cuda: OP: cudaErrorName (description) [expr at file:line]". Defined in
// cuda_error.cpp so that nvcc never compiles fmt.
[[noreturn]] void fail(const char* op, cudaError_t err, const char* expr, const char* file, int line);
// True when the environment variable `name` is set to anything but "" or "0": the one reading of
// the CUDA backend's switches (FEWSHOT_CUDA_SYNC, FEWSHOT_CUDA_NO_CACHE, FEWSHOT_CUDA_GEMM_PIPELINE).
bool env_flag(const char* name);
// True when FEWSHOT_CUDA_SYNC=1: every launch is followed by a stream synchronize, so an
// asynchronous fault (illegal address, ...) is reported with the op that caused it.
bool sync_after_launch();

}  // namespace fewshot::cuda

#define FEWSHOT_CUDA_CHECK(op, expr)                                                   \
  do {                                                                                 \
    cudaError_t fewshot_err_ = (expr);                                                 \
    if (fewshot_err_ != cudaSuccess) ::fewshot::cuda::fail(op, fewshot_err_, #expr, __FILE__, __LINE__); \
  } while (0)

namespace fewshot::cuda {

constexpr int kBlock = 256;  // threads per block for the elementwise-style kernels

// Blocks for a grid-stride loop over n items: enough to fill any current GPU, capped so that a
// huge n still launches (each thread then loops).
inline unsigned grid_for(int64_t n, int block = kBlock) {
  int64_t g = (n + block - 1) / block;
  if (g < 1) g = 1;
  if (g > 65535 * 4) g = 65535 * 4;
  return static_cast<unsigned>(g);
}

// Device code below is compiled by nvcc, or as plain C++ against the CUDA emulator's runtime
// (tests/cuda_emulator), which runs the same kernels on the CPU in CI.
#if defined(__CUDACC__) || defined(FEWSHOT_CUDA_EMULATOR)
// kernel<<<grid, block, smem, stream>>>(args...), then the launch check (and, with
// FEWSHOT_CUDA_SYNC=1, a synchronize so faults name this op). Empty grids launch nothing.
template <typename... KArgs, typename... Args>
void launch(const char* op, void (*kernel)(KArgs...), dim3 grid, dim3 block, size_t smem, cudaStream_t stream,
            Args&&... args) {
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) return;
#ifdef FEWSHOT_CUDA_EMULATOR
  ::fewshot::cuda_emulator::launch(grid, block, smem, stream, [&] { kernel(static_cast<KArgs>(args)...); });
#else
  kernel<<<grid, block, smem, stream>>>(static_cast<KArgs>(args)...);
#endif
  FEWSHOT_CUDA_CHECK(op, cudaGetLastError());
  if (sync_after_launch()) FEWSHOT_CUDA_CHECK(op, cudaStreamSynchronize(stream));
}

// Grid-stride loop over [0, n) with 64-bit indices.
#define FEWSHOT_CUDA_LOOP(i, n)                                                                  \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n);        \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)

// Deterministic block sum: every thread passes its partial; a fixed shared-memory tree adds them,
// so the result depends only on blockDim, never on timing. Returns the total in every thread.
// `shared` needs blockDim.x entries; blockDim.x must be a power of two.
template <typename A> __device__ A block_sum(A v, A* shared) {
  shared[threadIdx.x] = v;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) shared[threadIdx.x] += shared[threadIdx.x + s];
    __syncthreads();
  }
  A total = shared[0];
  __syncthreads();
  return total;
}

// Accumulator type: float kernels sum in double, as the CPU kernels do.
template <typename T> struct Acc { using type = double; };
#endif

}  // namespace fewshot::cuda
