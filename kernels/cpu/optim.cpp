#include "kernels/cpu/optim.h"

#include <cmath>

#include "kernels/cpu/parallel.h"

namespace fewshot::cpu {

template <typename T>
void sgd_step(T* p, const T* grad, T* buf, int64_t n, double lr, double momentum, double wd, bool first_step) {
  parallel_for(n, 4, [&](int64_t i) {
    double g = grad[i] + wd * p[i];
    if (momentum != 0.0) {
      double b = first_step ? g : momentum * buf[i] + g;
      buf[i] = static_cast<T>(b);
      g = b;
    }
    p[i] = static_cast<T>(p[i] - lr * g);
  });
}

template <typename T>
void adam_step(T* p, const T* grad, T* m, T* v, int64_t n, double lr, double b1, double b2, double eps, double wd,
               int64_t step) {
  const double c1 = 1.0 - std::pow(b1, static_cast<double>(step)), c2 = 1.0 - std::pow(b2, static_cast<double>(step));
  parallel_for(n, 8, [&](int64_t i) {
    double g = grad[i] + wd * p[i];
    double mi = b1 * m[i] + (1 - b1) * g, vi = b2 * v[i] + (1 - b2) * g * g;
    m[i] = static_cast<T>(mi);
    v[i] = static_cast<T>(vi);
    p[i] = static_cast<T>(p[i] - lr * (mi / c1) / (std::sqrt(vi / c2) + eps));
  });
}

template void sgd_step<float>(float*, const float*, float*, int64_t, double, double, double, bool);
template void sgd_step<double>(double*, const double*, double*, int64_t, double, double, double, bool);
template void adam_step<float>(float*, const float*, float*, float*, int64_t, double, double, double, double, double,
                               int64_t);
template void adam_step<double>(double*, const double*, double*, double*, int64_t, double, double, double, double,
                                double, int64_t);

}  // namespace fewshot::cpu
