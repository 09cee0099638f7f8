#pragma once
// GEMM: C = alpha * op(A) * op(B) + beta * C, row-major; op(X) = X^T when its flag is set.
// op(A) is M x K, op(B) is K x N; lda/ldb/ldc are row strides of the stored matrices.
// beta == 0 means C is not read.
#include <cstdint>

namespace fewshot::cpu {

template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc);

// The same for b in [0, batch), with element strides between matrices (0 broadcasts one matrix).
template <typename T>
void gemm_batched(int64_t batch, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                  int64_t lda, int64_t stride_a, const T* B, int64_t ldb, int64_t stride_b, T beta, T* C, int64_t ldc,
                  int64_t stride_c);

}  // namespace fewshot::cpu
