#include "kernels/cuda/pool.cuh"

#include "kernels/cuda/common.cuh"

namespace fewshot::cuda {

namespace {

template <typename T>
__global__ void max_pool2d_kernel(PoolGeometry g, const T* __restrict__ x, T* __restrict__ y, int64_t* __restrict__ indices) {
  FEWSHOT_CUDA_LOOP(o, g.planes * g.OH * g.OW) {
    int64_t ow = o % g.OW, oh = (o / g.OW) % g.OH, p = o / (g.OW * g.OH);
    const T* plane = x + p * g.H * g.W;
    T best = T(0);
    int64_t arg = -1;
    bool stop = false;
    for (int64_t kh = 0; kh < g.kernel && !stop; ++kh) {
      int64_t h = oh * g.stride - g.pad + kh;
      if (h < 0 || h >= g.H) continue;
      for (int64_t kw = 0; kw < g.kernel; ++kw) {
        int64_t w = ow * g.stride - g.pad + kw;
        if (w < 0 || w >= g.W) continue;
        T v = plane[h * g.W + w];
        if (arg < 0 || v > best || isnan(v)) {
          best = v;
          arg = h * g.W + w;
          if (isnan(v)) {
            stop = true;
            break;
          }
        }
      }
    }
    // A window entirely in padding cannot happen (pad <= kernel / 2 is checked by the op).
    y[o] = arg < 0 ? -INFINITY : best;
    indices[o] = arg;
  }
}

template <typename T> __global__ void avg_pool2d_kernel(PoolGeometry g, const T* __restrict__ x, T* __restrict__ y) {
  const T scale = T(1) / static_cast<T>(g.kernel * g.kernel);
  FEWSHOT_CUDA_LOOP(o, g.planes * g.OH * g.OW) {
    int64_t ow = o % g.OW, oh = (o / g.OW) % g.OH, p = o / (g.OW * g.OH);
    const T* plane = x + p * g.H * g.W;
    T acc = 0;
    for (int64_t kh = 0; kh < g.kernel; ++kh) {
      int64_t h = oh * g.stride - g.pad + kh;
      if (h < 0 || h >= g.H) continue;
      for (int64_t kw = 0; kw < g.kernel; ++kw) {
        int64_t w = ow * g.stride - g.pad + kw;
        if (w >= 0 && w < g.W) acc += plane[h * g.W + w];
      }
    }
    y[o] = acc * scale;
  }
}

// gx[p, h, w] = sum over windows (oh, ow) containing (h, w) of gy[p, oh, ow] / k^2, in (oh, ow)
// order (the CPU kernel's order). Window oh covers rows [oh*s - pad, oh*s - pad + k).
template <typename T>
__global__ void avg_pool2d_backward_kernel(PoolGeometry g, const T* __restrict__ gy, T* __restrict__ gx) {
  const T scale = T(1) / static_cast<T>(g.kernel * g.kernel);
  FEWSHOT_CUDA_LOOP(i, g.planes * g.H * g.W) {
    int64_t w = i % g.W, h = (i / g.W) % g.H, p = i / (g.W * g.H);
    // oh*s <= h + pad  and  oh*s > h + pad - k
    int64_t hp = h + g.pad, wp = w + g.pad;
    int64_t oh_lo = hp - g.kernel + 1 > 0 ? (hp - g.kernel + 1 + g.stride - 1) / g.stride : 0;
    int64_t oh_hi = hp / g.stride < g.OH - 1 ? hp / g.stride : g.OH - 1;
    int64_t ow_lo = wp - g.kernel + 1 > 0 ? (wp - g.kernel + 1 + g.stride - 1) / g.stride : 0;
    int64_t ow_hi = wp / g.stride < g.OW - 1 ? wp / g.stride : g.OW - 1;
    const T* gp = gy + p * g.OH * g.OW;
    T acc = 0;
    for (int64_t oh = oh_lo; oh <= oh_hi; ++oh)
      for (int64_t ow = ow_lo; ow <= ow_hi; ++ow) acc += gp[oh * g.OW + ow] * scale;
    gx[i] = acc;
  }
}

}  // namespace

template <typename T> void max_pool2d(const PoolGeometry& g, const T* x, T* y, int64_t* indices, cudaStream_t s) {
  int64_t n = g.planes * g.OH * g.OW;
  if (n <= 0) return;
  launch("max_pool2d", max_pool2d_kernel<T>, grid_for(n), kBlock, 0, s, g, x, y, indices);
}

template <typename T> void avg_pool2d(const PoolGeometry& g, const T* x, T* y, cudaStream_t s) {
  int64_t n = g.planes * g.OH * g.OW;
  if (n <= 0) return;
  launch("avg_pool2d", avg_pool2d_kernel<T>, grid_for(n), kBlock, 0, s, g, x, y);
}

template <typename T> void avg_pool2d_backward(const PoolGeometry& g, const T* gy, T* gx, cudaStream_t s) {
  int64_t n = g.planes * g.H * g.W;
  if (n <= 0) return;
  launch("avg_pool2d_backward", avg_pool2d_backward_kernel<T>, grid_for(n), kBlock, 0, s, g, gy, gx);
}

#define FEWSHOT_CUDA_POOL(T)                                                                        \
  template void max_pool2d<T>(const PoolGeometry&, const T*, T*, int64_t*, cudaStream_t);           \
  template void avg_pool2d<T>(const PoolGeometry&, const T*, T*, cudaStream_t);                     \
  template void avg_pool2d_backward<T>(const PoolGeometry&, const T*, T*, cudaStream_t);
FEWSHOT_CUDA_POOL(float)
FEWSHOT_CUDA_POOL(double)

}  // namespace fewshot::cuda
