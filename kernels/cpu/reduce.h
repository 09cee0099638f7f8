#pragma once
// Reductions over the middle dim of a contiguous (outer, R, inner) view. Each output is summed
// in a fixed order (deterministic run to run), accumulating in double for float inputs.
#include <cstdint>

namespace fewshot::cpu {

template <typename T> void sum_dim(const T* x, T* out, int64_t outer, int64_t R, int64_t inner);
// First maximum wins; NaN propagates (a NaN is taken as the maximum).
template <typename T> void max_dim(const T* x, T* values, int64_t* indices, int64_t outer, int64_t R, int64_t inner);
template <typename T> int64_t count_nonfinite(const T* x, int64_t n);

}  // namespace fewshot::cpu
