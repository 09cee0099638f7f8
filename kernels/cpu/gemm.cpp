// GEMM after Goto & van de Geijn, "Anatomy of High-Performance Matrix Multiplication" (TOMS 2008),
// in the BLIS arrangement (Van Zee & van de Geijn 2015): op(A) is packed into MR-row panels and
// op(B) into NR-column panels so the micro-kernel reads both with unit stride, whatever the
// transposes; KC bounds the panels so one A micro-panel stays in L1 while a packed B block
// (KC x NC) streams from L2. The micro-kernel keeps an MR x NR tile of C in vector registers.
// WRITES C (= alpha*op(A)*op(B) + beta*C); beta == 0 never reads C.
#include "kernels/cpu/gemm.h"

#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

namespace fewshot::cpu {
namespace {

// ---- SIMD traits: one vector type per element type, plus the micro-tile shape it affords. ----
// AVX-512 has 32 zmm registers: a 14 x 2-vector tile uses 28 accumulators, 2 for the B row and
// 1 for the broadcast of A (BLIS uses the same budget for its 32x12 / 12x32 SKX kernels).
// AVX2 has 16 ymm registers: the classic 6 x 2-vector tile (12 accumulators). The portable
// fallback is scalar code the compiler may vectorise on its own.
template <typename T>
struct Simd;

#if defined(__AVX512F__)
template <>
struct Simd<float> {
  using V = __m512;
  static constexpr int W = 16, MR = 14, NV = 2;
  static V zero() { return _mm512_setzero_ps(); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V load(const float* p) { return _mm512_load_ps(p); }  // packed panels are aligned
  static V loadu(const float* p) { return _mm512_loadu_ps(p); }
  static void storeu(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
};
template <>
struct Simd<double> {
  using V = __m512d;
  static constexpr int W = 8, MR = 14, NV = 2;
  static V zero() { return _mm512_setzero_pd(); }
  static V set1(double x) { return _mm512_set1_pd(x); }
  static V load(const double* p) { return _mm512_load_pd(p); }
  static V loadu(const double* p) { return _mm512_loadu_pd(p); }
  static void storeu(double* p, V v) { _mm512_storeu_pd(p, v); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_pd(a, b); }
};
#elif defined(__AVX2__) && defined(__FMA__)
template <>
struct Simd<float> {
  using V = __m256;
  static constexpr int W = 8, MR = 6, NV = 2;
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V load(const float* p) { return _mm256_load_ps(p); }
  static V loadu(const float* p) { return _mm256_loadu_ps(p); }
  static void storeu(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
};
template <>
struct Simd<double> {
  using V = __m256d;
  static constexpr int W = 4, MR = 6, NV = 2;
  static V zero() { return _mm256_setzero_pd(); }
  static V set1(double x) { return _mm256_set1_pd(x); }
  static V load(const double* p) { return _mm256_load_pd(p); }
  static V loadu(const double* p) { return _mm256_loadu_pd(p); }
  static void storeu(double* p, V v) { _mm256_storeu_pd(p, v); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
};
#else
template <typename T>
struct Simd {
  using V = T;
  static constexpr int W = 1, MR = 4, NV = 4;
  static V zero() { return T(0); }
  static V set1(T x) { return x; }
  static V load(const T* p) { return *p; }
  static V loadu(const T* p) { return *p; }
  static void storeu(T* p, V v) { *p = v; }
  static V fma(V a, V b, V c) { return a * b + c; }
  static V mul(V a, V b) { return a * b; }
};
#endif

// Cache blocking. KC: an MR x KC A micro-panel (14*384*4 = 21 KiB float, 14*256*8 = 28 KiB
// double) stays in the 48 KiB L1 while B streams past it. NC: the KC x NC packed B block
// (384*512*4 = 768 KiB) sits in the 2 MiB L2. MC: the packed A block is read once per B block,
// so it can be large (it lives in L2/L3).
template <typename T>
struct Blocking;
template <>
struct Blocking<float> {
  static constexpr int64_t KC = 384, NC = 512, MC = 1008;
};
template <>
struct Blocking<double> {
  static constexpr int64_t KC = 256, NC = 512, MC = 1008;
};

constexpr std::size_t kAlign = 64;

// Grow-only, 64-byte-aligned scratch owned by the calling thread. A fresh malloc per call would
// mmap/munmap megabytes and pay page faults on every GEMM; conv calls GEMM once per image.
struct Scratch {
  void* ptr = nullptr;
  std::size_t bytes = 0;
  ~Scratch() { ::operator delete(ptr, std::align_val_t(kAlign)); }
  template <typename T>
  T* get(std::size_t count) {
    std::size_t need = count * sizeof(T);
    if (need > bytes) {
      ::operator delete(ptr, std::align_val_t(kAlign));
      ptr = ::operator new(need, std::align_val_t(kAlign));
      bytes = need;
    }
    return static_cast<T*>(ptr);
  }
};
thread_local Scratch tl_pack_a, tl_pack_b;

// Micro-kernel: c (MR x NR, row stride ldc) = alpha * a_panel * b_panel + beta * c.
// a is kc x MR (MR contiguous values per k), b is kc x NR, both packed and zero-padded.
template <typename T>
inline void micro_kernel(int64_t kc, const T* __restrict a, const T* __restrict b, T* c,
                         int64_t ldc, T alpha, T beta) {
  using S = Simd<T>;
  using V = typename S::V;
  constexpr int MR = S::MR, NV = S::NV, W = S::W;
  V acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = S::zero();
  for (int64_t k = 0; k < kc; ++k) {
    V bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = S::load(b + v * W);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      V ai = S::set1(a[i]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = S::fma(ai, bv[v], acc[i][v]);
    }
    a += MR;
    b += NV * W;
  }
  const V va = S::set1(alpha);
  if (beta == T(0)) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) S::storeu(c + i * ldc + v * W, S::mul(va, acc[i][v]));
  } else {
    const V vb = S::set1(beta);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        T* p = c + i * ldc + v * W;
        S::storeu(p, S::fma(va, acc[i][v], S::mul(vb, S::loadu(p))));
      }
  }
}

// Edge tile (mr < MR or nr < NR): run the full kernel into a local tile, then merge the valid part.
template <typename T>
void edge_kernel(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, int64_t mr, int64_t nr,
                 T alpha, T beta) {
  using S = Simd<T>;
  constexpr int MR = S::MR, NR = S::NV * S::W;
  alignas(kAlign) T tile[MR * NR];
  micro_kernel<T>(kc, a, b, tile, NR, alpha, T(0));
  for (int64_t i = 0; i < mr; ++i)
    for (int64_t j = 0; j < nr; ++j)
      c[i * ldc + j] = beta == T(0) ? tile[i * NR + j] : tile[i * NR + j] + beta * c[i * ldc + j];
}

// Pack rows [i0, i0+mr) x cols [p0, p0+kc) of op(A) as one panel: dst[k*MR + i], zero rows >= mr.
template <typename T>
void pack_a_panel(bool trans, const T* A, int64_t lda, int64_t i0, int64_t mr, int64_t p0,
                  int64_t kc, T* dst) {
  constexpr int MR = Simd<T>::MR;
  if (!trans) {  // op(A)(i, k) = A[i*lda + k]: each row is contiguous in k
    for (int64_t i = 0; i < mr; ++i) {
      const T* src = A + (i0 + i) * lda + p0;
      for (int64_t k = 0; k < kc; ++k) dst[k * MR + i] = src[k];
    }
    for (int64_t i = mr; i < MR; ++i)
      for (int64_t k = 0; k < kc; ++k) dst[k * MR + i] = T(0);
  } else {  // op(A)(i, k) = A[k*lda + i]: each k gives MR contiguous values
    for (int64_t k = 0; k < kc; ++k) {
      const T* src = A + (p0 + k) * lda + i0;
      T* d = dst + k * MR;
      for (int64_t i = 0; i < mr; ++i) d[i] = src[i];
      for (int64_t i = mr; i < MR; ++i) d[i] = T(0);
    }
  }
}

// Pack rows [p0, p0+kc) x cols [j0, j0+nr) of op(B) as one panel: dst[k*NR + j], zero cols >= nr.
template <typename T>
void pack_b_panel(bool trans, const T* B, int64_t ldb, int64_t p0, int64_t kc, int64_t j0,
                  int64_t nr, T* dst) {
  constexpr int NR = Simd<T>::NV * Simd<T>::W;
  if (!trans) {  // op(B)(k, j) = B[k*ldb + j]
    for (int64_t k = 0; k < kc; ++k) {
      const T* src = B + (p0 + k) * ldb + j0;
      T* d = dst + k * NR;
      if (nr == NR) {
        std::memcpy(d, src, sizeof(T) * NR);
      } else {
        for (int64_t j = 0; j < nr; ++j) d[j] = src[j];
        for (int64_t j = nr; j < NR; ++j) d[j] = T(0);
      }
    }
  } else {  // op(B)(k, j) = B[j*ldb + k]: gather NR rows, write each packed row contiguously
    const T* src = B + j0 * ldb + p0;
    for (int64_t k = 0; k < kc; ++k) {
      T* d = dst + k * NR;
      for (int64_t j = 0; j < nr; ++j) d[j] = src[j * ldb + k];
      for (int64_t j = nr; j < NR; ++j) d[j] = T(0);
    }
  }
}

// C = beta * C with the BLAS convention that beta == 0 overwrites (NaN in C does not survive).
template <typename T>
void scale_c(int64_t M, int64_t N, T beta, T* C, int64_t ldc) {
  if (beta == T(1)) return;
  for (int64_t i = 0; i < M; ++i) {
    T* c = C + i * ldc;
    if (beta == T(0))
      std::fill(c, c + N, T(0));
    else
      for (int64_t j = 0; j < N; ++j) c[j] *= beta;
  }
}

// Tiny problems: packing would cost more than the product. Row-oriented axpy form so the inner
// loop is unit-stride in C (and in B when it is not transposed).
template <typename T>
void gemm_small(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
                const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  scale_c(M, N, beta, C, ldc);
  for (int64_t i = 0; i < M; ++i) {
    T* c = C + i * ldc;
    for (int64_t k = 0; k < K; ++k) {
      const T a = alpha * (trans_a ? A[k * lda + i] : A[i * lda + k]);
      if (!trans_b) {
        const T* b = B + k * ldb;  // row k of B, (N)
        for (int64_t j = 0; j < N; ++j) c[j] += a * b[j];
      } else {
        for (int64_t j = 0; j < N; ++j) c[j] += a * B[j * ldb + k];
      }
    }
  }
}

// One thread's blocked product: loops pc (KC) -> ic (MC, pack A) -> jc (NC, pack B) -> ir -> jr.
// ir outside jr keeps one A micro-panel in L1 while the B block streams from L2.
template <typename T>
void gemm_blocked(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
                  const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  using S = Simd<T>;
  using Blk = Blocking<T>;
  constexpr int64_t MR = S::MR, NR = S::NV * S::W;
  auto round_up = [](int64_t x, int64_t m) { return (x + m - 1) / m * m; };
  const int64_t mc_max = std::min(Blk::MC, round_up(M, MR));
  const int64_t nc_max = std::min(Blk::NC, round_up(N, NR));
  const int64_t kc_max = std::min(Blk::KC, K);
  // Packed A block (mc_max x kc_max) and B block (kc_max x nc_max), this thread's own.
  T* pa = tl_pack_a.get<T>(static_cast<std::size_t>(mc_max * kc_max));
  T* pb = tl_pack_b.get<T>(static_cast<std::size_t>(kc_max * nc_max));
  for (int64_t p0 = 0; p0 < K; p0 += Blk::KC) {
    const int64_t kc = std::min(Blk::KC, K - p0);
    const T beta_p = p0 == 0 ? beta : T(1);  // later K blocks accumulate onto the first
    for (int64_t i0 = 0; i0 < M; i0 += Blk::MC) {
      const int64_t mc = std::min(Blk::MC, M - i0);
      const int64_t n_ip = (mc + MR - 1) / MR;
      for (int64_t ip = 0; ip < n_ip; ++ip)
        pack_a_panel(trans_a, A, lda, i0 + ip * MR, std::min(MR, mc - ip * MR), p0, kc,
                     pa + ip * MR * kc);
      for (int64_t j0 = 0; j0 < N; j0 += Blk::NC) {
        const int64_t nc = std::min(Blk::NC, N - j0);
        const int64_t n_jp = (nc + NR - 1) / NR;
        for (int64_t jp = 0; jp < n_jp; ++jp)
          pack_b_panel(trans_b, B, ldb, p0, kc, j0 + jp * NR, std::min(NR, nc - jp * NR),
                       pb + jp * NR * kc);
        for (int64_t ip = 0; ip < n_ip; ++ip) {
          const int64_t mr = std::min(MR, mc - ip * MR);
          for (int64_t jp = 0; jp < n_jp; ++jp) {
            const int64_t nr = std::min(NR, nc - jp * NR);
            T* c = C + (i0 + ip * MR) * ldc + j0 + jp * NR;  // top-left of this (mr, nr) C tile
            if (mr == MR && nr == NR)
              micro_kernel<T>(kc, pa + ip * MR * kc, pb + jp * NR * kc, c, ldc, alpha, beta_p);
            else
              edge_kernel<T>(kc, pa + ip * MR * kc, pb + jp * NR * kc, c, ldc, mr, nr, alpha,
                             beta_p);
          }
        }
      }
    }
  }
}

// Threads split C into a pm x pn grid of blocks, each computed independently with private
// packing: no barriers inside, so a thread descheduled on a shared machine delays only its own
// block (cooperative packing needs ~3 barriers per block and collapsed 10x under contention).
// Re-packing the shared operand per thread costs (M + N) * K, small next to M * N * K / nt.
template <typename T>
void gemm_parallel(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
                   const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc,
                   int nt) {
  constexpr int64_t MR = Simd<T>::MR, NR = Simd<T>::NV * Simd<T>::W;
  auto ceil_div = [](int64_t x, int64_t m) { return (x + m - 1) / m; };
  // Pick the grid with the least padded tile area per thread (plus a packing term).
  int64_t best_pm = 1, best_cost = -1;
  for (int64_t pm = 1; pm <= nt; ++pm) {
    if (nt % pm) continue;
    const int64_t pn = nt / pm;
    const int64_t mb = ceil_div(ceil_div(M, pm), MR) * MR, nb = ceil_div(ceil_div(N, pn), NR) * NR;
    const int64_t cost = mb * nb + 16 * (mb + nb);
    if (best_cost < 0 || cost < best_cost) best_cost = cost, best_pm = pm;
  }
  const int64_t pm = best_pm, pn = nt / pm;
  const int64_t mb = ceil_div(ceil_div(M, pm), MR) * MR, nb = ceil_div(ceil_div(N, pn), NR) * NR;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t t = 0; t < pm * pn; ++t) {
    const int64_t m0 = (t / pn) * mb, n0 = (t % pn) * nb;
    if (m0 >= M || n0 >= N) continue;
    const int64_t m = std::min(mb, M - m0), n = std::min(nb, N - n0);
    // Sub-block: rows m0.. of op(A), cols n0.. of op(B), block (m0, n0) of C.
    const T* a = trans_a ? A + m0 : A + m0 * lda;
    const T* b = trans_b ? B + n0 * ldb : B + n0;
    gemm_blocked(trans_a, trans_b, m, n, K, alpha, a, lda, b, ldb, beta, C + m0 * ldc + n0, ldc);
  }
}

// Products below this many multiply-adds skip packing (e.g. 32x32x32); below kMinPerThread
// per thread, extra threads cost more in fork/join than they save.
constexpr int64_t kSmallWork = 32 * 1024;
constexpr int64_t kMinPerThread = 128 * 1024;

int threads_for(int64_t work) {
  if (omp_in_parallel()) return 1;
  const int64_t by_work = std::max<int64_t>(1, work / kMinPerThread);
  return static_cast<int>(std::min<int64_t>(omp_get_max_threads(), by_work));
}

}  // namespace

template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == T(0)) {  // op(A)*op(B) contributes nothing: C = beta * C
    scale_c(M, N, beta, C, ldc);
    return;
  }
  const int64_t work = M * N * K;
  if (work < kSmallWork) {
    gemm_small(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  const int nt = threads_for(work);
  if (nt > 1)
    gemm_parallel(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, nt);
  else
    gemm_blocked(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

template <typename T>
void gemm_batched(int64_t batch, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                  T alpha, const T* A, int64_t lda, int64_t stride_a, const T* B, int64_t ldb,
                  int64_t stride_b, T beta, T* C, int64_t ldc, int64_t stride_c) {
  if (batch <= 0) return;
  auto one = [&](int64_t b) {
    gemm(trans_a, trans_b, M, N, K, alpha, A + b * stride_a, lda, B + b * stride_b, ldb, beta,
         C + b * stride_c, ldc);
  };
  const int nt = omp_in_parallel() ? 1 : omp_get_max_threads();
  // Independent outputs and enough of them to keep every thread busy: one thread per product
  // (each product then runs single-threaded, no nested fork). Otherwise the products run in
  // order and each uses the whole team; stride_c == 0 must run in order anyway.
  const bool over_batch = nt > 1 && stride_c != 0 && (batch % nt == 0 || batch >= 4 * nt);
  if (over_batch) {
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t b = 0; b < batch; ++b) one(b);
  } else {
    for (int64_t b = 0; b < batch; ++b) one(b);
  }
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                          const float*, int64_t, float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                           const double*, int64_t, double, double*, int64_t);
template void gemm_batched<float>(int64_t, bool, bool, int64_t, int64_t, int64_t, float,
                                  const float*, int64_t, int64_t, const float*, int64_t, int64_t,
                                  float, float*, int64_t, int64_t);
template void gemm_batched<double>(int64_t, bool, bool, int64_t, int64_t, int64_t, double,
                                   const double*, int64_t, int64_t, const double*, int64_t,
                                   int64_t, double, double*, int64_t, int64_t);

}  // namespace fewshot::cpu
