#pragma once
// 2-D convolution kernels (no bias) and their two gradients, over raw row-major buffers.
#include <cstdint>

namespace fewshot::cpu {

struct Conv2dGeometry {
  int64_t N, C, H, W;     // input (N, C, H, W)
  int64_t OC, KH, KW;     // weight (OC, C / groups, KH, KW)
  int64_t stride_h, stride_w, pad_h, pad_w, groups;
  int64_t OH, OW;         // output (N, OC, OH, OW)
};

Conv2dGeometry conv2d_geometry(int64_t N, int64_t C, int64_t H, int64_t W, int64_t OC, int64_t KH, int64_t KW,
                               int64_t stride_h, int64_t stride_w, int64_t pad_h, int64_t pad_w, int64_t groups);

template <typename T> void conv2d_forward(const Conv2dGeometry& g, const T* x, const T* w, T* y);
template <typename T> void conv2d_input_grad(const Conv2dGeometry& g, const T* gy, const T* w, T* gx);
template <typename T> void conv2d_weight_grad(const Conv2dGeometry& g, const T* x, const T* gy, T* gw);

}  // namespace fewshot::cpu
