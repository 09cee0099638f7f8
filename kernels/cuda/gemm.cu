// Dense batched GEMM on the shared tiled core (gemm_tiled.cuh). Writes C (or blends with beta).
#include "kernels/cuda/gemm.cuh"

#include <atomic>

#include "kernels/cuda/gemm_tiled.cuh"

namespace fewshot::cuda {

namespace {

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

std::atomic<bool>& pipelining_flag() {
  static std::atomic<bool> on{env_flag("FEWSHOT_CUDA_GEMM_PIPELINE")};
  return on;
}

}  // namespace

bool gemm_pipelining() { return pipelining_flag().load(std::memory_order_relaxed); }
void set_gemm_pipelining(bool on) { pipelining_flag().store(on, std::memory_order_relaxed); }

template <typename T>
void gemm_batched(int64_t batch, bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                  int64_t sa, const T* B, int64_t ldb, int64_t sb, T beta, T* C, int64_t ldc, int64_t sc,
                  cudaStream_t s) {
  using namespace gemm_detail;
  // A as (M x K): stored M x K (contiguous along k) unless transposed.
  DenseOperand<T> a{A, lda, sa, !ta, aligned16(A) && lda % 4 == 0 && sa % 4 == 0};
  // B seen transposed, as (N x K): stored K x N is contiguous along n (= rows), stored N x K along k.
  DenseOperand<T> b{B, ldb, sb, tb, aligned16(B) && ldb % 4 == 0 && sb % 4 == 0};
  DenseWriter<T> w{C, ldc, sc, alpha, beta};
  int64_t k_chunk = (K + kBK - 1) / kBK * kBK;
  run<T>("gemm", M, N, K, batch, 1, k_chunk > 0 ? k_chunk : kBK, a, b, w, s);
}

template void gemm_batched<float>(int64_t, bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                                  int64_t, const float*, int64_t, int64_t, float, float*, int64_t, int64_t,
                                  cudaStream_t);
template void gemm_batched<double>(int64_t, bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                                   int64_t, const double*, int64_t, int64_t, double, double*, int64_t, int64_t,
                                   cudaStream_t);

}  // namespace fewshot::cuda
