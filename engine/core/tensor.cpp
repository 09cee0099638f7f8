#include "engine/core/tensor.h"

#include <cstring>

#include "engine/autograd/autograd.h"
#include "engine/core/backend.h"
#include "engine/core/error.h"
#include "engine/ops/shape_ops.h"

namespace fewshot {

namespace {

std::shared_ptr<TensorImpl> new_impl(const Shape& shape, DType dtype, Device device) {
  auto impl = std::make_shared<TensorImpl>();
  Backend& b = backend_for(device);
  impl->storage = std::make_shared<Storage>(static_cast<size_t>(shape.numel() * dtype_size(dtype)), device,
                                            &b.allocator());
  impl->shape = shape;
  impl->dtype = dtype;
  return impl;
}

// Host buffer of `n` values of dtype d converted from doubles / int64s.
std::vector<char> host_buffer(const std::vector<double>& v, DType d) {
  std::vector<char> buf(v.size() * dtype_size(d));
  for (size_t i = 0; i < v.size(); ++i) {
    if (d == DType::Float32) reinterpret_cast<float*>(buf.data())[i] = static_cast<float>(v[i]);
    else if (d == DType::Float64) reinterpret_cast<double*>(buf.data())[i] = v[i];
    else reinterpret_cast<int64_t*>(buf.data())[i] = static_cast<int64_t>(v[i]);
  }
  return buf;
}

const TensorImpl& checked(const std::shared_ptr<TensorImpl>& impl) {
  if (!impl) throw ValueError("operation on an undefined tensor");
  return *impl;
}

}  // namespace

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) { return Tensor(new_impl(shape, dtype, device)); }

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  if (t.numel()) backend_for(device).fill(t, value);
  return t;
}
Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }
Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1.0, dtype, device); }
Tensor Tensor::scalar(double value, DType dtype, Device device) { return full(Shape{}, value, dtype, device); }

Tensor Tensor::from_vector(const std::vector<double>& values, const Shape& shape, DType dtype, Device device) {
  check<ShapeError>(static_cast<int64_t>(values.size()) == shape.numel(),
                    "from_vector: {} values do not fill shape {} ({} elements)", values.size(), shape.str(),
                    shape.numel());
  Tensor t = empty(shape, dtype, device);
  if (t.numel()) backend_for(device).copy_from_host(host_buffer(values, dtype).data(), t);
  return t;
}

Tensor Tensor::from_floats(const float* values, const Shape& shape, Device device) {
  Tensor t = empty(shape, DType::Float32, device);
  if (t.numel()) backend_for(device).copy_from_host(values, t);
  return t;
}

Tensor Tensor::from_indices(const std::vector<int64_t>& values, const Shape& shape, Device device) {
  check<ShapeError>(static_cast<int64_t>(values.size()) == shape.numel(),
                    "from_indices: {} values do not fill shape {} ({} elements)", values.size(), shape.str(),
                    shape.numel());
  Tensor t = empty(shape, DType::Int64, device);
  if (t.numel()) backend_for(device).copy_from_host(values.data(), t);
  return t;
}

Tensor Tensor::arange(int64_t n, DType dtype, Device device) {
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<double>(i);
  return from_vector(v, Shape{n}, dtype, device);
}

const Shape& Tensor::shape() const { return checked(impl_).shape; }
DType Tensor::dtype() const { return checked(impl_).dtype; }
Device Tensor::device() const { return checked(impl_).storage->device(); }

std::string Tensor::str() const {
  if (!impl_) return "Tensor(undefined)";
  return fmt::format("Tensor({} {} {})", dtype_name(dtype()), device().str(), shape().str());
}

template <typename T> T* Tensor::data() const {
  const TensorImpl& impl = checked(impl_);
  check<DTypeError>(impl.dtype == dtype_of<T>(), "data<{}>() called on a {} tensor", dtype_name(dtype_of<T>()),
                    dtype_name(impl.dtype));
  return static_cast<T*>(impl.storage->data()) + impl.offset;
}
template float* Tensor::data<float>() const;
template double* Tensor::data<double>() const;
template int64_t* Tensor::data<int64_t>() const;

void* Tensor::raw_data() const {
  const TensorImpl& impl = checked(impl_);
  return static_cast<char*>(impl.storage->data()) + impl.offset * dtype_size(impl.dtype);
}

std::vector<double> Tensor::to_vector() const {
  std::vector<char> buf(numel() * dtype_size(dtype()));
  if (numel()) backend_for(*this).copy_to_host(*this, buf.data());
  std::vector<double> out(numel());
  for (int64_t i = 0; i < numel(); ++i) {
    if (dtype() == DType::Float32) out[i] = reinterpret_cast<const float*>(buf.data())[i];
    else if (dtype() == DType::Float64) out[i] = reinterpret_cast<const double*>(buf.data())[i];
    else out[i] = static_cast<double>(reinterpret_cast<const int64_t*>(buf.data())[i]);
  }
  return out;
}

std::vector<float> Tensor::to_floats() const {
  Tensor f = dtype() == DType::Float32 ? *this : to(DType::Float32);
  std::vector<float> out(numel());
  if (numel()) backend_for(f).copy_to_host(f, out.data());
  return out;
}

