// Implicit-GEMM convolutions. Per group g (the GEMM's z index):
//   forward      y[n, g*OCg + oc, p]  = sum_{c,kh,kw} w[g*OCg + oc, c, kh, kw] * x[n, g*Cg + c, p*s - pad + (kh, kw)]
//                GEMM M = OCg, N = images * OH * OW, K = Cg * KH * KW
//   input grad   gx[n, g*Cg + c, q]    = sum_{oc,kh,kw} w[g*OCg + oc, c, kh, kw] * gy[n, g*OCg + oc, (q + pad - (kh, kw)) / s]
//                GEMM M = Cg, N = images * H * W, K = OCg * KH * KW (terms whose division is not exact vanish)
//   weight grad  gw[g*OCg + oc, c, kh, kw] = sum_{n,p} gy[n, g*OCg + oc, p] * x[n, g*Cg + c, p*s - pad + (kh, kw)]
//                GEMM M = OCg, N = Cg * KH * KW, K = images * OH * OW, split along K when M * N is small
// Index decomposition uses 32-bit arithmetic (64-bit division is emulated and would dominate);
// element offsets are 64-bit. Pixel counts must fit in 31 bits (checked).
#include "kernels/cuda/conv2d.cuh"

#include "kernels/cuda/gemm_tiled.cuh"

namespace fewshot::cuda {

namespace {

using gemm_detail::kBK;

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

struct Geo32 {
  int C, H, W, OC, KH, KW, sh, sw, ph, pw, Cg, OCg, OH, OW;
};

Geo32 geo32(const ConvGeometry& g) {
  return {static_cast<int>(g.C), static_cast<int>(g.H), static_cast<int>(g.W), static_cast<int>(g.OC),
          static_cast<int>(g.KH), static_cast<int>(g.KW), static_cast<int>(g.stride_h), static_cast<int>(g.stride_w),
          static_cast<int>(g.pad_h), static_cast<int>(g.pad_w), static_cast<int>(g.C / g.groups),
          static_cast<int>(g.OC / g.groups), static_cast<int>(g.OH), static_cast<int>(g.OW)};
}

// The pieces every loader below is made of.
template <typename T> __device__ inline void zero4(T (&v)[4]) {
#pragma unroll
  for (int j = 0; j < 4; ++j) v[j] = T(0);
}

// A filter tap: GEMM index kk = (ch * KH + kh) * KW + kw, where ch is an input channel (forward,
// weight grad) or an output channel (input grad).
struct Tap {
  int ch, kh, kw;
};
__device__ inline Tap tap_of(int kk, const Geo32& g) {
  const int KK = g.KH * g.KW, ch = kk / KK, rem = kk - ch * KK, kh = rem / g.KW;
  return {ch, kh, rem - kh * g.KW};
}

// A pixel (img, y, x) of a rows x cols image, from its flat index; next() walks in memory order.
// Decomposed once per load4, then stepped: 64-bit division is slow on a GPU, 32-bit is not free.
struct Pixel {
  int img, y, x;
  __device__ Pixel(int flat, int rows, int cols) {
    const int plane = rows * cols;
    img = flat / plane;
    const int q = flat - img * plane;
    y = q / cols;
    x = q - y * cols;
  }
  __device__ void next(int rows, int cols) {
    if (++x == cols) {
      x = 0;
      if (++y == rows) y = 0, ++img;
    }
  }
};

// x[img, z*Cg + c, h, w] of group z, 0 in the padding.
template <typename T> __device__ inline T input_at(const T* x, const Geo32& g, int64_t z, int img, int c, int h, int w) {
  if (h < 0 || h >= g.H || w < 0 || w >= g.W) return T(0);
  return x[((static_cast<int64_t>(img) * g.C + z * g.Cg + c) * g.H + h) * g.W + w];
}

// Forward B^T: rows are output pixels (img, oh, ow), k is (c, kh, kw); contiguous along pixels.
template <typename T> struct FwdIm2col {
  const T* x;
  Geo32 g;
  __device__ bool kcontig() const { return false; }
  __device__ void load4(int64_t z, int64_t r, int64_t k, int64_t rows, int64_t kend, T (&v)[4]) const {
    if (k >= kend) return zero4(v);
    const Tap t = tap_of(static_cast<int>(k), g);
    Pixel p(static_cast<int>(r), g.OH, g.OW);
#pragma unroll
    for (int j = 0; j < 4; ++j, p.next(g.OH, g.OW))
      v[j] = r + j < rows ? input_at(x, g, z, p.img, t.ch, p.y * g.sh - g.ph + t.kh, p.x * g.sw - g.pw + t.kw) : T(0);
  }
};

// Writes the GEMM's (channel m of group z, pixel n) into an NCHW tensor: the output y of the
// forward (channels OC, planes OH x OW) or the input gradient gx (channels C, planes H x W).
template <typename T> struct ImageWriter {
  T* out;
  int channels, group_channels, plane;
  __device__ void store(int64_t z, int64_t, int64_t m, int64_t n, T acc) const {
    const int nn = static_cast<int>(n), img = nn / plane, q = nn - img * plane;
    out[(static_cast<int64_t>(img) * channels + z * group_channels + m) * plane + q] = acc;
  }
};

// Input grad A: rows are input channels c, k is (oc, kh, kw): w[(g*OCg + oc), c, kh, kw].
template <typename T> struct IgWeights {
  const T* w;
  Geo32 g;
  __device__ bool kcontig() const { return true; }
  __device__ void load4(int64_t z, int64_t r, int64_t k, int64_t rows, int64_t kend, T (&v)[4]) const {
    const int KK = g.KH * g.KW;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      T val = T(0);
      if (r < rows && k + j < kend) {
        int kk = static_cast<int>(k) + j, oc = kk / KK, rem = kk - oc * KK;
        val = w[((static_cast<int64_t>(z) * g.OCg + oc) * g.Cg + r) * KK + rem];
      }
      v[j] = val;
    }
  }
};

// Input grad B^T: rows are input pixels (img, h, w), k is (oc, kh, kw); contiguous along pixels.
// Pixel (h, w) receives gy[oh, ow] through tap (kh, kw) when h = oh*s - pad + kh, i.e. when
// (h + pad - kh) is a non-negative multiple of s whose quotient is inside the output.
template <typename T> struct IgGather {
  const T* gy;
  Geo32 g;
  __device__ bool kcontig() const { return false; }
  __device__ void load4(int64_t z, int64_t r, int64_t k, int64_t rows, int64_t kend, T (&v)[4]) const {
    if (k >= kend) return zero4(v);
    const Tap t = tap_of(static_cast<int>(k), g);
    Pixel p(static_cast<int>(r), g.H, g.W);
#pragma unroll
    for (int j = 0; j < 4; ++j, p.next(g.H, g.W)) {
      T val = T(0);
      const int th = p.y + g.ph - t.kh, tw = p.x + g.pw - t.kw;
      if (r + j < rows && th >= 0 && tw >= 0) {
        const int oh = th / g.sh, ow = tw / g.sw;
        if (oh * g.sh == th && ow * g.sw == tw && oh < g.OH && ow < g.OW)
          val = gy[((static_cast<int64_t>(p.img) * g.OC + z * g.OCg + t.ch) * g.OH + oh) * g.OW + ow];
      }
      v[j] = val;
    }
  }
};

// Weight grad A: rows are output channels oc, k is (img, p): gy[img, g*OCg + oc, p].
template <typename T> struct WgGrad {
  const T* gy;
  Geo32 g;
  __device__ bool kcontig() const { return true; }
  __device__ void load4(int64_t z, int64_t r, int64_t k, int64_t rows, int64_t kend, T (&v)[4]) const {
    if (r >= rows) return zero4(v);
    const int ohw = g.OH * g.OW;
    int kk = static_cast<int>(k), img = kk / ohw, p = kk - img * ohw;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      v[j] = k + j < kend ? gy[(static_cast<int64_t>(img) * g.OC + z * g.OCg + r) * ohw + p] : T(0);
      if (++p == ohw) p = 0, ++img;
    }
  }
};

