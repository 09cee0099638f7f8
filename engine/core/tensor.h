#pragma once
// Tensor: a handle to a contiguous, row-major block of a Storage, plus autograd metadata.
// Copying a Tensor copies the handle (like torch.Tensor in Python), not the data.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/device.h"
#include "engine/core/dtype.h"
#include "engine/core/shape.h"
#include "engine/core/storage.h"

namespace fewshot {

class Node;
class Tensor;
struct TensorImpl;

// Autograd metadata of a tensor. Leaves that require grad own an accumulator node lazily.
struct AutogradMeta {
  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;       // null for leaves
  uint32_t output_nr = 0;              // which output of grad_fn this tensor is
  std::shared_ptr<TensorImpl> grad;    // accumulated by backward() on leaves
  std::weak_ptr<Node> grad_accumulator;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape;
  DType dtype = DType::Float32;
  AutogradMeta autograd;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- factories (all take dtype and device; float32 on the CPU by default) ----
  static Tensor empty(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu());
  static Tensor ones(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dtype = DType::Float32, Device device = Device::cpu());
  static Tensor scalar(double value, DType dtype = DType::Float32, Device device = Device::cpu());
  // Copies host values; numel must match the shape.
  static Tensor from_vector(const std::vector<double>& values, const Shape& shape, DType dtype = DType::Float32,
                            Device device = Device::cpu());
  static Tensor from_floats(const float* values, const Shape& shape, Device device = Device::cpu());
  static Tensor from_indices(const std::vector<int64_t>& values, const Shape& shape, Device device = Device::cpu());
  static Tensor arange(int64_t n, DType dtype = DType::Float32, Device device = Device::cpu());

  // ---- properties ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int dim() const { return shape().dim(); }
  int64_t size(int d) const { return shape().size(d); }
  int64_t numel() const { return shape().numel(); }
  DType dtype() const;
  Device device() const;
  std::string str() const;  // "Tensor(float32 cpu (2, 3))"
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

  // Raw element pointer (contiguous). The template checks the dtype.
  template <typename T> T* data() const;
  void* raw_data() const;
  // Host copy of the values, converted to double / int64 (works for any device).
  std::vector<double> to_vector() const;
  std::vector<float> to_floats() const;
  std::vector<int64_t> to_indices() const;
  double item() const;  // one-element tensors only

  // ---- autograd ----
  bool requires_grad() const;
  Tensor& set_requires_grad(bool on);  // leaves only; returns *this for chaining
  bool is_leaf() const;
  const std::shared_ptr<Node>& grad_fn() const;
  Tensor grad() const;             // undefined until backward() reaches this leaf
  void set_grad(const Tensor& g);  // replaces .grad (undefined clears it)
  void zero_grad();                // drops .grad (PyTorch's set_to_none=True)
  Tensor detach() const;           // same storage, no history
  // Accumulates d(this)/d(leaf) into every reachable leaf's .grad. this must be a scalar unless
  // grad_output is given. create_graph records the backward pass for higher-order gradients.
  void backward(const Tensor& grad_output = Tensor(), bool retain_graph = false, bool create_graph = false) const;

  // ---- views and copies (see engine/ops/shape_ops.h for the differentiable versions) ----
  Tensor reshape(const Shape& shape) const;
  Tensor flatten(int start = 0, int end = -1) const;
  Tensor narrow(int dim, int64_t start, int64_t length) const;
  Tensor clone() const;
  Tensor to(Device device) const;
  Tensor to(DType dtype) const;

  // ---- in-place (never differentiable; bump the storage version) ----
  Tensor& fill_(double value);
  Tensor& zero_() { return fill_(0.0); }
  Tensor& copy_(const Tensor& src);  // same shape; any device/dtype pair
  void bump_version() const;
  uint64_t version() const;

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Allocation helpers used by ops: same dtype/device as the prototype.
Tensor empty_like(const Tensor& t);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);

std::string to_string(const Tensor& t, int max_values = 16);  // values too, for debugging and errors

}  // namespace fewshot
