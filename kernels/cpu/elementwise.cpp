#include "kernels/cpu/elementwise.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/cpu/parallel.h"

namespace fewshot::cpu {

int64_t Dims::numel() const {
  int64_t p = 1;
  for (int i = 0; i < n; ++i) p *= d[i];
  return p;
}

namespace {

template <typename T, typename F>
void map1(const T* x, T* out, int64_t n, F f) {
  constexpr int64_t block = 4096;
  parallel_for((n + block - 1) / block, block * 4, [&](int64_t blk) {
    int64_t lo = blk * block, hi = std::min(n, lo + block);
#pragma omp simd
    for (int64_t i = lo; i < hi; ++i) out[i] = f(x[i]);
  });
}

// Element strides of `dims` aligned to the out_dims rank, 0 where the dim is broadcast.
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

template <typename T, typename F>
void map2(const T* a, const Dims& ad, const T* b, const Dims& bd, T* out, const Dims& od, F f) {
  int64_t n = od.numel();
  int64_t na = ad.numel(), nb = bd.numel();
  if (na == n && nb == n) {
    constexpr int64_t block = 4096;
    parallel_for((n + block - 1) / block, block * 2, [&](int64_t blk) {
      int64_t lo = blk * block, hi = std::min(n, lo + block);
#pragma omp simd
      for (int64_t i = lo; i < hi; ++i) out[i] = f(a[i], b[i]);
    });
    return;
  }
  if (nb == 1 && na == n) {
    T s = b[0];
    map1(a, out, n, [&](T x) { return f(x, s); });
    return;
  }
  if (na == 1 && nb == n) {
    T s = a[0];
    map1(b, out, n, [&](T y) { return f(s, y); });
    return;
  }
  int64_t sa[5], sb[5];
  broadcast_strides(ad, od, sa);
  broadcast_strides(bd, od, sb);
  int last = od.n - 1;
  int64_t inner = od.n ? od.d[last] : 1;
  int64_t ia = od.n ? sa[last] : 0, ib = od.n ? sb[last] : 0;
  int64_t rows = inner ? n / inner : 0;
  parallel_for(rows, inner * 2, [&](int64_t r) {
    // Offsets of row r in a and b from its multi-index over the leading dims.
    int64_t oa = 0, ob = 0, rem = r;
    for (int i = last - 1; i >= 0; --i) {
      int64_t k = rem % od.d[i];
      rem /= od.d[i];
      oa += k * sa[i];
      ob += k * sb[i];
    }
    T* o = out + r * inner;
    for (int64_t j = 0; j < inner; ++j) o[j] = f(a[oa + j * ia], b[ob + j * ib]);
  });
}

}  // namespace

template <typename T> void unary(Unary op, const T* x, T* out, int64_t n, double pa, double pb) {
  const T a = static_cast<T>(pa), b = static_cast<T>(pb);
  switch (op) {
    case Unary::Neg: return map1(x, out, n, [](T v) { return -v; });
    case Unary::Exp: return map1(x, out, n, [](T v) { return std::exp(v); });
    case Unary::Log: return map1(x, out, n, [](T v) { return std::log(v); });
    case Unary::Sqrt: return map1(x, out, n, [](T v) { return std::sqrt(v); });
    case Unary::Relu: return map1(x, out, n, [](T v) { return v > T(0) ? v : T(0); });
    case Unary::Tanh: return map1(x, out, n, [](T v) { return std::tanh(v); });
    case Unary::Sigmoid: return map1(x, out, n, [](T v) { return T(1) / (T(1) + std::exp(-v)); });
    case Unary::Affine: return map1(x, out, n, [a, b](T v) { return a * v + b; });
    case Unary::PowScalar:
      if (pa == 2.0) return map1(x, out, n, [](T v) { return v * v; });
      if (pa == -1.0) return map1(x, out, n, [](T v) { return T(1) / v; });
      return map1(x, out, n, [a](T v) { return std::pow(v, a); });
    case Unary::StepGt: return map1(x, out, n, [a](T v) { return v > a ? T(1) : T(0); });
    case Unary::Abs: return map1(x, out, n, [](T v) { return std::abs(v); });
  }
}

template <typename T>
void binary(Binary op, const T* a, const Dims& ad, const T* b, const Dims& bd, T* out, const Dims& od) {
  switch (op) {
    case Binary::Add: return map2(a, ad, b, bd, out, od, [](T x, T y) { return x + y; });
    case Binary::Sub: return map2(a, ad, b, bd, out, od, [](T x, T y) { return x - y; });
    case Binary::Mul: return map2(a, ad, b, bd, out, od, [](T x, T y) { return x * y; });
    case Binary::Div: return map2(a, ad, b, bd, out, od, [](T x, T y) { return x / y; });
    case Binary::Pow: return map2(a, ad, b, bd, out, od, [](T x, T y) { return std::pow(x, y); });
    case Binary::Eq: return map2(a, ad, b, bd, out, od, [](T x, T y) { return x == y ? T(1) : T(0); });
  }
}

template <typename T> void expand(const T* x, const Dims& xd, T* out, const Dims& od) {
  int64_t sx[5];
  broadcast_strides(xd, od, sx);
  int last = od.n - 1;
  int64_t inner = od.n ? od.d[last] : 1, ix = od.n ? sx[last] : 0;
  int64_t n = od.numel(), rows = inner ? n / inner : 0;
  parallel_for(rows, inner, [&](int64_t r) {
    int64_t ox = 0, rem = r;
    for (int i = last - 1; i >= 0; --i) {
      int64_t k = rem % od.d[i];
      rem /= od.d[i];
      ox += k * sx[i];
    }
    T* o = out + r * inner;
    for (int64_t j = 0; j < inner; ++j) o[j] = x[ox + j * ix];
  });
}

template <typename T> void fill(T* out, int64_t n, T value) {
  parallel_for((n + 4095) / 4096, 4096, [&](int64_t blk) {
    std::fill(out + blk * 4096, out + std::min(n, (blk + 1) * 4096), value);
  });
}

template <typename T>
void copy_blocks(const T* src, int64_t src_ld, T* dst, int64_t dst_ld, int64_t rows, int64_t cols) {
  parallel_for(rows, cols, [&](int64_t r) { std::memcpy(dst + r * dst_ld, src + r * src_ld, cols * sizeof(T)); });
}

template <typename S, typename D> void cast(const S* src, D* dst, int64_t n) {
  parallel_for((n + 4095) / 4096, 4096, [&](int64_t blk) {
    for (int64_t i = blk * 4096, e = std::min(n, (blk + 1) * 4096); i < e; ++i) dst[i] = static_cast<D>(src[i]);
  });
}

template <typename T> void transpose_last2(const T* x, T* out, int64_t batch, int64_t R, int64_t C) {
  constexpr int64_t tile = 32;
  int64_t tr = (R + tile - 1) / tile, tc = (C + tile - 1) / tile;
  parallel_for(batch * tr * tc, tile * tile, [&](int64_t t) {
    int64_t b = t / (tr * tc), rt = (t / tc) % tr, ct = t % tc;
    const T* xb = x + b * R * C;
    T* ob = out + b * R * C;
    for (int64_t r = rt * tile; r < std::min(R, (rt + 1) * tile); ++r)
      for (int64_t c = ct * tile; c < std::min(C, (ct + 1) * tile); ++c) ob[c * R + r] = xb[r * C + c];
  });
}

#define FEWSHOT_FLOAT_KERNELS(T)                                                                                 \
  template void unary<T>(Unary, const T*, T*, int64_t, double, double);                                          \
  template void binary<T>(Binary, const T*, const Dims&, const T*, const Dims&, T*, const Dims&);
FEWSHOT_FLOAT_KERNELS(float)
FEWSHOT_FLOAT_KERNELS(double)
#define FEWSHOT_ANY_KERNELS(T)                                                                                   \
  template void expand<T>(const T*, const Dims&, T*, const Dims&);                                               \
  template void fill<T>(T*, int64_t, T);                                                                         \
  template void copy_blocks<T>(const T*, int64_t, T*, int64_t, int64_t, int64_t);                                \
  template void transpose_last2<T>(const T*, T*, int64_t, int64_t, int64_t);
FEWSHOT_ANY_KERNELS(float)
FEWSHOT_ANY_KERNELS(double)
FEWSHOT_ANY_KERNELS(int64_t)
template void cast<float, double>(const float*, double*, int64_t);
template void cast<double, float>(const double*, float*, int64_t);
template void cast<float, int64_t>(const float*, int64_t*, int64_t);
template void cast<double, int64_t>(const double*, int64_t*, int64_t);
template void cast<int64_t, float>(const int64_t*, float*, int64_t);
template void cast<int64_t, double>(const int64_t*, double*, int64_t);

}  // namespace fewshot::cpu
