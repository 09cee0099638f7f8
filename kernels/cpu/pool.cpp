#include "kernels/cpu/pool.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/cpu/parallel.h"

namespace fewshot::cpu {

template <typename T> void max_pool2d(const PoolGeometry& g, const T* x, T* y, int64_t* indices) {
  parallel_for(g.planes, g.OH * g.OW * g.kernel * g.kernel, [&](int64_t p) {
    const T* plane = x + p * g.H * g.W;
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        T best = -std::numeric_limits<T>::infinity();
        int64_t arg = -1;
        for (int64_t kh = 0; kh < g.kernel; ++kh) {
          int64_t h = oh * g.stride - g.pad + kh;
          if (h < 0 || h >= g.H) continue;
          for (int64_t kw = 0; kw < g.kernel; ++kw) {
            int64_t w = ow * g.stride - g.pad + kw;
            if (w < 0 || w >= g.W) continue;
            T v = plane[h * g.W + w];
            if (arg < 0 || v > best || std::isnan(v)) {
              best = v;
              arg = h * g.W + w;
              if (std::isnan(v)) goto done;
            }
          }
        }
      done:
        int64_t o = (p * g.OH + oh) * g.OW + ow;
        y[o] = best;
        indices[o] = arg;
      }
  });
}

template <typename T> void avg_pool2d(const PoolGeometry& g, const T* x, T* y) {
  const T scale = T(1) / static_cast<T>(g.kernel * g.kernel);
  parallel_for(g.planes, g.OH * g.OW * g.kernel * g.kernel, [&](int64_t p) {
    const T* plane = x + p * g.H * g.W;
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        T acc = 0;
        for (int64_t kh = 0; kh < g.kernel; ++kh) {
          int64_t h = oh * g.stride - g.pad + kh;
          if (h < 0 || h >= g.H) continue;
          for (int64_t kw = 0; kw < g.kernel; ++kw) {
            int64_t w = ow * g.stride - g.pad + kw;
            if (w >= 0 && w < g.W) acc += plane[h * g.W + w];
          }
        }
        y[(p * g.OH + oh) * g.OW + ow] = acc * scale;
      }
  });
}

template <typename T> void avg_pool2d_backward(const PoolGeometry& g, const T* gy, T* gx) {
  const T scale = T(1) / static_cast<T>(g.kernel * g.kernel);
  parallel_for(g.planes, g.OH * g.OW * g.kernel * g.kernel, [&](int64_t p) {
    T* plane = gx + p * g.H * g.W;
    std::memset(plane, 0, sizeof(T) * g.H * g.W);
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        T v = gy[(p * g.OH + oh) * g.OW + ow] * scale;
        for (int64_t kh = 0; kh < g.kernel; ++kh) {
          int64_t h = oh * g.stride - g.pad + kh;
          if (h < 0 || h >= g.H) continue;
          for (int64_t kw = 0; kw < g.kernel; ++kw) {
            int64_t w = ow * g.stride - g.pad + kw;
            if (w >= 0 && w < g.W) plane[h * g.W + w] += v;
          }
        }
      }
  });
}

#define FEWSHOT_POOL_KERNELS(T)                                                      \
  template void max_pool2d<T>(const PoolGeometry&, const T*, T*, int64_t*);          \
  template void avg_pool2d<T>(const PoolGeometry&, const T*, T*);                    \
  template void avg_pool2d_backward<T>(const PoolGeometry&, const T*, T*);
FEWSHOT_POOL_KERNELS(float)
FEWSHOT_POOL_KERNELS(double)

}  // namespace fewshot::cpu
