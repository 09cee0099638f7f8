#pragma once
// Softmax family, losses and distances. Derivatives: engine/ops/loss.cpp.
#include "engine/core/tensor.h"

namespace fewshot {

Tensor log_softmax(const Tensor& x, int dim = -1);
Tensor softmax(const Tensor& x, int dim = -1);
// Mean over rows of -log softmax(logits)[target]; logits (N, C), targets int64 (N,) in [0, C).
Tensor cross_entropy(const Tensor& logits, const Tensor& targets);
// Mean squared error over all elements; a and b of the same shape.
Tensor mse_loss(const Tensor& a, const Tensor& b);
// Squared Euclidean distances between the rows of a (n, d) and b (m, d) -> (n, m) (prototype methods).
Tensor sqdist(const Tensor& a, const Tensor& b);

}  // namespace fewshot
