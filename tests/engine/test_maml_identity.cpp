// The MAML identity: the meta-gradient d/dθ L_query(θ - α ∇θ L_support(θ)) computed with
// create_graph agrees with finite differences of the whole adapted loss, and the first-order
// approximation differs from it (the Hessian term is really there).
#include <doctest/doctest.h>

#include <cmath>

#include "engine/ops.h"

using namespace fewshot;

namespace {

constexpr DType f64 = DType::Float64;

struct TinyNet {
  std::vector<Tensor> params;  // conv w, conv b, bn gamma, bn beta, linear w, linear b
};

TinyNet make_net(Generator& g) {
  TinyNet n;
  n.params = {kaiming_uniform(Shape{3, 1, 3, 3}, g, f64), rand_uniform(Shape{3}, -0.1, 0.1, g, f64),
              rand_uniform(Shape{3}, 0.8, 1.2, g, f64), rand_uniform(Shape{3}, -0.1, 0.1, g, f64),
              xavier_uniform(Shape{4, 3 * 3 * 3}, g, 1.0, f64), rand_uniform(Shape{4}, -0.1, 0.1, g, f64)};
  for (auto& p : n.params) p.set_requires_grad(true);
  return n;
}

// conv -> batch_norm -> relu -> max_pool -> linear -> cross_entropy, on (N, 1, 6, 6) images.
Tensor loss_fn(const std::vector<Tensor>& p, const Tensor& x, const Tensor& y) {
  Tensor h = conv2d(x, p[0], p[1], {1, 1, 1});
  h = relu(batch_norm(h, p[2], p[3]));
  h = max_pool2d(h, {2, 2, 0});
  return cross_entropy(linear(flatten(h, 1), p[4], p[5]), y);
}

std::vector<Tensor> adapt(const std::vector<Tensor>& p, const Tensor& xs, const Tensor& ys, int steps, double alpha,
                          bool first_order) {
  std::vector<Tensor> fast = p;
  for (int s = 0; s < steps; ++s) {
    Tensor loss = loss_fn(fast, xs, ys);
    auto g = grad({loss}, fast, {}, /*create_graph=*/!first_order);
    for (size_t i = 0; i < fast.size(); ++i) fast[i] = sub(fast[i], mul(first_order ? g[i].detach() : g[i], alpha));
  }
  return fast;
}

double meta_loss_value(const std::vector<Tensor>& p, const Tensor& xs, const Tensor& ys, const Tensor& xq,
                       const Tensor& yq, int steps, double alpha) {
  // The adapted loss needs gradients for the inner steps even when we only want its value.
  std::vector<Tensor> leaves;
  for (auto& t : p) leaves.push_back(t.detach().set_requires_grad(true));
  auto fast = adapt(leaves, xs, ys, steps, alpha, true);
  NoGradGuard no_grad;
  return loss_fn(fast, xq, yq).item();
}

}  // namespace

TEST_CASE("MAML meta-gradient equals finite differences of the adapted loss (1 and 3 inner steps)") {
  for (int steps : {1, 3}) {
    CAPTURE(steps);
    Generator g(2024 + steps);
    TinyNet net = make_net(g);
    Tensor xs = randn(Shape{6, 1, 6, 6}, g, f64), xq = randn(Shape{8, 1, 6, 6}, g, f64);
    Tensor ys = Tensor::from_indices({0, 1, 2, 3, 0, 1}, Shape{6});
    Tensor yq = Tensor::from_indices({0, 1, 2, 3, 3, 2, 1, 0}, Shape{8});
    const double alpha = 0.4;

    auto fast = adapt(net.params, xs, ys, steps, alpha, false);
    auto meta = grad({loss_fn(fast, xq, yq)}, net.params);
    auto fo_fast = adapt(net.params, xs, ys, steps, alpha, true);
    auto first_order = grad({loss_fn(fo_fast, xq, yq)}, net.params);

    // Central differences of θ -> L_q(adapt(θ)), perturbing one parameter entry at a time.
    double num2 = 0, diff2 = 0, fo_diff2 = 0;
    const double eps = 1e-5;
    for (size_t k = 0; k < net.params.size(); ++k) {
      auto base = net.params[k].to_vector();
      auto analytic = meta[k].to_vector();
      auto fo = first_order[k].to_vector();
      for (size_t j = 0; j < base.size(); ++j) {
        auto eval = [&](double delta) {
          std::vector<Tensor> p = net.params;
          auto v = base;
          v[j] += delta;
          p[k] = Tensor::from_vector(v, net.params[k].shape(), f64);
          return meta_loss_value(p, xs, ys, xq, yq, steps, alpha);
        };
        double numeric = (eval(eps) - eval(-eps)) / (2 * eps);
        num2 += numeric * numeric;
        diff2 += (analytic[j] - numeric) * (analytic[j] - numeric);
        fo_diff2 += (fo[j] - numeric) * (fo[j] - numeric);
      }
    }
    double rel = std::sqrt(diff2 / num2), fo_rel = std::sqrt(fo_diff2 / num2);
    MESSAGE("steps " << steps << ": second-order relative error " << rel << ", first-order relative gap " << fo_rel);
    CHECK(rel < 1e-6);
    CHECK(fo_rel > 1e-3);  // dropping the Hessian term changes the meta-gradient
  }
}
