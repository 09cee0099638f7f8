// Placeholder GEMM (simple loop order); replaced by the blocked kernel from the kernels branch.
#include "kernels/cpu/gemm.h"

#include <vector>

#include "kernels/cpu/parallel.h"

namespace fewshot::cpu {

template <typename T>
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B, int64_t ldb,
          T beta, T* C, int64_t ldc) {
  parallel_for(M, N * K, [&](int64_t i) {
    std::vector<T> acc(N, T(0));
    for (int64_t k = 0; k < K; ++k) {
      T a = ta ? A[k * lda + i] : A[i * lda + k];
      if (tb)
        for (int64_t j = 0; j < N; ++j) acc[j] += a * B[j * ldb + k];
      else
        for (int64_t j = 0; j < N; ++j) acc[j] += a * B[k * ldb + j];
    }
    for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = alpha * acc[j] + (beta == T(0) ? T(0) : beta * C[i * ldc + j]);
  });
}

template <typename T>
void gemm_batched(int64_t batch, bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                  int64_t sa, const T* B, int64_t ldb, int64_t sb, T beta, T* C, int64_t ldc, int64_t sc) {
  for (int64_t b = 0; b < batch; ++b) gemm(ta, tb, M, N, K, alpha, A + b * sa, lda, B + b * sb, ldb, beta, C + b * sc, ldc);
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                          float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t, const double*,
                           int64_t, double, double*, int64_t);
template void gemm_batched<float>(int64_t, bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, int64_t,
                                  const float*, int64_t, int64_t, float, float*, int64_t, int64_t);
template void gemm_batched<double>(int64_t, bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                                   int64_t, const double*, int64_t, int64_t, double, double*, int64_t, int64_t);

}  // namespace fewshot::cpu
