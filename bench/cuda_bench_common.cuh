#pragma once
// Shared by the CUDA microbenchmarks (bench/cuda_gemm.cu, bench/cuda_conv.cu), in the manner of
// llm.c's dev/cuda: random device data, a correctness check against the vendor library before any
// timing (atol + rtol * |ref|, first mismatches printed, stop after ten), and cudaEvent timing with
// the L2 cache flushed before every repetition.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <cuda_runtime.h>

#define BENCH_CHECK(expr)                                                                          \
  do {                                                                                             \
    cudaError_t e_ = (expr);                                                                       \
    if (e_ != cudaSuccess) {                                                                       \
      std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #expr, cudaGetErrorString(e_)); \
      std::exit(1);                                                                                \
    }                                                                                              \
  } while (0)

namespace bench {

// Uniform values in [-1, 1) from a hash of the index (no host-side generation of gigabytes).
__global__ void fill_random_kernel(float* __restrict__ p, size_t n, unsigned seed) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(blockDim.x) * gridDim.x) {
    unsigned x = static_cast<unsigned>(i) * 2654435761u ^ (seed * 0x9E3779B9u) ^ static_cast<unsigned>(i >> 32);
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    p[i] = static_cast<float>(x) * (2.0f / 4294967296.0f) - 1.0f;
  }
}

inline float* device_random(size_t n, unsigned seed) {
  float* p = nullptr;
  BENCH_CHECK(cudaMalloc(&p, n * sizeof(float)));
  fill_random_kernel<<<1024, 256>>>(p, n, seed);
  BENCH_CHECK(cudaGetLastError());
  // The fill ran on the legacy default stream, which a cudaStreamNonBlocking stream does not wait
  // for: finish it before the benchmark's stream reads the data.
  BENCH_CHECK(cudaDeviceSynchronize());
  return p;
}

inline float* device_zeros(size_t n) {
  float* p = nullptr;
  BENCH_CHECK(cudaMalloc(&p, n * sizeof(float)));
  BENCH_CHECK(cudaMemset(p, 0, n * sizeof(float)));
  BENCH_CHECK(cudaDeviceSynchronize());  // as above
  return p;
}

// |ours - ref| <= atol + rtol * max|ref| (scale-relative: long sums in a different order).
// Checks the first 2^26 elements at most (the 32x80-image conv tensors hold 1.2 billion: copying
// and scanning all of them would take much of gpu-check.sh's time, and every element is computed
// by the same code path as the leading ones).
inline bool validate(const char* what, const float* ours_dev, const float* ref_dev, size_t n, double rtol = 1e-3) {
  n = std::min<size_t>(n, size_t(1) << 26);
  std::vector<float> a(n), b(n);
  BENCH_CHECK(cudaMemcpy(a.data(), ours_dev, n * sizeof(float), cudaMemcpyDeviceToHost));
  BENCH_CHECK(cudaMemcpy(b.data(), ref_dev, n * sizeof(float), cudaMemcpyDeviceToHost));
  double scale = 0;
  for (float v : b) scale = std::max(scale, static_cast<double>(std::fabs(v)));
  double tol = 1e-6 + rtol * scale, worst = 0;
  int bad = 0;
  for (size_t i = 0; i < n; ++i) {
    double e = std::fabs(static_cast<double>(a[i]) - b[i]);
    if (!(e <= tol)) {  // also catches NaN
      if (bad < 10) std::printf("  MISMATCH %s at %zu: ours %g ref %g\n", what, i, a[i], b[i]);
      ++bad;
    }
    worst = std::max(worst, e);
  }
  std::printf("  check %-22s max |err| %.3g (tolerance %.3g): %s\n", what, worst, tol, bad ? "FAIL" : "ok");
  return bad == 0;
}

// Evicts the L2 cache by writing a buffer twice its size.
class L2Flush {
 public:
  L2Flush() {
    int dev = 0, l2 = 0;
    BENCH_CHECK(cudaGetDevice(&dev));
    BENCH_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, dev));
    bytes_ = static_cast<size_t>(std::max(l2, 1 << 20)) * 2;
    BENCH_CHECK(cudaMalloc(&buf_, bytes_));
  }
  ~L2Flush() { cudaFree(buf_); }
  void operator()(cudaStream_t s) { BENCH_CHECK(cudaMemsetAsync(buf_, 0, bytes_, s)); }

 private:
  void* buf_ = nullptr;
  size_t bytes_ = 0;
};

// Median milliseconds of `reps` runs of f(stream), each after an L2 flush, after one warm-up.
template <typename F> double time_ms(F&& f, int reps, cudaStream_t s, L2Flush& flush) {
  cudaEvent_t start, stop;
  BENCH_CHECK(cudaEventCreate(&start));
  BENCH_CHECK(cudaEventCreate(&stop));
  f(s);
  BENCH_CHECK(cudaStreamSynchronize(s));
  std::vector<double> ms;
  for (int r = 0; r < reps; ++r) {
    flush(s);
    BENCH_CHECK(cudaEventRecord(start, s));
    f(s);
    BENCH_CHECK(cudaEventRecord(stop, s));
    BENCH_CHECK(cudaEventSynchronize(stop));
    float t = 0;
    BENCH_CHECK(cudaEventElapsedTime(&t, start, stop));
    ms.push_back(t);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

inline void print_device() {
  int dev = 0;
  cudaDeviceProp prop{};
  BENCH_CHECK(cudaGetDevice(&dev));
  BENCH_CHECK(cudaGetDeviceProperties(&prop, dev));
  std::printf("device: %s (sm_%d%d, %d SMs)\n", prop.name, prop.major, prop.minor, prop.multiProcessorCount);
}

}  // namespace bench
