// The GEMM op. For C = op(A) op(B): dop(A) = G op(B)^T and dop(B) = op(A)^T G, each again one
// matmul_t with transpose flags, so no transposed copies are made and the op is closed under
// differentiation.
#include "engine/ops/linalg.h"

#include "engine/autograd/node.h"
#include "engine/core/backend.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/op_checks.h"
#include "engine/ops/reduce.h"

namespace fewshot {

namespace {

// Gradient computed for a broadcast 2-D operand comes out batched: sum it over the batch.
Tensor unbatch(const Tensor& g, const Tensor& input) {
  return g.dim() > input.dim() ? sum(g, {0}) : g;
}

}  // namespace

Tensor matmul_t(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  const char* op = "matmul";
  detail::check_floating(op, a);
  detail::check_same(op, a, b);
  check<ShapeError>((a.dim() == 2 || a.dim() == 3) && (b.dim() == 2 || b.dim() == 3),
                    "{}: operands must be 2-D or 3-D, got {} and {}", op, a.shape().str(), b.shape().str());
  int64_t batch_a = a.dim() == 3 ? a.shape()[0] : 1, batch_b = b.dim() == 3 ? b.shape()[0] : 1;
  check<ShapeError>(a.dim() == 2 || b.dim() == 2 || batch_a == batch_b, "{}: batch sizes differ: {} vs {}", op,
                    a.shape().str(), b.shape().str());
  int64_t M = ta ? a.size(-1) : a.size(-2), Ka = ta ? a.size(-2) : a.size(-1);
  int64_t Kb = tb ? b.size(-1) : b.size(-2), N = tb ? b.size(-2) : b.size(-1);
  check<ShapeError>(Ka == Kb, "{}: inner dimensions differ: {}{} @ {}{} ({} vs {})", op, a.shape().str(),
                    ta ? "^T" : "", b.shape().str(), tb ? "^T" : "", Ka, Kb);
  bool batched = a.dim() == 3 || b.dim() == 3;
  int64_t batch = std::max(batch_a, batch_b);
  Shape shape = batched ? Shape{batch, M, N} : Shape{M, N};
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  if (out.numel()) {
    if (Ka == 0) {
      backend_for(a).fill(out, 0.0);
    } else {
      backend_for(a).gemm(ta, tb, batch, M, N, Ka, 1.0, a, a.dim() == 3 ? M * Ka : 0, b, b.dim() == 3 ? Ka * N : 0,
                          0.0, out, M * N);
    }
  }
  return record_op("matmul", {a, b}, out, [ta, tb](const BackwardContext& c) {
    Tensor g = c.grad(), a = c.input(0), b = c.input(1);
    Tensor ga, gb;
    if (c.needs_grad(0)) ga = unbatch(ta ? matmul_t(b, g, tb, true) : matmul_t(g, b, false, !tb), a);
    if (c.needs_grad(1)) gb = unbatch(tb ? matmul_t(g, a, true, ta) : matmul_t(a, g, !ta, false), b);
    return std::vector<Tensor>{ga, gb};
  });
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  detail::check_dims("bmm", a, 3, "first operand");
  detail::check_dims("bmm", b, 3, "second operand");
  return matmul_t(a, b, false, false);
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias) {
  detail::check_dims("linear", x, 2, "input");
  detail::check_dims("linear", w, 2, "weight");
  check<ShapeError>(x.size(1) == w.size(1), "linear: input {} has {} features but weight {} expects {}",
                    x.shape().str(), x.size(1), w.shape().str(), w.size(1));
  Tensor y = matmul_t(x, w, false, true);
  if (!bias.defined()) return y;
  check<ShapeError>(bias.dim() == 1 && bias.size(0) == w.size(0), "linear: bias {} must be ({},) for weight {}",
                    bias.shape().str(), w.size(0), w.shape().str());
  return add(y, bias);
}

}  // namespace fewshot
