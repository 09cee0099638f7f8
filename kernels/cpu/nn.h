#pragma once
// Fused neural-network kernels: batch norm (training mode), log-softmax, cross-entropy,
// pairwise squared distances. Statistics accumulate in double for float inputs.
#include <cstdint>

namespace fewshot::cpu {

// x (N, C, S). Writes y, mean (C,), invstd (C,) = 1 / sqrt(biased var + eps).
template <typename T>
void batch_norm_forward(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* invstd, int64_t N, int64_t C,
                        int64_t S, double eps);
// First-order backward. Writes gx, ggamma, gbeta; any may be null (not wanted).
template <typename T>
void batch_norm_backward(const T* gy, const T* x, const T* gamma, const T* mean, const T* invstd, T* gx, T* ggamma,
                         T* gbeta, int64_t N, int64_t C, int64_t S);
// Over the middle dim of (outer, C, inner). Writes out.
template <typename T> void log_softmax(const T* x, T* out, int64_t outer, int64_t C, int64_t inner);
// Mean over rows of logsumexp(logits[r]) - logits[r, target[r]]. Targets are bounds-checked.
template <typename T> T cross_entropy(const T* logits, const int64_t* targets, int64_t rows, int64_t C);
// out (n, m) = |a_i - b_j|^2 for a (n, d), b (m, d).
template <typename T> void sqdist(const T* a, const T* b, T* out, int64_t n, int64_t m, int64_t d);

}  // namespace fewshot::cpu
