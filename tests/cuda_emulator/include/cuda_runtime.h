#pragma once
// The CUDA emulator's stand-in for <cuda_runtime.h>: just enough of the CUDA runtime API and of
// the device-side language for kernels/cuda/*.cu to compile as plain C++ and run on the CPU.
//
// Why: most machines that build fewshot (CI included) have nvcc but no GPU, so the real CUDA
// backend never executes there. Compiled against this header, the same kernel source runs each
// block's threads as fibers on one CPU thread (tests/cuda_emulator/emulator.cpp), and
// tests/cuda's parity tests check the kernels' index arithmetic, tiling, reductions and
// __syncthreads placement against the CPU backend on every CI run (ctest `cuda_emulated`).
// It cannot say anything about speed, warp-level behaviour or the real memory model; a real GPU
// (scripts/gpu-check.sh) remains the final word. See docs/cuda.md, "The CUDA emulator".
//
// Only compiled when FEWSHOT_CUDA_EMULATOR is defined, i.e. in the fewshot_engine_cuda_emulated
// library and test_cuda_emulated; the product never sees it.
#include <math.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>

#ifndef FEWSHOT_CUDA_EMULATOR
#error "tests/cuda_emulator/include/cuda_runtime.h is only for the CUDA emulator build (FEWSHOT_CUDA_EMULATOR)"
#endif

// ---- Language: qualifiers become plain C++ ----------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
// Shared memory: one instance per kernel instantiation. Blocks run one at a time (a process-wide
// lock), and every thread of the running block sees the same variable, as on a GPU.
#define __shared__ static

struct uint3 {
  unsigned x, y, z;
};
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
};
struct alignas(16) float4 {
  float x, y, z, w;
};

// The built-in variables of the thread being run (set by the emulator before it resumes a thread).
extern uint3 threadIdx, blockIdx;
extern dim3 blockDim, gridDim;

namespace fewshot::cuda_emulator {
void syncthreads();  // suspends the calling thread until every thread of its block arrives
}  // namespace fewshot::cuda_emulator

inline void __syncthreads() { fewshot::cuda_emulator::syncthreads(); }

// Threads of a block never run at the same time and blocks run under one lock, so a plain
// read-modify-write is atomic here.
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
  unsigned long long old = *p;
  *p = old + v;
  return old;
}
inline unsigned long long atomicMin(unsigned long long* p, unsigned long long v) {
  unsigned long long old = *p;
  if (v < old) *p = v;
  return old;
}
inline int atomicAdd(int* p, int v) {
  int old = *p;
  *p = old + v;
  return old;
}

// Device math: CUDA's global-namespace overloads.
using std::isfinite;
using std::isinf;
using std::isnan;

// ---- Runtime API ------------------------------------------------------------------------------
enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidMemcpyDirection = 21,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorIllegalAddress = 700,
  cudaErrorLaunchFailure = 719,
};
using cudaError = cudaError_t;

struct CUstream_st;
using cudaStream_t = CUstream_st*;

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};
constexpr unsigned cudaStreamDefault = 0, cudaStreamNonBlocking = 1;

struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  size_t sharedMemPerBlock;
  int maxThreadsPerBlock;
  int multiProcessorCount;
  int major, minor;
};

const char* cudaGetErrorName(cudaError_t err);
const char* cudaGetErrorString(cudaError_t err);
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();

cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);
cudaError_t cudaDeviceSynchronize();

cudaError_t cudaMalloc(void** ptr, size_t bytes);
template <typename T> cudaError_t cudaMalloc(T** ptr, size_t bytes) {
  return cudaMalloc(reinterpret_cast<void**>(ptr), bytes);
}
cudaError_t cudaFree(void* ptr);
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream = nullptr);
cudaError_t cudaMemset(void* dst, int value, size_t bytes);
cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t stream = nullptr);

cudaError_t cudaStreamCreate(cudaStream_t* stream);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);

namespace fewshot::cuda_emulator {

// Runs `thread_body` once per thread of every block of the grid, the way kernel<<<grid, block,
// smem, stream>>> would, and records a launch error (bad configuration, a fault found while
// running) for cudaGetLastError. Work runs to completion before this returns, so every stream is
// always idle.
void launch(dim3 grid, dim3 block, size_t dynamic_smem, cudaStream_t stream, const std::function<void()>& thread_body);

// What the emulator has done since the process started (tests use it to prove kernels ran).
struct Counters {
  int64_t launches = 0, blocks = 0, threads = 0, barriers = 0;
};
Counters counters();

}  // namespace fewshot::cuda_emulator