std::vector<int64_t> Tensor::to_indices() const {
  check<DTypeError>(dtype() == DType::Int64, "to_indices() called on a {} tensor", dtype_name(dtype()));
  std::vector<int64_t> out(numel());
  if (numel()) backend_for(*this).copy_to_host(*this, out.data());
  return out;
}

double Tensor::item() const {
  check<ShapeError>(numel() == 1, "item() needs a one-element tensor, got shape {}", shape().str());
  return to_vector()[0];
}

bool Tensor::requires_grad() const { return checked(impl_).autograd.requires_grad; }

Tensor& Tensor::set_requires_grad(bool on) {
  check<AutogradError>(is_leaf(), "set_requires_grad: only leaf tensors can change requires_grad; use detach() on {}",
                       str());
  check<AutogradError>(!on || is_floating(dtype()), "set_requires_grad: {} tensors cannot require gradients",
                       dtype_name(dtype()));
  impl_->autograd.requires_grad = on;
  return *this;
}

bool Tensor::is_leaf() const { return checked(impl_).autograd.grad_fn == nullptr; }
const std::shared_ptr<Node>& Tensor::grad_fn() const { return checked(impl_).autograd.grad_fn; }
Tensor Tensor::grad() const { return Tensor(checked(impl_).autograd.grad); }
void Tensor::set_grad(const Tensor& g) {
  checked(impl_);
  if (g.defined())
    check<ShapeError>(g.shape() == shape(), "set_grad: gradient of shape {} for a tensor of shape {}",
                      g.shape().str(), shape().str());
  impl_->autograd.grad = g.impl_ptr();
}
void Tensor::zero_grad() { checked(impl_), impl_->autograd.grad.reset(); }

Tensor Tensor::detach() const {
  const TensorImpl& src = checked(impl_);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = src.storage;
  impl->offset = src.offset;
  impl->shape = src.shape;
  impl->dtype = src.dtype;
  return Tensor(impl);
}

void Tensor::backward(const Tensor& grad_output, bool retain_graph, bool create_graph) const {
  fewshot::backward({*this}, grad_output.defined() ? std::vector<Tensor>{grad_output} : std::vector<Tensor>{},
                    retain_graph, create_graph);
}

Tensor Tensor::reshape(const Shape& s) const { return fewshot::reshape(*this, s); }
Tensor Tensor::flatten(int start, int end) const { return fewshot::flatten(*this, start, end); }
Tensor Tensor::narrow(int dim, int64_t start, int64_t length) const { return fewshot::narrow(*this, dim, start, length); }
Tensor Tensor::clone() const { return fewshot::clone(*this); }
Tensor Tensor::to(Device device) const { return fewshot::to_device(*this, device); }
Tensor Tensor::to(DType dtype) const { return fewshot::to_dtype(*this, dtype); }

Tensor& Tensor::fill_(double value) {
  checked(impl_);
  check<AutogradError>(!(is_leaf() && requires_grad() && grad_mode_enabled()),
                       "fill_: in-place write to a leaf that requires grad ({}); do it under NoGradGuard", str());
  if (numel()) backend_for(*this).fill(*this, value);
  bump_version();
  return *this;
}

Tensor& Tensor::copy_(const Tensor& src) {
  checked(impl_);
  check<ShapeError>(src.shape() == shape(), "copy_: source shape {} differs from destination shape {}",
                    src.shape().str(), shape().str());
  check<AutogradError>(!(is_leaf() && requires_grad() && grad_mode_enabled()),
                       "copy_: in-place write to a leaf that requires grad ({}); do it under NoGradGuard", str());
  if (numel()) {
    if (src.device() == device()) {
      backend_for(*this).copy(src, *this);
    } else {
      Tensor s = src.dtype() == dtype() ? src : src.to(dtype());
      std::vector<char> buf(numel() * dtype_size(dtype()));
      backend_for(s).copy_to_host(s, buf.data());
      backend_for(*this).copy_from_host(buf.data(), *this);
    }
  }
  bump_version();
  return *this;
}

void Tensor::bump_version() const { checked(impl_).storage->bump_version(); }
uint64_t Tensor::version() const { return checked(impl_).storage->version(); }

Tensor empty_like(const Tensor& t) { return Tensor::empty(t.shape(), t.dtype(), t.device()); }
Tensor zeros_like(const Tensor& t) { return Tensor::zeros(t.shape(), t.dtype(), t.device()); }
Tensor ones_like(const Tensor& t) { return Tensor::ones(t.shape(), t.dtype(), t.device()); }

std::string to_string(const Tensor& t, int max_values) {
  if (!t.defined()) return "Tensor(undefined)";
  auto v = t.to_vector();
  std::string s = t.str() + " [";
  for (size_t i = 0; i < v.size() && static_cast<int>(i) < max_values; ++i) s += (i ? ", " : "") + fmt::format("{:.6g}", v[i]);
  if (static_cast<int>(v.size()) > max_values) s += ", ...";
  return s + "]";
}

}  // namespace fewshot