// Weight grad B^T: rows are (c, kh, kw), k is (img, oh, ow): x[img, g*Cg + c, oh*s - pad + kh, ...].
template <typename T> struct WgIm2col {
  const T* x;
  Geo32 g;
  __device__ bool kcontig() const { return true; }
  __device__ void load4(int64_t z, int64_t r, int64_t k, int64_t rows, int64_t kend, T (&v)[4]) const {
    if (r >= rows) return zero4(v);
    const Tap t = tap_of(static_cast<int>(r), g);
    Pixel p(static_cast<int>(k), g.OH, g.OW);
#pragma unroll
    for (int j = 0; j < 4; ++j, p.next(g.OH, g.OW))
      v[j] = k + j < kend ? input_at(x, g, z, p.img, t.ch, p.y * g.sh - g.ph + t.kh, p.x * g.sw - g.pw + t.kw) : T(0);
  }
};

void check_sizes(const char* op, const ConvGeometry& g) {
  // 32-bit index decomposition: every pixel count and GEMM dimension must stay below 2^31.
  const int64_t limit = int64_t(1) << 31;
  if (g.N * g.OH * g.OW >= limit || g.N * g.H * g.W >= limit || g.C * g.KH * g.KW >= limit ||
      g.OC * g.KH * g.KW >= limit)
    fail(op, cudaErrorInvalidValue, "pixel count >= 2^31 (too large for 32-bit index decomposition)", __FILE__,
         __LINE__);
}

