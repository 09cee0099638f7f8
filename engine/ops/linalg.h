#pragma once
// Matrix products. Derivatives: engine/ops/linalg.cpp.
#include "engine/core/tensor.h"

namespace fewshot {

// op(a) @ op(b) where op transposes the last two dims when its flag is set. a and b are 2-D
// (M, K) or batched 3-D (B, M, K); a 2-D operand is broadcast over the other's batch. The one
// GEMM op: matmul, bmm and linear are this, and its derivative is two more of it.
Tensor matmul_t(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b);
inline Tensor matmul(const Tensor& a, const Tensor& b) { return matmul_t(a, b, false, false); }
Tensor bmm(const Tensor& a, const Tensor& b);  // both 3-D, same batch
// x (N, in) @ w^T (w is (out, in)) + b (out,), as torch.nn.functional.linear. bias may be undefined.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias = Tensor());

}  // namespace fewshot
