// Dense matrix multiply for the CPU backend: raw pointers, row-major, float and double.
// The engine's matmul, linear layers and im2col convolution all land here.
#pragma once

#include <cstdint>

namespace fewshot::cpu {

// C = alpha * op(A) * op(B) + beta * C, row-major, op(X) = X^T when its trans flag is set.
// op(A) is (M, K), op(B) is (K, N), C is (M, N). lda/ldb/ldc are the row strides of the matrices
// as stored (so A stored is (M, K) with lda >= K, or (K, M) with lda >= M when trans_a).
// beta == 0 means C is not read (it may hold NaN); WRITES C, or accumulates when beta == 1.
// Multi-threaded with OpenMP (omp_get_max_threads()); runs single-threaded when called from
// inside an active parallel region, so callers may parallelise over independent problems.
template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

// The same for b in [0, batch): A + b*stride_a, B + b*stride_b, C + b*stride_c (element strides).
// stride_a or stride_b == 0 broadcasts one matrix to every batch entry. stride_c == 0 with
// batch > 1 is allowed and runs the products one after another in batch order (so beta == 1
// sums them into C).
template <typename T>
void gemm_batched(int64_t batch, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                  T alpha, const T* A, int64_t lda, int64_t stride_a, const T* B, int64_t ldb,
                  int64_t stride_b, T beta, T* C, int64_t ldc, int64_t stride_c);

extern template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*,
                                 int64_t, const float*, int64_t, float, float*, int64_t);
extern template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*,
                                  int64_t, const double*, int64_t, double, double*, int64_t);
extern template void gemm_batched<float>(int64_t, bool, bool, int64_t, int64_t, int64_t, float,
                                         const float*, int64_t, int64_t, const float*, int64_t,
                                         int64_t, float, float*, int64_t, int64_t);
extern template void gemm_batched<double>(int64_t, bool, bool, int64_t, int64_t, int64_t, double,
                                          const double*, int64_t, int64_t, const double*, int64_t,
                                          int64_t, double, double*, int64_t, int64_t);

}  // namespace fewshot::cpu
