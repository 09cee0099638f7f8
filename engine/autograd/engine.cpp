// The backward pass: discovers the part of the graph between outputs and the requested inputs,
// then runs each node once, when all gradients flowing into it have arrived.
#include <algorithm>
#include <map>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "engine/autograd/autograd.h"
#include "engine/core/error.h"
#include "engine/ops/elementwise.h"

namespace fewshot {

namespace {

struct Capture {
  Node* node;
  uint32_t slot;
  size_t result_index;
};

std::vector<Tensor> run_backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
                                 const std::vector<Tensor>& inputs, bool accumulate, bool create_graph,
                                 bool retain_graph, bool allow_unused, const char* api) {
  check<AutogradError>(!outputs.empty(), "{}: no outputs given", api);
  check<AutogradError>(grad_outputs.empty() || grad_outputs.size() == outputs.size(),
                       "{}: got {} grad_outputs for {} outputs", api, grad_outputs.size(), outputs.size());

  // Roots: the gradient of each output.
  std::vector<std::pair<Edge, Tensor>> roots;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    check<AutogradError>(out.defined(), "{}: output {} is undefined", api, i);
    check<AutogradError>(out.requires_grad(),
                         "{}: output {} (shape {}) does not require grad and has no grad_fn: nothing to differentiate",
                         api, i, out.shape().str());
    Tensor g;
    if (grad_outputs.empty() || !grad_outputs[i].defined()) {
      check<AutogradError>(out.numel() == 1,
                           "{}: a gradient can be implied only for scalar outputs; output {} has shape {}, pass "
                           "grad_outputs",
                           api, i, out.shape().str());
      g = ones_like(out);
    } else {
      g = grad_outputs[i];
      check<ShapeError>(g.shape() == out.shape(), "{}: grad_output {} has shape {} but output {} has shape {}", api, i,
                        g.shape().str(), i, out.shape().str());
    }
    roots.push_back({gradient_edge(out), g});
  }

  // What to capture: for grad(), the gradient arriving at each input's edge.
  std::vector<Capture> captures;
  std::vector<Tensor> results(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& in = inputs[i];
    check<AutogradError>(in.defined(), "{}: input {} is undefined", api, i);
    check<AutogradError>(in.requires_grad(), "{}: input {} (shape {}) does not require grad", api, i,
                         in.shape().str());
    Edge e = gradient_edge(in);
    captures.push_back({e.fn.get(), e.input_nr, i});
  }
  std::unordered_set<Node*> capture_nodes;
  for (auto& c : captures) capture_nodes.insert(c.node);

  // Discover the reachable graph (iteratively: MAML graphs can be deep) and which nodes are needed,
  // i.e. lie on a path to something we capture or accumulate into.
  std::unordered_map<Node*, std::shared_ptr<Node>> nodes;
  std::vector<Node*> order;  // post-order
  {
    std::vector<std::pair<Node*, size_t>> stack;
    for (auto& [edge, g] : roots) {
      if (!edge.fn || nodes.count(edge.fn.get())) continue;
      nodes[edge.fn.get()] = edge.fn;
      stack.push_back({edge.fn.get(), 0});
      while (!stack.empty()) {
        auto& [node, next] = stack.back();
        if (next < node->next_edges.size()) {
          const Edge& e = node->next_edges[next++];
          if (e.fn && !nodes.count(e.fn.get())) {
            nodes[e.fn.get()] = e.fn;
            stack.push_back({e.fn.get(), 0});
          }
        } else {
          order.push_back(node);
          stack.pop_back();
        }
      }
    }
  }
  std::unordered_set<Node*> needed;
  for (Node* n : order) {  // children come before parents in post-order
    bool need = accumulate ? dynamic_cast<AccumulateGrad*>(n) != nullptr : capture_nodes.count(n) > 0;
    for (auto& e : n->next_edges) need = need || (e.fn && needed.count(e.fn.get()));
    if (need) needed.insert(n);
  }
  std::unordered_map<Node*, int> deps;
  for (Node* n : order) {
    if (!needed.count(n)) continue;
    for (auto& e : n->next_edges)
      if (e.fn && needed.count(e.fn.get())) ++deps[e.fn.get()];
  }

