#pragma once
// Indexing kernels. Every index is bounds-checked: an out-of-range index throws
// std::out_of_range naming the kernel, the index and the bound (never a stray write).
#include <cstdint>

namespace fewshot::cpu {

// Along the middle dim of (outer, L, inner); idx/out are (outer, M, inner).
template <typename T> void gather_dim(const T* src, const int64_t* idx, T* out, int64_t outer, int64_t L, int64_t M, int64_t inner);
// out (outer, L, inner) is zeroed, then out[o, idx[o,m,i], i] += src[o, m, i] in increasing m.
template <typename T> void scatter_add_dim(const T* src, const int64_t* idx, T* out, int64_t outer, int64_t L, int64_t M, int64_t inner);
// x (outer, D, inner) -> out (outer, n, inner)
template <typename T> void index_select(const T* x, const int64_t* idx, T* out, int64_t outer, int64_t D, int64_t inner, int64_t n);
// out (outer, D, inner) zeroed, then out[o, idx[i], :] += src[o, i, :] in increasing i.
template <typename T> void index_add(const T* src, const int64_t* idx, T* out, int64_t outer, int64_t D, int64_t inner, int64_t n);
template <typename T> void one_hot(const int64_t* targets, T* out, int64_t rows, int64_t C);

}  // namespace fewshot::cpu
