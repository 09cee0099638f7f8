// Our tiled SGEMM (kernels/cuda/gemm.cu) against cublasSgemm, fp32 with CUBLAS_DEFAULT_MATH and
// TF32 not enabled (no tensor cores on either side), square row-major C = A B at 1024 and 4096.
// Prints a table and "RESULT" lines that scripts/gpu-check.sh collects. Exit 1 on a mismatch.
#include <cstdio>
#include <cstring>

#include <cublas_v2.h>

#include "bench/cuda_bench_common.cuh"
#include "kernels/cuda/gemm.cuh"
#include "kernels/cuda/gemm_tiled.cuh"

#define CUBLAS_CHECK(expr)                                                              \
  do {                                                                                  \
    cublasStatus_t st_ = (expr);                                                        \
    if (st_ != CUBLAS_STATUS_SUCCESS) {                                                 \
      std::fprintf(stderr, "%s:%d: %s: cuBLAS status %d\n", __FILE__, __LINE__, #expr, (int)st_); \
      std::exit(1);                                                                     \
    }                                                                                   \
  } while (0)

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  bench::print_device();
  cudaStream_t s;
  BENCH_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  cublasHandle_t handle;
  CUBLAS_CHECK(cublasCreate(&handle));
  CUBLAS_CHECK(cublasSetStream(handle, s));
  CUBLAS_CHECK(cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH));  // fp32 FMA, no TF32 tensor cores
  bench::L2Flush flush;
  bool ok = true;
  std::printf("\n| SGEMM M=N=K | ours ms | ours TFLOP/s | cuBLAS ms | cuBLAS TFLOP/s | ours / cuBLAS speed |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (int n : {1024, 4096}) {
    size_t nn = size_t(n) * n;
    float* A = bench::device_random(nn, 1);
    float* B = bench::device_random(nn, 2);
    float* C = bench::device_zeros(nn);
    float* R = bench::device_zeros(nn);
    const float one = 1, zero = 0;
    auto ours = [&](cudaStream_t st) {
      fewshot::cuda::gemm_batched<float>(1, false, false, n, n, n, 1.f, A, n, 0, B, n, 0, 0.f, C, n, 0, st);
    };
    // The same kernel compiled for 1 block per SM (no register cap, no spills; bench/README.md),
    // called as gemm_batched does.
    auto ours_1 = [&](cudaStream_t st) {
      using namespace fewshot::cuda::gemm_detail;
      DenseOperand<float> a{A, n, 0, true, true}, b{B, n, 0, false, true};
      run<float, 1>("gemm (1 block/SM)", n, n, n, 1, 1, n, a, b, DenseWriter<float>{C, n, 0, 1.f, 0.f}, st);
    };
    // Row-major C = A B is column-major C^T = B^T A^T: swap the operands.
    auto ref = [&](cudaStream_t) {
      CUBLAS_CHECK(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, B, n, A, n, &zero, R, n));
    };
    ref(s);
    BENCH_CHECK(cudaStreamSynchronize(s));
    const int reps = quick ? 3 : (n >= 4096 ? 10 : 30);
    const double t_ref = bench::time_ms(ref, reps, s, flush), flops = 2.0 * n * double(n) * n;
    // One variant of ours: checked against cuBLAS first, then timed; a table row and a RESULT line.
    auto variant = [&](const char* label, const char* tag, auto&& fn) {
      BENCH_CHECK(cudaMemsetAsync(C, 0, nn * sizeof(float), s));
      fn(s);
      BENCH_CHECK(cudaStreamSynchronize(s));
      char what[64];
      std::snprintf(what, sizeof what, "sgemm %d%s", n, label);
      if (!bench::validate(what, C, R, nn)) return false;
      double t = bench::time_ms(fn, reps, s, flush);
      std::printf("| %d%s | %.3f | %.2f | %.3f | %.2f | %.2f |\n", n, label, t, flops / t / 1e9, t_ref,
                  flops / t_ref / 1e9, t_ref / t);
      std::printf("RESULT sgemm_%d%s ours_ms=%.4f ref_ms=%.4f ratio=%.3f\n", n, tag, t, t_ref, t_ref / t);
      return true;
    };
    ok &= variant("", "", ours);
    ok &= variant(" (ours at 1 block/SM)", "_1block", ours_1);
    // The pipelined main loop (double-buffered shared tiles, kernels/cuda/gemm.cuh).
    fewshot::cuda::set_gemm_pipelining(true);
    ok &= variant(" (ours, pipelined)", "_pipelined", ours);
    fewshot::cuda::set_gemm_pipelining(false);
    cudaFree(A), cudaFree(B), cudaFree(C), cudaFree(R);
  }
  cublasDestroy(handle);
  cudaStreamDestroy(s);
  return ok ? 0 : 1;
}
