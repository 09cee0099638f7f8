#include "engine/ops/loss.h"

#include "engine/autograd/node.h"
#include "engine/core/backend.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/index_ops.h"
#include "engine/ops/linalg.h"
#include "engine/ops/op_checks.h"
#include "engine/ops/reduce.h"
#include "engine/ops/shape_ops.h"

namespace fewshot {

Tensor log_softmax(const Tensor& x, int dim) {
  detail::check_floating("log_softmax", x);
  check<ShapeError>(x.dim() >= 1, "log_softmax: needs at least 1 dim, got a scalar");
  int d = x.shape().normalize_dim(dim);
  auto [outer, C, inner] = detail::split_at(x.shape(), d);
  check<ShapeError>(C > 0, "log_softmax: dim {} of {} is empty", d, x.shape().str());
  Tensor y = empty_like(x);
  if (y.numel()) backend_for(x).log_softmax(x, y, outer, C, inner);
  // d/dx: g - softmax * sum(g), with softmax = exp(result) (differentiable through this node).
  return record_op("log_softmax", {x}, y, [d](const BackwardContext& c) {
    Tensor g = c.grad();
    return std::vector<Tensor>{sub(g, mul(exp(c.result()), sum(g, {d}, true)))};
  });
}

Tensor softmax(const Tensor& x, int dim) { return exp(log_softmax(x, dim)); }

Tensor cross_entropy(const Tensor& logits, const Tensor& targets) {
  const char* op = "cross_entropy";
  detail::check_floating(op, logits);
  detail::check_index(op, targets);
  check<ShapeError>(logits.dim() == 2, "{}: logits must be (N, C), got {}", op, logits.shape().str());
  check<ShapeError>(targets.dim() == 1 && targets.size(0) == logits.size(0),
                    "{}: targets {} must be ({},) to match logits {}", op, targets.shape().str(), logits.size(0),
                    logits.shape().str());
  check<DeviceError>(targets.device() == logits.device(), "{}: targets on {} but logits on {}", op,
                     targets.device().str(), logits.device().str());
  int64_t N = logits.size(0), C = logits.size(1);
  check<ShapeError>(N > 0 && C > 0, "{}: empty logits {}", op, logits.shape().str());
  Tensor loss = Tensor::empty(Shape{}, logits.dtype(), logits.device());
  backend_for(logits).cross_entropy(logits, targets, loss, N, C);  // fused log-softmax + NLL
  // d/dlogits = (softmax(logits) - onehot(targets)) * g / N, written with differentiable ops.
  return record_op(op, {logits, targets}, loss, [N, C](const BackwardContext& c) {
    Tensor logits = c.input(0);
    Tensor target = one_hot(c.input(1), C, logits.dtype());
    Tensor scale = mul(c.grad(), 1.0 / static_cast<double>(N));
    return std::vector<Tensor>{mul(sub(softmax(logits, 1), target), scale), Tensor()};
  });
}

Tensor mse_loss(const Tensor& a, const Tensor& b) {
  detail::check_same("mse_loss", a, b);
  check<ShapeError>(a.shape() == b.shape(), "mse_loss: prediction {} and target {} differ in shape",
                    a.shape().str(), b.shape().str());
  Tensor d = sub(a, b);
  return mean(mul(d, d));
}

Tensor sqdist(const Tensor& a, const Tensor& b) {
  const char* op = "sqdist";
  detail::check_floating(op, a);
  detail::check_same(op, a, b);
  check<ShapeError>(a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(1),
                    "{}: expected (n, d) and (m, d), got {} and {}", op, a.shape().str(), b.shape().str());
  int64_t n = a.size(0), m = b.size(0), d = a.size(1);
  Tensor out = Tensor::empty(Shape{n, m}, a.dtype(), a.device());
  if (out.numel()) backend_for(a).sqdist(a, b, out, n, m, d);
  // D_ij = |a_i - b_j|^2: dA = 2 (rowsum(G) * A - G B), dB = 2 (colsum(G)^T * B - G^T A).
  return record_op(op, {a, b}, out, [](const BackwardContext& c) {
    Tensor g = c.grad(), a = c.input(0), b = c.input(1);
    Tensor ga, gb;
    if (c.needs_grad(0)) ga = mul(sub(mul(sum(g, {1}, true), a), matmul_t(g, b, false, false)), 2.0);
    if (c.needs_grad(1))
      gb = mul(sub(mul(transpose(sum(g, {0}, true)), b), matmul_t(g, a, true, false)), 2.0);
    return std::vector<Tensor>{ga, gb};
  });
}

}  // namespace fewshot
