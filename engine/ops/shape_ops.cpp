// Shape and copy ops. All tensors are contiguous, so a view is a new TensorImpl over the same
// storage (with an offset for narrow); everything else is one copy kernel.
#include "engine/ops/shape_ops.h"

#include "engine/autograd/node.h"
#include "engine/core/backend.h"
#include "engine/ops/op_checks.h"
#include "engine/ops/reduce.h"

namespace fewshot {

namespace {

Tensor view_of(const Tensor& x, const Shape& shape, int64_t extra_offset = 0) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = x.impl()->storage;
  impl->offset = x.impl()->offset + extra_offset;
  impl->shape = shape;
  impl->dtype = x.dtype();
  return Tensor(impl);
}

}  // namespace

Tensor reshape(const Tensor& x, const Shape& shape) {
  detail::check_defined("reshape", x);
  check<ShapeError>(shape.numel() == x.numel(),
                    "reshape: shape {} ({} elements) is incompatible with input shape {} ({} elements)", shape.str(),
                    shape.numel(), x.shape().str(), x.numel());
  if (shape == x.shape()) return x;
  return record_op("reshape", {x}, view_of(x, shape), [](const BackwardContext& c) {
    return std::vector<Tensor>{reshape(c.grad(), c.input(0).shape())};
  });
}

Tensor flatten(const Tensor& x, int start, int end) {
  detail::check_defined("flatten", x);
  if (x.dim() == 0) return reshape(x, Shape{1});
  int s = x.shape().normalize_dim(start), e = x.shape().normalize_dim(end);
  check<ValueError>(s <= e, "flatten: start dim {} after end dim {} for shape {}", start, end, x.shape().str());
  Shape out;
  for (int i = 0; i < s; ++i) out.push_back(x.shape()[i]);
  out.push_back(x.shape().prod(s, e + 1));
  for (int i = e + 1; i < x.dim(); ++i) out.push_back(x.shape()[i]);
  return reshape(x, out);
}

Tensor unsqueeze(const Tensor& x, int dim) {
  detail::check_defined("unsqueeze", x);
  int d = dim < 0 ? dim + x.dim() + 1 : dim;
  check<ValueError>(d >= 0 && d <= x.dim(), "unsqueeze: dim {} out of range for shape {}", dim, x.shape().str());
  Shape out;
  for (int i = 0; i < x.dim(); ++i) {
    if (i == d) out.push_back(1);
    out.push_back(x.shape()[i]);
  }
  if (d == x.dim()) out.push_back(1);
  return reshape(x, out);
}

Tensor squeeze(const Tensor& x, int dim) {
  detail::check_defined("squeeze", x);
  int d = x.shape().normalize_dim(dim);
  check<ShapeError>(x.shape()[d] == 1, "squeeze: dim {} of shape {} has size {}, not 1", d, x.shape().str(),
                    x.shape()[d]);
  Shape out;
  for (int i = 0; i < x.dim(); ++i)
    if (i != d) out.push_back(x.shape()[i]);
  return reshape(x, out);
}

Tensor narrow(const Tensor& x, int dim, int64_t start, int64_t length) {
  detail::check_defined("narrow", x);
  int d = x.shape().normalize_dim(dim);
  int64_t size = x.shape()[d];
  check<ValueError>(start >= 0 && length >= 0 && start + length <= size,
                    "narrow: range [{}, {}) out of bounds for dim {} of size {} (shape {})", start, start + length, d,
                    size, x.shape().str());
  if (start == 0 && length == size) return x;
  auto [outer, R, inner] = detail::split_at(x.shape(), d);
  Shape shape = x.shape().with(d, length);
  Tensor out;
  if (outer == 1) {
    out = view_of(x, shape, start * inner);  // contiguous block: a view
  } else {
    out = Tensor::empty(shape, x.dtype(), x.device());
    if (out.numel()) backend_for(x).copy_blocks(x, start * inner, R * inner, out, 0, length * inner, outer, length * inner);
  }
  return record_op("narrow", {x}, out, [d, start, size](const BackwardContext& c) {
    return std::vector<Tensor>{narrow_embed(c.grad(), d, start, size)};
  });
}

Tensor slice(const Tensor& x, int dim, int64_t start, int64_t end) {
  detail::check_defined("slice", x);
  int d = x.shape().normalize_dim(dim);
  int64_t n = x.shape()[d];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  return narrow(x, d, start, end - start);
}

Tensor narrow_embed(const Tensor& x, int dim, int64_t start, int64_t size) {
  detail::check_defined("narrow_embed", x);
  int d = x.shape().normalize_dim(dim);
  int64_t length = x.shape()[d];
  check<ValueError>(start >= 0 && start + length <= size, "narrow_embed: [{}, {}) does not fit in size {} (shape {})",
                    start, start + length, size, x.shape().str());
  auto [outer, R, inner] = detail::split_at(x.shape(), d);
  (void)R;
  Tensor out = Tensor::zeros(x.shape().with(d, size), x.dtype(), x.device());
  if (x.numel()) backend_for(x).copy_blocks(x, 0, length * inner, out, start * inner, size * inner, outer, length * inner);
  return record_op("narrow_embed", {x}, out, [d, start, length](const BackwardContext& c) {
    return std::vector<Tensor>{narrow(c.grad(), d, start, length)};
  });
}

