#include "kernels/cuda/reduce.cuh"

#include "kernels/cuda/common.cuh"

namespace fewshot::cuda {

namespace {

constexpr int kReduceBlock = 256;

// inner == 1: one block per row of R contiguous values; thread t sums r = t, t + 256, ... in
// order, then the fixed tree adds the 256 partials.
template <typename T> __global__ void sum_rows_kernel(const T* __restrict__ x, T* __restrict__ out, int64_t outer, int64_t R) {
  __shared__ double partial[kReduceBlock];
  for (int64_t o = blockIdx.x; o < outer; o += gridDim.x) {
    const T* row = x + o * R;
    double acc = 0;
    for (int64_t r = threadIdx.x; r < R; r += blockDim.x) acc += static_cast<double>(row[r]);
    double total = block_sum(acc, partial);
    if (threadIdx.x == 0) out[o] = static_cast<T>(total);
  }
}

// inner > 1: one thread per output (o, i), walking r in order; neighbouring threads read
// neighbouring i, so the loads coalesce.
template <typename T>
__global__ void sum_strided_kernel(const T* __restrict__ x, T* __restrict__ out, int64_t outer, int64_t R, int64_t inner) {
  FEWSHOT_CUDA_LOOP(k, outer * inner) {
    int64_t o = k / inner, i = k % inner;
    const T* p = x + o * R * inner + i;
    double acc = 0;
    for (int64_t r = 0; r < R; ++r) acc += static_cast<double>(p[r * inner]);
    out[k] = static_cast<T>(acc);
  }
}

// Few outputs but long columns (e.g. a bias gradient summed over a big batch): split R into
// `chunks` pieces, each summed in order by one thread, then add the chunk sums in chunk order.
template <typename T>
__global__ void sum_chunks_kernel(const T* __restrict__ x, double* __restrict__ partial, int64_t outer, int64_t R,
                                  int64_t inner, int64_t chunks, int64_t chunk_len) {
  FEWSHOT_CUDA_LOOP(t, outer * inner * chunks) {
    int64_t c = t % chunks, k = t / chunks;
    int64_t o = k / inner, i = k % inner;
    const T* p = x + o * R * inner + i;
    int64_t r0 = c * chunk_len, r1 = r0 + chunk_len < R ? r0 + chunk_len : R;
    double acc = 0;
    for (int64_t r = r0; r < r1; ++r) acc += static_cast<double>(p[r * inner]);
    partial[t] = acc;
  }
}

template <typename T>
__global__ void sum_chunks_finish_kernel(const double* __restrict__ partial, T* __restrict__ out, int64_t n, int64_t chunks) {
  FEWSHOT_CUDA_LOOP(k, n) {
    double acc = 0;
    for (int64_t c = 0; c < chunks; ++c) acc += partial[k * chunks + c];
    out[k] = static_cast<T>(acc);
  }
}

template <typename T>
__global__ void max_dim_kernel(const T* __restrict__ x, T* __restrict__ values, int64_t* __restrict__ indices,
                               int64_t outer, int64_t R, int64_t inner) {
  FEWSHOT_CUDA_LOOP(k, outer * inner) {
    int64_t o = k / inner, i = k % inner;
    const T* p = x + o * R * inner + i;
    T best = p[0];
    int64_t arg = 0;
    for (int64_t r = 1; r < R; ++r) {
      T v = p[r * inner];
      if (isnan(best)) break;
      if (v > best || isnan(v)) {
        best = v;
        arg = r;
      }
    }
    values[k] = best;
    indices[k] = arg;
  }
}

// Integer counts: atomics on integers are exact, so the total is deterministic.
template <typename T>
__global__ void count_nonfinite_kernel(const T* __restrict__ x, int64_t n, unsigned long long* __restrict__ count) {
  __shared__ unsigned long long partial[kReduceBlock];
  unsigned long long bad = 0;
  FEWSHOT_CUDA_LOOP(i, n) { bad += isfinite(x[i]) ? 0 : 1; }
  unsigned long long total = block_sum(bad, partial);
  if (threadIdx.x == 0 && total) atomicAdd(count, total);
}

}  // namespace

namespace {
// The chunking depends only on the shape, so results are bit-identical run to run.
int64_t sum_chunks(int64_t outer, int64_t R, int64_t inner) {
  int64_t outputs = outer * inner;
  if (inner == 1 || outputs >= 16384 || R <= 256) return 1;
  int64_t chunks = (16384 + outputs - 1) / outputs;
  if (chunks > (R + 63) / 64) chunks = (R + 63) / 64;
  return chunks;
}
}  // namespace

int64_t sum_dim_workspace_bytes(int64_t outer, int64_t R, int64_t inner) {
  int64_t chunks = sum_chunks(outer, R, inner);
  return chunks > 1 ? static_cast<int64_t>(sizeof(double)) * outer * inner * chunks : 0;
}

template <typename T>
void sum_dim(const T* x, T* out, int64_t outer, int64_t R, int64_t inner, void* workspace, cudaStream_t s) {
  if (outer <= 0 || inner <= 0) return;
  if (inner == 1) {
    launch("sum_dim", sum_rows_kernel<T>, static_cast<unsigned>(outer < 65535 * 4 ? outer : 65535 * 4), kReduceBlock,
           0, s, x, out, outer, R);
    return;
  }
  int64_t outputs = outer * inner, chunks = sum_chunks(outer, R, inner);
  if (chunks == 1) {
    launch("sum_dim", sum_strided_kernel<T>, grid_for(outputs), kBlock, 0, s, x, out, outer, R, inner);
    return;
  }
  int64_t chunk_len = (R + chunks - 1) / chunks;
  double* partial = static_cast<double*>(workspace);
  launch("sum_dim (chunks)", sum_chunks_kernel<T>, grid_for(outputs * chunks), kBlock, 0, s, x, partial, outer, R,
         inner, chunks, chunk_len);
  launch("sum_dim (finish)", sum_chunks_finish_kernel<T>, grid_for(outputs), kBlock, 0, s, partial, out, outputs,
         chunks);
}

template <typename T>
void max_dim(const T* x, T* values, int64_t* indices, int64_t outer, int64_t R, int64_t inner, cudaStream_t s) {
  if (outer <= 0 || inner <= 0 || R <= 0) return;
  launch("max_dim", max_dim_kernel<T>, grid_for(outer * inner), kBlock, 0, s, x, values, indices, outer, R, inner);
}

template <typename T> void count_nonfinite(const T* x, int64_t n, unsigned long long* count, cudaStream_t s) {
  FEWSHOT_CUDA_CHECK("count_nonfinite", cudaMemsetAsync(count, 0, sizeof(unsigned long long), s));
  if (n <= 0) return;
  unsigned g = grid_for(n, kReduceBlock);
  if (g > 1024) g = 1024;
  launch("count_nonfinite", count_nonfinite_kernel<T>, g, kReduceBlock, 0, s, x, n, count);
}

template void sum_dim<float>(const float*, float*, int64_t, int64_t, int64_t, void*, cudaStream_t);
template void sum_dim<double>(const double*, double*, int64_t, int64_t, int64_t, void*, cudaStream_t);
template void max_dim<float>(const float*, float*, int64_t*, int64_t, int64_t, int64_t, cudaStream_t);
template void max_dim<double>(const double*, double*, int64_t*, int64_t, int64_t, int64_t, cudaStream_t);
template void count_nonfinite<float>(const float*, int64_t, unsigned long long*, cudaStream_t);
template void count_nonfinite<double>(const double*, int64_t, unsigned long long*, cudaStream_t);

}  // namespace fewshot::cuda
