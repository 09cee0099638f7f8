// Naive 7-loop convolution references, shared by tests/kernels/test_conv2d.cpp and
// bench/conv2d.cpp. Straight from the definition y[n,oc,oh,ow] = sum_{c,kh,kw}
// x[n, g*Cg + c, oh*sh - ph + kh, ow*sw - pw + kw] * w[oc, c, kh, kw]; Acc is the accumulator
// type (double for tests, T for the speed baseline). Not part of the library on purpose.
#pragma once

#include <cstdint>

#include "kernels/cpu/conv2d.h"

namespace fewshot::cpu::reference {

// x (N, C, H, W), w (OC, C/G, KH, KW) -> y (N, OC, OH, OW). WRITES y.
template <typename T, typename Acc = double>
void conv2d_forward_naive(const Conv2dGeometry& g, const T* x, const T* w, T* y) {
  const int64_t Cg = g.C / g.groups, OCg = g.OC / g.groups;
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t oc = 0; oc < g.OC; ++oc) {
      const int64_t c0 = (oc / OCg) * Cg;  // first input channel of oc's group
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          Acc acc = 0;
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t kh = 0; kh < g.KH; ++kh)
              for (int64_t kw = 0; kw < g.KW; ++kw) {
                const int64_t ih = oh * g.stride_h - g.pad_h + kh;
                const int64_t iw = ow * g.stride_w - g.pad_w + kw;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                acc += Acc(x[((n * g.C + c0 + c) * g.H + ih) * g.W + iw]) *
                       Acc(w[((oc * Cg + c) * g.KH + kh) * g.KW + kw]);
              }
          y[((n * g.OC + oc) * g.OH + oh) * g.OW + ow] = T(acc);
        }
    }
}

// gx = dL/dx: each x element gathers gy * w over the windows that read it. WRITES gx.
template <typename T, typename Acc = double>
void conv2d_input_grad_naive(const Conv2dGeometry& g, const T* gy, const T* w, T* gx) {
  const int64_t Cg = g.C / g.groups, OCg = g.OC / g.groups;
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t ci = 0; ci < g.C; ++ci) {
      const int64_t grp = ci / Cg, c = ci % Cg;
      for (int64_t ih = 0; ih < g.H; ++ih)
        for (int64_t iw = 0; iw < g.W; ++iw) {
          Acc acc = 0;
          for (int64_t oc = grp * OCg; oc < (grp + 1) * OCg; ++oc)
            for (int64_t kh = 0; kh < g.KH; ++kh)
              for (int64_t kw = 0; kw < g.KW; ++kw) {
                const int64_t th = ih + g.pad_h - kh, tw = iw + g.pad_w - kw;  // oh*sh, ow*sw
                if (th < 0 || tw < 0 || th % g.stride_h || tw % g.stride_w) continue;
                const int64_t oh = th / g.stride_h, ow = tw / g.stride_w;
                if (oh >= g.OH || ow >= g.OW) continue;
                acc += Acc(gy[((n * g.OC + oc) * g.OH + oh) * g.OW + ow]) *
                       Acc(w[((oc * Cg + c) * g.KH + kh) * g.KW + kw]);
              }
          gx[((n * g.C + ci) * g.H + ih) * g.W + iw] = T(acc);
        }
    }
}

// gw = dL/dw = sum over images and output positions of gy * x. WRITES gw.
template <typename T, typename Acc = double>
void conv2d_weight_grad_naive(const Conv2dGeometry& g, const T* x, const T* gy, T* gw) {
  const int64_t Cg = g.C / g.groups, OCg = g.OC / g.groups;
  for (int64_t oc = 0; oc < g.OC; ++oc) {
    const int64_t c0 = (oc / OCg) * Cg;
    for (int64_t c = 0; c < Cg; ++c)
      for (int64_t kh = 0; kh < g.KH; ++kh)
        for (int64_t kw = 0; kw < g.KW; ++kw) {
          Acc acc = 0;
          for (int64_t n = 0; n < g.N; ++n)
            for (int64_t oh = 0; oh < g.OH; ++oh)
              for (int64_t ow = 0; ow < g.OW; ++ow) {
                const int64_t ih = oh * g.stride_h - g.pad_h + kh;
                const int64_t iw = ow * g.stride_w - g.pad_w + kw;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                acc += Acc(gy[((n * g.OC + oc) * g.OH + oh) * g.OW + ow]) *
                       Acc(x[((n * g.C + c0 + c) * g.H + ih) * g.W + iw]);
              }
          gw[((oc * Cg + c) * g.KH + kh) * g.KW + kw] = T(acc);
        }
  }
}

}  // namespace fewshot::cpu::reference
