#pragma once
// Nodes of the dynamic reverse-mode graph. A forward op that records history creates one
// FunctionNode whose backward is the op's derivative formula, written with public (differentiable)
// ops. Run under grad mode (create_graph), that formula records its own graph, which is how second-
// and higher-order gradients come for free.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace fewshot {

struct Edge {
  std::shared_ptr<Node> fn;  // null when the input needs no gradient
  uint32_t input_nr = 0;     // which of fn's gradient slots this edge feeds
};

// A tensor saved for the backward pass. Outputs of the node itself are stored without their
// grad_fn (that would be a reference cycle) and re-linked to the node when unpacked, so a formula
// that uses `result` is differentiated through this node, as it must be.
class SavedTensor {
 public:
  SavedTensor() = default;
  SavedTensor(const Tensor& t, bool is_output_of_node);
  Tensor unpack(const std::shared_ptr<Node>& owner, const char* op) const;
  void reset() { data_.reset(); }
  bool defined() const { return defined_; }

 private:
  std::shared_ptr<TensorImpl> data_;  // storage/shape/dtype; autograd meta for inputs
  bool defined_ = false;
  bool is_output_ = false;
  bool requires_grad_ = false;
  uint32_t output_nr_ = 0;
  uint64_t version_ = 0;
};

class Node : public std::enable_shared_from_this<Node> {
 public:
  virtual ~Node() = default;
  // grads[i] is the gradient w.r.t. the node's i-th forward output (undefined when none arrived).
  // Returns one gradient per next edge (undefined where none).
  virtual std::vector<Tensor> apply(std::vector<Tensor>&& grads, bool create_graph) = 0;
  virtual std::string name() const = 0;
  virtual void release_saved() {}
  virtual size_t num_outputs() const = 0;

  std::vector<Edge> next_edges;
  uint64_t sequence_nr = 0;  // creation order: later nodes run first when both are ready
};

// Context given to a derivative formula.
class BackwardContext {
 public:
  Tensor grad(size_t i = 0) const { return grads_[i]; }   // gradient of output i (zeros if none arrived)
  Tensor input(size_t i) const { return inputs_[i]; }     // forward input i, as recorded
  Tensor result(size_t i = 0) const { return outputs_[i]; }  // forward output i, linked to this node
  bool needs_grad(size_t i) const { return needs_[i]; }   // does input i want a gradient?
  bool create_graph() const { return create_graph_; }     // is this backward being recorded?

  std::vector<Tensor> grads_, inputs_, outputs_;
  std::vector<bool> needs_;
  bool create_graph_ = false;
};

using DerivativeFormula = std::function<std::vector<Tensor>(const BackwardContext&)>;

class FunctionNode : public Node {
 public:
  FunctionNode(std::string name, DerivativeFormula formula) : name_(std::move(name)), formula_(std::move(formula)) {}
  std::vector<Tensor> apply(std::vector<Tensor>&& grads, bool create_graph) override;
  std::string name() const override { return name_; }
  void release_saved() override;
  size_t num_outputs() const override { return outputs_.size(); }

  std::vector<SavedTensor> inputs_, outputs_;
  std::vector<bool> differentiable_output_;
  std::vector<Shape> output_shapes_;
  std::vector<DType> output_dtypes_;
  Device device_;

 private:
  std::string name_;
  DerivativeFormula formula_;
  bool released_ = false;
};

// The sink of a leaf that requires grad: backward() adds into the leaf's .grad here.
class AccumulateGrad : public Node {
 public:
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf) : leaf_(std::move(leaf)) {}
  std::vector<Tensor> apply(std::vector<Tensor>&& grads, bool create_graph) override;
  std::string name() const override { return "AccumulateGrad"; }
  size_t num_outputs() const override { return 1; }
  const std::shared_ptr<TensorImpl>& leaf() const { return leaf_; }

 private:
  std::shared_ptr<TensorImpl> leaf_;
};

// The edge through which a gradient reaches t: its grad_fn, or its accumulator if it is a leaf.
Edge gradient_edge(const Tensor& t);

// Records a FunctionNode for an op whose outputs were just computed, when grad mode is on and any
// input requires grad. `differentiable` marks which outputs carry gradients (default: all floating
// outputs). Returns the outputs, now with grad_fn set.
std::vector<Tensor> record_op(const char* name, const std::vector<Tensor>& inputs, std::vector<Tensor> outputs,
                              DerivativeFormula formula, std::vector<bool> differentiable = {});
inline Tensor record_op(const char* name, const std::vector<Tensor>& inputs, Tensor output, DerivativeFormula formula) {
  return record_op(name, inputs, std::vector<Tensor>{std::move(output)}, std::move(formula))[0];
}

}  // namespace fewshot
