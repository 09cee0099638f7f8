#pragma once
// Pooling. max_pool2d's backward is a scatter_add of the gradient to the argmax positions, whose
// derivative is the gather; avg_pool2d and avg_pool2d_backward are each other's adjoints.
#include <utility>

#include "engine/core/backend.h"
#include "engine/core/tensor.h"

namespace fewshot {

struct Pool2dOptions {
  int64_t kernel = 2, stride = 0 /* 0: same as kernel */, padding = 0;
};

ConvParams pool2d_params(const char* op, const Shape& x_shape, const Pool2dOptions& opt);

// x (N, C, H, W) -> values (N, C, OH, OW) and int64 indices into each H*W plane (as PyTorch).
std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, Pool2dOptions opt = {});
inline Tensor max_pool2d(const Tensor& x, Pool2dOptions opt = {}) { return max_pool2d_with_indices(x, opt).first; }
// Average over each window, padding counted as zeros (count_include_pad), which keeps it linear
// with an exact adjoint.
Tensor avg_pool2d(const Tensor& x, Pool2dOptions opt = {});
Tensor avg_pool2d_backward(const Tensor& gy, const ConvParams& p);
// Mean over H and W: (N, C, H, W) -> (N, C).
Tensor global_avg_pool2d(const Tensor& x);

}  // namespace fewshot
