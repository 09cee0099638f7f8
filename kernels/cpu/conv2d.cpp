// Convolution as GEMM (Chellapilla et al. 2006, "High Performance Convolutional Neural Networks
// for Document Processing"): im2col unrolls each (image, group) input into a (Cg*KH*KW, OH*OW)
// matrix so the convolution becomes one GEMM with the (OCg, Cg*KH*KW) weight matrix.
//   forward:     y_g (OCg, P)  = w_g (OCg, CK) * col (CK, P)
//   input grad:  col (CK, P)   = w_g^T (CK, OCg) * gy_g (OCg, P), then col2im scatter-adds to gx
//   weight grad: gw_g (OCg, CK) += gy_g (OCg, P) * col^T (P, CK), summed over images
// with Cg = C/groups, OCg = OC/groups, CK = Cg*KH*KW, P = OH*OW. Small planes (7x7: P = 49)
// would give GEMMs only one or two register tiles wide, so `ig` images share one GEMM: their
// columns sit side by side, col is (CK, ig*P) and y/gy go through an (OCg, ig*P) staging buffer.
// A 1x1, stride-1, unpadded conv on one image per GEMM needs no im2col: col is the input itself.
// All three entry points WRITE their output.
#include "kernels/cpu/conv2d.h"

#include <omp.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cpu/gemm.h"

namespace fewshot::cpu {

Conv2dGeometry conv2d_geometry(int64_t N, int64_t C, int64_t H, int64_t W, int64_t OC, int64_t KH,
                               int64_t KW, int64_t stride_h, int64_t stride_w, int64_t pad_h,
                               int64_t pad_w, int64_t groups) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("conv2d: " + what); };
  auto s = [](int64_t v) { return std::to_string(v); };
  if (N < 0 || C < 1 || H < 1 || W < 1 || OC < 1 || KH < 1 || KW < 1)
    fail("sizes must be positive (N may be 0): N=" + s(N) + " C=" + s(C) + " H=" + s(H) +
         " W=" + s(W) + " OC=" + s(OC) + " KH=" + s(KH) + " KW=" + s(KW));
  if (stride_h < 1 || stride_w < 1)
    fail("strides must be >= 1: stride_h=" + s(stride_h) + " stride_w=" + s(stride_w));
  if (pad_h < 0 || pad_w < 0)
    fail("padding must be >= 0: pad_h=" + s(pad_h) + " pad_w=" + s(pad_w));
  if (groups < 1) fail("groups must be >= 1: groups=" + s(groups));
  if (C % groups) fail("C=" + s(C) + " is not divisible by groups=" + s(groups));
  if (OC % groups) fail("OC=" + s(OC) + " is not divisible by groups=" + s(groups));
  const int64_t eh = H + 2 * pad_h - KH, ew = W + 2 * pad_w - KW;  // extent left for strides
  if (eh < 0 || ew < 0)
    fail("kernel larger than padded input: H=" + s(H) + " pad_h=" + s(pad_h) + " KH=" + s(KH) +
         ", W=" + s(W) + " pad_w=" + s(pad_w) + " KW=" + s(KW) + " gives output " +
         s(eh < 0 ? 0 : eh / stride_h + 1) + "x" + s(ew < 0 ? 0 : ew / stride_w + 1));
  return Conv2dGeometry{N,        C,        H,     W,     OC,     KH,          KW,
                        stride_h, stride_w, pad_h, pad_w, groups, eh / stride_h + 1,
                        ew / stride_w + 1};
}

