// gradcheck and gradgradcheck of every differentiable op (float64, central differences), and
// float32 forward agreement with float64.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/autograd/gradcheck.h"
#include "tests/engine/op_cases.h"

using namespace fewshot;
using namespace fewshot::testing;

TEST_CASE("gradcheck: every op's derivative formula matches finite differences") {
  for (const auto& c : op_cases()) {
    SUBCASE(c.name.c_str()) {
      Generator gen(42);
      auto inputs = c.make_inputs(gen);
      GradcheckResult r = gradcheck(c.fn, inputs);
      INFO(c.name << ": " << r.message);
      CHECK(r.ok);
    }
  }
}

TEST_CASE("gradgradcheck: every op's backward is itself correctly differentiable") {
  for (const auto& c : op_cases()) {
    SUBCASE(c.name.c_str()) {
      Generator gen(7);
      auto inputs = c.make_inputs(gen);
      GradcheckResult r = gradgradcheck(c.fn, inputs);
      INFO(c.name << ": " << r.message);
      CHECK(r.ok);
    }
  }
}

TEST_CASE("float32 forward agrees with float64 within float32 rounding on every op") {
  for (const auto& c : op_cases()) {
    SUBCASE(c.name.c_str()) {
      Generator gen(3);
      auto inputs64 = c.make_inputs(gen);
      std::vector<Tensor> inputs32;
      for (auto& t : inputs64) inputs32.push_back(t.dtype() == DType::Float64 ? t.detach().to(DType::Float32) : t);
      NoGradGuard no_grad;
      auto y64 = c.fn(inputs64).to_vector();
      auto y32 = c.fn(inputs32).to_vector();
      REQUIRE(y64.size() == y32.size());
      double scale = 0;
      for (double v : y64) scale = std::max(scale, std::abs(v));
      for (size_t i = 0; i < y64.size(); ++i) {
        INFO(c.name << " element " << i << ": float64 " << y64[i] << " float32 " << y32[i]);
        // A handful of float32 roundings (eps 6e-8) per accumulation step, relative to the output scale.
        CHECK(std::abs(y64[i] - y32[i]) <= 2e-6 * std::max(1.0, scale));
      }
    }
  }
}

TEST_CASE("gradcheck detects a wrong derivative") {
  // A deliberately wrong op: forward exp, derivative claims 2 * grad.
  TensorFn wrong = [](const std::vector<Tensor>& x) {
    Tensor y = exp(x[0].detach());
    return record_op("wrong_exp", {x[0]}, y, [](const BackwardContext& c) {
      return std::vector<Tensor>{mul(c.grad(), 2.0)};
    });
  };
  Generator gen(1);
  auto x = leaf(away_from_zero({4}, gen));
  GradcheckResult r = gradcheck(wrong, {x});
  CHECK_FALSE(r.ok);
  CHECK(r.message.find("analytic") != std::string::npos);
}

TEST_CASE("gradgradcheck detects a backward that is not differentiable") {
  // First derivative right (grad * e^x) but computed from a detached result: the second
  // derivative through it is lost, which gradgradcheck must notice.
  TensorFn first_order_only = [](const std::vector<Tensor>& x) {
    Tensor y = exp(x[0].detach());
    return record_op("exp_detached_backward", {x[0]}, y, [](const BackwardContext& c) {
      return std::vector<Tensor>{mul(c.grad(), c.result().detach())};
    });
  };
  Generator gen(2);
  auto x = leaf(away_from_zero({3}, gen));
  CHECK(gradcheck(first_order_only, {x}).ok);
  CHECK_FALSE(gradgradcheck(first_order_only, {x}).ok);
}
