// Elementwise ops: forward kernel call plus derivative formula (written with these same ops, so
// the backward pass is itself differentiable). Broadcast gradients are reduced with sum_to.
#include "engine/ops/elementwise.h"

#include "engine/autograd/node.h"
#include "engine/core/backend.h"
#include "engine/ops/op_checks.h"
#include "engine/ops/reduce.h"

namespace fewshot {

namespace {

Tensor binary_forward(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = binary_name(op);
  detail::check_floating(name, a);
  detail::check_same(name, a, b);
  Tensor out = Tensor::empty(broadcast_shapes(name, a.shape(), b.shape()), a.dtype(), a.device());
  if (out.numel()) backend_for(a).binary(op, a, b, out);
  return out;
}

Tensor unary_forward(UnaryOp op, const Tensor& x, double p = 0, double q = 0) {
  detail::check_floating(unary_name(op), x);
  Tensor out = empty_like(x);
  if (out.numel()) backend_for(x).unary(op, x, out, p, q);
  return out;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  return record_op("add", {a, b}, binary_forward(BinaryOp::Add, a, b), [](const BackwardContext& c) {
    return std::vector<Tensor>{c.needs_grad(0) ? sum_to(c.grad(), c.input(0).shape()) : Tensor(),
                               c.needs_grad(1) ? sum_to(c.grad(), c.input(1).shape()) : Tensor()};
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  return record_op("sub", {a, b}, binary_forward(BinaryOp::Sub, a, b), [](const BackwardContext& c) {
    return std::vector<Tensor>{c.needs_grad(0) ? sum_to(c.grad(), c.input(0).shape()) : Tensor(),
                               c.needs_grad(1) ? sum_to(neg(c.grad()), c.input(1).shape()) : Tensor()};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  return record_op("mul", {a, b}, binary_forward(BinaryOp::Mul, a, b), [](const BackwardContext& c) {
    Tensor g = c.grad(), a = c.input(0), b = c.input(1);
    return std::vector<Tensor>{c.needs_grad(0) ? sum_to(mul(g, b), a.shape()) : Tensor(),
                               c.needs_grad(1) ? sum_to(mul(g, a), b.shape()) : Tensor()};
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  return record_op("div", {a, b}, binary_forward(BinaryOp::Div, a, b), [](const BackwardContext& c) {
    Tensor g = c.grad(), a = c.input(0), b = c.input(1);
    // d(a/b)/db = -a / b^2 = -result / b
    return std::vector<Tensor>{c.needs_grad(0) ? sum_to(div(g, b), a.shape()) : Tensor(),
                               c.needs_grad(1) ? sum_to(neg(div(mul(g, c.result()), b)), b.shape()) : Tensor()};
  });
}

Tensor pow(const Tensor& a, const Tensor& b) {
  return record_op("pow", {a, b}, binary_forward(BinaryOp::Pow, a, b), [](const BackwardContext& c) {
    Tensor g = c.grad(), a = c.input(0), b = c.input(1);
    // d(a^b)/da = b a^(b-1); d(a^b)/db = a^b log a
    return std::vector<Tensor>{c.needs_grad(0) ? sum_to(mul(g, mul(b, pow(a, sub(b, 1.0)))), a.shape()) : Tensor(),
                               c.needs_grad(1) ? sum_to(mul(g, mul(c.result(), log(a))), b.shape()) : Tensor()};
  });
}

Tensor neg(const Tensor& x) {
  return record_op("neg", {x}, unary_forward(UnaryOp::Neg, x),
                   [](const BackwardContext& c) { return std::vector<Tensor>{neg(c.grad())}; });
}

Tensor exp(const Tensor& x) {
  return record_op("exp", {x}, unary_forward(UnaryOp::Exp, x),
                   [](const BackwardContext& c) { return std::vector<Tensor>{mul(c.grad(), c.result())}; });
}

Tensor log(const Tensor& x) {
  return record_op("log", {x}, unary_forward(UnaryOp::Log, x),
                   [](const BackwardContext& c) { return std::vector<Tensor>{div(c.grad(), c.input(0))}; });
}

Tensor sqrt(const Tensor& x) {
  return record_op("sqrt", {x}, unary_forward(UnaryOp::Sqrt, x), [](const BackwardContext& c) {
    return std::vector<Tensor>{div(mul(c.grad(), 0.5), c.result())};
  });
}

Tensor relu(const Tensor& x) {
  // The mask is a constant: relu'' is zero almost everywhere, which is what double backward gives.
  return record_op("relu", {x}, unary_forward(UnaryOp::Relu, x), [](const BackwardContext& c) {
    return std::vector<Tensor>{mul(c.grad(), gt(c.input(0), 0.0))};
  });
}

Tensor tanh(const Tensor& x) {
  return record_op("tanh", {x}, unary_forward(UnaryOp::Tanh, x), [](const BackwardContext& c) {
    Tensor y = c.result();
    return std::vector<Tensor>{mul(c.grad(), affine(mul(y, y), -1.0, 1.0))};
  });
}

Tensor sigmoid(const Tensor& x) {
  return record_op("sigmoid", {x}, unary_forward(UnaryOp::Sigmoid, x), [](const BackwardContext& c) {
    Tensor y = c.result();
    return std::vector<Tensor>{mul(c.grad(), mul(y, affine(y, -1.0, 1.0)))};
  });
}

Tensor abs(const Tensor& x) {
  return record_op("abs", {x}, unary_forward(UnaryOp::Abs, x), [](const BackwardContext& c) {
    Tensor sign = affine(gt(c.input(0), 0.0), 2.0, -1.0);
    return std::vector<Tensor>{mul(c.grad(), sign)};
  });
}

Tensor pow(const Tensor& x, double e) {
  return record_op("pow_scalar", {x}, unary_forward(UnaryOp::PowScalar, x, e), [e](const BackwardContext& c) {
    if (e == 0.0) return std::vector<Tensor>{zeros_like(c.grad())};
    return std::vector<Tensor>{mul(c.grad(), mul(pow(c.input(0), e - 1.0), e))};
  });
}

Tensor affine(const Tensor& x, double a, double b) {
  return record_op("affine", {x}, unary_forward(UnaryOp::Affine, x, a, b),
                   [a](const BackwardContext& c) { return std::vector<Tensor>{affine(c.grad(), a, 0.0)}; });
}

Tensor gt(const Tensor& x, double threshold) { return unary_forward(UnaryOp::StepGt, x, threshold); }

Tensor eq(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::Eq, a, b); }

}  // namespace fewshot
