// Indexing ops: gather/scatter_add and index_select/index_add, each the other's derivative.
#include "engine/ops/index_ops.h"

#include "engine/autograd/node.h"
#include "engine/core/backend.h"
#include "engine/ops/op_checks.h"

namespace fewshot {

Tensor gather(const Tensor& x, int dim, const Tensor& idx) {
  detail::check_defined("gather", x);
  detail::check_index("gather", idx);
  int d = x.shape().normalize_dim(dim);
  check<ShapeError>(idx.dim() == x.dim(), "gather: index shape {} and input shape {} differ in rank",
                    idx.shape().str(), x.shape().str());
  for (int k = 0; k < x.dim(); ++k)
    check<ShapeError>(k == d || idx.shape()[k] == x.shape()[k],
                      "gather: index shape {} must match input shape {} except in dim {}", idx.shape().str(),
                      x.shape().str(), d);
  check<DeviceError>(idx.device() == x.device(), "gather: index on {} but input on {}", idx.device().str(),
                     x.device().str());
  auto [outer, L, inner] = detail::split_at(x.shape(), d);
  Tensor out = Tensor::empty(idx.shape(), x.dtype(), x.device());
  if (out.numel()) backend_for(x).gather_dim(x, idx, out, outer, L, idx.shape()[d], inner);
  return record_op("gather", {x, idx}, out, [d](const BackwardContext& c) {
    return std::vector<Tensor>{scatter_add(c.grad(), d, c.input(1), c.input(0).shape()), Tensor()};
  });
}

Tensor scatter_add(const Tensor& src, int dim, const Tensor& idx, const Shape& shape) {
  detail::check_defined("scatter_add", src);
  detail::check_index("scatter_add", idx);
  check<ShapeError>(idx.shape() == src.shape(), "scatter_add: index shape {} differs from source shape {}",
                    idx.shape().str(), src.shape().str());
  check<ShapeError>(shape.dim() == src.dim(), "scatter_add: target shape {} and source shape {} differ in rank",
                    shape.str(), src.shape().str());
  int d = shape.normalize_dim(dim);
  for (int k = 0; k < shape.dim(); ++k)
    check<ShapeError>(k == d || shape[k] == src.shape()[k],
                      "scatter_add: source shape {} must match target shape {} except in dim {}", src.shape().str(),
                      shape.str(), d);
  check<DeviceError>(idx.device() == src.device(), "scatter_add: index on {} but source on {}", idx.device().str(),
                     src.device().str());
  auto [outer, L, inner] = detail::split_at(shape, d);
  Tensor out = Tensor::empty(shape, src.dtype(), src.device());
  if (out.numel()) backend_for(src).scatter_add_dim(src, idx, out, outer, L, src.shape()[d], inner);
  return record_op("scatter_add", {src, idx}, out, [d](const BackwardContext& c) {
    return std::vector<Tensor>{gather(c.grad(), d, c.input(1)), Tensor()};
  });
}

Tensor index_select(const Tensor& x, int dim, const Tensor& idx) {
  detail::check_defined("index_select", x);
  detail::check_index("index_select", idx);
  check<ShapeError>(idx.dim() == 1, "index_select: index must be 1-D, got shape {}", idx.shape().str());
  check<DeviceError>(idx.device() == x.device(), "index_select: index on {} but input on {}", idx.device().str(),
                     x.device().str());
  int d = x.shape().normalize_dim(dim);
  auto [outer, D, inner] = detail::split_at(x.shape(), d);
  int64_t n = idx.numel();
  Tensor out = Tensor::empty(x.shape().with(d, n), x.dtype(), x.device());
  if (out.numel()) backend_for(x).index_select(x, idx, out, outer, D, inner, n);
  if (!is_floating(x.dtype())) return out;
  return record_op("index_select", {x, idx}, out, [d, D](const BackwardContext& c) {
    return std::vector<Tensor>{index_add(c.grad(), d, c.input(1), D), Tensor()};
  });
}

Tensor index_add(const Tensor& src, int dim, const Tensor& idx, int64_t size) {
  detail::check_floating("index_add", src);
  detail::check_index("index_add", idx);
  int d = src.shape().normalize_dim(dim);
  check<ShapeError>(idx.dim() == 1 && idx.numel() == src.shape()[d],
                    "index_add: index of shape {} must be 1-D with one entry per slice of source dim {} (size {})",
                    idx.shape().str(), d, src.shape()[d]);
  Shape shape = src.shape().with(d, size);
  auto [outer, D, inner] = detail::split_at(shape, d);
  Tensor out = Tensor::empty(shape, src.dtype(), src.device());
  if (out.numel()) backend_for(src).index_add(src, idx, out, outer, D, inner, idx.numel());
  return record_op("index_add", {src, idx}, out, [d](const BackwardContext& c) {
    return std::vector<Tensor>{index_select(c.grad(), d, c.input(1)), Tensor()};
  });
}

Tensor one_hot(const Tensor& targets, int64_t classes, DType dtype) {
  detail::check_index("one_hot", targets);
  check<ShapeError>(targets.dim() == 1, "one_hot: targets must be 1-D, got shape {}", targets.shape().str());
  check<ValueError>(classes > 0, "one_hot: {} classes", classes);
  Tensor out = Tensor::empty(Shape{targets.numel(), classes}, dtype, targets.device());
  if (out.numel()) backend_for(targets).one_hot(targets, out, targets.numel(), classes);
  return out;
}

}  // namespace fewshot
