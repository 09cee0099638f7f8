#pragma once
// Fused optimizer updates, in place (PyTorch semantics), arithmetic in double as on the CPU.
#include <cstdint>

#include <cuda_runtime.h>

namespace fewshot::cuda {

// buf = momentum * buf + (grad + wd * p) (buf = that sum on the first step); p -= lr * buf.
// With momentum 0, buf may be null.
template <typename T>
void sgd_step(T* p, const T* grad, T* buf, int64_t n, double lr, double momentum, double wd, bool first_step,
              cudaStream_t s);
// m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr * mhat / (sqrt(vhat) + eps), g = grad + wd * p.
template <typename T>
void adam_step(T* p, const T* grad, T* m, T* v, int64_t n, double lr, double b1, double b2, double eps, double wd,
               int64_t step, cudaStream_t s);

}  // namespace fewshot::cuda
