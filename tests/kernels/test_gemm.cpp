// gemm / gemm_batched against a naive triple loop accumulated in double.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <type_traits>
#include <utility>
#include <vector>

#include <omp.h>

#include <cstring>

#include "tests/kernels/random_values.h"
#include "kernels/cpu/gemm.h"

using fewshot::cpu::gemm;
using fewshot::cpu::gemm_batched;

namespace {

using fewshot::cpu::testing::random_vec;

// Reference: C = alpha * op(A) * op(B) + beta * C in double; beta == 0 ignores C.
template <typename T>
void gemm_ref(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const T* A,
              int64_t lda, const T* B, int64_t ldb, double beta, T* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += double(ta ? A[k * lda + i] : A[i * lda + k]) *
               double(tb ? B[j * ldb + k] : B[k * ldb + j]);
      const double c = beta == 0 ? 0.0 : beta * double(C[i * ldc + j]);
      C[i * ldc + j] = T(alpha * acc + c);
    }
}

// Per-type tolerance: atol + rtol*|ref|, scaled by sqrt(K) for the rounding-error growth of a sum.
template <typename T>
double tol(int64_t K) {
  const double eps = std::is_same_v<T, float> ? 1e-6 : 1e-14;
  return 8 * eps * std::sqrt(double(K) + 1);
}

// Runs one configuration with padded strides (ld = cols + 3) so stride handling is exercised.
template <typename T>
void check_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, T beta) {
  CAPTURE(ta);
  CAPTURE(tb);
  CAPTURE(M);
  CAPTURE(N);
  CAPTURE(K);
  CAPTURE(alpha);
  CAPTURE(beta);
  const int64_t a_rows = ta ? K : M, a_cols = ta ? M : K;  // A as stored
  const int64_t b_rows = tb ? N : K, b_cols = tb ? K : N;  // B as stored
  const int64_t lda = a_cols + 3, ldb = b_cols + 3, ldc = N + 3;
  auto A = random_vec<T>(a_rows * lda + 1, 11);
  auto B = random_vec<T>(b_rows * ldb + 1, 12);
  std::vector<T> C = random_vec<T>(M * ldc + 1, 13);
  if (beta == T(0)) std::fill(C.begin(), C.end(), std::numeric_limits<T>::quiet_NaN());
  std::vector<T> ref = C;
  gemm<T>(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
  gemm_ref<T>(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, ref.data(), ldc);
  int bad = 0;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      const double r = ref[i * ldc + j], c = C[i * ldc + j];
      if (!(std::abs(c - r) <= tol<T>(K) * (1 + std::abs(r))) && bad++ < 5)
        FAIL_CHECK("C(" << i << "," << j << ") = " << c << " expected " << r);
    }
  // Padding columns between rows must be untouched (NaN stays NaN when beta == 0).
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = N; j < ldc && i * ldc + j < int64_t(C.size()); ++j) {
      const bool same = (std::isnan(C[i * ldc + j]) && std::isnan(ref[i * ldc + j])) ||
                        C[i * ldc + j] == ref[i * ldc + j];
      if (!same && bad++ < 5) FAIL_CHECK("padding written at (" << i << "," << j << ")");
    }
  CHECK(bad == 0);
}

template <typename T>
void gemm_suite() {
  const int64_t sizes[][3] = {{0, 5, 3},  {4, 0, 3},   {3, 4, 0},    {1, 1, 1},    {1, 7, 3},
                              {7, 1, 3},  {5, 5, 1},   {13, 33, 17}, {37, 53, 29}, {64, 784, 36},
                              {130, 67, 300}, {15, 100, 400}, {200, 129, 33}, {20, 1100, 40}};
  for (auto& s : sizes)
    for (int t = 0; t < 4; ++t) check_gemm<T>(t & 1, t & 2, s[0], s[1], s[2], T(1), T(0));
  // alpha / beta variants, on a small-path and a blocked-path size
  // ... including last panels narrower than a register tile but whole vectors wide
  // (80 and 64 columns in float, 72 in double), which store straight into C.
  const int64_t ab_sizes[][3] = {{6, 9, 5},     {45, 70, 50},  {33, 65, 400},
                                 {20, 80, 400}, {17, 64, 300}, {19, 72, 300}};
  for (auto& s : ab_sizes)
    for (int t = 0; t < 4; ++t)
      for (auto [alpha, beta] : {std::pair{T(1), T(1)}, std::pair{T(-0.5), T(2)},
                                 std::pair{T(2), T(0)}, std::pair{T(0), T(0.5)},
                                 std::pair{T(0), T(0)}})
        check_gemm<T>(t & 1, t & 2, s[0], s[1], s[2], alpha, beta);
}

}  // namespace

TEST_CASE("gemm float matches naive triple loop") { gemm_suite<float>(); }
TEST_CASE("gemm double matches naive triple loop") { gemm_suite<double>(); }

TEST_CASE("gemm large enough to use threads and several K blocks") {
  check_gemm<float>(false, false, 300, 301, 900, 1.0f, 0.0f);
  check_gemm<double>(true, true, 301, 300, 700, 0.5, 1.0);
}

TEST_CASE("gemm K == 0 scales C by beta; beta == 0 clears NaN") {
  std::vector<float> C(6, std::numeric_limits<float>::quiet_NaN());
  gemm<float>(false, false, 2, 3, 0, 1.0f, nullptr, 1, nullptr, 3, 0.0f, C.data(), 3);
  for (float c : C) CHECK(c == 0.0f);
  std::vector<double> D(6, 2.0);
  gemm<double>(false, false, 2, 3, 0, 1.0, nullptr, 1, nullptr, 3, 3.0, D.data(), 3);
  for (double d : D) CHECK(d == 6.0);
}

