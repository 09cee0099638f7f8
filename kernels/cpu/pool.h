#pragma once
// 2-D pooling over (N, C, H, W) planes with a square window.
#include <cstdint>

namespace fewshot::cpu {

struct PoolGeometry {
  int64_t planes;  // N * C
  int64_t H, W, kernel, stride, pad, OH, OW;
};

// y (planes, OH, OW); indices: argmax position within each H*W plane (padding never wins).
template <typename T> void max_pool2d(const PoolGeometry& g, const T* x, T* y, int64_t* indices);
// Window mean with padding counted as zeros (divisor kernel^2). Writes y.
template <typename T> void avg_pool2d(const PoolGeometry& g, const T* x, T* y);
// Its adjoint: writes gx (planes, H, W).
template <typename T> void avg_pool2d_backward(const PoolGeometry& g, const T* gy, T* gx);

}  // namespace fewshot::cpu
