// Reductions. sum's derivative is expand, expand's is sum_to (and back), so the set is closed
// under differentiation; max routes its gradient through gather/scatter_add (engine/ops/index_ops.h).
#include "engine/ops/reduce.h"

#include <algorithm>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/core/backend.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/index_ops.h"
#include "engine/ops/op_checks.h"
#include "engine/ops/shape_ops.h"

namespace fewshot {

namespace {

std::vector<int> normalized_dims(const char* op, const Shape& s, const std::vector<int>& dims) {
  std::vector<int> out;
  for (int d : dims) {
    check<ValueError>(d >= -s.dim() && d < s.dim(), "{}: dim {} out of range for shape {}", op, d, s.str());
    out.push_back(d < 0 ? d + s.dim() : d);
  }
  std::sort(out.begin(), out.end());
  check<ValueError>(std::adjacent_find(out.begin(), out.end()) == out.end(), "{}: repeated dim in reduction over {}",
                    op, s.str());
  return out;
}

Shape reduced_shape(const Shape& s, const std::vector<int>& dims, bool keepdim) {
  Shape out;
  for (int i = 0; i < s.dim(); ++i) {
    bool reduced = std::find(dims.begin(), dims.end(), i) != dims.end();
    if (!reduced) out.push_back(s[i]);
    else if (keepdim) out.push_back(1);
  }
  return out;
}

// Sums over sorted dims with one kernel call per dim (last first, so earlier dims keep their place).
Tensor sum_kernel(const Tensor& x, const std::vector<int>& dims) {
  Tensor cur = x;
  Shape s = x.shape();
  for (auto it = dims.rbegin(); it != dims.rend(); ++it) {
    auto [outer, R, inner] = detail::split_at(s, *it);
    s[*it] = 1;
    Tensor out = Tensor::empty(s, x.dtype(), x.device());
    if (out.numel()) {
      if (R == 0) backend_for(x).fill(out, 0.0);
      else backend_for(x).sum_dim(cur, out, outer, R, inner);
    }
    cur = out;
  }
  return cur;
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int>& dims_in, bool keepdim) {
  detail::check_floating("sum", x);
  std::vector<int> dims = normalized_dims("sum", x.shape(), dims_in);
  Tensor out = sum_kernel(x.detach(), dims).detach();
  Shape shape = reduced_shape(x.shape(), dims, keepdim);
  // Same storage, final shape: the keepdim result is contiguous either way.
  auto impl = std::make_shared<TensorImpl>(*out.impl());
  impl->shape = shape;
  return record_op("sum", {x}, Tensor(impl), [dims, keepdim](const BackwardContext& c) {
    const Shape& in = c.input(0).shape();
    Tensor g = keepdim ? c.grad() : reshape(c.grad(), reduced_shape(in, dims, true));
    return std::vector<Tensor>{expand(g, in)};
  });
}

Tensor sum(const Tensor& x) {
  std::vector<int> all(x.dim());
  for (int i = 0; i < x.dim(); ++i) all[i] = i;
  return sum(x, all, false);
}

Tensor mean(const Tensor& x, const std::vector<int>& dims, bool keepdim) {
  std::vector<int> d = normalized_dims("mean", x.shape(), dims);
  int64_t count = 1;
  for (int i : d) count *= x.shape()[i];
  check<ShapeError>(count > 0, "mean: reducing over an empty dimension of shape {}", x.shape().str());
  return mul(sum(x, d, keepdim), 1.0 / static_cast<double>(count));
}

Tensor mean(const Tensor& x) {
  check<ShapeError>(x.numel() > 0, "mean: empty tensor of shape {}", x.shape().str());
  return mul(sum(x), 1.0 / static_cast<double>(x.numel()));
}

std::pair<Tensor, Tensor> max(const Tensor& x, int dim, bool keepdim) {
  detail::check_floating("max", x);
  int d = x.shape().normalize_dim(dim);
  auto [outer, R, inner] = detail::split_at(x.shape(), d);
  check<ShapeError>(R > 0, "max: dimension {} of shape {} is empty", d, x.shape().str());
  Shape kept = x.shape().with(d, 1);
  Tensor values = Tensor::empty(kept, x.dtype(), x.device());
  Tensor indices = Tensor::empty(kept, DType::Int64, x.device());
  if (values.numel()) backend_for(x).max_dim(x, values, indices, outer, R, inner);
  // When a gradient is wanted, the value is recomputed as a gather at the argmax, so its gradient
  // is the scatter (gather's own derivative); otherwise the kernel's values are the result.
  Tensor v = grad_mode_enabled() && x.requires_grad() ? gather(x, d, indices) : values;
  if (!keepdim) {
    Shape s = reduced_shape(x.shape(), {d}, false);
    return {reshape(v, s), reshape(indices, s)};
  }
  return {v, indices};
}

Tensor max(const Tensor& x) { return max(reshape(x, Shape{x.numel()}), 0, false).first; }

Tensor argmax(const Tensor& x, int dim, bool keepdim) {
  NoGradGuard no_grad;
  return max(x.detach(), dim, keepdim).second;
}

Tensor expand(const Tensor& x, const Shape& shape) {
  detail::check_defined("expand", x);
  Shape target = broadcast_shapes("expand", x.shape(), shape);
  check<ShapeError>(target == shape, "expand: shape {} cannot be expanded to {}", x.shape().str(), shape.str());
  if (x.shape() == shape) return x;
  Tensor out = Tensor::empty(shape, x.dtype(), x.device());
  if (out.numel()) backend_for(x).expand(x, out);
  return record_op("expand", {x}, out, [](const BackwardContext& c) {
    return std::vector<Tensor>{sum_to(c.grad(), c.input(0).shape())};
  });
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  detail::check_defined("sum_to", x);
  if (x.shape() == shape) return x;
  Shape check_shape = broadcast_shapes("sum_to", shape, x.shape());
  check<ShapeError>(check_shape == x.shape(), "sum_to: shape {} cannot be summed to {}", x.shape().str(),
                    shape.str());
  int lead = x.dim() - shape.dim();
  std::vector<int> dims;
  for (int i = 0; i < x.dim(); ++i)
    if (i < lead || (shape[i - lead] == 1 && x.shape()[i] != 1)) dims.push_back(i);
  return reshape(sum(x, dims, true), shape);
}

}  // namespace fewshot
