#pragma once
// Reductions and their adjoints (broadcasting). Derivatives: engine/ops/reduce.cpp.
#include <utility>
#include <vector>

#include "engine/core/tensor.h"

namespace fewshot {

Tensor sum(const Tensor& x);                                                  // all elements -> shape ()
Tensor sum(const Tensor& x, const std::vector<int>& dims, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, const std::vector<int>& dims, bool keepdim = false);
// Maximum over one dim, with the int64 position of the first maximum (torch.max(x, dim)).
std::pair<Tensor, Tensor> max(const Tensor& x, int dim, bool keepdim = false);
Tensor max(const Tensor& x);  // over all elements -> shape ()
Tensor argmax(const Tensor& x, int dim, bool keepdim = false);  // not differentiable

// x broadcast to shape (NumPy rules); the adjoint of sum_to.
Tensor expand(const Tensor& x, const Shape& shape);
// Sums x down to shape, undoing a broadcast; the adjoint of expand.
Tensor sum_to(const Tensor& x, const Shape& shape);

}  // namespace fewshot
