#pragma once
// Shape and copy ops. Views (reshape, flatten, narrow of the leading dim) share storage; the rest
// copy. Derivatives: engine/ops/shape_ops.cpp.
#include <vector>

#include "engine/core/tensor.h"

namespace fewshot {

Tensor reshape(const Tensor& x, const Shape& shape);  // same number of elements; a view
Tensor flatten(const Tensor& x, int start = 0, int end = -1);
Tensor unsqueeze(const Tensor& x, int dim);
Tensor squeeze(const Tensor& x, int dim);
// Elements [start, start + length) of dim: a view when dim is the leading non-trivial dim, else a copy.
Tensor narrow(const Tensor& x, int dim, int64_t start, int64_t length);
// Python-style slice x[..., start:end, ...] on dim (negative start/end count from the end; step 1).
Tensor slice(const Tensor& x, int dim, int64_t start, int64_t end);
// The adjoint of narrow: a zero tensor of x's shape but `size` along dim, with x at [start, ...).
Tensor narrow_embed(const Tensor& x, int dim, int64_t start, int64_t size);
Tensor cat(const std::vector<Tensor>& xs, int dim = 0);
Tensor stack(const std::vector<Tensor>& xs, int dim = 0);
Tensor transpose(const Tensor& x);  // swaps the last two dims (a copy)
Tensor clone(const Tensor& x);
Tensor to_dtype(const Tensor& x, DType dtype);
Tensor to_device(const Tensor& x, Device device);

}  // namespace fewshot
