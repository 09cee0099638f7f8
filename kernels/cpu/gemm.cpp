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
// AVX-512 has 32 zmm registers. float: an 8 x 3-vector (8x48) tile, 24 accumulators + 3 for the
// B row + 1 broadcast; it measured faster than 14x32 (best of 4, one thread: 111 vs 103 GFLOP/s
// at 512^3, 101 vs 94 at 64x784x576) because M = 32/64 (conv output channels) fill it exactly.
// double: 14 x 2 vectors (14x16), 28 accumulators, which beat 8x24 here (46 vs 42 GFLOP/s).
// AVX2 has 16 ymm registers: the classic 6 x 2-vector tile (12 accumulators). The portable
// fallback is scalar code the compiler may vectorise on its own.
template <typename T>
struct Simd;

#if defined(__AVX512F__)
template <>
struct Simd<float> {
  using V = __m512;
  static constexpr int W = 16, MR = 8, NV = 3;
  static V zero() { return _mm512_setzero_ps(); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V load(const float* p) { return _mm512_load_ps(p); }  // packed panels are aligned
  static V loadu(const float* p) { return _mm512_loadu_ps(p); }
  static void storeu(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  // Strided gather for packing transposed operands: lane j reads base[j*stride], masked lanes 0.
  using I = __m512i;
  static I index(int64_t stride) {
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    return _mm512_mullo_epi32(lane, _mm512_set1_epi32(static_cast<int>(stride)));
  }
  static V gather(unsigned mask, I idx, const float* base) {
    const auto m = static_cast<__mmask16>(mask);
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, base, 4);
  }
  static void store_mask(float* p, unsigned mask, V v) {
    _mm512_mask_storeu_ps(p, static_cast<__mmask16>(mask), v);
  }
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
  using I = __m256i;
  static I index(int64_t stride) {
    return _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                              _mm256_set1_epi32(static_cast<int>(stride)));
  }
  static V gather(unsigned mask, I idx, const double* base) {
    return _mm512_mask_i32gather_pd(_mm512_setzero_pd(), static_cast<__mmask8>(mask), idx, base, 8);
  }
  static void store_mask(double* p, unsigned mask, V v) {
    _mm512_mask_storeu_pd(p, static_cast<__mmask8>(mask), v);
  }
};
#define FEWSHOT_GEMM_GATHER 1  // AVX-512 gathers pack the strided (transposed) operands
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

// Cache blocking. KC: an MR x KC A micro-panel (8*384*4 = 12 KiB float, 14*256*8 = 28 KiB
// double) stays in the 48 KiB L1 while B streams past it. NC: the KC x NC packed B block
// (384*512*4 = 768 KiB) sits in the 2 MiB L2. The packed row block of A is bounded by
// kMaxPackA below rather than an MC: it is read once per B slice, from L2/L3.
template <typename T>
struct Blocking;
template <>
struct Blocking<float> {
  static constexpr int64_t KC = 384, NC = 512;
};
template <>
struct Blocking<double> {
  static constexpr int64_t KC = 256, NC = 512;
};

constexpr std::size_t kAlign = 64;

// Grow-only, 64-byte-aligned packing buffers, one pair per thread. A fresh malloc per call would
// mmap/munmap megabytes and pay page faults on every GEMM; conv calls GEMM per image group.
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

