#pragma once
// Batch normalization in training mode (batch statistics, affine, no running statistics), as
// MAML uses it. Derivatives: engine/ops/norm.cpp.
#include "engine/core/tensor.h"

namespace fewshot {

// x (N, C) or (N, C, H, W); statistics per channel over every other dim (biased variance).
// gamma, beta (C,). The double backward is exact: see norm.cpp.
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps = 1e-5);

// The derivative formula of batch_norm written with differentiable ops (what runs under
// create_graph); exposed so a test can hold the fused first-order kernel to it.
// Returns {dx, dgamma, dbeta}.
std::vector<Tensor> batch_norm_backward_composite(const Tensor& gy, const Tensor& x, const Tensor& gamma, double eps);

}  // namespace fewshot
