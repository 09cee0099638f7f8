#pragma once
// Indexing kernels. Deterministic: the accumulating ones give each output column to one thread,
// which adds its sources in increasing order (no atomics). Indices are validated first by
// find_bad_index (the backend copies the result back and throws ValueError naming the op, the
// index and the bound before any write); the kernels also skip out-of-range indices, so a bad
// index can never write out of bounds.
#include <cstdint>

#include <cuda_runtime.h>

namespace fewshot::cuda {

constexpr unsigned long long kNoBadIndex = ~0ull;
// *bad = smallest position i with idx[i] outside [0, bound), or kNoBadIndex.
void find_bad_index(const int64_t* idx, int64_t n, int64_t bound, unsigned long long* bad, cudaStream_t s);

// Along the middle dim of (outer, L, inner); idx/out are (outer, M, inner). Writes out.
template <typename T>
void gather_dim(const T* src, const int64_t* idx, T* out, int64_t outer, int64_t L, int64_t M, int64_t inner,
                cudaStream_t s);
// out (outer, L, inner) = 0, then out[o, idx[o,m,i], i] += src[o, m, i] in increasing m.
template <typename T>
void scatter_add_dim(const T* src, const int64_t* idx, T* out, int64_t outer, int64_t L, int64_t M, int64_t inner,
                     cudaStream_t s);
// x (outer, D, inner) -> out (outer, n, inner). Writes out.
template <typename T>
void index_select(const T* x, const int64_t* idx, T* out, int64_t outer, int64_t D, int64_t inner, int64_t n,
                  cudaStream_t s);
// out (outer, D, inner) = 0, then out[o, idx[i], :] += src[o, i, :] in increasing i.
template <typename T>
void index_add(const T* src, const int64_t* idx, T* out, int64_t outer, int64_t D, int64_t inner, int64_t n,
               cudaStream_t s);
// out (rows, C) = one-hot rows of targets. Writes out.
template <typename T> void one_hot(const int64_t* targets, T* out, int64_t rows, int64_t C, cudaStream_t s);

}  // namespace fewshot::cuda
