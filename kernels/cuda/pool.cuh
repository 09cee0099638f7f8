#pragma once
// 2-D pooling over (planes = N * C, H, W) with a square window. All kernels write (=).
#include <cstdint>

#include <cuda_runtime.h>

namespace fewshot::cuda {

struct PoolGeometry {
  int64_t planes;  // N * C
  int64_t H, W, kernel, stride, pad, OH, OW;
};

// y and indices (planes, OH, OW); index = argmax position within the H*W plane (first maximum
// wins, a NaN wins and stops the scan, padding never wins), as kernels/cpu/pool.cpp.
template <typename T> void max_pool2d(const PoolGeometry& g, const T* x, T* y, int64_t* indices, cudaStream_t s);
// Window mean, padding counted as zeros (divisor kernel^2).
template <typename T> void avg_pool2d(const PoolGeometry& g, const T* x, T* y, cudaStream_t s);
// Adjoint of avg_pool2d: one thread per input element gathers the windows covering it (no atomics).
template <typename T> void avg_pool2d_backward(const PoolGeometry& g, const T* gy, T* gx, cudaStream_t s);

}  // namespace fewshot::cuda
