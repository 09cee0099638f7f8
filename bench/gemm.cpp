// GEMM throughput: fewshot::cpu::gemm against OpenBLAS in the same run, square sizes and the
// shapes conv2d hands to GEMM. Each shape is checked against OpenBLAS before it is timed.
// Run: OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 build/bench/bench_gemm --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "kernels/cpu/gemm.h"

#ifdef FEWSHOT_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace {

template <typename T>
std::vector<T> random_vec(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<T> dist(T(-1), T(1));
  std::vector<T> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Shapes: C (M, N) = A (M, K) * B (K, N), no transposes unless stated.
struct Shape {
  int64_t M, N, K;
  bool ta, tb;
};

#ifdef FEWSHOT_HAVE_OPENBLAS
template <typename T>
void blas_gemm(const Shape& s, const T* A, const T* B, T* C) {
  const int64_t lda = s.ta ? s.M : s.K, ldb = s.tb ? s.K : s.N;
  auto ta = s.ta ? CblasTrans : CblasNoTrans, tb = s.tb ? CblasTrans : CblasNoTrans;
  if constexpr (sizeof(T) == 4)
    cblas_sgemm(CblasRowMajor, ta, tb, s.M, s.N, s.K, 1.0f, A, lda, B, ldb, 0.0f, C, s.N);
  else
    cblas_dgemm(CblasRowMajor, ta, tb, s.M, s.N, s.K, 1.0, A, lda, B, ldb, 0.0, C, s.N);
}
#endif

template <typename T>
void ours_gemm(const Shape& s, const T* A, const T* B, T* C) {
  const int64_t lda = s.ta ? s.M : s.K, ldb = s.tb ? s.K : s.N;
  fewshot::cpu::gemm<T>(s.ta, s.tb, s.M, s.N, s.K, T(1), A, lda, B, ldb, T(0), C, s.N);
}

// Abort before timing if ours disagrees with OpenBLAS (or, without it, with a naive loop).
template <typename T>
void check(const Shape& s) {
  auto A = random_vec<T>(s.M * s.K, 1), B = random_vec<T>(s.K * s.N, 2);
  std::vector<T> ours(s.M * s.N, T(NAN)), ref(s.M * s.N, T(0));
  ours_gemm(s, A.data(), B.data(), ours.data());
#ifdef FEWSHOT_HAVE_OPENBLAS
  blas_gemm(s, A.data(), B.data(), ref.data());
#else
  for (int64_t i = 0; i < s.M; ++i)
    for (int64_t j = 0; j < s.N; ++j) {
      double acc = 0;
      for (int64_t k = 0; k < s.K; ++k)
        acc += double(s.ta ? A[k * s.M + i] : A[i * s.K + k]) *
               double(s.tb ? B[j * s.K + k] : B[k * s.N + j]);
      ref[i * s.N + j] = T(acc);
    }
#endif
  const double tol = (sizeof(T) == 4 ? 1e-5 : 1e-12) * std::sqrt(double(s.K)) * 4;
  for (std::size_t i = 0; i < ours.size(); ++i)
    if (!(std::abs(double(ours[i]) - double(ref[i])) <= tol * (1 + std::abs(double(ref[i]))))) {
      std::fprintf(stderr, "gemm mismatch M=%lld N=%lld K=%lld at %zu: ours %g ref %g\n",
                   (long long)s.M, (long long)s.N, (long long)s.K, i, double(ours[i]),
                   double(ref[i]));
      std::abort();
    }
}

template <typename T, bool Blas>
void BM_gemm(benchmark::State& state, Shape s) {
  check<T>(s);
  // check() just ran both libraries. OpenBLAS's idle workers busy-wait ~2^28 cycles (~0.1 s)
  // before sleeping, and libgomp's spin briefly: timed at once, one library's spinning pool
  // would steal the cores from the other (measured: ours 5-30x slower right after OpenBLAS).
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  auto A = random_vec<T>(s.M * s.K, 1), B = random_vec<T>(s.K * s.N, 2);
  std::vector<T> C(s.M * s.N);
  for (auto _ : state) {
#ifdef FEWSHOT_HAVE_OPENBLAS
    if constexpr (Blas)
      blas_gemm(s, A.data(), B.data(), C.data());
    else
#endif
      ours_gemm(s, A.data(), B.data(), C.data());
    benchmark::DoNotOptimize(C.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * s.M * s.N * s.K * state.iterations() / 1e9,
                                                 benchmark::Counter::kIsRate);
}

const Shape kShapes[] = {
    {128, 128, 128, false, false},  {256, 256, 256, false, false}, {512, 512, 512, false, false},
    {1024, 1024, 1024, false, false},
    {512, 512, 512, true, true},  // transposed operands go through the same packing
    // conv2d as GEMM, 64->64 3x3 at 28x28: forward (OC, OHOW, C*9), weight grad (OC, C*9, OHOW)
    // with op(B) = col^T, input grad (C*9, OHOW, OC) with op(A) = w^T.
    {64, 784, 576, false, false},   {64, 576, 784, false, true},   {576, 784, 64, true, false},
};

template <typename T, bool Blas>
void add(const char* lib, const Shape& s) {
  const std::string name = std::string(sizeof(T) == 4 ? "sgemm/" : "dgemm/") + lib + "/M:" +
                           std::to_string(s.M) + "/N:" + std::to_string(s.N) + "/K:" +
                           std::to_string(s.K) + "/ta:" + std::to_string(int(s.ta)) +
                           "/tb:" + std::to_string(int(s.tb));
  benchmark::RegisterBenchmark(name.c_str(), BM_gemm<T, Blas>, s)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();  // threads: rate over wall time
}

}  // namespace

// Ours and OpenBLAS run back to back per shape, so load from other users of this shared machine
// hits both sides of a ratio alike.
int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  for (const Shape& s : kShapes) {
    add<float, false>("ours", s);
#ifdef FEWSHOT_HAVE_OPENBLAS
    add<float, true>("openblas", s);
#endif
  }
  for (const Shape& s : kShapes) {
    add<double, false>("ours", s);
#ifdef FEWSHOT_HAVE_OPENBLAS
    add<double, true>("openblas", s);
#endif
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