namespace {

// Output positions o whose input index o*stride - pad + k falls inside [0, in): o in [lo, hi).
void valid_range(int64_t out, int64_t in, int64_t stride, int64_t pad, int64_t k, int64_t& lo,
                 int64_t& hi) {
  const int64_t a = pad - k;           // need o*stride >= a
  const int64_t b = in - 1 + pad - k;  // need o*stride <= b
  lo = a <= 0 ? 0 : (a + stride - 1) / stride;
  hi = b < 0 ? 0 : std::min(out, b / stride + 1);
  hi = std::max(hi, lo);
}

// x is (Cg, H, W) of one image and group; col is (Cg*KH*KW, OH*OW) with row stride ld, zero where
// the window reads padding. Row (c, kh, kw) of col is plane c shifted by (kh, kw) and strided.
template <typename T>
void im2col(const Conv2dGeometry& g, int64_t Cg, const T* x, T* col, int64_t ld) {
  const int64_t OH = g.OH, OW = g.OW;
  for (int64_t c = 0; c < Cg; ++c)
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      int64_t oh_lo, oh_hi;
      valid_range(OH, g.H, g.stride_h, g.pad_h, kh, oh_lo, oh_hi);
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        int64_t ow_lo, ow_hi;
        valid_range(OW, g.W, g.stride_w, g.pad_w, kw, ow_lo, ow_hi);
        T* row = col + ((c * g.KH + kh) * g.KW + kw) * ld;
        for (int64_t oh = 0; oh < OH; ++oh) {
          T* r = row + oh * OW;
          if (oh < oh_lo || oh >= oh_hi) {
            std::fill(r, r + OW, T(0));
            continue;
          }
          const int64_t ih = oh * g.stride_h - g.pad_h + kh;
          const T* xr = x + (c * g.H + ih) * g.W;  // input row ih, (W)
          std::fill(r, r + ow_lo, T(0));
          const int64_t iw0 = ow_lo * g.stride_w - g.pad_w + kw;
          if (g.stride_w == 1)
            std::copy(xr + iw0, xr + iw0 + (ow_hi - ow_lo), r + ow_lo);
          else
            for (int64_t ow = ow_lo; ow < ow_hi; ++ow)
              r[ow] = xr[iw0 + (ow - ow_lo) * g.stride_w];
          std::fill(r + ow_hi, r + OW, T(0));
        }
      }
    }
}

// Adjoint of im2col: gx (Cg, H, W) += scatter of col (Cg*KH*KW, OH*OW; row stride ld). Fixed
// loop order, so the sums are deterministic.
template <typename T>
void col2im_add(const Conv2dGeometry& g, int64_t Cg, const T* col, int64_t ld, T* gx) {
  const int64_t OH = g.OH, OW = g.OW;
  for (int64_t c = 0; c < Cg; ++c)
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      int64_t oh_lo, oh_hi;
      valid_range(OH, g.H, g.stride_h, g.pad_h, kh, oh_lo, oh_hi);
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        int64_t ow_lo, ow_hi;
        valid_range(OW, g.W, g.stride_w, g.pad_w, kw, ow_lo, ow_hi);
        const T* row = col + ((c * g.KH + kh) * g.KW + kw) * ld;
        for (int64_t oh = oh_lo; oh < oh_hi; ++oh) {
          const T* r = row + oh * OW;
          T* gr = gx + (c * g.H + oh * g.stride_h - g.pad_h + kh) * g.W;  // gx row ih, (W)
          const int64_t iw0 = ow_lo * g.stride_w - g.pad_w + kw;
          if (g.stride_w == 1)
            for (int64_t ow = ow_lo; ow < ow_hi; ++ow) gr[iw0 + ow - ow_lo] += r[ow];
          else
            for (int64_t ow = ow_lo; ow < ow_hi; ++ow)
              gr[iw0 + (ow - ow_lo) * g.stride_w] += r[ow];
        }
      }
    }
}

