#include "kernels/cpu/nn.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "kernels/cpu/parallel.h"

namespace fewshot::cpu {

template <typename T>
void batch_norm_forward(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* invstd, int64_t N, int64_t C,
                        int64_t S, double eps) {
  const double M = static_cast<double>(N * S);
  parallel_for(C, N * S * 3, [&](int64_t c) {
    // Two passes (mean, then centred sum of squares): stable where E[x^2] - E[x]^2 is not. Each
    // plane is summed in T with SIMD lanes (a fixed order: deterministic), planes in double.
    double s = 0;
    for (int64_t n = 0; n < N; ++n) {
      const T* p = x + (n * C + c) * S;
      T acc = 0;
#pragma omp simd reduction(+ : acc)
      for (int64_t i = 0; i < S; ++i) acc += p[i];
      s += acc;
    }
    const double mu = s / M;
    const T mu_t = static_cast<T>(mu);
    double ss = 0;
    for (int64_t n = 0; n < N; ++n) {
      const T* p = x + (n * C + c) * S;
      T acc = 0;
#pragma omp simd reduction(+ : acc)
      for (int64_t i = 0; i < S; ++i) acc += (p[i] - mu_t) * (p[i] - mu_t);
      ss += acc;
    }
    double is = 1.0 / std::sqrt(ss / M + eps);
    mean[c] = static_cast<T>(mu);
    invstd[c] = static_cast<T>(is);
    const T scale = static_cast<T>(is * gamma[c]), shift = static_cast<T>(beta[c] - mu * is * gamma[c]);
    for (int64_t n = 0; n < N; ++n) {
      const T* p = x + (n * C + c) * S;
      T* q = y + (n * C + c) * S;
#pragma omp simd
      for (int64_t i = 0; i < S; ++i) q[i] = p[i] * scale + shift;
    }
  });
}

template <typename T>
void batch_norm_backward(const T* gy, const T* x, const T* gamma, const T* mean, const T* invstd, T* gx, T* ggamma,
                         T* gbeta, int64_t N, int64_t C, int64_t S) {
  const double M = static_cast<double>(N * S);
  parallel_for(C, N * S * 3, [&](int64_t c) {
    double sum_g = 0, sum_gx = 0;  // sum(gy), sum(gy * xhat)
    const T mu = mean[c], is = invstd[c];
    for (int64_t n = 0; n < N; ++n) {
      const T* g = gy + (n * C + c) * S;
      const T* p = x + (n * C + c) * S;
      T ag = 0, agx = 0;
#pragma omp simd reduction(+ : ag, agx)
      for (int64_t i = 0; i < S; ++i) {
        ag += g[i];
        agx += g[i] * (p[i] - mu);
      }
      sum_g += ag;
      sum_gx += static_cast<double>(agx) * is;
    }
    if (gbeta) gbeta[c] = static_cast<T>(sum_g);
    if (ggamma) ggamma[c] = static_cast<T>(sum_gx);
    if (!gx) return;
    // dx = gamma * invstd * (gy - mean(gy) - xhat * mean(gy * xhat))
    const T k = static_cast<T>(gamma[c] * is), mg = static_cast<T>(sum_g / M), mgx = static_cast<T>(sum_gx / M * is);
    for (int64_t n = 0; n < N; ++n) {
      const T* g = gy + (n * C + c) * S;
      const T* p = x + (n * C + c) * S;
      T* q = gx + (n * C + c) * S;
#pragma omp simd
      for (int64_t i = 0; i < S; ++i) q[i] = k * (g[i] - mg - (p[i] - mu) * mgx);
    }
  });
}

template <typename T> void log_softmax(const T* x, T* out, int64_t outer, int64_t C, int64_t inner) {
  parallel_for(outer * inner, C * 4, [&](int64_t k) {
    int64_t o = k / inner, i = k % inner;
    const T* p = x + o * C * inner + i;
    T* q = out + o * C * inner + i;
    T m = -std::numeric_limits<T>::infinity();
    for (int64_t c = 0; c < C; ++c) m = std::max(m, p[c * inner]);
    double s = 0;
    for (int64_t c = 0; c < C; ++c) s += std::exp(static_cast<double>(p[c * inner] - m));
    T lse = m + static_cast<T>(std::log(s));
    for (int64_t c = 0; c < C; ++c) q[c * inner] = p[c * inner] - lse;
  });
}

template <typename T> T cross_entropy(const T* logits, const int64_t* targets, int64_t rows, int64_t C) {
  for (int64_t r = 0; r < rows; ++r)
    if (targets[r] < 0 || targets[r] >= C)
      throw std::out_of_range("cross_entropy: target " + std::to_string(targets[r]) + " of row " + std::to_string(r) +
                              " is out of range [0, " + std::to_string(C) + ")");
  double total = 0;
  for (int64_t r = 0; r < rows; ++r) {  // serial: rows are few (a task's queries) and the order is fixed
    const T* p = logits + r * C;
    T m = *std::max_element(p, p + C);
    double s = 0;
    for (int64_t c = 0; c < C; ++c) s += std::exp(static_cast<double>(p[c] - m));
    total += static_cast<double>(m) + std::log(s) - static_cast<double>(p[targets[r]]);
  }
  return static_cast<T>(total / static_cast<double>(rows));
}

template <typename T> void sqdist(const T* a, const T* b, T* out, int64_t n, int64_t m, int64_t d) {
  // Direct differences (not |a|^2 + |b|^2 - 2ab): exact zeros and never negative.
  parallel_for(n * m, d, [&](int64_t k) {
    const T* ai = a + (k / m) * d;
    const T* bj = b + (k % m) * d;
    T acc = 0;
#pragma omp simd reduction(+ : acc)
    for (int64_t t = 0; t < d; ++t) acc += (ai[t] - bj[t]) * (ai[t] - bj[t]);
    out[k] = acc;
  });
}

#define FEWSHOT_NN_KERNELS(T)                                                                                      \
  template void batch_norm_forward<T>(const T*, const T*, const T*, T*, T*, T*, int64_t, int64_t, int64_t, double); \
  template void batch_norm_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, T*, int64_t,       \
                                       int64_t, int64_t);                                                          \
  template void log_softmax<T>(const T*, T*, int64_t, int64_t, int64_t);                                           \
  template T cross_entropy<T>(const T*, const int64_t*, int64_t, int64_t);                                         \
  template void sqdist<T>(const T*, const T*, T*, int64_t, int64_t, int64_t);
FEWSHOT_NN_KERNELS(float)
FEWSHOT_NN_KERNELS(double)

}  // namespace fewshot::cpu