template <typename T>
void check_batched(int64_t batch, int64_t M, int64_t N, int64_t K, bool ta, bool tb,
                   bool broadcast_a, bool broadcast_b) {
  CAPTURE(batch);
  CAPTURE(M);
  CAPTURE(broadcast_a);
  CAPTURE(broadcast_b);
  const int64_t lda = ta ? M : K, ldb = tb ? K : N, ldc = N;
  const int64_t sa = broadcast_a ? 0 : M * K, sb = broadcast_b ? 0 : K * N, sc = M * N;
  auto A = random_vec<T>(broadcast_a ? M * K : batch * M * K, 21);
  auto B = random_vec<T>(broadcast_b ? K * N : batch * K * N, 22);
  std::vector<T> C(batch * M * N, std::numeric_limits<T>::quiet_NaN());
  std::vector<T> ref(batch * M * N);
  gemm_batched<T>(batch, ta, tb, M, N, K, T(1), A.data(), lda, sa, B.data(), ldb, sb, T(0),
                  C.data(), ldc, sc);
  for (int64_t b = 0; b < batch; ++b)
    gemm_ref<T>(ta, tb, M, N, K, 1.0, A.data() + b * sa, lda, B.data() + b * sb, ldb, 0.0,
                ref.data() + b * sc, ldc);
  int bad = 0;
  for (std::size_t i = 0; i < C.size(); ++i)
    if (!(std::abs(double(C[i]) - double(ref[i])) <= tol<T>(K) * (1 + std::abs(double(ref[i])))))
      ++bad;
  CHECK(bad == 0);
}

TEST_CASE("gemm_batched with strides and stride-0 broadcast") {
  for (bool ba : {false, true})
    for (bool bb : {false, true}) {
      check_batched<float>(5, 7, 9, 11, false, true, ba, bb);
      check_batched<double>(4, 40, 50, 60, true, false, ba, bb);
      check_batched<float>(3, 70, 80, 90, false, false, ba, bb);
    }
  // batch 0 touches nothing
  gemm_batched<float>(0, false, false, 2, 2, 2, 1.0f, nullptr, 2, 4, nullptr, 2, 4, 0.0f, nullptr,
                      2, 4);
}

TEST_CASE("gemm_batched stride_c == 0 with beta == 1 sums the batch into C") {
  const int64_t M = 20, N = 30, K = 40, batch = 3;
  auto A = random_vec<double>(batch * M * K, 31), B = random_vec<double>(K * N, 32);
  std::vector<double> C(M * N, 0.0), ref(M * N, 0.0);
  gemm_batched<double>(batch, false, false, M, N, K, 1.0, A.data(), K, M * K, B.data(), N, 0, 1.0,
                       C.data(), N, 0);
  for (int64_t b = 0; b < batch; ++b)
    gemm_ref<double>(false, false, M, N, K, 1.0, A.data() + b * M * K, K, B.data(), N, 1.0,
                     ref.data(), N);
  for (std::size_t i = 0; i < C.size(); ++i) CHECK(C[i] == doctest::Approx(ref[i]).epsilon(1e-12));
}

TEST_CASE("gemm results are bit-identical for any thread count") {
  const int64_t M = 123, N = 1037, K = 531;  // several items, K blocks and edge tiles
  auto A = random_vec<float>(M * K, 41), B = random_vec<float>(N * K, 42);
  const int saved = omp_get_max_threads();
  std::vector<float> ref;
  for (int nt : {1, 2, 3, 5}) {
    omp_set_num_threads(nt);
    std::vector<float> C(M * N);
    gemm<float>(false, true, M, N, K, 1.0f, A.data(), K, B.data(), K, 0.0f, C.data(), N);
    if (ref.empty())
      ref = C;
    else
      CHECK(std::memcmp(ref.data(), C.data(), C.size() * sizeof(float)) == 0);
  }
  omp_set_num_threads(saved);
  check_gemm<float>(false, true, M, N, K, 1.0f, 0.0f);
}

TEST_CASE("gemm called from inside a parallel region runs per thread and stays correct") {
  // Each thread of the caller's region computes its own product (as conv2d does per image);
  // gemm must not open a nested team or share its packing buffers across those threads.
  const int64_t M = 90, N = 110, K = 130;
  const int threads = 3;
  auto A = random_vec<float>(threads * M * K, 51), B = random_vec<float>(K * N, 52);
  std::vector<float> C(threads * M * N, std::numeric_limits<float>::quiet_NaN());
  std::vector<float> ref(threads * M * N);
#pragma omp parallel for num_threads(threads)
  for (int t = 0; t < threads; ++t)
    gemm<float>(false, false, M, N, K, 1.0f, A.data() + t * M * K, K, B.data(), N, 0.0f,
                C.data() + t * M * N, N);
  for (int t = 0; t < threads; ++t)
    gemm_ref<float>(false, false, M, N, K, 1.0, A.data() + t * M * K, K, B.data(), N, 0.0,
                    ref.data() + t * M * N, N);
  int bad = 0;
  for (std::size_t i = 0; i < C.size(); ++i) {
    const double r = ref[i];
    if (!(std::abs(double(C[i]) - r) <= tol<float>(K) * (1 + std::abs(r)))) ++bad;
  }
  CHECK(bad == 0);
}