  // Gradient buffers per node and slot; gradients arriving at the same slot are summed.
  std::unordered_map<Node*, std::vector<Tensor>> buffers;
  GradModeGuard mode(create_graph);
  auto deposit = [&](Node* n, uint32_t slot, Tensor g) {
    auto& buf = buffers[n];
    if (buf.size() <= slot) buf.resize(std::max<size_t>(slot + 1, n->num_outputs()));
    buf[slot] = buf[slot].defined() ? add(buf[slot], g) : std::move(g);
  };
  for (auto& [edge, g] : roots)
    if (edge.fn && needed.count(edge.fn.get())) deposit(edge.fn.get(), edge.input_nr, g);

  auto later_first = [](Node* a, Node* b) { return a->sequence_nr < b->sequence_nr; };
  std::priority_queue<Node*, std::vector<Node*>, decltype(later_first)> ready(later_first);
  std::unordered_set<Node*> queued;
  for (auto& [edge, g] : roots) {
    Node* n = edge.fn.get();
    if (n && needed.count(n) && deps[n] == 0 && !queued.count(n)) {
      ready.push(n);
      queued.insert(n);
    }
  }

  while (!ready.empty()) {
    Node* n = ready.top();
    ready.pop();
    std::vector<Tensor> grads = std::move(buffers[n]);
    buffers.erase(n);
    for (auto& c : captures)
      if (c.node == n && c.slot < grads.size() && grads[c.slot].defined()) {
        const Tensor& g = grads[c.slot];
        results[c.result_index] = results[c.result_index].defined() ? add(results[c.result_index], g) : g;
      }
    bool is_accumulator = dynamic_cast<AccumulateGrad*>(n) != nullptr;
    if (is_accumulator && !accumulate) continue;
    bool children_needed = false;
    for (auto& e : n->next_edges) children_needed = children_needed || (e.fn && needed.count(e.fn.get()));
    // A node reached only because an input was captured there does not run (nor is it freed:
    // it may belong to a graph that is differentiated later, as MAML's fast weights do).
    if (!is_accumulator && !children_needed) continue;
    bool any = std::any_of(grads.begin(), grads.end(), [](const Tensor& g) { return g.defined(); });
    std::vector<Tensor> next;
    if (any) next = n->apply(std::move(grads), create_graph);
    if (!retain_graph) n->release_saved();
    for (size_t i = 0; i < n->next_edges.size(); ++i) {
      const Edge& e = n->next_edges[i];
      if (!e.fn || !needed.count(e.fn.get())) continue;
      if (i < next.size() && next[i].defined()) deposit(e.fn.get(), e.input_nr, next[i]);
      if (--deps[e.fn.get()] == 0 && !queued.count(e.fn.get())) {
        ready.push(e.fn.get());
        queued.insert(e.fn.get());
      }
    }
  }

  for (size_t i = 0; i < inputs.size(); ++i) {
    if (results[i].defined()) continue;
    check<AutogradError>(allow_unused,
                         "{}: input {} (shape {}) is not part of the graph of the outputs (it does not influence "
                         "them); pass allow_unused=true to get an undefined gradient instead",
                         api, i, inputs[i].shape().str());
  }
  if (!create_graph)
    for (auto& r : results)
      if (r.defined()) r = r.detach();
  return results;
}

}  // namespace

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool create_graph, bool allow_unused,
                         int retain_graph) {
  check<AutogradError>(!inputs.empty(), "grad: no inputs given");
  bool retain = retain_graph < 0 ? create_graph : retain_graph != 0;
  return run_backward(outputs, grad_outputs, inputs, false, create_graph, retain, allow_unused, "grad");
}

void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs, bool retain_graph,
              bool create_graph) {
  run_backward(outputs, grad_outputs, {}, true, create_graph, retain_graph || create_graph, true, "backward");
}

}  // namespace fewshot
