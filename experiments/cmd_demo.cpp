// `fewshot demo`: a minute-long tour of the engine. Trains a small conv net on synthetic images
// (class = which quadrant holds a bright blob) and prints the loss falling, then checks the
// autograd against finite differences, including a MAML-style second-order gradient.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <iostream>

#include <fmt/format.h>

#include "engine/ops.h"
#include "experiments/commands.h"

using namespace fewshot;

namespace {

// (n, 1, 12, 12) images: noise plus a bright 4x4 blob in the quadrant given by the label.
std::pair<Tensor, Tensor> synthetic_batch(int64_t n, Generator& g, DType dtype) {
  std::vector<double> pixels(n * 144);
  std::vector<int64_t> labels(n);
  for (int64_t i = 0; i < n; ++i) {
    int64_t label = static_cast<int64_t>(g.below(4));
    labels[i] = label;
    for (int p = 0; p < 144; ++p) pixels[i * 144 + p] = 0.8 * g.normal();
    int64_t r0 = (label / 2) * 6 + 1 + static_cast<int64_t>(g.below(2)), c0 = (label % 2) * 6 + 1 + static_cast<int64_t>(g.below(2));
    for (int64_t r = r0; r < r0 + 4; ++r)
      for (int64_t c = c0; c < c0 + 4; ++c) pixels[i * 144 + r * 12 + c] += 1.0;
  }
  return {Tensor::from_vector(pixels, Shape{n, 1, 12, 12}, dtype), Tensor::from_indices(labels, Shape{n})};
}

struct Net {
  std::vector<Tensor> params;
  int64_t channels;
  Net(Generator& g, DType dtype, int64_t c) : channels(c) {
    params = {kaiming_uniform(Shape{c, 1, 3, 3}, g, dtype), Tensor::zeros(Shape{c}, dtype),
              Tensor::ones(Shape{c}, dtype), Tensor::zeros(Shape{c}, dtype),
              xavier_uniform(Shape{4, c * 3 * 3}, g, 1.0, dtype), Tensor::zeros(Shape{4}, dtype)};
    for (auto& p : params) p.set_requires_grad(true);
  }
};

Tensor forward(const std::vector<Tensor>& p, const Tensor& x) {
  Tensor h = relu(batch_norm(conv2d(x, p[0], p[1], {1, 1, 1}), p[2], p[3]));
  return linear(flatten(max_pool2d(h, {4, 4, 0}), 1), p[4], p[5]);
}

int run_demo(int steps) {
  Generator g(0);
  Net net(g, DType::Float32, 16);
  std::vector<Tensor> m, v;
  for (auto& p : net.params) m.push_back(zeros_like(p)), v.push_back(zeros_like(p));
  std::cout << "Training a conv net (conv-bn-relu-pool-linear) on synthetic 4-class images, Adam lr 3e-3\n";
  auto t0 = std::chrono::steady_clock::now();
  for (int step = 1; step <= steps; ++step) {
    auto [x, y] = synthetic_batch(64, g, DType::Float32);
    Tensor logits = forward(net.params, x);
    Tensor loss = cross_entropy(logits, y);
    auto grads = grad({loss}, net.params);
    {
      NoGradGuard no_grad;
      for (size_t i = 0; i < net.params.size(); ++i) {
        backend_for(net.params[i]).adam_step(net.params[i], grads[i], m[i], v[i], 3e-3, 0.9, 0.999, 1e-8, 0.0, step);
        net.params[i].bump_version();
      }
    }
    if (step == 1 || step % 20 == 0) {
      NoGradGuard no_grad;
      double acc = 0;
      auto pred = argmax(logits, 1).to_indices(), truth = y.to_indices();
      for (size_t i = 0; i < pred.size(); ++i) acc += pred[i] == truth[i];
      std::cout << fmt::format("  step {:4d}  loss {:.4f}  batch accuracy {:5.1f}%\n", step, loss.item(),
                               100.0 * acc / static_cast<double>(pred.size()));
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << fmt::format("  {} steps in {:.2f} s\n\n", steps, secs);

  std::cout << "Gradient check (float64, central differences) of the same network:\n";
  Generator g64(1);
  Net net64(g64, DType::Float64, 2);  // small: every parameter is perturbed twice
  auto [x64, y64] = synthetic_batch(6, g64, DType::Float64);
  TensorFn loss_fn = [&](const std::vector<Tensor>& p) { return cross_entropy(forward(p, x64), y64); };
  GradcheckResult first = gradcheck(loss_fn, net64.params);
  std::cout << fmt::format("  first order : {}  (max abs error {:.2e})\n", first.ok ? "PASS" : "FAIL", first.max_abs_error);
  // MAML: the loss after one inner SGD step, differentiated through that step.
  TensorFn adapted = [&](const std::vector<Tensor>& p) {
    auto gs = grad({loss_fn(p)}, p, {}, true);
    std::vector<Tensor> fast;
    for (size_t i = 0; i < p.size(); ++i) fast.push_back(sub(p[i], mul(gs[i], 0.1)));
    return loss_fn(fast);
  };
  GradcheckResult second = gradcheck(adapted, net64.params);
  std::cout << fmt::format("  MAML second order (through one inner step): {}  (max abs error {:.2e})\n",
                           second.ok ? "PASS" : "FAIL", second.max_abs_error);
  if (!first.ok) std::cout << first.message;
  if (!second.ok) std::cout << second.message;
  return first.ok && second.ok ? 0 : 1;
}

}  // namespace

namespace fewshot {

void register_demo_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", "Train a small conv net on synthetic data and check gradients");
  static int steps = 120;
  cmd->add_option("--steps", steps, "Training steps")->capture_default_str();
  cmd->callback([] {
    int rc = run_demo(steps);
    if (rc) throw CLI::RuntimeError(rc);
  });
}
}  // namespace fewshot
