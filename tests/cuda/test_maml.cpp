// The MAML meta-gradient of tests/engine/test_maml_identity.cpp (conv -> batch_norm -> relu ->
// max_pool -> linear -> cross_entropy, second order through 1 and 3 inner steps) computed on the
// GPU agrees with the same computation on the CPU, in float32 on both.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/ops.h"

using namespace fewshot;

namespace {

constexpr DType f32 = DType::Float32;

Tensor loss_fn(const std::vector<Tensor>& p, const Tensor& x, const Tensor& y) {
  Tensor h = conv2d(x, p[0], p[1], {1, 1, 1});
  h = relu(batch_norm(h, p[2], p[3]));
  h = max_pool2d(h, {2, 2, 0});
  return cross_entropy(linear(flatten(h, 1), p[4], p[5]), y);
}

std::vector<Tensor> meta_gradient(const std::vector<Tensor>& params, const Tensor& xs, const Tensor& ys,
                                  const Tensor& xq, const Tensor& yq, int steps, double alpha) {
  std::vector<Tensor> fast = params;
  for (int s = 0; s < steps; ++s) {
    auto g = grad({loss_fn(fast, xs, ys)}, fast, {}, /*create_graph=*/true);
    for (size_t i = 0; i < fast.size(); ++i) fast[i] = sub(fast[i], mul(g[i], alpha));
  }
  return grad({loss_fn(fast, xq, yq)}, params);
}

}  // namespace

TEST_CASE("MAML second-order meta-gradient on CUDA equals the CPU one (1 and 3 inner steps)") {
  for (int steps : {1, 3}) {
    CAPTURE(steps);
    Generator g(2024 + steps);
    std::vector<Tensor> cpu = {kaiming_uniform(Shape{3, 1, 3, 3}, g, f32), rand_uniform(Shape{3}, -0.1, 0.1, g, f32),
                               rand_uniform(Shape{3}, 0.8, 1.2, g, f32), rand_uniform(Shape{3}, -0.1, 0.1, g, f32),
                               xavier_uniform(Shape{4, 27}, g, 1.0, f32), rand_uniform(Shape{4}, -0.1, 0.1, g, f32)};
    Tensor xs = randn(Shape{6, 1, 6, 6}, g, f32), xq = randn(Shape{8, 1, 6, 6}, g, f32);
    Tensor ys = Tensor::from_indices({0, 1, 2, 3, 0, 1}, Shape{6});
    Tensor yq = Tensor::from_indices({0, 1, 2, 3, 3, 2, 1, 0}, Shape{8});
    Device dev = Device::cuda(0);
    std::vector<Tensor> gpu;
    for (auto& p : cpu) {
      gpu.push_back(p.to(dev).detach().set_requires_grad(true));
      p.set_requires_grad(true);
    }
    auto mc = meta_gradient(cpu, xs, ys, xq, yq, steps, 0.4);
    auto mg = meta_gradient(gpu, xs.to(dev), ys.to(dev), xq.to(dev), yq.to(dev), steps, 0.4);
    double num = 0, diff = 0;
    for (size_t k = 0; k < mc.size(); ++k) {
      CHECK(mg[k].device() == dev);
      auto a = mc[k].to_vector(), b = mg[k].to_vector();
      for (size_t j = 0; j < a.size(); ++j) num += a[j] * a[j], diff += (a[j] - b[j]) * (a[j] - b[j]);
    }
    double rel = std::sqrt(diff / num);
    MESSAGE("steps " << steps << ": CUDA vs CPU meta-gradient relative error " << rel);
    CHECK(rel < 1e-3);  // float32 through conv/GEMM (1e-3 tier) and up to 3 nested differentiations
  }
}