// Per-thread scratch, grow-only: conv runs once per layer per step, reallocating megabytes each
// time would only add page faults. Slot 0 holds col, slot 1 the (OCg, ig*P) staging of y / gy.
template <typename T, int Slot>
T* scratch(std::size_t n) {
  thread_local std::vector<T> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

// GEMM width worth having: ~10 float register tiles (48 columns each) per row panel.
constexpr int64_t kMinGemmCols = 512;

struct Dims {
  int64_t G, Cg, OCg, CK, P, HW;
  int64_t ig;   // images per GEMM
  bool direct;  // 1x1, stride 1, no padding, one image per GEMM: col is x itself
};

Dims dims(const Conv2dGeometry& g) {
  const int64_t G = g.groups, Cg = g.C / G, P = g.OH * g.OW;
  const int64_t ig = std::max<int64_t>(1, std::min(g.N, (kMinGemmCols + P - 1) / P));
  const bool direct = ig == 1 && g.KH == 1 && g.KW == 1 && g.stride_h == 1 &&
                      g.stride_w == 1 && g.pad_h == 0 && g.pad_w == 0;
  return Dims{G, Cg, g.OC / G, Cg * g.KH * g.KW, P, g.H * g.W, ig, direct};
}

// Staging between the (N, OC, P) tensor layout and the (OCg, cnt*P) GEMM layout for images
// n0..n0+cnt-1 of group gi: image i's rows sit at column offset i*P.
template <typename T>
void stage_in(const Conv2dGeometry& g, const Dims& d, const T* t, int64_t n0, int64_t cnt,
              int64_t gi, T* buf) {
  for (int64_t i = 0; i < cnt; ++i)
    for (int64_t oc = 0; oc < d.OCg; ++oc) {
      const T* src = t + ((n0 + i) * g.OC + gi * d.OCg + oc) * d.P;
      std::copy(src, src + d.P, buf + oc * cnt * d.P + i * d.P);
    }
}
template <typename T>
void stage_out(const Conv2dGeometry& g, const Dims& d, const T* buf, int64_t n0, int64_t cnt,
               int64_t gi, T* t) {
  for (int64_t i = 0; i < cnt; ++i)
    for (int64_t oc = 0; oc < d.OCg; ++oc) {
      const T* src = buf + oc * cnt * d.P + i * d.P;
      std::copy(src, src + d.P, t + ((n0 + i) * g.OC + gi * d.OCg + oc) * d.P);
    }
}

// col (CK, cnt*P) for images n0..n0+cnt-1 of group gi; returns x itself in the direct case.
template <typename T>
const T* unfold(const Conv2dGeometry& g, const Dims& d, const T* x, int64_t n0, int64_t cnt,
                int64_t gi, T* col) {
  if (d.direct) return x + (n0 * g.C + gi * d.Cg) * d.HW;  // (Cg, H*W) == (CK, P)
  for (int64_t i = 0; i < cnt; ++i)
    im2col(g, d.Cg, x + ((n0 + i) * g.C + gi * d.Cg) * d.HW, col + i * d.P, cnt * d.P);
  return col;
}

// Threads to spread `items` independent units over, or 1 when GEMM should get the threads
// instead (few units, or an uneven split that would idle a thread for a whole unit).
int item_threads(int64_t items) {
  if (omp_in_parallel()) return 1;
  const int64_t nt = omp_get_max_threads();
  if (nt < 2 || items < 2) return 1;
  if (items % nt == 0 || items >= 4 * nt) return static_cast<int>(nt);
  return 1;
}

// Runs body(u) for every unit (a group of ig images), in parallel when that splits evenly;
// inside the region each GEMM runs single-threaded (gemm checks omp_in_parallel()). Dynamic
// hand-out: on a shared machine a thread that loses its core for a time slice then holds up one
// unit, not half the batch.
template <typename F>
void for_each_unit(int64_t units, F&& body) {
  const int nt = item_threads(units);
  if (nt > 1) {
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (int64_t u = 0; u < units; ++u) body(u);
  } else {
    for (int64_t u = 0; u < units; ++u) body(u);
  }
}

}  // namespace

