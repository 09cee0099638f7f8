#pragma once
// OpenMP helpers for the CPU kernels. Small loops run serially: forking a team costs ~1-2 us,
// more than a few thousand flops.
#include <cstdint>

#include <omp.h>

namespace fewshot::cpu {

constexpr int64_t kParallelGrain = 1 << 15;  // elements of work below which a loop stays serial

// for (i in [0, n)) body(i), parallel when n * cost_per_item is large enough and we are not
// already inside a parallel region.
template <typename F>
void parallel_for(int64_t n, int64_t cost_per_item, F&& body) {
  bool par = n > 1 && n * cost_per_item >= kParallelGrain && !omp_in_parallel() && omp_get_max_threads() > 1;
#pragma omp parallel for schedule(static) if (par)
  for (int64_t i = 0; i < n; ++i) body(i);
}

}  // namespace fewshot::cpu
