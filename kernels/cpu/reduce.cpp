#include "kernels/cpu/reduce.h"

#include <cmath>
#include <vector>

#include "kernels/cpu/parallel.h"

namespace fewshot::cpu {

template <typename T> void sum_dim(const T* x, T* out, int64_t outer, int64_t R, int64_t inner) {
  if (inner == 1) {
    parallel_for(outer, R, [&](int64_t o) {
      const T* row = x + o * R;
      double acc = 0;
#pragma omp simd reduction(+ : acc)
      for (int64_t r = 0; r < R; ++r) acc += row[r];
      out[o] = static_cast<T>(acc);
    });
    return;
  }
  // Sum rows of an (R, inner) block: stream along inner so the loads vectorize.
  parallel_for(outer, R * inner, [&](int64_t o) {
    std::vector<double> acc(inner, 0.0);
    const T* base = x + o * R * inner;
    for (int64_t r = 0; r < R; ++r) {
      const T* row = base + r * inner;
#pragma omp simd
      for (int64_t i = 0; i < inner; ++i) acc[i] += row[i];
    }
    for (int64_t i = 0; i < inner; ++i) out[o * inner + i] = static_cast<T>(acc[i]);
  });
}

template <typename T> void max_dim(const T* x, T* values, int64_t* indices, int64_t outer, int64_t R, int64_t inner) {
  parallel_for(outer * inner, R, [&](int64_t k) {
    int64_t o = k / inner, i = k % inner;
    const T* p = x + o * R * inner + i;
    T best = p[0];
    int64_t arg = 0;
    for (int64_t r = 1; r < R; ++r) {
      T v = p[r * inner];
      if (std::isnan(best)) break;
      if (v > best || std::isnan(v)) {
        best = v;
        arg = r;
      }
    }
    values[k] = best;
    indices[k] = arg;
  });
}

template <typename T> int64_t count_nonfinite(const T* x, int64_t n) {
  int64_t bad = 0;
#pragma omp parallel for reduction(+ : bad) if (n > kParallelGrain && !omp_in_parallel())
  for (int64_t i = 0; i < n; ++i) bad += std::isfinite(x[i]) ? 0 : 1;
  return bad;
}

template void sum_dim<float>(const float*, float*, int64_t, int64_t, int64_t);
template void sum_dim<double>(const double*, double*, int64_t, int64_t, int64_t);
template void max_dim<float>(const float*, float*, int64_t*, int64_t, int64_t, int64_t);
template void max_dim<double>(const double*, double*, int64_t*, int64_t, int64_t, int64_t);
template int64_t count_nonfinite<float>(const float*, int64_t);
template int64_t count_nonfinite<double>(const double*, int64_t);

}  // namespace fewshot::cpu