// Split-K for the weight gradient: a shape-only rule (never the device), so the summation order
// and therefore the bits are the same on every run and every GPU.
struct Split {
  int64_t splits, k_chunk;
};
Split weight_grad_split(const ConvGeometry& g) {
  int64_t M = g.OC / g.groups, N = (g.C / g.groups) * g.KH * g.KW, K = g.N * g.OH * g.OW;
  int64_t tiles = ((M + 63) / 64) * ((N + 127) / 128) * g.groups;
  int64_t splits = 1;
  if (tiles < 512) {
    splits = (512 + tiles - 1) / tiles;
    int64_t max_splits = (K + 511) / 512;  // keep at least 512 products per split
    if (splits > max_splits) splits = max_splits;
    if (splits < 1) splits = 1;
  }
  int64_t k_chunk = ((K + splits - 1) / splits + kBK - 1) / kBK * kBK;
  splits = (K + k_chunk - 1) / k_chunk;
  return {splits, k_chunk};
}

int64_t round_k(int64_t K) { return K > 0 ? (K + kBK - 1) / kBK * kBK : kBK; }

}  // namespace

template <typename T> void conv2d_forward(const ConvGeometry& g, const T* x, const T* w, T* y, cudaStream_t s) {
  check_sizes("conv2d_forward", g);
  Geo32 g32 = geo32(g);
  int64_t M = g32.OCg, N = g.N * g.OH * g.OW, K = static_cast<int64_t>(g32.Cg) * g.KH * g.KW;
  gemm_detail::DenseOperand<T> a{w, K, M * K, true, aligned16(w) && K % 4 == 0};
  gemm_detail::run<T>("conv2d_forward", M, N, K, g.groups, 1, round_k(K), a, FwdIm2col<T>{x, g32},
                      ImageWriter<T>{y, g32.OC, g32.OCg, g32.OH * g32.OW}, s);
}

template <typename T> void conv2d_input_grad(const ConvGeometry& g, const T* gy, const T* w, T* gx, cudaStream_t s) {
  check_sizes("conv2d_input_grad", g);
  Geo32 g32 = geo32(g);
  int64_t M = g32.Cg, N = g.N * g.H * g.W, K = static_cast<int64_t>(g32.OCg) * g.KH * g.KW;
  gemm_detail::run<T>("conv2d_input_grad", M, N, K, g.groups, 1, round_k(K), IgWeights<T>{w, g32},
                      IgGather<T>{gy, g32}, ImageWriter<T>{gx, g32.C, g32.Cg, g32.H * g32.W}, s);
}

int64_t conv2d_weight_grad_workspace_bytes(const ConvGeometry& g, int64_t element_size) {
  Split sp = weight_grad_split(g);
  if (sp.splits == 1) return 0;
  return element_size * sp.splits * g.OC * (g.C / g.groups) * g.KH * g.KW;
}

template <typename T>
void conv2d_weight_grad(const ConvGeometry& g, const T* x, const T* gy, T* gw, void* workspace, cudaStream_t s) {
  check_sizes("conv2d_weight_grad", g);
  Geo32 g32 = geo32(g);
  int64_t M = g32.OCg, N = static_cast<int64_t>(g32.Cg) * g.KH * g.KW, K = g.N * g.OH * g.OW;
  Split sp = weight_grad_split(g);
  if (K == 0) {  // no output pixels: the gradient is zero
    FEWSHOT_CUDA_CHECK("conv2d_weight_grad", cudaMemsetAsync(gw, 0, sizeof(T) * g.OC * N, s));
    return;
  }
  if (sp.splits == 1) {
    gemm_detail::DenseWriter<T> w{gw, N, M * N, T(1), T(0)};
    gemm_detail::run<T>("conv2d_weight_grad", M, N, K, g.groups, 1, sp.k_chunk, WgGrad<T>{gy, g32},
                        WgIm2col<T>{x, g32}, w, s);
    return;
  }
  T* ws = static_cast<T*>(workspace);
  gemm_detail::SplitWriter<T> w{ws, M, N, sp.splits};
  gemm_detail::run<T>("conv2d_weight_grad (split-K)", M, N, K, g.groups, sp.splits, sp.k_chunk, WgGrad<T>{gy, g32},
                      WgIm2col<T>{x, g32}, w, s);
  launch("conv2d_weight_grad (split-K sum)", gemm_detail::split_reduce_kernel<T>, grid_for(g.groups * M * N), kBlock,
         0, s, ws, gw, g.groups, sp.splits, M * N, M * N);
}

#define FEWSHOT_CUDA_CONV(T)                                                                              \
  template void conv2d_forward<T>(const ConvGeometry&, const T*, const T*, T*, cudaStream_t);             \
  template void conv2d_input_grad<T>(const ConvGeometry&, const T*, const T*, T*, cudaStream_t);          \
  template void conv2d_weight_grad<T>(const ConvGeometry&, const T*, const T*, T*, void*, cudaStream_t);
FEWSHOT_CUDA_CONV(float)
FEWSHOT_CUDA_CONV(double)

}  // namespace fewshot::cuda
