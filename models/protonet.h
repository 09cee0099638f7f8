#pragma once
// Prototypical Networks (Snell et al. 2017): class prototypes are the mean support embeddings and a
// query's logits are minus its squared Euclidean distances to them.
#include "engine/core/tensor.h"

namespace fewshot::models {

// emb (n, d), labels int64 (n,) in [0, ways) -> (ways, d) per-class means (differentiable).
Tensor prototypes(const Tensor& emb, const Tensor& labels, int64_t ways);
// -sqdist(query (m, d), protos (ways, d)) -> (m, ways)
Tensor proto_logits(const Tensor& query_emb, const Tensor& protos);

}  // namespace fewshot::models