template <typename T>
void conv2d_forward(const Conv2dGeometry& g, const T* x, const T* w, T* y) {
  const Dims d = dims(g);
  for_each_unit((g.N + d.ig - 1) / d.ig, [&](int64_t u) {
    const int64_t n0 = u * d.ig, cnt = std::min(d.ig, g.N - n0), cols = cnt * d.P;
    T* col = d.direct ? nullptr : scratch<T, 0>(static_cast<std::size_t>(d.CK * cols));
    T* stage = cnt > 1 ? scratch<T, 1>(static_cast<std::size_t>(d.OCg * cols)) : nullptr;
    for (int64_t gi = 0; gi < d.G; ++gi) {
      const T* b = unfold(g, d, x, n0, cnt, gi, col);
      // y_g (OCg, cnt*P) = w_g (OCg, CK) * col (CK, cnt*P)
      T* out = cnt > 1 ? stage : y + (n0 * g.OC + gi * d.OCg) * d.P;
      gemm<T>(false, false, d.OCg, cols, d.CK, T(1), w + gi * d.OCg * d.CK, d.CK, b, cols, T(0),
              out, cols);
      if (cnt > 1) stage_out(g, d, stage, n0, cnt, gi, y);
    }
  });
}

template <typename T>
void conv2d_input_grad(const Conv2dGeometry& g, const T* gy, const T* w, T* gx) {
  const Dims d = dims(g);
  for_each_unit((g.N + d.ig - 1) / d.ig, [&](int64_t u) {
    const int64_t n0 = u * d.ig, cnt = std::min(d.ig, g.N - n0), cols = cnt * d.P;
    T* col = d.direct ? nullptr : scratch<T, 0>(static_cast<std::size_t>(d.CK * cols));
    T* stage = cnt > 1 ? scratch<T, 1>(static_cast<std::size_t>(d.OCg * cols)) : nullptr;
    for (int64_t gi = 0; gi < d.G; ++gi) {
      const T* wg = w + gi * d.OCg * d.CK;  // (OCg, CK)
      const T* gyg = gy + (n0 * g.OC + gi * d.OCg) * d.P;  // (OCg, P) when cnt == 1
      if (cnt > 1) {
        stage_in(g, d, gy, n0, cnt, gi, stage);
        gyg = stage;  // (OCg, cnt*P)
      }
      if (d.direct) {
        // gx_g (Cg, HW) = w_g^T (Cg, OCg) * gy_g (OCg, HW)
        gemm<T>(true, false, d.Cg, d.P, d.OCg, T(1), wg, d.CK, gyg, d.P, T(0),
                gx + (n0 * g.C + gi * d.Cg) * d.HW, d.P);
        continue;
      }
      // col (CK, cnt*P) = w_g^T (CK, OCg) * gy_g (OCg, cnt*P), then scatter-add the windows back
      gemm<T>(true, false, d.CK, cols, d.OCg, T(1), wg, d.CK, gyg, cols, T(0), col, cols);
      for (int64_t i = 0; i < cnt; ++i) {
        T* gxg = gx + ((n0 + i) * g.C + gi * d.Cg) * d.HW;  // (Cg, H, W)
        std::fill(gxg, gxg + d.Cg * d.HW, T(0));
        col2im_add(g, d.Cg, col + i * d.P, cols, gxg);
      }
    }
  });
}

// Images are split into a fixed number of contiguous chunks (depending on N only, never on the
// thread count); each chunk sums its images (ig per GEMM, also fixed by the geometry) into its
// own buffer in image order, then the chunk buffers are added in chunk order. Every element
// therefore sees the same sequence of floating-point operations on every run: no atomics, no
// thread-order dependence.
constexpr int64_t kWeightGradChunks = 8;

