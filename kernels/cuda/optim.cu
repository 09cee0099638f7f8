#include "kernels/cuda/optim.cuh"

#include <cmath>

#include "kernels/cuda/common.cuh"

namespace fewshot::cuda {

namespace {

template <typename T>
__global__ void sgd_kernel(T* __restrict__ p, const T* __restrict__ grad, T* __restrict__ buf, int64_t n, double lr,
                           double momentum, double wd, bool first_step) {
  FEWSHOT_CUDA_LOOP(i, n) {
    double g = grad[i] + wd * p[i];
    if (momentum != 0.0) {
      double b = first_step ? g : momentum * buf[i] + g;
      buf[i] = static_cast<T>(b);
      g = b;
    }
    p[i] = static_cast<T>(p[i] - lr * g);
  }
}

template <typename T>
__global__ void adam_kernel(T* __restrict__ p, const T* __restrict__ grad, T* __restrict__ m, T* __restrict__ v,
                            int64_t n, double lr, double b1, double b2, double eps, double wd, double c1, double c2) {
  FEWSHOT_CUDA_LOOP(i, n) {
    double g = grad[i] + wd * p[i];
    double mi = b1 * m[i] + (1 - b1) * g, vi = b2 * v[i] + (1 - b2) * g * g;
    m[i] = static_cast<T>(mi);
    v[i] = static_cast<T>(vi);
    p[i] = static_cast<T>(p[i] - lr * (mi / c1) / (sqrt(vi / c2) + eps));
  }
}

}  // namespace

template <typename T>
void sgd_step(T* p, const T* grad, T* buf, int64_t n, double lr, double momentum, double wd, bool first_step,
              cudaStream_t s) {
  if (n <= 0) return;
  launch("sgd_step", sgd_kernel<T>, grid_for(n), kBlock, 0, s, p, grad, buf, n, lr, momentum, wd, first_step);
}

template <typename T>
void adam_step(T* p, const T* grad, T* m, T* v, int64_t n, double lr, double b1, double b2, double eps, double wd,
               int64_t step, cudaStream_t s) {
  if (n <= 0) return;
  const double c1 = 1.0 - std::pow(b1, static_cast<double>(step)), c2 = 1.0 - std::pow(b2, static_cast<double>(step));
  launch("adam_step", adam_kernel<T>, grid_for(n), kBlock, 0, s, p, grad, m, v, n, lr, b1, b2, eps, wd, c1, c2);
}

template void sgd_step<float>(float*, const float*, float*, int64_t, double, double, double, bool, cudaStream_t);
template void sgd_step<double>(double*, const double*, double*, int64_t, double, double, double, bool, cudaStream_t);
template void adam_step<float>(float*, const float*, float*, float*, int64_t, double, double, double, double, double,
                               int64_t, cudaStream_t);
template void adam_step<double>(double*, const double*, double*, double*, int64_t, double, double, double, double,
                                double, int64_t, cudaStream_t);

}  // namespace fewshot::cuda