Tensor cat(const std::vector<Tensor>& xs, int dim) {
  check<ValueError>(!xs.empty(), "cat: no tensors given");
  const Tensor& first = xs[0];
  detail::check_defined("cat", first);
  int d = first.shape().normalize_dim(dim);
  int64_t total = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    detail::check_same("cat", first, xs[i]);
    check<ShapeError>(xs[i].dim() == first.dim(), "cat: tensor {} has shape {}, tensor 0 has shape {}", i,
                      xs[i].shape().str(), first.shape().str());
    for (int k = 0; k < first.dim(); ++k)
      check<ShapeError>(k == d || xs[i].shape()[k] == first.shape()[k],
                        "cat: tensor {} has shape {}, tensor 0 has shape {} (they may differ only in dim {})", i,
                        xs[i].shape().str(), first.shape().str(), d);
    total += xs[i].shape()[d];
  }
  Shape shape = first.shape().with(d, total);
  Tensor out = Tensor::empty(shape, first.dtype(), first.device());
  auto [outer, R, inner] = detail::split_at(shape, d);
  (void)R;
  std::vector<int64_t> starts;
  int64_t at = 0;
  for (auto& x : xs) {
    int64_t len = x.shape()[d];
    starts.push_back(at);
    if (x.numel()) backend_for(x).copy_blocks(x, 0, len * inner, out, at * inner, total * inner, outer, len * inner);
    at += len;
  }
  return record_op("cat", xs, out, [d, starts](const BackwardContext& c) {
    std::vector<Tensor> grads;
    for (size_t i = 0; i < starts.size(); ++i)
      grads.push_back(c.needs_grad(i) ? narrow(c.grad(), d, starts[i], c.input(i).shape()[d]) : Tensor());
    return grads;
  });
}

Tensor stack(const std::vector<Tensor>& xs, int dim) {
  check<ValueError>(!xs.empty(), "stack: no tensors given");
  std::vector<Tensor> us;
  for (size_t i = 0; i < xs.size(); ++i) {
    detail::check_defined("stack", xs[i]);
    check<ShapeError>(xs[i].shape() == xs[0].shape(), "stack: tensor {} has shape {}, tensor 0 has shape {}", i,
                      xs[i].shape().str(), xs[0].shape().str());
    us.push_back(unsqueeze(xs[i], dim));
  }
  return cat(us, dim);
}

Tensor transpose(const Tensor& x) {
  detail::check_defined("transpose", x);
  check<ShapeError>(x.dim() >= 2, "transpose: needs at least 2 dims, got shape {}", x.shape().str());
  int n = x.dim();
  int64_t R = x.shape()[n - 2], C = x.shape()[n - 1];
  Shape shape = x.shape();
  shape[n - 2] = C;
  shape[n - 1] = R;
  Tensor out = Tensor::empty(shape, x.dtype(), x.device());
  if (out.numel()) backend_for(x).transpose_last2(x, out, x.shape().prod(0, n - 2), R, C);
  return record_op("transpose", {x}, out,
                   [](const BackwardContext& c) { return std::vector<Tensor>{transpose(c.grad())}; });
}

Tensor clone(const Tensor& x) {
  detail::check_defined("clone", x);
  Tensor out = empty_like(x);
  if (out.numel()) backend_for(x).copy(x, out);
  return record_op("clone", {x}, out, [](const BackwardContext& c) { return std::vector<Tensor>{c.grad()}; });
}

Tensor to_dtype(const Tensor& x, DType dtype) {
  detail::check_defined("to_dtype", x);
  if (x.dtype() == dtype) return x;
  Tensor out = Tensor::empty(x.shape(), dtype, x.device());
  if (out.numel()) backend_for(x).copy(x, out);
  if (!is_floating(dtype) || !is_floating(x.dtype())) return out;
  return record_op("to_dtype", {x}, out, [](const BackwardContext& c) {
    return std::vector<Tensor>{to_dtype(c.grad(), c.input(0).dtype())};
  });
}

Tensor to_device(const Tensor& x, Device device) {
  detail::check_defined("to_device", x);
  if (x.device() == device) return x;
  Tensor out = Tensor::empty(x.shape(), x.dtype(), device);
  if (out.numel()) {
    std::vector<char> buf(x.numel() * dtype_size(x.dtype()));
    backend_for(x).copy_to_host(x, buf.data());
    backend_for(device).copy_from_host(buf.data(), out);
  }
  if (!is_floating(x.dtype())) return out;
  return record_op("to_device", {x}, out, [](const BackwardContext& c) {
    return std::vector<Tensor>{to_device(c.grad(), c.input(0).device())};
  });
}

}  // namespace fewshot
