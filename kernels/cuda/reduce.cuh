#pragma once
// Reductions over the middle dim of a contiguous (outer, R, inner) view. Deterministic: each
// output is summed in a fixed order by one thread or one block with a fixed tree (no atomics on
// floats), so repeated runs are bit-identical. Floats accumulate in double, as on the CPU.
#include <cstdint>

#include <cuda_runtime.h>

namespace fewshot::cuda {

// Bytes of device scratch sum_dim needs for this shape (0 for most shapes); the caller passes a
// buffer of at least that size (from the caching allocator, so no cudaMalloc per call).
int64_t sum_dim_workspace_bytes(int64_t outer, int64_t R, int64_t inner);
template <typename T>
void sum_dim(const T* x, T* out, int64_t outer, int64_t R, int64_t inner, void* workspace, cudaStream_t s);
// First maximum wins; a NaN is taken as the maximum (first NaN wins). Writes values and indices.
template <typename T>
void max_dim(const T* x, T* values, int64_t* indices, int64_t outer, int64_t R, int64_t inner, cudaStream_t s);
// Counts into *count_device (an int64 on the device, overwritten); the caller copies it back.
template <typename T> void count_nonfinite(const T* x, int64_t n, unsigned long long* count_device, cudaStream_t s);

}  // namespace fewshot::cuda