template <typename T>
void conv2d_weight_grad(const Conv2dGeometry& g, const T* x, const T* gy, T* gw) {
  const Dims d = dims(g);
  const int64_t wsize = g.OC * d.CK;  // gw is (OC, Cg, KH, KW) = G blocks of (OCg, CK)
  if (g.N == 0) {
    std::fill(gw, gw + wsize, T(0));
    return;
  }
  const int64_t chunks = std::min(g.N, kWeightGradChunks);
  std::vector<T> partial(static_cast<std::size_t>((chunks - 1) * wsize));  // chunks 1..: own sums
  // With few taps per output channel (first layers: CK = 9 or 27 against OCg = 64 or 32) the
  // GEMM computes gw^T (CK, OCg) instead, so its wide side is OCg: half the padded tile work
  // for 1->64, and the transposed operand becomes gy, which packs by in-register transposes.
  const bool transposed = d.CK < d.OCg;
  auto chunk = [&](int64_t ci) {
    T* acc = ci == 0 ? gw : partial.data() + (ci - 1) * wsize;
    T* acc_t = transposed ? scratch<T, 2>(static_cast<std::size_t>(wsize)) : acc;
    const int64_t c0 = g.N * ci / chunks, c1 = g.N * (ci + 1) / chunks;
    for (int64_t n0 = c0; n0 < c1; n0 += d.ig) {
      const int64_t cnt = std::min(d.ig, c1 - n0), cols = cnt * d.P;
      T* col = d.direct ? nullptr : scratch<T, 0>(static_cast<std::size_t>(d.CK * cols));
      T* stage = cnt > 1 ? scratch<T, 1>(static_cast<std::size_t>(d.OCg * cols)) : nullptr;
      const T beta = n0 == c0 ? T(0) : T(1);  // the chunk's first GEMM writes
      for (int64_t gi = 0; gi < d.G; ++gi) {
        const T* b = unfold(g, d, x, n0, cnt, gi, col);
        const T* gyg = gy + (n0 * g.OC + gi * d.OCg) * d.P;  // (OCg, P) when cnt == 1
        if (cnt > 1) {
          stage_in(g, d, gy, n0, cnt, gi, stage);
          gyg = stage;  // (OCg, cnt*P)
        }
        T* out = acc_t + gi * d.OCg * d.CK;
        if (transposed)  // gw_g^T (CK, OCg) (+)= col (CK, cnt*P) * gy_g^T (cnt*P, OCg)
          gemm<T>(false, true, d.CK, d.OCg, cols, T(1), b, cols, gyg, cols, beta, out, d.OCg);
        else  // gw_g (OCg, CK) (+)= gy_g (OCg, cnt*P) * col^T (cnt*P, CK)
          gemm<T>(false, true, d.OCg, d.CK, cols, T(1), gyg, cols, b, cols, beta, out, d.CK);
      }
    }
    if (transposed)
      for (int64_t gi = 0; gi < d.G; ++gi)
        for (int64_t oc = 0; oc < d.OCg; ++oc)
          for (int64_t k = 0; k < d.CK; ++k)
            acc[(gi * d.OCg + oc) * d.CK + k] = acc_t[(gi * d.CK + k) * d.OCg + oc];
  };
  const int nt = item_threads(chunks);
  if (nt > 1) {
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)  // which thread runs a chunk
    for (int64_t ci = 0; ci < chunks; ++ci) chunk(ci);              // does not change its sum
  } else {
    for (int64_t ci = 0; ci < chunks; ++ci) chunk(ci);
  }
  // gw = ((chunk0 + chunk1) + chunk2) + ..., element-wise in fixed order.
  for (int64_t ci = 1; ci < chunks; ++ci) {
    const T* p = partial.data() + (ci - 1) * wsize;
    for (int64_t i = 0; i < wsize; ++i) gw[i] += p[i];
  }
}

template void conv2d_forward<float>(const Conv2dGeometry&, const float*, const float*, float*);
template void conv2d_forward<double>(const Conv2dGeometry&, const double*, const double*,
                                     double*);
template void conv2d_input_grad<float>(const Conv2dGeometry&, const float*, const float*, float*);
template void conv2d_input_grad<double>(const Conv2dGeometry&, const double*, const double*,
                                        double*);
template void conv2d_weight_grad<float>(const Conv2dGeometry&, const float*, const float*,
                                        float*);
template void conv2d_weight_grad<double>(const Conv2dGeometry&, const double*, const double*,
                                         double*);

}  // namespace fewshot::cpu
