#pragma once
// 2-D convolution (no bias) and its two gradients as implicit GEMMs on the tiled GEMM core:
// the im2col matrix is never materialized, each tile load computes its input positions. All
// three write (=) their output and are deterministic (no atomics; the weight gradient's split-K
// partial sums are added in a fixed order by a second kernel).
#include <cstdint>

#include <cuda_runtime.h>

namespace fewshot::cuda {

struct ConvGeometry {
  int64_t N, C, H, W;     // input (N, C, H, W)
  int64_t OC, KH, KW;     // weight (OC, C / groups, KH, KW)
  int64_t stride_h, stride_w, pad_h, pad_w, groups;
  int64_t OH, OW;         // output (N, OC, OH, OW)
};

// x (N, C, H, W), w (OC, C/g, KH, KW) -> y (N, OC, OH, OW)
template <typename T> void conv2d_forward(const ConvGeometry& g, const T* x, const T* w, T* y, cudaStream_t s);
// gy (N, OC, OH, OW), w -> gx (N, C, H, W)
template <typename T> void conv2d_input_grad(const ConvGeometry& g, const T* gy, const T* w, T* gx, cudaStream_t s);
// x, gy -> gw (OC, C/g, KH, KW). Needs conv2d_weight_grad_workspace_bytes of scratch (may be 0).
int64_t conv2d_weight_grad_workspace_bytes(const ConvGeometry& g, int64_t element_size);
template <typename T>
void conv2d_weight_grad(const ConvGeometry& g, const T* x, const T* gy, T* gw, void* workspace, cudaStream_t s);

}  // namespace fewshot::cuda
