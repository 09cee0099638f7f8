// Autograd semantics: grad() vs backward(), accumulation, create_graph, no-grad, detach, and
// the errors for gradients that do not exist.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/ops.h"

using namespace fewshot;

namespace {
Tensor param(std::vector<double> v) {
  Shape s{static_cast<int64_t>(v.size())};
  return Tensor::from_vector(v, s, DType::Float64).set_requires_grad(true);
}
}  // namespace

TEST_CASE("grad returns gradients without touching .grad; backward accumulates") {
  Tensor x = param({1, 2, 3});
  Tensor y = sum(mul(x, x));
  auto g = grad({y}, {x});
  CHECK(g[0].to_vector() == std::vector<double>{2, 4, 6});
  CHECK_FALSE(x.grad().defined());
  sum(mul(x, x)).backward();
  sum(mul(x, x)).backward();
  CHECK(x.grad().to_vector() == std::vector<double>{4, 8, 12});
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("create_graph gives higher-order derivatives") {
  Tensor x = param({0.5, -1.0});
  Tensor y = sum(pow(x, 4.0));                     // y = sum x^4
  auto g1 = grad({y}, {x}, {}, true);              // 4 x^3
  auto g2 = grad({sum(g1[0])}, {x}, {}, true);     // 12 x^2
  auto g3 = grad({sum(g2[0])}, {x});               // 24 x
  CHECK(g1[0].to_vector()[0] == doctest::Approx(0.5));
  CHECK(g2[0].to_vector()[1] == doctest::Approx(12.0));
  CHECK(g3[0].to_vector()[0] == doctest::Approx(12.0));
  CHECK(g3[0].to_vector()[1] == doctest::Approx(-24.0));
  CHECK_FALSE(g3[0].requires_grad());  // without create_graph the result is detached
}

TEST_CASE("gradient w.r.t. an intermediate tensor") {
  Tensor x = param({1, 2});
  Tensor h = mul(x, 3.0);
  Tensor y = sum(mul(h, h));
  auto g = grad({y}, {h, x});
  CHECK(g[0].to_vector() == std::vector<double>{6, 12});   // 2h
  CHECK(g[1].to_vector() == std::vector<double>{18, 36});  // 18x
}

TEST_CASE("no-grad scope, detach and requires_grad") {
  Tensor x = param({1, 2});
  {
    NoGradGuard ng;
    Tensor y = mul(x, x);
    CHECK_FALSE(y.requires_grad());
  }
  CHECK(mul(x, x).requires_grad());
  Tensor d = x.detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.raw_data() == x.raw_data());
  CHECK_FALSE(add(d, 1.0).requires_grad());
  CHECK_THROWS_AS(mul(x, x).set_requires_grad(false), AutogradError);
  CHECK_THROWS_AS(Tensor::zeros(Shape{2}, DType::Int64).set_requires_grad(true), AutogradError);
}

TEST_CASE("clear errors for gradients that do not exist") {
  Tensor x = param({1, 2}), z = param({3, 4});
  Tensor y = sum(mul(x, x));
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const AutogradError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  // z is not in the graph of y.
  CHECK(message([&] { grad({y}, {z}, {}, false, false, 1); }).find("input 0 (shape (2,)) is not part of the graph") != std::string::npos);
  auto g = grad({y}, {z, x}, {}, false, /*allow_unused=*/true, 1);
  CHECK_FALSE(g[0].defined());
  CHECK(g[1].defined());
  // A tensor with no history.
  Tensor c = Tensor::ones(Shape{2});
  CHECK(message([&] { grad({sum(c)}, {x}); }).find("does not require grad") != std::string::npos);
  // A non-scalar output without grad_outputs.
  CHECK(message([&] { grad({mul(x, 2.0)}, {x}); }).find("only for scalar outputs") != std::string::npos);
  // Backward twice through a freed graph.
  Tensor y2 = sum(exp(x));
  y2.backward();
  CHECK(message([&] { y2.backward(); }).find("second time") != std::string::npos);
  // A saved tensor modified in place.
  Tensor w = param({1, 2});
  Tensor y3 = sum(exp(w));
  {
    NoGradGuard ng;
    w.fill_(0.0);
  }
  CHECK(message([&] { y3.backward(); }).find("modified by an in-place operation") != std::string::npos);
  // In-place write to a leaf that requires grad, with grad mode on.
  CHECK_THROWS_AS(w.fill_(1.0), AutogradError);
}

TEST_CASE("retain_graph allows a second backward; shared subexpressions accumulate") {
  Tensor x = param({2});
  Tensor h = exp(x);
  Tensor y = sum(mul(h, h));  // e^{2x}: dy/dx = 2 e^{2x}
  y.backward(Tensor(), true);
  y.backward();
  CHECK(x.grad().item() == doctest::Approx(4 * std::exp(4.0)));
}

TEST_CASE("fused batch_norm backward agrees with the composite formula") {
  Generator g(11);
  Tensor x = randn(Shape{4, 3, 5, 5}, g, DType::Float64).set_requires_grad(true);
  Tensor gamma = rand_uniform(Shape{3}, 0.5, 1.5, g, DType::Float64).set_requires_grad(true);
  Tensor beta = randn(Shape{3}, g, DType::Float64).set_requires_grad(true);
  Tensor gy = randn(Shape{4, 3, 5, 5}, g, DType::Float64);
  Tensor y = batch_norm(x, gamma, beta);
  auto fused = grad({y}, {x, gamma, beta}, {gy});  // create_graph false: the fused kernel
  auto composite = batch_norm_backward_composite(gy, x.detach(), gamma.detach(), 1e-5);
  for (int i = 0; i < 3; ++i) {
    auto a = fused[i].to_vector(), b = composite[i].to_vector();
    for (size_t j = 0; j < a.size(); ++j) CHECK(a[j] == doctest::Approx(b[j]).epsilon(1e-10));
  }
  // Forward: per-channel mean 0 and variance 1 before the affine part.
  Tensor n = batch_norm(x.detach(), Tensor::ones(Shape{3}, DType::Float64), Tensor::zeros(Shape{3}, DType::Float64));
  auto m = mean(n, {0, 2, 3}).to_vector();
  for (double v : m) CHECK(std::abs(v) < 1e-12);
}

TEST_CASE("max-pool gradient goes to the argmax, and indices follow PyTorch's plane convention") {
  Tensor x = Tensor::from_vector({1, 5, 2, 0, 3, 4, 9, 8, 7, 6, 1, 2, 0, 0, 0, 3}, Shape{1, 1, 4, 4}, DType::Float64)
                 .set_requires_grad(true);
  auto [y, idx] = max_pool2d_with_indices(x, {2, 2, 0});
  CHECK(y.to_vector() == std::vector<double>{5, 9, 7, 3});
  CHECK(idx.to_indices() == std::vector<int64_t>{1, 6, 8, 15});
  sum(y).backward();
  auto gx = x.grad().to_vector();
  CHECK(gx[1] == 1);
  CHECK(gx[0] == 0);
  CHECK(gx[6] == 1);
  CHECK(gx[15] == 1);
}
