#pragma once
// Fused neural-network kernels: batch norm (training mode) forward/backward, log-softmax,
// cross-entropy (log-softmax + NLL in one pass), pairwise squared distances. Statistics
// accumulate in double for float inputs and are reduced in a fixed order (deterministic).
#include <cstdint>

#include <cuda_runtime.h>

namespace fewshot::cuda {

// Scratch the batch-norm kernels need for (N, C, S) (the per-channel partial sums).
int64_t batch_norm_workspace_bytes(int64_t N, int64_t C, int64_t S);
// x (N, C, S). Writes y, mean (C,), invstd (C,) = 1 / sqrt(biased var + eps).
template <typename T>
void batch_norm_forward(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* invstd, int64_t N, int64_t C,
                        int64_t S, double eps, void* workspace, cudaStream_t s);
// First-order backward; writes gx, ggamma, gbeta, any of which may be null.
template <typename T>
void batch_norm_backward(const T* gy, const T* x, const T* gamma, const T* mean, const T* invstd, T* gx, T* ggamma,
                         T* gbeta, int64_t N, int64_t C, int64_t S, void* workspace, cudaStream_t s);
// Over the middle dim of (outer, C, inner). Writes out.
template <typename T> void log_softmax(const T* x, T* out, int64_t outer, int64_t C, int64_t inner, cudaStream_t s);
// *loss = mean over rows of logsumexp(logits[r]) - logits[r, targets[r]]. Targets must be valid
// (the backend checks them first with find_bad_index).
template <typename T>
void cross_entropy(const T* logits, const int64_t* targets, T* loss, int64_t rows, int64_t C, cudaStream_t s);
// out (n, m) = |a_i - b_j|^2 by direct differences (exact zeros, never negative).
template <typename T> void sqdist(const T* a, const T* b, T* out, int64_t n, int64_t m, int64_t d, cudaStream_t s);

}  // namespace fewshot::cuda
