#pragma once
// Reverse-mode automatic differentiation over the dynamic graph recorded by ops.
#include <vector>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/core/tensor.h"

namespace fewshot {

// Gradients of sum_i <outputs[i], grad_outputs[i]> with respect to each of inputs, returned as
// tensors (nothing is accumulated into .grad). grad_outputs may be empty when every output is a
// scalar (ones are used). With create_graph the returned gradients have history of their own, so
// they can be differentiated again (MAML's meta-gradient). retain_graph defaults to create_graph.
// An input that does not influence the outputs is an AutogradError unless allow_unused, in which
// case its gradient is undefined.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool create_graph = false,
                         bool allow_unused = false, int retain_graph = -1);

// Accumulates gradients into the .grad of every leaf that requires grad (Tensor::backward).
void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs = {},
              bool retain_graph = false, bool create_graph = false);

}  // namespace fewshot
