// Our implicit-GEMM conv2d (kernels/cuda/conv2d.cu) against cuDNN: forward, input gradient
// (BackwardData) and weight gradient (BackwardFilter), fp32 with CUDNN_FMA_MATH (no tensor cores
// on either side), cuDNN's fastest algorithm per op picked by cudnnFind*. Shapes of the few-shot
// conv net's 64 -> 64, 3x3, pad 1 layers: batch 80 and 32 x 80 images, 28x28 and 84x84.
// Prints a table and "RESULT" lines that scripts/gpu-check.sh collects. Exit 1 on a mismatch.
#include <cstdio>
#include <cstring>
#include <string>

#include <cudnn.h>

#include "bench/cuda_bench_common.cuh"
#include "kernels/cuda/conv2d.cuh"
#include "kernels/cuda/gemm.cuh"  // set_gemm_pipelining

#define CUDNN_CHECK(expr)                                                                                    \
  do {                                                                                                       \
    cudnnStatus_t st_ = (expr);                                                                              \
    if (st_ != CUDNN_STATUS_SUCCESS) {                                                                       \
      std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #expr, cudnnGetErrorString(st_));          \
      std::exit(1);                                                                                          \
    }                                                                                                        \
  } while (0)

namespace {

// Fastest successful algorithm on FMA units (CUDNN_FMA_MATH; CUDNN_DEFAULT_MATH may use TF32
// tensor cores on Ampere and later). Sets the descriptor's math type to the one picked.
template <typename Perf> Perf pick(const Perf* perf, int count, cudnnConvolutionDescriptor_t conv, const char* op) {
  for (int i = 0; i < count; ++i)
    if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].mathType == CUDNN_FMA_MATH) {
      CUDNN_CHECK(cudnnSetConvolutionMathType(conv, perf[i].mathType));
      return perf[i];
    }
  for (int i = 0; i < count; ++i)
    if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].mathType != CUDNN_TENSOR_OP_MATH &&
        perf[i].mathType != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) {
      std::printf("  note: no CUDNN_FMA_MATH algorithm for %s, using math type %d\n", op, (int)perf[i].mathType);
      CUDNN_CHECK(cudnnSetConvolutionMathType(conv, perf[i].mathType));
      return perf[i];
    }
  std::fprintf(stderr, "cuDNN found no non-tensor-core algorithm for %s\n", op);
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  bench::print_device();
  cudaStream_t s;
  BENCH_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  cudnnHandle_t h;
  CUDNN_CHECK(cudnnCreate(&h));
  CUDNN_CHECK(cudnnSetStream(h, s));
  bench::L2Flush flush;
  bool ok = true;
  struct Shape {
    int N, HW;
  };
  std::vector<Shape> shapes = {{80, 28}, {80, 84}, {32 * 80, 28}, {32 * 80, 84}};
  if (quick) shapes.resize(2);
  const int C = 64, OC = 64, K = 3;
  std::vector<std::string> rows;
  for (auto [N, HW] : shapes) {
    std::printf("shape N=%d C=%d H=W=%d OC=%d 3x3 pad 1\n", N, C, HW, OC);
    fewshot::cuda::ConvGeometry g{N, C, HW, HW, OC, K, K, 1, 1, 1, 1, 1, HW, HW};
    size_t nx = size_t(N) * C * HW * HW, ny = size_t(N) * OC * HW * HW, nw = size_t(OC) * C * K * K;
    float* x = bench::device_random(nx, 1);
    float* w = bench::device_random(nw, 2);
    float* gy = bench::device_random(ny, 3);
    float* y = bench::device_zeros(ny);
    float* y_ref = bench::device_zeros(ny);
    float* gx = bench::device_zeros(nx);
    float* gx_ref = bench::device_zeros(nx);
    float* gw = bench::device_zeros(nw);
    float* gw_ref = bench::device_zeros(nw);
    void* our_ws = nullptr;
    size_t our_ws_bytes = static_cast<size_t>(fewshot::cuda::conv2d_weight_grad_workspace_bytes(g, sizeof(float)));
    if (our_ws_bytes) BENCH_CHECK(cudaMalloc(&our_ws, our_ws_bytes));

    cudnnTensorDescriptor_t xd, yd;
    cudnnFilterDescriptor_t wd;
    cudnnConvolutionDescriptor_t cd;
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&xd));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&yd));
    CUDNN_CHECK(cudnnCreateFilterDescriptor(&wd));
    CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&cd));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(xd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, N, C, HW, HW));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(yd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, N, OC, HW, HW));
    CUDNN_CHECK(cudnnSetFilter4dDescriptor(wd, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, OC, C, K, K));
    CUDNN_CHECK(cudnnSetConvolution2dDescriptor(cd, 1, 1, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    CUDNN_CHECK(cudnnSetConvolutionMathType(cd, CUDNN_FMA_MATH));

    int n = 0;
    cudnnConvolutionFwdAlgoPerf_t fp[16];
    CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithm(h, xd, wd, cd, yd, 16, &n, fp));
    auto fwd = pick(fp, n, cd, "forward");
    cudnnMathType_t fwd_math = fwd.mathType;
    cudnnConvolutionBwdDataAlgoPerf_t dp[16];
    CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithm(h, wd, yd, cd, xd, 16, &n, dp));
    auto bwd_data = pick(dp, n, cd, "backward data");
    cudnnMathType_t data_math = bwd_data.mathType;
    cudnnConvolutionBwdFilterAlgoPerf_t wp[16];
    CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithm(h, xd, yd, cd, wd, 16, &n, wp));
    auto bwd_filter = pick(wp, n, cd, "backward filter");
    cudnnMathType_t filter_math = bwd_filter.mathType;
    size_t ws_bytes = std::max({fwd.memory, bwd_data.memory, bwd_filter.memory});
    void* ws = nullptr;
    if (ws_bytes) BENCH_CHECK(cudaMalloc(&ws, ws_bytes));
    const float one = 1, zero = 0;

    auto ours_fwd = [&](cudaStream_t st) { fewshot::cuda::conv2d_forward<float>(g, x, w, y, st); };
    auto ours_data = [&](cudaStream_t st) { fewshot::cuda::conv2d_input_grad<float>(g, gy, w, gx, st); };
    auto ours_filter = [&](cudaStream_t st) { fewshot::cuda::conv2d_weight_grad<float>(g, x, gy, gw, our_ws, st); };
    auto ref_fwd = [&](cudaStream_t) {
      CUDNN_CHECK(cudnnSetConvolutionMathType(cd, fwd_math));
      CUDNN_CHECK(cudnnConvolutionForward(h, &one, xd, x, wd, w, cd, fwd.algo, ws, ws_bytes, &zero, yd, y_ref));
    };
    auto ref_data = [&](cudaStream_t) {
      CUDNN_CHECK(cudnnSetConvolutionMathType(cd, data_math));
      CUDNN_CHECK(cudnnConvolutionBackwardData(h, &one, wd, w, yd, gy, cd, bwd_data.algo, ws, ws_bytes, &zero, xd,
                                               gx_ref));
    };
    auto ref_filter = [&](cudaStream_t) {
      CUDNN_CHECK(cudnnSetConvolutionMathType(cd, filter_math));
      CUDNN_CHECK(cudnnConvolutionBackwardFilter(h, &one, xd, x, yd, gy, cd, bwd_filter.algo, ws, ws_bytes, &zero, wd,
                                                 gw_ref));
    };
    ref_fwd(s), ref_data(s), ref_filter(s);
    BENCH_CHECK(cudaStreamSynchronize(s));
    const int reps = quick ? 3 : (N > 80 ? 5 : 20);
    const char* names[3] = {"forward", "input_grad", "weight_grad"};
    const double ref_ms[3] = {bench::time_ms(ref_fwd, reps, s, flush), bench::time_ms(ref_data, reps, s, flush),
                              bench::time_ms(ref_filter, reps, s, flush)};
    const double flops = 2.0 * N * OC * double(C) * K * K * HW * HW;
    // Ours with the GEMM core's current main loop: checked against cuDNN first, then timed; table
    // rows and RESULT lines.
    auto variant = [&](const std::string& label, const char* tag) {
      BENCH_CHECK(cudaMemsetAsync(y, 0, ny * sizeof(float), s));
      BENCH_CHECK(cudaMemsetAsync(gx, 0, nx * sizeof(float), s));
      BENCH_CHECK(cudaMemsetAsync(gw, 0, nw * sizeof(float), s));
      ours_fwd(s), ours_data(s), ours_filter(s);
      BENCH_CHECK(cudaStreamSynchronize(s));
      bool good = bench::validate(("forward" + label).c_str(), y, y_ref, ny) &
                  bench::validate(("input grad" + label).c_str(), gx, gx_ref, nx) &
                  bench::validate(("weight grad" + label).c_str(), gw, gw_ref, nw);
      if (!good) return false;
      double ours_ms[3] = {bench::time_ms(ours_fwd, reps, s, flush), bench::time_ms(ours_data, reps, s, flush),
                           bench::time_ms(ours_filter, reps, s, flush)};
      for (int i = 0; i < 3; ++i) {
        char line[256];
        std::snprintf(line, sizeof line, "| %d x 64 x %dx%d | %s%s | %.3f | %.2f | %.3f | %.2f | %.2f |", N, HW, HW,
                      names[i], label.c_str(), ours_ms[i], flops / ours_ms[i] / 1e9, ref_ms[i],
                      flops / ref_ms[i] / 1e9, ref_ms[i] / ours_ms[i]);
        rows.push_back(line);
        std::printf("RESULT conv_%s%s_N%d_%dx%d ours_ms=%.4f ref_ms=%.4f ratio=%.3f\n", names[i], tag, N, HW, HW,
                    ours_ms[i], ref_ms[i], ref_ms[i] / ours_ms[i]);
      }
      return true;
    };
    ok &= variant("", "");
    fewshot::cuda::set_gemm_pipelining(true);  // double-buffered main loop (kernels/cuda/gemm.cuh)
    ok &= variant(" (pipelined)", "_pipelined");
    fewshot::cuda::set_gemm_pipelining(false);
    cudnnDestroyTensorDescriptor(xd), cudnnDestroyTensorDescriptor(yd), cudnnDestroyFilterDescriptor(wd);
    cudnnDestroyConvolutionDescriptor(cd);
    for (float* p : {x, w, gy, y, y_ref, gx, gx_ref, gw, gw_ref}) cudaFree(p);
    cudaFree(ws), cudaFree(our_ws);
  }
  std::printf("\n| conv 64->64 3x3 pad 1 | op | ours ms | ours TFLOP/s | cuDNN ms | cuDNN TFLOP/s | ours / cuDNN speed |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (auto& r : rows) std::printf("%s\n", r.c_str());
  cudnnDestroy(h);
  cudaStreamDestroy(s);
  return ok ? 0 : 1;
}
