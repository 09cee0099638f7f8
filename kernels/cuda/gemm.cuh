#pragma once
// Batched GEMM: C[b] = alpha op(A[b]) op(B[b]) + beta C[b], row-major, op(X) = X^T when its flag
// is set; op(A) is M x K, op(B) is K x N; lda/ldb/ldc are row strides of the stored matrices and
// stride_* element strides between batch entries (0 broadcasts one matrix). beta == 0: C is not
// read. Any M, N, K; float4 loads are used where pointers and strides allow.
#include <cstdint>

#include <cuda_runtime.h>

namespace fewshot::cuda {

template <typename T>
void gemm_batched(int64_t batch, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                  int64_t lda, int64_t stride_a, const T* B, int64_t ldb, int64_t stride_b, T beta, T* C, int64_t ldc,
                  int64_t stride_c, cudaStream_t s);

// Which main loop the tiled GEMM core (dense GEMM and the three convolutions) uses: false (the
// default) stages each BK slice, then multiplies, two barriers per slice; true double-buffers the
// shared tiles and fetches the next slice while multiplying, one barrier per slice. Both are
// tested for parity; which is faster is measured by bench_cuda_gemm / bench_cuda_conv on a GPU.
// Initial value from FEWSHOT_CUDA_GEMM_PIPELINE (on when set and not "0"); set_gemm_pipelining
// affects launches from then on, in every thread.
bool gemm_pipelining();
void set_gemm_pipelining(bool on);

}  // namespace fewshot::cuda
