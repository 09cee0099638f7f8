// Elementwise kernels: one thread per output element in a grid-stride loop. Math follows
// kernels/cpu/elementwise.cpp exactly (same formulas, same special cases), so CUDA and CPU agree
// to rounding. All kernels write (=) their output.
#include "kernels/cuda/elementwise.cuh"

#include "kernels/cuda/common.cuh"

namespace fewshot::cuda {

namespace {

__device__ inline float d_exp(float v) { return expf(v); }
__device__ inline double d_exp(double v) { return exp(v); }
__device__ inline float d_log(float v) { return logf(v); }
__device__ inline double d_log(double v) { return log(v); }
__device__ inline float d_sqrt(float v) { return sqrtf(v); }
__device__ inline double d_sqrt(double v) { return sqrt(v); }
__device__ inline float d_tanh(float v) { return tanhf(v); }
__device__ inline double d_tanh(double v) { return tanh(v); }
__device__ inline float d_pow(float v, float e) { return powf(v, e); }
__device__ inline double d_pow(double v, double e) { return pow(v, e); }
__device__ inline float d_abs(float v) { return fabsf(v); }
__device__ inline double d_abs(double v) { return fabs(v); }

template <typename T> __device__ inline T apply_unary(Unary op, T v, T a, T b, bool square, bool reciprocal) {
  switch (op) {
    case Unary::Neg: return -v;
    case Unary::Exp: return d_exp(v);
    case Unary::Log: return d_log(v);
    case Unary::Sqrt: return d_sqrt(v);
    case Unary::Relu: return v > T(0) ? v : T(0);
    case Unary::Tanh: return d_tanh(v);
    case Unary::Sigmoid: return T(1) / (T(1) + d_exp(-v));
    case Unary::Affine: return a * v + b;
    case Unary::PowScalar: return square ? v * v : reciprocal ? T(1) / v : d_pow(v, a);
    case Unary::StepGt: return v > a ? T(1) : T(0);
    case Unary::Abs: return d_abs(v);
  }
  return v;
}

template <typename T> __device__ inline T apply_binary(Binary op, T x, T y) {
  switch (op) {
    case Binary::Add: return x + y;
    case Binary::Sub: return x - y;
    case Binary::Mul: return x * y;
    case Binary::Div: return x / y;
    case Binary::Pow: return d_pow(x, y);
    case Binary::Eq: return x == y ? T(1) : T(0);
  }
  return x;
}

template <typename T>
__global__ void unary_kernel(Unary op, const T* __restrict__ x, T* __restrict__ out, int64_t n, T a, T b, bool square,
                             bool reciprocal) {
  FEWSHOT_CUDA_LOOP(i, n) { out[i] = apply_unary(op, x[i], a, b, square, reciprocal); }
}

// Strides (in elements) of each operand aligned to the output's dims, 0 where broadcast.
struct Broadcast {
  int64_t out[5];
  int64_t sa[5];
  int64_t sb[5];
  int n;
};

void broadcast_strides(const Dims& dims, const Dims& out, int64_t* strides) {
  int64_t s = 1;
  for (int i = out.n - 1; i >= 0; --i) {
    int j = i - (out.n - dims.n);
    if (j >= 0 && dims.d[j] != 1) {
      strides[i] = s;
      s *= dims.d[j];
    } else {
      strides[i] = 0;
      if (j >= 0) s *= dims.d[j];
    }
  }
}

int64_t numel(const Dims& d) {
  int64_t p = 1;
  for (int i = 0; i < d.n; ++i) p *= d.d[i];
  return p;
}

template <typename T>
__global__ void binary_same_kernel(Binary op, const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ out,
                                   int64_t n) {
  FEWSHOT_CUDA_LOOP(i, n) { out[i] = apply_binary(op, a[i], b[i]); }
}

template <typename T>
__global__ void binary_bcast_kernel(Binary op, const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ out,
                                    int64_t n, Broadcast bc) {
  FEWSHOT_CUDA_LOOP(i, n) {
    int64_t rem = i, oa = 0, ob = 0;
    for (int d = bc.n - 1; d >= 0; --d) {
      int64_t k = rem % bc.out[d];
      rem /= bc.out[d];
      oa += k * bc.sa[d];
      ob += k * bc.sb[d];
    }
    out[i] = apply_binary(op, a[oa], b[ob]);
  }
}

template <typename T>
__global__ void expand_kernel(const T* __restrict__ x, T* __restrict__ out, int64_t n, Broadcast bc) {
  FEWSHOT_CUDA_LOOP(i, n) {
    int64_t rem = i, ox = 0;
    for (int d = bc.n - 1; d >= 0; --d) {
      int64_t k = rem % bc.out[d];
      rem /= bc.out[d];
      ox += k * bc.sa[d];
    }
    out[i] = x[ox];
  }
}

template <typename T> __global__ void fill_kernel(T* __restrict__ out, int64_t n, T value) {
  FEWSHOT_CUDA_LOOP(i, n) { out[i] = value; }
}

template <typename S, typename D> __global__ void cast_kernel(const S* __restrict__ src, D* __restrict__ dst, int64_t n) {
  FEWSHOT_CUDA_LOOP(i, n) { dst[i] = static_cast<D>(src[i]); }
}

template <typename T>
__global__ void copy_blocks_kernel(const T* __restrict__ src, int64_t src_ld, T* __restrict__ dst, int64_t dst_ld,
                                   int64_t rows, int64_t cols) {
  FEWSHOT_CUDA_LOOP(i, rows * cols) {
    int64_t r = i / cols, c = i % cols;
    dst[r * dst_ld + c] = src[r * src_ld + c];
  }
}

constexpr int kTile = 32, kRows = 8;  // 32x32 tile, 32x8 threads, each thread moves 4 elements

// x (batch, R, C) -> out (batch, C, R). The +1 column of padding keeps the column reads of the
// shared tile free of bank conflicts.
template <typename T>
__global__ void transpose_kernel(const T* __restrict__ x, T* __restrict__ out, int64_t batch, int64_t R, int64_t C) {
  __shared__ T tile[kTile][kTile + 1];
  const int64_t c0 = static_cast<int64_t>(blockIdx.x) * kTile;
  // gridDim.y and gridDim.z are capped at 65535: blocks loop over further row tiles and batches.
  for (int64_t r0 = static_cast<int64_t>(blockIdx.y) * kTile; r0 < R; r0 += static_cast<int64_t>(gridDim.y) * kTile)
  for (int64_t b = blockIdx.z; b < batch; b += gridDim.z) {
    const T* xb = x + b * R * C;
    T* ob = out + b * R * C;
    for (int j = threadIdx.y; j < kTile; j += kRows) {
      int64_t r = r0 + j, c = c0 + threadIdx.x;
      if (r < R && c < C) tile[j][threadIdx.x] = xb[r * C + c];
    }
    __syncthreads();
    for (int j = threadIdx.y; j < kTile; j += kRows) {
      int64_t c = c0 + j, r = r0 + threadIdx.x;  // out row c, column r
      if (r < R && c < C) ob[c * R + r] = tile[threadIdx.x][j];
    }
    __syncthreads();
  }
}

}  // namespace

template <typename T> void unary(Unary op, const T* x, T* out, int64_t n, double a, double b, cudaStream_t s) {
  if (n <= 0) return;
  bool square = op == Unary::PowScalar && a == 2.0, reciprocal = op == Unary::PowScalar && a == -1.0;
  launch("unary", unary_kernel<T>, grid_for(n), kBlock, 0, s, op, x, out, n, static_cast<T>(a), static_cast<T>(b),
         square, reciprocal);
}

template <typename T>
void binary(Binary op, const T* a, const Dims& ad, const T* b, const Dims& bd, T* out, const Dims& od,
            cudaStream_t s) {
  int64_t n = numel(od);
  if (n <= 0) return;
  if (numel(ad) == n && numel(bd) == n) {
    launch("binary", binary_same_kernel<T>, grid_for(n), kBlock, 0, s, op, a, b, out, n);
    return;
  }
  Broadcast bc{};
  bc.n = od.n;
  for (int i = 0; i < od.n; ++i) bc.out[i] = od.d[i];
  broadcast_strides(ad, od, bc.sa);
  broadcast_strides(bd, od, bc.sb);
  launch("binary (broadcast)", binary_bcast_kernel<T>, grid_for(n), kBlock, 0, s, op, a, b, out, n, bc);
}

template <typename T> void expand(const T* x, const Dims& xd, T* out, const Dims& od, cudaStream_t s) {
  int64_t n = numel(od);
  if (n <= 0) return;
  Broadcast bc{};
  bc.n = od.n;
  for (int i = 0; i < od.n; ++i) bc.out[i] = od.d[i];
  broadcast_strides(xd, od, bc.sa);
  launch("expand", expand_kernel<T>, grid_for(n), kBlock, 0, s, x, out, n, bc);
}

template <typename T> void fill(T* out, int64_t n, T value, cudaStream_t s) {
  if (n <= 0) return;
  launch("fill", fill_kernel<T>, grid_for(n), kBlock, 0, s, out, n, value);
}

template <typename S, typename D> void cast(const S* src, D* dst, int64_t n, cudaStream_t s) {
  if (n <= 0) return;
  launch("cast", cast_kernel<S, D>, grid_for(n), kBlock, 0, s, src, dst, n);
}

template <typename T>
void copy_blocks(const T* src, int64_t src_ld, T* dst, int64_t dst_ld, int64_t rows, int64_t cols, cudaStream_t s) {
  if (rows <= 0 || cols <= 0) return;
  launch("copy_blocks", copy_blocks_kernel<T>, grid_for(rows * cols), kBlock, 0, s, src, src_ld, dst, dst_ld, rows,
         cols);
}

template <typename T> void transpose_last2(const T* x, T* out, int64_t batch, int64_t R, int64_t C, cudaStream_t s) {
  if (batch <= 0 || R <= 0 || C <= 0) return;
  int64_t row_tiles = (R + kTile - 1) / kTile;
  dim3 grid(static_cast<unsigned>((C + kTile - 1) / kTile), static_cast<unsigned>(row_tiles < 65535 ? row_tiles : 65535),
            static_cast<unsigned>(batch < 65535 ? batch : 65535));
  launch("transpose", transpose_kernel<T>, grid, dim3(kTile, kRows), 0, s, x, out, batch, R, C);
}

#define FEWSHOT_CUDA_FLOAT(T)                                                                                    \
  template void unary<T>(Unary, const T*, T*, int64_t, double, double, cudaStream_t);                            \
  template void binary<T>(Binary, const T*, const Dims&, const T*, const Dims&, T*, const Dims&, cudaStream_t);
FEWSHOT_CUDA_FLOAT(float)
FEWSHOT_CUDA_FLOAT(double)
#define FEWSHOT_CUDA_ANY(T)                                                                                      \
  template void expand<T>(const T*, const Dims&, T*, const Dims&, cudaStream_t);                                 \
  template void fill<T>(T*, int64_t, T, cudaStream_t);                                                           \
  template void copy_blocks<T>(const T*, int64_t, T*, int64_t, int64_t, int64_t, cudaStream_t);                  \
  template void transpose_last2<T>(const T*, T*, int64_t, int64_t, int64_t, cudaStream_t);
FEWSHOT_CUDA_ANY(float)
FEWSHOT_CUDA_ANY(double)
FEWSHOT_CUDA_ANY(int64_t)
template void cast<float, double>(const float*, double*, int64_t, cudaStream_t);
template void cast<double, float>(const double*, float*, int64_t, cudaStream_t);
template void cast<float, int64_t>(const float*, int64_t*, int64_t, cudaStream_t);
template void cast<double, int64_t>(const double*, int64_t*, int64_t, cudaStream_t);
template void cast<int64_t, float>(const int64_t*, float*, int64_t, cudaStream_t);
template void cast<int64_t, double>(const int64_t*, double*, int64_t, cudaStream_t);

}  // namespace fewshot::cuda
