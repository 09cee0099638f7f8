#include "engine/autograd/node.h"

#include <atomic>

#include "engine/autograd/grad_mode.h"
#include "engine/core/error.h"
#include "engine/ops/elementwise.h"

namespace fewshot {

namespace {
std::atomic<uint64_t> g_next_sequence_nr{1};
}

SavedTensor::SavedTensor(const Tensor& t, bool is_output_of_node) : defined_(t.defined()), is_output_(is_output_of_node) {
  if (!t.defined()) return;
  version_ = t.version();
  if (is_output_of_node) {
    // Keep the data only: holding the tensor itself would keep its grad_fn (this node) alive.
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = t.impl()->storage;
    impl->offset = t.impl()->offset;
    impl->shape = t.shape();
    impl->dtype = t.dtype();
    data_ = std::move(impl);
    requires_grad_ = t.requires_grad();
    output_nr_ = t.impl()->autograd.output_nr;
  } else {
    data_ = t.impl_ptr();
  }
}

Tensor SavedTensor::unpack(const std::shared_ptr<Node>& owner, const char* op) const {
  if (!defined_) return Tensor();
  check<AutogradError>(data_ != nullptr,
                       "{}: trying to backward through the graph a second time (its saved tensors were freed); "
                       "pass retain_graph=true to the first backward/grad call",
                       op);
  uint64_t now = data_->storage->version();
  check<AutogradError>(now == version_,
                       "{}: a tensor of shape {} saved for the backward pass was modified by an in-place operation "
                       "(its version is {} now, {} when it was saved)",
                       op, data_->shape.str(), now, version_);
  if (!is_output_) return Tensor(data_);
  auto impl = std::make_shared<TensorImpl>(*data_);
  if (requires_grad_) {
    impl->autograd.requires_grad = true;
    impl->autograd.grad_fn = owner;
    impl->autograd.output_nr = output_nr_;
  }
  return Tensor(impl);
}

std::vector<Tensor> FunctionNode::apply(std::vector<Tensor>&& grads, bool create_graph) {
  check<AutogradError>(!released_,
                       "{}: trying to backward through the graph a second time (its saved tensors were freed); "
                       "pass retain_graph=true to the first backward/grad call",
                       name_);
  BackwardContext ctx;
  ctx.create_graph_ = create_graph;
  auto self = shared_from_this();
  ctx.grads_.resize(outputs_.size());
  for (size_t i = 0; i < outputs_.size(); ++i) {
    if (grads.size() > i && grads[i].defined()) {
      ctx.grads_[i] = std::move(grads[i]);
    } else if (differentiable_output_[i]) {
      ctx.grads_[i] = Tensor::zeros(output_shapes_[i], output_dtypes_[i], device_);
    }
  }
  for (auto& s : inputs_) ctx.inputs_.push_back(s.unpack(self, name_.c_str()));
  for (auto& s : outputs_) ctx.outputs_.push_back(s.unpack(self, name_.c_str()));
  for (auto& e : next_edges) ctx.needs_.push_back(e.fn != nullptr);

  std::vector<Tensor> result;
  {
    GradModeGuard mode(create_graph);
    result = formula_(ctx);
  }
  check<AutogradError>(result.size() == next_edges.size(), "{}: derivative formula returned {} gradients for {} inputs",
                       name_, result.size(), next_edges.size());
  for (size_t i = 0; i < result.size(); ++i) {
    if (!result[i].defined() || !next_edges[i].fn) continue;
    const Tensor& in = ctx.inputs_[i];
    check<AutogradError>(result[i].shape() == in.shape(),
                         "{}: derivative formula produced a gradient of shape {} for input {} of shape {}", name_,
                         result[i].shape().str(), i, in.shape().str());
    if (result[i].dtype() != in.dtype()) result[i] = result[i].to(in.dtype());
  }
  return result;
}

void FunctionNode::release_saved() {
  for (auto& s : inputs_) s.reset();
  for (auto& s : outputs_) s.reset();
  released_ = true;
}

std::vector<Tensor> AccumulateGrad::apply(std::vector<Tensor>&& grads, bool create_graph) {
  Tensor g = std::move(grads[0]);
  if (!g.defined()) return {};
  if (!create_graph) g = g.detach();
  Tensor leaf(leaf_);
  Tensor old = leaf.grad();
  // Out of place: the incoming gradient may alias another leaf's (add passes grad through).
  GradModeGuard mode(create_graph);
  leaf.set_grad(old.defined() ? add(old, g) : g);
  return {};
}

Edge gradient_edge(const Tensor& t) {
  auto& meta = t.impl()->autograd;
  if (meta.grad_fn) return {meta.grad_fn, meta.output_nr};
  if (!meta.requires_grad) return {};
  auto acc = meta.grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t.impl_ptr());
    meta.grad_accumulator = acc;
  }
  return {acc, 0};
}

std::vector<Tensor> record_op(const char* name, const std::vector<Tensor>& inputs, std::vector<Tensor> outputs,
                              DerivativeFormula formula, std::vector<bool> differentiable) {
  if (!grad_mode_enabled()) return outputs;
  bool any = false;
  for (auto& t : inputs) any = any || (t.defined() && t.requires_grad());
  if (!any) return outputs;

  auto node = std::make_shared<FunctionNode>(name, std::move(formula));
  node->sequence_nr = g_next_sequence_nr.fetch_add(1, std::memory_order_relaxed);
  node->device_ = outputs.empty() ? Device::cpu() : outputs[0].device();
  for (auto& t : inputs) {
    node->next_edges.push_back(t.defined() && t.requires_grad() ? gradient_edge(t) : Edge{});
    node->inputs_.emplace_back(t, false);
  }
  if (differentiable.empty()) {
    for (auto& t : outputs) differentiable.push_back(is_floating(t.dtype()));
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    auto& meta = outputs[i].impl()->autograd;
    if (differentiable[i]) {
      meta.requires_grad = true;
      meta.grad_fn = node;
      meta.output_nr = static_cast<uint32_t>(i);
    }
    node->outputs_.emplace_back(outputs[i], true);
    node->differentiable_output_.push_back(differentiable[i]);
    node->output_shapes_.push_back(outputs[i].shape());
    node->output_dtypes_.push_back(outputs[i].dtype());
  }
  return outputs;
}

}  // namespace fewshot
