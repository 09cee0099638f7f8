#pragma once
// Indexing ops. Each pair is mutually adjoint, so their derivatives close: gather <-> scatter_add,
// index_select <-> index_add. Derivatives: engine/ops/index_ops.cpp.
#include "engine/core/tensor.h"

namespace fewshot {

// out[..., m, ...] = x[..., idx[..., m, ...], ...] along dim; idx has x's shape except along dim.
Tensor gather(const Tensor& x, int dim, const Tensor& idx);
// A zero tensor of `shape` into which src is added at idx along dim (duplicates accumulate).
Tensor scatter_add(const Tensor& src, int dim, const Tensor& idx, const Shape& shape);
// Rows (slices along dim) of x picked by the 1-D int64 idx.
Tensor index_select(const Tensor& x, int dim, const Tensor& idx);
// A zero tensor with `size` slices along dim, into which src's slices are added at idx.
Tensor index_add(const Tensor& src, int dim, const Tensor& idx, int64_t size);
// (N,) int64 targets -> (N, classes) one-hot in dtype (not differentiable). Targets out of range throw.
Tensor one_hot(const Tensor& targets, int64_t classes, DType dtype = DType::Float32);

}  // namespace fewshot
