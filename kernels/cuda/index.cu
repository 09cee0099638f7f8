#include "kernels/cuda/index.cuh"

#include "kernels/cuda/common.cuh"

namespace fewshot::cuda {

namespace {

__global__ void find_bad_index_kernel(const int64_t* __restrict__ idx, int64_t n, int64_t bound,
                                      unsigned long long* __restrict__ bad) {
  FEWSHOT_CUDA_LOOP(i, n) {
    int64_t v = idx[i];
    if (v < 0 || v >= bound) atomicMin(bad, static_cast<unsigned long long>(i));  // integer: exact
  }
}

template <typename T>
__global__ void gather_kernel(const T* __restrict__ src, const int64_t* __restrict__ idx, T* __restrict__ out,
                              int64_t outer, int64_t L, int64_t M, int64_t inner) {
  FEWSHOT_CUDA_LOOP(k, outer * M * inner) {
    int64_t o = k / (M * inner), i = k % inner, l = idx[k];
    out[k] = l >= 0 && l < L ? src[(o * L + l) * inner + i] : T(0);
  }
}

// Thread (o, i) owns output column out[o, :, i]: every source of that column has the same (o, i).
template <typename T>
__global__ void scatter_add_kernel(const T* __restrict__ src, const int64_t* __restrict__ idx, T* __restrict__ out,
                                   int64_t outer, int64_t L, int64_t M, int64_t inner) {
  FEWSHOT_CUDA_LOOP(t, outer * inner) {
    int64_t o = t / inner, i = t % inner;
    for (int64_t m = 0; m < M; ++m) {
      int64_t k = (o * M + m) * inner + i, l = idx[k];
      if (l >= 0 && l < L) out[(o * L + l) * inner + i] += src[k];
    }
  }
}

template <typename T>
__global__ void index_select_kernel(const T* __restrict__ x, const int64_t* __restrict__ idx, T* __restrict__ out,
                                    int64_t outer, int64_t D, int64_t inner, int64_t n) {
  FEWSHOT_CUDA_LOOP(t, outer * n * inner) {
    int64_t k = t % inner, j = (t / inner) % n, o = t / (inner * n), d = idx[j];
    out[t] = d >= 0 && d < D ? x[(o * D + d) * inner + k] : T(0);
  }
}

// Thread (o, k) owns column out[o, :, k].
template <typename T>
__global__ void index_add_kernel(const T* __restrict__ src, const int64_t* __restrict__ idx, T* __restrict__ out,
                                 int64_t outer, int64_t D, int64_t inner, int64_t n) {
  FEWSHOT_CUDA_LOOP(t, outer * inner) {
    int64_t o = t / inner, k = t % inner;
    for (int64_t i = 0; i < n; ++i) {
      int64_t d = idx[i];
      if (d >= 0 && d < D) out[(o * D + d) * inner + k] += src[(o * n + i) * inner + k];
    }
  }
}

template <typename T>
__global__ void one_hot_kernel(const int64_t* __restrict__ targets, T* __restrict__ out, int64_t rows, int64_t C) {
  FEWSHOT_CUDA_LOOP(r, rows) {
    int64_t t = targets[r];
    if (t >= 0 && t < C) out[r * C + t] = T(1);
  }
}

}  // namespace

void find_bad_index(const int64_t* idx, int64_t n, int64_t bound, unsigned long long* bad, cudaStream_t s) {
  FEWSHOT_CUDA_CHECK("index check", cudaMemsetAsync(bad, 0xff, sizeof(unsigned long long), s));
  if (n <= 0) return;
  launch("index check", find_bad_index_kernel, grid_for(n), kBlock, 0, s, idx, n, bound, bad);
}

template <typename T>
void gather_dim(const T* src, const int64_t* idx, T* out, int64_t outer, int64_t L, int64_t M, int64_t inner,
                cudaStream_t s) {
  int64_t n = outer * M * inner;
  if (n <= 0) return;
  launch("gather", gather_kernel<T>, grid_for(n), kBlock, 0, s, src, idx, out, outer, L, M, inner);
}

template <typename T>
void scatter_add_dim(const T* src, const int64_t* idx, T* out, int64_t outer, int64_t L, int64_t M, int64_t inner,
                     cudaStream_t s) {
  if (outer * L * inner <= 0) return;
  FEWSHOT_CUDA_CHECK("scatter_add", cudaMemsetAsync(out, 0, sizeof(T) * outer * L * inner, s));
  launch("scatter_add", scatter_add_kernel<T>, grid_for(outer * inner), kBlock, 0, s, src, idx, out, outer, L, M,
         inner);
}

template <typename T>
void index_select(const T* x, const int64_t* idx, T* out, int64_t outer, int64_t D, int64_t inner, int64_t n,
                  cudaStream_t s) {
  int64_t total = outer * n * inner;
  if (total <= 0) return;
  launch("index_select", index_select_kernel<T>, grid_for(total), kBlock, 0, s, x, idx, out, outer, D, inner, n);
}

template <typename T>
void index_add(const T* src, const int64_t* idx, T* out, int64_t outer, int64_t D, int64_t inner, int64_t n,
               cudaStream_t s) {
  if (outer * D * inner <= 0) return;
  FEWSHOT_CUDA_CHECK("index_add", cudaMemsetAsync(out, 0, sizeof(T) * outer * D * inner, s));
  launch("index_add", index_add_kernel<T>, grid_for(outer * inner), kBlock, 0, s, src, idx, out, outer, D, inner, n);
}

template <typename T> void one_hot(const int64_t* targets, T* out, int64_t rows, int64_t C, cudaStream_t s) {
  if (rows * C <= 0) return;
  FEWSHOT_CUDA_CHECK("one_hot", cudaMemsetAsync(out, 0, sizeof(T) * rows * C, s));
  launch("one_hot", one_hot_kernel<T>, grid_for(rows), kBlock, 0, s, targets, out, rows, C);
}

#define FEWSHOT_CUDA_INDEX(T)                                                                                    \
  template void gather_dim<T>(const T*, const int64_t*, T*, int64_t, int64_t, int64_t, int64_t, cudaStream_t);   \
  template void scatter_add_dim<T>(const T*, const int64_t*, T*, int64_t, int64_t, int64_t, int64_t,             \
                                   cudaStream_t);                                                                \
  template void index_select<T>(const T*, const int64_t*, T*, int64_t, int64_t, int64_t, int64_t, cudaStream_t); \
  template void index_add<T>(const T*, const int64_t*, T*, int64_t, int64_t, int64_t, int64_t, cudaStream_t);    \
  template void one_hot<T>(const int64_t*, T*, int64_t, int64_t, cudaStream_t);
FEWSHOT_CUDA_INDEX(float)
FEWSHOT_CUDA_INDEX(double)
template void index_select<int64_t>(const int64_t*, const int64_t*, int64_t*, int64_t, int64_t, int64_t, int64_t,
                                    cudaStream_t);

}  // namespace fewshot::cuda
