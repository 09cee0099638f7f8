#include "kernels/cpu/index.h"

#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/cpu/parallel.h"

namespace fewshot::cpu {

namespace {

void check_indices(const char* kernel, const int64_t* idx, int64_t n, int64_t bound) {
  for (int64_t i = 0; i < n; ++i)
    if (idx[i] < 0 || idx[i] >= bound)
      throw std::out_of_range(std::string(kernel) + ": index " + std::to_string(idx[i]) + " at position " +
                              std::to_string(i) + " is out of range [0, " + std::to_string(bound) + ")");
}

}  // namespace

template <typename T>
void gather_dim(const T* src, const int64_t* idx, T* out, int64_t outer, int64_t L, int64_t M, int64_t inner) {
  check_indices("gather", idx, outer * M * inner, L);
  parallel_for(outer * M, inner, [&](int64_t om) {
    int64_t o = om / M;
    for (int64_t i = 0; i < inner; ++i) out[om * inner + i] = src[(o * L + idx[om * inner + i]) * inner + i];
  });
}

template <typename T>
void scatter_add_dim(const T* src, const int64_t* idx, T* out, int64_t outer, int64_t L, int64_t M, int64_t inner) {
  check_indices("scatter_add", idx, outer * M * inner, L);
  std::memset(out, 0, sizeof(T) * outer * L * inner);
  // Parallel over outer only: each o owns its output slab, and m runs in order (deterministic).
  parallel_for(outer, M * inner, [&](int64_t o) {
    for (int64_t m = 0; m < M; ++m)
      for (int64_t i = 0; i < inner; ++i) {
        int64_t k = (o * M + m) * inner + i;
        out[(o * L + idx[k]) * inner + i] += src[k];
      }
  });
}

template <typename T>
void index_select(const T* x, const int64_t* idx, T* out, int64_t outer, int64_t D, int64_t inner, int64_t n) {
  check_indices("index_select", idx, n, D);
  parallel_for(outer * n, inner, [&](int64_t on) {
    int64_t o = on / n, i = on % n;
    std::memcpy(out + on * inner, x + (o * D + idx[i]) * inner, sizeof(T) * inner);
  });
}

template <typename T>
void index_add(const T* src, const int64_t* idx, T* out, int64_t outer, int64_t D, int64_t inner, int64_t n) {
  check_indices("index_add", idx, n, D);
  std::memset(out, 0, sizeof(T) * outer * D * inner);
  parallel_for(outer, n * inner, [&](int64_t o) {
    for (int64_t i = 0; i < n; ++i) {
      T* dst = out + (o * D + idx[i]) * inner;
      const T* s = src + (o * n + i) * inner;
      for (int64_t k = 0; k < inner; ++k) dst[k] += s[k];
    }
  });
}

template <typename T> void one_hot(const int64_t* targets, T* out, int64_t rows, int64_t C) {
  check_indices("one_hot", targets, rows, C);
  std::memset(out, 0, sizeof(T) * rows * C);
  for (int64_t r = 0; r < rows; ++r) out[r * C + targets[r]] = T(1);
}

#define FEWSHOT_INDEX_KERNELS(T)                                                                                   \
  template void gather_dim<T>(const T*, const int64_t*, T*, int64_t, int64_t, int64_t, int64_t);                   \
  template void scatter_add_dim<T>(const T*, const int64_t*, T*, int64_t, int64_t, int64_t, int64_t);              \
  template void index_select<T>(const T*, const int64_t*, T*, int64_t, int64_t, int64_t, int64_t);                 \
  template void index_add<T>(const T*, const int64_t*, T*, int64_t, int64_t, int64_t, int64_t);                    \
  template void one_hot<T>(const int64_t*, T*, int64_t, int64_t);
FEWSHOT_INDEX_KERNELS(float)
FEWSHOT_INDEX_KERNELS(double)
template void index_select<int64_t>(const int64_t*, const int64_t*, int64_t*, int64_t, int64_t, int64_t, int64_t);

}  // namespace fewshot::cpu
