// Placeholder direct convolution; replaced by im2col + blocked GEMM from the kernels branch.
#include "kernels/cpu/conv2d.h"

#include <cstring>
#include <stdexcept>

#include "kernels/cpu/parallel.h"

namespace fewshot::cpu {

Conv2dGeometry conv2d_geometry(int64_t N, int64_t C, int64_t H, int64_t W, int64_t OC, int64_t KH, int64_t KW,
                               int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t groups) {
  Conv2dGeometry g{N, C, H, W, OC, KH, KW, sh, sw, ph, pw, groups, 0, 0};
  if (groups < 1 || C % groups || OC % groups) throw std::invalid_argument("conv2d_geometry: bad groups");
  g.OH = (H + 2 * ph - KH) / sh + 1;
  g.OW = (W + 2 * pw - KW) / sw + 1;
  if (g.OH < 1 || g.OW < 1) throw std::invalid_argument("conv2d_geometry: empty output");
  return g;
}

template <typename T> void conv2d_forward(const Conv2dGeometry& g, const T* x, const T* w, T* y) {
  int64_t Cg = g.C / g.groups, OCg = g.OC / g.groups;
  parallel_for(g.N * g.OC, g.OH * g.OW * Cg * g.KH * g.KW, [&](int64_t no) {
    int64_t n = no / g.OC, oc = no % g.OC, grp = oc / OCg;
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        T acc = 0;
        for (int64_t c = 0; c < Cg; ++c)
          for (int64_t kh = 0; kh < g.KH; ++kh) {
            int64_t h = oh * g.stride_h - g.pad_h + kh;
            if (h < 0 || h >= g.H) continue;
            for (int64_t kw = 0; kw < g.KW; ++kw) {
              int64_t ww = ow * g.stride_w - g.pad_w + kw;
              if (ww < 0 || ww >= g.W) continue;
              acc += x[((n * g.C + grp * Cg + c) * g.H + h) * g.W + ww] * w[((oc * Cg + c) * g.KH + kh) * g.KW + kw];
            }
          }
        y[((n * g.OC + oc) * g.OH + oh) * g.OW + ow] = acc;
      }
  });
}

template <typename T> void conv2d_input_grad(const Conv2dGeometry& g, const T* gy, const T* w, T* gx) {
  int64_t Cg = g.C / g.groups, OCg = g.OC / g.groups;
  std::memset(gx, 0, sizeof(T) * g.N * g.C * g.H * g.W);
  parallel_for(g.N, g.OC * g.OH * g.OW * Cg * g.KH * g.KW, [&](int64_t n) {
    for (int64_t oc = 0; oc < g.OC; ++oc) {
      int64_t grp = oc / OCg;
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          T v = gy[((n * g.OC + oc) * g.OH + oh) * g.OW + ow];
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t kh = 0; kh < g.KH; ++kh) {
              int64_t h = oh * g.stride_h - g.pad_h + kh;
              if (h < 0 || h >= g.H) continue;
              for (int64_t kw = 0; kw < g.KW; ++kw) {
                int64_t ww = ow * g.stride_w - g.pad_w + kw;
                if (ww < 0 || ww >= g.W) continue;
                gx[((n * g.C + grp * Cg + c) * g.H + h) * g.W + ww] += v * w[((oc * Cg + c) * g.KH + kh) * g.KW + kw];
              }
            }
        }
    }
  });
}

template <typename T> void conv2d_weight_grad(const Conv2dGeometry& g, const T* x, const T* gy, T* gw) {
  int64_t Cg = g.C / g.groups, OCg = g.OC / g.groups;
  parallel_for(g.OC, g.N * g.OH * g.OW * Cg * g.KH * g.KW, [&](int64_t oc) {
    int64_t grp = oc / OCg;
    for (int64_t c = 0; c < Cg; ++c)
      for (int64_t kh = 0; kh < g.KH; ++kh)
        for (int64_t kw = 0; kw < g.KW; ++kw) {
          T acc = 0;
          for (int64_t n = 0; n < g.N; ++n)
            for (int64_t oh = 0; oh < g.OH; ++oh) {
              int64_t h = oh * g.stride_h - g.pad_h + kh;
              if (h < 0 || h >= g.H) continue;
              for (int64_t ow = 0; ow < g.OW; ++ow) {
                int64_t ww = ow * g.stride_w - g.pad_w + kw;
                if (ww < 0 || ww >= g.W) continue;
                acc += x[((n * g.C + grp * Cg + c) * g.H + h) * g.W + ww] * gy[((n * g.OC + oc) * g.OH + oh) * g.OW + ow];
              }
            }
          gw[((oc * Cg + c) * g.KH + kh) * g.KW + kw] = acc;
        }
  });
}

#define FEWSHOT_CONV_KERNELS(T)                                                           \
  template void conv2d_forward<T>(const Conv2dGeometry&, const T*, const T*, T*);         \
  template void conv2d_input_grad<T>(const Conv2dGeometry&, const T*, const T*, T*);      \
  template void conv2d_weight_grad<T>(const Conv2dGeometry&, const T*, const T*, T*);
FEWSHOT_CONV_KERNELS(float)
FEWSHOT_CONV_KERNELS(double)

}  // namespace fewshot::cpu