// Micro-kernel: c (MR x NV*W, row stride ldc) = alpha * a_panel * b_panel + beta * c.
// a is kc x MR (MR contiguous values per k), b is kc x NR, both packed and zero-padded. NV below
// the full S::NV computes only the first NV vectors of the panel: the last panel of a row is
// often narrower (512 = 10*48 + 32, 784 = 16*48 + 16), and a full-width tile there wastes work.
template <typename T, int NV = Simd<T>::NV>
inline void micro_kernel(int64_t kc, const T* __restrict a, const T* __restrict b, T* c,
                         int64_t ldc, T alpha, T beta) {
  using S = Simd<T>;
  using V = typename S::V;
  constexpr int MR = S::MR, W = S::W, NR = S::NV * S::W;
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
    b += NR;
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

// Runs micro_kernel with the fewest vectors (nv) that cover the tile.
template <typename T>
void kernel_nv(int nv, int64_t kc, const T* a, const T* b, T* c, int64_t ldc, T alpha, T beta) {
  constexpr int NV = Simd<T>::NV;
  static_assert(NV <= 4, "dispatch below covers up to 4 vectors");
  switch (nv) {
    case 1:
      micro_kernel<T, 1>(kc, a, b, c, ldc, alpha, beta);
      break;
    case 2:
      if constexpr (NV >= 2) micro_kernel<T, 2>(kc, a, b, c, ldc, alpha, beta);
      break;
    case 3:
      if constexpr (NV >= 3) micro_kernel<T, 3>(kc, a, b, c, ldc, alpha, beta);
      break;
    default:
      micro_kernel<T, NV>(kc, a, b, c, ldc, alpha, beta);
      break;
  }
}

// One (mr, nr) tile of C. Full rows whose width is whole vectors store straight into C; other
// edge tiles go through a local tile and merge the valid part.
template <typename T>
void tile_kernel(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, int64_t mr, int64_t nr,
                 T alpha, T beta) {
  using S = Simd<T>;
  constexpr int MR = S::MR, NR = S::NV * S::W;
  const int nv = static_cast<int>((nr + S::W - 1) / S::W);
  if (mr == MR && nr % S::W == 0) {
    kernel_nv<T>(nv, kc, a, b, c, ldc, alpha, beta);
    return;
  }
  alignas(kAlign) T tile[MR * NR];
  kernel_nv<T>(nv, kc, a, b, tile, NR, alpha, T(0));
  for (int64_t i = 0; i < mr; ++i)
    for (int64_t j = 0; j < nr; ++j)
      c[i * ldc + j] = beta == T(0) ? tile[i * NR + j] : tile[i * NR + j] + beta * c[i * ldc + j];
}

#ifdef FEWSHOT_GEMM_GATHER
// d[0..width) = src[j*stride] for j < n, zero for n <= j < width: one packed row gathered from
// `width` strided source rows, W lanes per gather (4-8x fewer instructions than scalar copies).
template <typename T>
inline void gather_row(const T* src, typename Simd<T>::I idx, int64_t stride, int64_t n,
                       int64_t width, T* d) {
  using S = Simd<T>;
  for (int64_t j = 0; j < width; j += S::W) {
    const int64_t live = std::clamp<int64_t>(n - j, 0, S::W);
    const int64_t room = std::min<int64_t>(width - j, S::W);
    const unsigned gmask = (1u << live) - 1u, smask = (1u << room) - 1u;  // W <= 16 lanes
    S::store_mask(d + j, smask, S::gather(gmask, idx, src + j * stride));
  }
}
// Gather indices are 32-bit: j*stride must fit.
inline bool gather_ok(int64_t stride) { return stride > 0 && stride < (int64_t(1) << 25); }

// 16x16 float transpose in registers (unpack 32-bit, unpack 64-bit, then two 128-bit-lane
// shuffles): dst row c (stride ldd, first `width` lanes) = column c of the 16 source rows
// (stride ld), the first `rows` of which are read, the rest taken as zero. ~0.25 shuffle per
// element against one load per element for a gather: the packing of a transposed B is what
// limits GEMMs with small M (conv weight grad: M = output channels, op(B) = im2col^T).
// (The masked forms with a full mask are the same instructions; the unmasked ones pass an
// undefined source that GCC 12 reports under -Wuninitialized, PR 105593.)
inline void transpose16(const float* src, int64_t ld, int64_t rows, float* dst, int64_t ldd,
                        unsigned width = 16) {
  const auto wmask = static_cast<__mmask16>((1u << width) - 1u);  // lanes stored per dst row
  __m512 r[16], t[16];
  for (int i = 0; i < 16; ++i)
    r[i] = i < rows ? _mm512_loadu_ps(src + i * ld) : _mm512_setzero_ps();
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_mask_unpacklo_ps(r[2 * i], 0xFFFF, r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_mask_unpackhi_ps(r[2 * i], 0xFFFF, r[2 * i], r[2 * i + 1]);
  }
  // u[4g + m], lane l: element 4l + m of rows 4g..4g+3
  for (int g = 0; g < 4; ++g) {
    const __m512d a = _mm512_castps_pd(t[4 * g]), b = _mm512_castps_pd(t[4 * g + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * g + 2]), d = _mm512_castps_pd(t[4 * g + 3]);
    r[4 * g + 0] = _mm512_castpd_ps(_mm512_mask_unpacklo_pd(a, 0xFF, a, c));
    r[4 * g + 1] = _mm512_castpd_ps(_mm512_mask_unpackhi_pd(a, 0xFF, a, c));
    r[4 * g + 2] = _mm512_castpd_ps(_mm512_mask_unpacklo_pd(b, 0xFF, b, d));
    r[4 * g + 3] = _mm512_castpd_ps(_mm512_mask_unpackhi_pd(b, 0xFF, b, d));
  }
  // 4x4 transpose of 128-bit lanes across the groups: output row 4l + m gathers lane l of u[4g+m]
  for (int m = 0; m < 4; ++m) {
    const __m512 v0 = _mm512_mask_shuffle_f32x4(r[m], 0xFFFF, r[m], r[4 + m], 0x44);
    const __m512 v1 = _mm512_mask_shuffle_f32x4(r[m], 0xFFFF, r[m], r[4 + m], 0xEE);
    const __m512 v2 = _mm512_mask_shuffle_f32x4(r[8 + m], 0xFFFF, r[8 + m], r[12 + m], 0x44);
    const __m512 v3 = _mm512_mask_shuffle_f32x4(r[8 + m], 0xFFFF, r[8 + m], r[12 + m], 0xEE);
    const __m512 o0 = _mm512_mask_shuffle_f32x4(v0, 0xFFFF, v0, v2, 0x88);
    const __m512 o1 = _mm512_mask_shuffle_f32x4(v0, 0xFFFF, v0, v2, 0xDD);
    const __m512 o2 = _mm512_mask_shuffle_f32x4(v1, 0xFFFF, v1, v3, 0x88);
    const __m512 o3 = _mm512_mask_shuffle_f32x4(v1, 0xFFFF, v1, v3, 0xDD);
    _mm512_mask_storeu_ps(dst + (0 + m) * ldd, wmask, o0);
    _mm512_mask_storeu_ps(dst + (4 + m) * ldd, wmask, o1);
    _mm512_mask_storeu_ps(dst + (8 + m) * ldd, wmask, o2);
    _mm512_mask_storeu_ps(dst + (12 + m) * ldd, wmask, o3);
  }
}

// Packs op(B) = B^T (B stored (N, K)) for k in [0, kc16), kc16 a multiple of 16, by 16x16 blocks.
// Returns how many k rows it packed (0 for double, which keeps the gather path).
template <typename T>
int64_t pack_b_trans_blocks(const T*, int64_t, int64_t, int64_t, T*) { return 0; }
template <>
int64_t pack_b_trans_blocks<float>(const float* src, int64_t ldb, int64_t nr, int64_t kc,
                                   float* dst) {
  constexpr int64_t NR = Simd<float>::NV * Simd<float>::W;
  const int64_t kc16 = kc / 16 * 16;
  for (int64_t k = 0; k < kc16; k += 16)
    for (int64_t v = 0; v < NR; v += 16)
      transpose16(src + v * ldb + k, ldb, std::clamp<int64_t>(nr - v, 0, 16), dst + k * NR + v,
                  NR);
  return kc16;
}

// Same for op(A) = A (stored (M, K)): an MR-row panel is a 16-k by MR-row block transposed.
template <typename T>
int64_t pack_a_blocks(const T*, int64_t, int64_t, int64_t, T*) { return 0; }
template <>
int64_t pack_a_blocks<float>(const float* src, int64_t lda, int64_t mr, int64_t kc, float* dst) {
  constexpr int64_t MR = Simd<float>::MR;
  static_assert(MR <= 16, "one transpose covers the panel");
  const int64_t kc16 = kc / 16 * 16;
  for (int64_t k = 0; k < kc16; k += 16) transpose16(src + k, lda, mr, dst + k * MR, MR, MR);
  return kc16;
}
#endif

// Pack rows [i0, i0+mr) x cols [p0, p0+kc) of op(A) as one panel: dst[k*MR + i], zero rows >= mr.
template <typename T>
void pack_a_panel(bool trans, const T* A, int64_t lda, int64_t i0, int64_t mr, int64_t p0,
                  int64_t kc, T* dst) {
  constexpr int MR = Simd<T>::MR;
  if (!trans) {  // op(A)(i, k) = A[i*lda + k]: each row is contiguous in k
#ifdef FEWSHOT_GEMM_GATHER
    if (gather_ok(lda)) {
      const auto idx = Simd<T>::index(lda);
      const T* src = A + i0 * lda + p0;
      for (int64_t k = pack_a_blocks(src, lda, mr, kc, dst); k < kc; ++k)
        gather_row(src + k, idx, lda, mr, MR, dst + k * MR);
      return;
    }
#endif
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
#ifdef FEWSHOT_GEMM_GATHER
    if (gather_ok(ldb)) {
      const auto idx = Simd<T>::index(ldb);
      for (int64_t k = pack_b_trans_blocks(src, ldb, nr, kc, dst); k < kc; ++k)
        gather_row(src + k, idx, ldb, nr, NR, dst + k * NR);
      return;
    }
#endif
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

// Work is cut into items: blocks of mb rows x nb columns of C. A thread packs all of op(A)'s
// rows for its current row block (mb x K, kept while consecutive items share it), then for each
// K block packs the item's KC x nb slice of op(B) and runs ir (outer, A micro-panel in L1) x jr
// (inner, B streams from L2). Items are handed out dynamically with one barrier at the end: on
// this shared 2-core machine a thread that loses its core must not hold the other one back (a
// static split, or cooperative packing with per-block barriers, halved throughput under load).
// Each C element sees the same K order whatever the item split, so results do not depend on
// the thread count.
constexpr int64_t kMaxPackA = 1 << 20;  // elements of op(A) one thread packs at once (4 MiB f32)

template <typename T>
void gemm_driver(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
                 const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc,
                 int nt) {
  using S = Simd<T>;
  constexpr int64_t MR = S::MR, NR = S::NV * S::W;
  auto ceil_div = [](int64_t x, int64_t m) { return (x + m - 1) / m; };
  // Even K blocks (512 -> 256 + 256, not 384 + 128): the short block would pay a full C pass.
  const int64_t kc_step = ceil_div(K, ceil_div(K, Blocking<T>::KC));
  const int64_t m_pad = ceil_div(M, MR) * MR, n_pad = ceil_div(N, NR) * NR;
  const int64_t mb = std::min(m_pad, std::max<int64_t>(MR, kMaxPackA / K / MR * MR));
  const int64_t n_mb = ceil_div(M, mb);
  // Whole NR panels per item (pb is kc x nb); with threads, ~4 items per thread for dynamic
  // balance (256 columns = 6 panels gives 6 one-panel items, not 3 uneven two-panel ones).
  int64_t nb = std::min(n_pad, Blocking<T>::NC / NR * NR);
  if (nt > 1) {
    const int64_t want_nblocks = ceil_div(4 * nt, n_mb);
    nb = std::min(nb, ceil_div(n_pad / NR, want_nblocks) * NR);
  }
  const int64_t n_nb = ceil_div(N, nb);

#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    // This thread's packed row block of op(A), all K blocks: block p0 starts at pa + p0*mb and
    // holds mb/MR panels of (kc x MR). And its packed (kc x nb) slice of op(B).
    T* pa = tl_pack_a.get<T>(static_cast<std::size_t>(mb * K));
    T* pb = tl_pack_b.get<T>(static_cast<std::size_t>(kc_step * nb));
    int64_t packed_ib = -1;
#pragma omp for schedule(dynamic, 1)
    for (int64_t item = 0; item < n_mb * n_nb; ++item) {
      const int64_t ib = item / n_nb, jb = item % n_nb;
      const int64_t i0 = ib * mb, mc = std::min(mb, M - i0);
      const int64_t j0 = jb * nb, nc = std::min(nb, N - j0);
      const int64_t n_ip = ceil_div(mc, MR), n_jp = ceil_div(nc, NR);
      if (ib != packed_ib) {
        for (int64_t p0 = 0; p0 < K; p0 += kc_step) {
          const int64_t kc = std::min(kc_step, K - p0);
          for (int64_t ip = 0; ip < n_ip; ++ip)
            pack_a_panel(trans_a, A, lda, i0 + ip * MR, std::min(MR, mc - ip * MR), p0, kc,
                         pa + p0 * mb + ip * MR * kc);
        }
        packed_ib = ib;
      }
      for (int64_t p0 = 0; p0 < K; p0 += kc_step) {
        const int64_t kc = std::min(kc_step, K - p0);
        const T beta_p = p0 == 0 ? beta : T(1);  // later K blocks accumulate onto the first
        for (int64_t jp = 0; jp < n_jp; ++jp)
          pack_b_panel(trans_b, B, ldb, p0, kc, j0 + jp * NR, std::min(NR, nc - jp * NR),
                       pb + jp * NR * kc);
        const T* pa_k = pa + p0 * mb;
        for (int64_t ip = 0; ip < n_ip; ++ip) {
          const int64_t mr = std::min(MR, mc - ip * MR);
          for (int64_t jp = 0; jp < n_jp; ++jp) {
            const int64_t nr = std::min(NR, nc - jp * NR);
            T* c = C + (i0 + ip * MR) * ldc + j0 + jp * NR;  // top-left of this (mr, nr) C tile
            if (mr == MR && nr == NR)
              micro_kernel<T>(kc, pa_k + ip * MR * kc, pb + jp * NR * kc, c, ldc, alpha, beta_p);
            else
              tile_kernel<T>(kc, pa_k + ip * MR * kc, pb + jp * NR * kc, c, ldc, mr, nr, alpha,
                             beta_p);
          }
        }
      }
    }
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
  gemm_driver(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, threads_for(work));
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
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)  // see gemm_driver
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
