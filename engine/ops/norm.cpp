// batch_norm: a fused forward kernel; the derivative is the textbook formula
//   xhat = (x - mean) * invstd,  dbeta = sum(gy),  dgamma = sum(gy * xhat),
//   dx = invstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat)),  gxhat = gy * gamma
// (sums and means per channel). Under create_graph it is evaluated with differentiable ops that
// recompute mean and invstd from x, so its own derivative (MAML's second-order term through
// batch norm) is exact. Without create_graph the fused backward kernel computes the same numbers.
#include "engine/ops/norm.h"

#include "engine/autograd/node.h"
#include "engine/core/backend.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/op_checks.h"
#include "engine/ops/reduce.h"
#include "engine/ops/shape_ops.h"

namespace fewshot {

namespace {

std::vector<int> stat_dims(const Tensor& x) { return x.dim() == 2 ? std::vector<int>{0} : std::vector<int>{0, 2, 3}; }

// (C,) -> broadcastable against x.
Tensor per_channel(const Tensor& v, const Tensor& x) {
  return x.dim() == 2 ? reshape(v, Shape{1, v.numel()}) : reshape(v, Shape{1, v.numel(), 1, 1});
}

}  // namespace

std::vector<Tensor> batch_norm_backward_composite(const Tensor& gy, const Tensor& x, const Tensor& gamma, double eps) {
  std::vector<int> dims = stat_dims(x);
  Tensor mu = mean(x, dims, true);
  Tensor xc = sub(x, mu);
  Tensor invstd = pow(add(mean(mul(xc, xc), dims, true), eps), -0.5);
  Tensor xhat = mul(xc, invstd);
  Tensor gxhat = mul(gy, per_channel(gamma, x));
  Tensor dx = mul(invstd, sub(sub(gxhat, mean(gxhat, dims, true)), mul(xhat, mean(mul(gxhat, xhat), dims, true))));
  return {dx, sum(mul(gy, xhat), dims), sum(gy, dims)};
}

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  const char* op = "batch_norm";
  detail::check_floating(op, x);
  detail::check_same(op, x, gamma);
  detail::check_same(op, x, beta);
  check<ShapeError>(x.dim() == 2 || x.dim() == 4, "{}: input must be (N, C) or (N, C, H, W), got {}", op,
                    x.shape().str());
  int64_t N = x.size(0), C = x.size(1), S = x.dim() == 4 ? x.size(2) * x.size(3) : 1;
  check<ShapeError>(gamma.shape() == Shape{C} && beta.shape() == Shape{C},
                    "{}: gamma {} and beta {} must both be ({},) for input {}", op, gamma.shape().str(),
                    beta.shape().str(), C, x.shape().str());
  check<ShapeError>(N * S > 1, "{}: needs more than one value per channel to compute batch statistics, got input {}",
                    op, x.shape().str());
  Tensor y = empty_like(x);
  Tensor mean_c = Tensor::empty(Shape{C}, x.dtype(), x.device());
  Tensor invstd_c = Tensor::empty(Shape{C}, x.dtype(), x.device());
  backend_for(x).batch_norm_forward(x, gamma, beta, y, mean_c, invstd_c, N, C, S, eps);
  auto outs = record_op(op, {x, gamma, beta}, {y, mean_c, invstd_c},
                        [eps, N, C, S](const BackwardContext& c) -> std::vector<Tensor> {
                          Tensor gy = c.grad(0), x = c.input(0), gamma = c.input(1);
                          if (c.create_graph()) return batch_norm_backward_composite(gy, x, gamma, eps);
                          Tensor gx = c.needs_grad(0) ? empty_like(x) : Tensor();
                          Tensor gg = c.needs_grad(1) ? empty_like(gamma) : Tensor();
                          Tensor gb = c.needs_grad(2) ? empty_like(gamma) : Tensor();
                          backend_for(x).batch_norm_backward(gy, x, gamma, c.result(1), c.result(2), gx, gg, gb, N, C,
                                                             S);
                          return {gx, gg, gb};
                        },
                        {true, false, false});
  return outs[0];
}

}  // namespace fewshot
