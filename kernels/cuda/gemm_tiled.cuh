#pragma once
// The tiled GEMM core shared by gemm.cu and conv2d.cu (device code: include from .cu files only).
//
// C (M x N) = A (M x K) * B (K x N) per "z" (batch index x split-K chunk). Each 256-thread block
// computes a BM x BN tile of C; per step it stages a BM x BK slice of A and a BK x BN slice of B
// in shared memory (k-major, so the inner loop reads contiguous rows), and every thread keeps a
// (BM/16) x (BN/16) block of C in registers (register blocking: each shared-memory value loaded
// into a register is used BN/16 or BM/16 times). The operands are not raw matrices but
// "loaders", so the same core serves dense GEMM (with transposes, float4 loads where aligned)
// and the three convolutions as implicit GEMMs (im2col done on the fly, nothing materialized).
//
// A loader describes an operand as a (rows x K) matrix: A itself, or B transposed (rows = N).
// load4(z, r, k, rows, kend, v) fills v with 4 consecutive elements starting at (r, k), along k
// when kcontig() and along r otherwise, writing 0 outside [0, rows) x [.., kend).
#include <cstdint>
#include <type_traits>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/gemm.cuh"  // gemm_pipelining()

namespace fewshot::cuda::gemm_detail {

constexpr int kThreads = 256, kBK = 8;

template <typename T> struct DenseOperand {
  const T* p;
  int64_t ld;      // row stride of the stored matrix
  int64_t stride;  // elements between consecutive z (0 broadcasts one matrix)
  bool contig_k;   // element (r, k) at p[r * ld + k]; else at p[k * ld + r]
  bool vec;        // float4 loads allowed (16-byte aligned base, ld and stride multiples of 4)

  __device__ bool kcontig() const { return contig_k; }
  __device__ void load4(int64_t z, int64_t r, int64_t k, int64_t rows, int64_t kend, T (&v)[4]) const {
    const T* base = p + z * stride;
    if (contig_k) {
      if (r >= rows) {
#pragma unroll
        for (int j = 0; j < 4; ++j) v[j] = T(0);
        return;
      }
      const T* q = base + r * ld + k;
      if constexpr (std::is_same_v<T, float>) {
        if (vec && k + 3 < kend) {
          float4 f = *reinterpret_cast<const float4*>(q);
          v[0] = f.x, v[1] = f.y, v[2] = f.z, v[3] = f.w;
          return;
        }
      }
#pragma unroll
      for (int j = 0; j < 4; ++j) v[j] = k + j < kend ? q[j] : T(0);
    } else {
      if (k >= kend) {
#pragma unroll
        for (int j = 0; j < 4; ++j) v[j] = T(0);
        return;
      }
      const T* q = base + k * ld + r;
      if constexpr (std::is_same_v<T, float>) {
        if (vec && r + 3 < rows) {
          float4 f = *reinterpret_cast<const float4*>(q);
          v[0] = f.x, v[1] = f.y, v[2] = f.z, v[3] = f.w;
          return;
        }
      }
#pragma unroll
      for (int j = 0; j < 4; ++j) v[j] = r + j < rows ? q[j] : T(0);
    }
  }
};

// C[z] = alpha * acc + beta * C[z] (C not read when beta == 0).
template <typename T> struct DenseWriter {
  T* p;
  int64_t ld, stride;
  T alpha, beta;
  __device__ void store(int64_t z, int64_t /*split*/, int64_t m, int64_t n, T acc) const {
    T* c = p + z * stride + m * ld + n;
    *c = beta == T(0) ? alpha * acc : alpha * acc + beta * *c;
  }
};

// Split-K partial products: ws[(z * splits + split) * M * N + m * N + n] = acc; a second kernel
// adds the splits in order (deterministic, no atomics).
template <typename T> struct SplitWriter {
  T* ws;
  int64_t M, N;
  int64_t splits;
  __device__ void store(int64_t z, int64_t split, int64_t m, int64_t n, T acc) const {
    ws[((z * splits + split) * M + m) * N + n] = acc;
  }
};

// One thread's share of staging a (R x BK) slice of an operand, rows [r0, r0 + R), into a shared
// tile S[BK][R] (k-major): at most one group of 4 consecutive elements (R <= 128, so
// R * BK / 4 <= kThreads), along the operand's contiguous dimension so that loads coalesce.
// fetch() loads the group into registers, put() stores it; the pipelined kernel fetches the next
// slice before computing on the current one, so the global loads are in flight meanwhile.
template <int R, typename T, class L> struct Stager {
  static_assert(R * kBK / 4 <= kThreads, "one group per thread at most");
  T v[4] = {};  // (inactive threads never use it; initialized so no compiler must prove that)
  __device__ static bool active() { return threadIdx.x < R * (kBK / 4); }
  __device__ void fetch(const L& op, int64_t z, int64_t r0, int64_t k0, int64_t rows, int64_t kend) {
    const int e = threadIdx.x;
    if (!active()) return;
    if (op.kcontig())  // groups: R rows x (BK / 4) chunks along k
      op.load4(z, r0 + e / (kBK / 4), k0 + (e % (kBK / 4)) * 4, rows, kend, v);
    else  // groups: BK rows of k x (R / 4) chunks along r
      op.load4(z, r0 + (e % (R / 4)) * 4, k0 + e / (R / 4), rows, kend, v);
  }
  __device__ void put(const L& op, T (&S)[kBK][R]) const {
    const int e = threadIdx.x;
    if (!active()) return;
    if (op.kcontig()) {
      const int r = e / (kBK / 4), kc = (e % (kBK / 4)) * 4;
#pragma unroll
      for (int j = 0; j < 4; ++j) S[kc + j][r] = v[j];
    } else {
      const int k = e / (R / 4), rc = (e % (R / 4)) * 4;
#pragma unroll
      for (int j = 0; j < 4; ++j) S[k][rc + j] = v[j];
    }
  }
};

// Thread (ty, tx) of the 16 x 16 grid owns rows ty*4 + {0..3} (+64 per extra group of 4) and the
// same pattern of columns: neighbouring threads then read neighbouring shared-memory words and
// write neighbouring output columns.
__device__ inline int owned(int i, int t) { return (i / 4) * 64 + t * 4 + (i % 4); }

// Blocks per SM the compiler must leave room for (__launch_bounds__): 2 for float caps a thread at
// 128 registers (ptxas figures per tile in bench/README.md); bench_cuda_gemm also times 1 (no
// register cap, half the occupancy) on a GPU.
template <typename T> constexpr int kDefaultMinBlocks = sizeof(T) == 4 ? 2 : 1;

// zs = batch * splits z-slices; slice zz is batch zz / splits, K chunk zz % splits of length
// k_chunk (a multiple of kBK). Writes through W::store.
// Pipelined = false: per BK step, stage both slices, barrier, multiply, barrier.
// Pipelined = true: two shared buffers; per BK step, fetch the next slices into registers, multiply
// the current buffer, store the fetched slices into the other buffer, one barrier.
template <typename T, int BM, int BN, class LA, class LB, class W, int MinBlocks, bool Pipelined>
__global__ void __launch_bounds__(kThreads, MinBlocks)
    gemm_kernel(int64_t M, int64_t N, int64_t K, int64_t zs, int64_t splits, int64_t k_chunk, LA a, LB b, W w) {
  constexpr int TM = BM / 16, TN = BN / 16, kBuffers = Pipelined ? 2 : 1;
  __shared__ __align__(16) T As[kBuffers][kBK][BM];
  __shared__ __align__(16) T Bs[kBuffers][kBK][BN];
  Stager<BM, T, LA> sa;
  Stager<BN, T, LB> sb;
  const int ty = threadIdx.x / 16, tx = threadIdx.x % 16;
  const int64_t n0 = static_cast<int64_t>(blockIdx.x) * BN;
  // gridDim.y and gridDim.z are capped at 65535: blocks loop over the rest.
  for (int64_t m0 = static_cast<int64_t>(blockIdx.y) * BM; m0 < M; m0 += static_cast<int64_t>(gridDim.y) * BM)
  for (int64_t zz = blockIdx.z; zz < zs; zz += gridDim.z) {
    const int64_t z = zz / splits, split = zz % splits;
    const int64_t kbeg = split * k_chunk, kend = kbeg + k_chunk < K ? kbeg + k_chunk : K;
    T acc[TM][TN];
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
      for (int j = 0; j < TN; ++j) acc[i][j] = T(0);
    // Both operands' K slice starting at k: into registers, then into shared buffer buf.
    auto fetch = [&](int64_t k) {
      sa.fetch(a, z, m0, k, M, kend);
      sb.fetch(b, z, n0, k, N, kend);
    };
    auto put = [&](int buf) {
      sa.put(a, As[buf]);
      sb.put(b, Bs[buf]);
    };
    if (Pipelined && kbeg < kend) {  // the first slices
      fetch(kbeg);
      put(0);
      __syncthreads();
    }
    int cur = 0;
    for (int64_t k0 = kbeg; k0 < kend; k0 += kBK) {
      const bool more = k0 + kBK < kend;
      if (Pipelined && more) fetch(k0 + kBK);
      if (!Pipelined) {
        fetch(k0);
        put(0);
        __syncthreads();
      }
#pragma unroll
      for (int k = 0; k < kBK; ++k) {
        T ra[TM], rb[TN];
#pragma unroll
        for (int i = 0; i < TM; ++i) ra[i] = As[cur][k][owned(i, ty)];
#pragma unroll
        for (int j = 0; j < TN; ++j) rb[j] = Bs[cur][k][owned(j, tx)];
#pragma unroll
        for (int i = 0; i < TM; ++i)
#pragma unroll
          for (int j = 0; j < TN; ++j) acc[i][j] += ra[i] * rb[j];
      }
      if (Pipelined && more) {  // the other buffer was last read before the previous barrier
        put(cur ^ 1);
        cur ^= 1;
      }
      __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < TM; ++i) {
      int64_t m = m0 + owned(i, ty);
      if (m >= M) continue;
#pragma unroll
      for (int j = 0; j < TN; ++j) {
        int64_t n = n0 + owned(j, tx);
        if (n < N) w.store(z, split, m, n, acc[i][j]);
      }
    }
  }
}

// out[z, m, n] (+)= sum over splits of ws, in split order. Writes (beta == 0) or blends.
template <typename T>
__global__ void split_reduce_kernel(const T* __restrict__ ws, T* __restrict__ out, int64_t batch, int64_t splits,
                                    int64_t MN, int64_t out_stride) {
  FEWSHOT_CUDA_LOOP(t, batch * MN) {
    int64_t z = t / MN, mn = t % MN;
    const T* p = ws + z * splits * MN + mn;
    typename Acc<T>::type acc = 0;
    for (int64_t s = 0; s < splits; ++s) acc += p[s * MN];
    out[z * out_stride + mn] = static_cast<T>(acc);
  }
}

// Picks the tile shape (64 or 128 on each side: small M or N waste less of the tile) and
// launches; grid.z covers batch * splits (capped at 65535, the kernel loops beyond).
template <typename T, int MinBlocks = kDefaultMinBlocks<T>, class LA, class LB, class W>
void run(const char* op, int64_t M, int64_t N, int64_t K, int64_t batch, int64_t splits, int64_t k_chunk, const LA& a,
         const LB& b, const W& w, cudaStream_t s) {
  if (M <= 0 || N <= 0 || batch <= 0) return;
  int64_t zs = batch * splits;
  unsigned gz = static_cast<unsigned>(zs < 65535 ? zs : 65535);
  auto go = [&](auto bm, auto bn) {
    constexpr int BM = decltype(bm)::value, BN = decltype(bn)::value;
    int64_t gy = (M + BM - 1) / BM;
    dim3 grid(static_cast<unsigned>((N + BN - 1) / BN), static_cast<unsigned>(gy < 65535 ? gy : 65535), gz);
    if (gemm_pipelining())
      launch(op, gemm_kernel<T, BM, BN, LA, LB, W, MinBlocks, true>, grid, kThreads, 0, s, M, N, K, zs, splits, k_chunk,
             a, b, w);
    else
      launch(op, gemm_kernel<T, BM, BN, LA, LB, W, MinBlocks, false>, grid, kThreads, 0, s, M, N, K, zs, splits,
             k_chunk, a, b, w);
  };
  using S = std::integral_constant<int, 64>;
  using L = std::integral_constant<int, 128>;
  if (M <= 64 && N <= 64) go(S{}, S{});
  else if (M <= 64) go(S{}, L{});
  else if (N <= 64) go(L{}, S{});
  else go(L{}, L{});
}

}  // namespace fewshot::cuda::gemm_detail
