#include "engine/ops/pool.h"

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/ops/index_ops.h"
#include "engine/ops/op_checks.h"
#include "engine/ops/reduce.h"
#include "engine/ops/shape_ops.h"

namespace fewshot {

ConvParams pool2d_params(const char* op, const Shape& xs, const Pool2dOptions& opt) {
  check<ShapeError>(xs.dim() == 4, "{}: input must be 4-D (N, C, H, W), got {}", op, xs.str());
  int64_t k = opt.kernel, s = opt.stride == 0 ? opt.kernel : opt.stride, pad = opt.padding;
  check<ValueError>(k >= 1 && s >= 1 && pad >= 0 && pad * 2 <= k,
                    "{}: invalid kernel {}, stride {}, padding {} (padding must be at most half the kernel)", op, k, s,
                    pad);
  ConvParams p{};
  p.N = xs[0], p.C = xs[1], p.H = xs[2], p.W = xs[3];
  p.OC = p.C, p.KH = p.KW = k, p.stride_h = p.stride_w = s, p.pad_h = p.pad_w = pad, p.groups = p.C;
  p.OH = (p.H + 2 * pad - k) / s + 1;
  p.OW = (p.W + 2 * pad - k) / s + 1;
  check<ShapeError>(p.H + 2 * pad >= k && p.W + 2 * pad >= k, "{}: window {}x{} larger than input {} with padding {}",
                    op, k, k, xs.str(), pad);
  return p;
}

std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, Pool2dOptions opt) {
  detail::check_floating("max_pool2d", x);
  ConvParams p = pool2d_params("max_pool2d", x.shape(), opt);
  Tensor values = Tensor::empty(Shape{p.N, p.C, p.OH, p.OW}, x.dtype(), x.device());
  Tensor indices = Tensor::empty(values.shape(), DType::Int64, x.device());
  if (values.numel()) backend_for(x).max_pool2d(p, x, values, indices);
  if (!(grad_mode_enabled() && x.requires_grad())) return {values, indices};
  // As a graph op the pooled value is a gather from each plane at the argmax, so its backward is
  // scatter_add and its double backward gather.
  Tensor planes = reshape(x, Shape{p.N * p.C, p.H * p.W});
  Tensor v = gather(planes, 1, reshape(indices, Shape{p.N * p.C, p.OH * p.OW}));
  return {reshape(v, values.shape()), indices};
}

Tensor avg_pool2d(const Tensor& x, Pool2dOptions opt) {
  detail::check_floating("avg_pool2d", x);
  ConvParams p = pool2d_params("avg_pool2d", x.shape(), opt);
  Tensor y = Tensor::empty(Shape{p.N, p.C, p.OH, p.OW}, x.dtype(), x.device());
  if (y.numel()) backend_for(x).avg_pool2d(p, x, y);
  return record_op("avg_pool2d", {x}, y, [p](const BackwardContext& c) {
    return std::vector<Tensor>{avg_pool2d_backward(c.grad(), p)};
  });
}

Tensor avg_pool2d_backward(const Tensor& gy, const ConvParams& p) {
  detail::check_floating("avg_pool2d_backward", gy);
  check<ShapeError>(gy.shape() == Shape({p.N, p.C, p.OH, p.OW}), "avg_pool2d_backward: gradient {} expected {}",
                    gy.shape().str(), Shape({p.N, p.C, p.OH, p.OW}).str());
  Tensor gx = Tensor::empty(Shape{p.N, p.C, p.H, p.W}, gy.dtype(), gy.device());
  if (gx.numel()) backend_for(gy).avg_pool2d_backward(p, gy, gx);
  return record_op("avg_pool2d_backward", {gy}, gx, [p](const BackwardContext& c) {
    Pool2dOptions opt{p.KH, p.stride_h, p.pad_h};
    return std::vector<Tensor>{avg_pool2d(c.grad(), opt)};
  });
}

Tensor global_avg_pool2d(const Tensor& x) {
  detail::check_dims("global_avg_pool2d", x, 4);
  return mean(x, {2, 3});
}

}  // namespace fewshot
