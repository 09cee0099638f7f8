#pragma once
// 2-D convolution and its two gradients, each a differentiable op in its own right. With
// y = conv2d(x, w): dx = conv2d_input_grad(gy, w), dw = conv2d_weight_grad(x, gy), and the
// derivatives of those two are again conv2d and its siblings (engine/ops/conv.cpp), so the set
// is closed under differentiation (MAML differentiates through the inner step's conv backward).
#include "engine/core/backend.h"
#include "engine/core/tensor.h"

namespace fewshot {

struct Conv2dOptions {
  int64_t stride = 1, padding = 0, groups = 1;
};

// x (N, C, H, W), w (OC, C / groups, KH, KW), bias (OC,) or undefined -> (N, OC, OH, OW).
// groups > 1 runs independent convolutions on channel groups (depthwise when groups == C); the
// task-batched learners run every task of a meta-batch as one group.
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias = Tensor(), Conv2dOptions opt = {});

// The geometry of conv2d(x of x_shape, w of w_shape, opt), validated (throws ShapeError).
ConvParams conv2d_params(const Shape& x_shape, const Shape& w_shape, const Conv2dOptions& opt);

// dL/dx (shape p.N, p.C, p.H, p.W) for y = conv2d(x, w) given gy = dL/dy: the transposed convolution.
Tensor conv2d_input_grad(const Tensor& gy, const Tensor& w, const ConvParams& p);
// dL/dw (shape of w) for y = conv2d(x, w) given gy = dL/dy.
Tensor conv2d_weight_grad(const Tensor& x, const Tensor& gy, const ConvParams& p);

}  // namespace fewshot
