#include "tests/engine/op_cases.h"

#include <algorithm>

namespace fewshot::testing {

namespace {
constexpr DType f64 = DType::Float64;
}

Tensor away_from_zero(const Shape& s, Generator& g, double lo, double hi, bool signed_values) {
  std::vector<double> v(s.numel());
  for (auto& x : v) x = g.uniform(lo, hi) * (signed_values && g.uniform() < 0.5 ? -1.0 : 1.0);
  return Tensor::from_vector(v, s, f64);
}

Tensor positive(const Shape& s, Generator& g, double lo, double hi) { return away_from_zero(s, g, lo, hi, false); }

Tensor distinct(const Shape& s, Generator& g) {
  int64_t n = s.numel();
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = -1.0 + 2.0 * static_cast<double>(i) / static_cast<double>(std::max<int64_t>(n, 2) - 1);
  for (int64_t i = n - 1; i > 0; --i) std::swap(v[i], v[g.below(i + 1)]);
  double step = 2.0 / static_cast<double>(std::max<int64_t>(n, 2));
  for (auto& x : v) x += g.uniform(-0.2, 0.2) * step;
  return Tensor::from_vector(v, s, f64);
}

Tensor leaf(Tensor t) { return t.set_requires_grad(true); }

const std::vector<OpCase>& op_cases() {
  using V = std::vector<Tensor>;
  static const std::vector<OpCase> cases = [] {
    std::vector<OpCase> c;
    auto add_case = [&](std::string name, std::function<V(Generator&)> make, TensorFn fn) {
      c.push_back({std::move(name), std::move(make), std::move(fn)});
    };
    // ---- elementwise, with broadcasting ----
    add_case("add", [](Generator& g) { return V{leaf(away_from_zero({3, 4}, g)), leaf(away_from_zero({4}, g))}; },
             [](const V& x) { return add(x[0], x[1]); });
    add_case("add_broadcast_both",
             [](Generator& g) { return V{leaf(away_from_zero({2, 1, 3}, g)), leaf(away_from_zero({1, 5, 1}, g))}; },
             [](const V& x) { return add(x[0], x[1]); });
    add_case("sub", [](Generator& g) { return V{leaf(away_from_zero({3, 1}, g)), leaf(away_from_zero({3, 5}, g))}; },
             [](const V& x) { return sub(x[0], x[1]); });
    add_case("mul", [](Generator& g) { return V{leaf(away_from_zero({2, 3, 4}, g)), leaf(away_from_zero({3, 1}, g))}; },
             [](const V& x) { return mul(x[0], x[1]); });
    add_case("mul_same", [](Generator& g) { return V{leaf(away_from_zero({5}, g)), leaf(away_from_zero({5}, g))}; },
             [](const V& x) { return mul(x[0], x[1]); });
    add_case("div", [](Generator& g) { return V{leaf(away_from_zero({3, 4}, g)), leaf(positive({1, 4}, g))}; },
             [](const V& x) { return div(x[0], x[1]); });
    add_case("pow_tensor", [](Generator& g) { return V{leaf(positive({3, 4}, g)), leaf(away_from_zero({4}, g))}; },
             [](const V& x) { return pow(x[0], x[1]); });
    add_case("neg", [](Generator& g) { return V{leaf(away_from_zero({7}, g))}; },
             [](const V& x) { return neg(x[0]); });
    add_case("exp", [](Generator& g) { return V{leaf(away_from_zero({3, 3}, g))}; },
             [](const V& x) { return exp(x[0]); });
    add_case("log", [](Generator& g) { return V{leaf(positive({3, 3}, g))}; }, [](const V& x) { return log(x[0]); });
    add_case("sqrt", [](Generator& g) { return V{leaf(positive({3, 3}, g))}; },
             [](const V& x) { return sqrt(x[0]); });
    add_case("relu", [](Generator& g) { return V{leaf(away_from_zero({4, 5}, g))}; },
             [](const V& x) { return relu(x[0]); });
    add_case("tanh", [](Generator& g) { return V{leaf(away_from_zero({4, 5}, g))}; },
             [](const V& x) { return tanh(x[0]); });
    add_case("sigmoid", [](Generator& g) { return V{leaf(away_from_zero({4, 5}, g))}; },
             [](const V& x) { return sigmoid(x[0]); });
    add_case("abs", [](Generator& g) { return V{leaf(away_from_zero({6}, g))}; },
             [](const V& x) { return abs(x[0]); });
    add_case("pow_scalar", [](Generator& g) { return V{leaf(positive({3, 4}, g))}; },
             [](const V& x) { return pow(x[0], 2.5); });
    add_case("pow_scalar_negative", [](Generator& g) { return V{leaf(positive({5}, g))}; },
             [](const V& x) { return pow(x[0], -1.5); });
    add_case("scalar_ops", [](Generator& g) { return V{leaf(positive({2, 3}, g))}; },
             [](const V& x) { return (3.0 - x[0] * 2.0 + 1.5) / 4.0 + 2.0 / x[0]; });
    // ---- reductions ----
    add_case("sum_all", [](Generator& g) { return V{leaf(away_from_zero({3, 4}, g))}; },
             [](const V& x) { return sum(x[0]); });
    add_case("sum_dims", [](Generator& g) { return V{leaf(away_from_zero({2, 3, 4}, g))}; },
             [](const V& x) { return sum(x[0], {0, 2}); });
    add_case("sum_keepdim", [](Generator& g) { return V{leaf(away_from_zero({2, 3, 4}, g))}; },
             [](const V& x) { return sum(x[0], {1}, true); });
    add_case("mean_dims", [](Generator& g) { return V{leaf(away_from_zero({2, 3, 5}, g))}; },
             [](const V& x) { return mean(x[0], {-1}, false); });
    add_case("mean_all", [](Generator& g) { return V{leaf(away_from_zero({3, 5}, g))}; },
             [](const V& x) { return mean(x[0]); });
    add_case("max_dim", [](Generator& g) { return V{leaf(distinct({3, 5, 2}, g))}; },
             [](const V& x) { return max(x[0], 1, false).first; });
    add_case("max_dim_keepdim", [](Generator& g) { return V{leaf(distinct({4, 3}, g))}; },
             [](const V& x) { return max(x[0], -1, true).first; });
    add_case("max_all", [](Generator& g) { return V{leaf(distinct({3, 4}, g))}; },
             [](const V& x) { return max(x[0]); });
    add_case("expand", [](Generator& g) { return V{leaf(away_from_zero({3, 1}, g))}; },
             [](const V& x) { return expand(x[0], Shape{2, 3, 4}); });
    add_case("sum_to", [](Generator& g) { return V{leaf(away_from_zero({2, 3, 4}, g))}; },
             [](const V& x) { return sum_to(x[0], Shape{3, 1}); });
    // ---- linear algebra ----
    add_case("matmul", [](Generator& g) { return V{leaf(away_from_zero({3, 5}, g)), leaf(away_from_zero({5, 4}, g))}; },
             [](const V& x) { return matmul(x[0], x[1]); });
    add_case("matmul_tt", [](Generator& g) { return V{leaf(away_from_zero({5, 3}, g)), leaf(away_from_zero({4, 5}, g))}; },
             [](const V& x) { return matmul_t(x[0], x[1], true, true); });
    add_case("matmul_tn", [](Generator& g) { return V{leaf(away_from_zero({5, 3}, g)), leaf(away_from_zero({5, 2}, g))}; },
             [](const V& x) { return matmul_t(x[0], x[1], true, false); });
    add_case("bmm", [](Generator& g) { return V{leaf(away_from_zero({2, 3, 5}, g)), leaf(away_from_zero({2, 5, 4}, g))}; },
             [](const V& x) { return bmm(x[0], x[1]); });
    add_case("matmul_broadcast", [](Generator& g) { return V{leaf(away_from_zero({2, 3, 5}, g)), leaf(away_from_zero({4, 5}, g))}; },
             [](const V& x) { return matmul_t(x[0], x[1], false, true); });
    add_case("matmul_broadcast_left", [](Generator& g) { return V{leaf(away_from_zero({3, 5}, g)), leaf(away_from_zero({2, 5, 4}, g))}; },
             [](const V& x) { return matmul(x[0], x[1]); });
    add_case("linear",
             [](Generator& g) { return V{leaf(away_from_zero({4, 5}, g)), leaf(away_from_zero({3, 5}, g)), leaf(away_from_zero({3}, g))}; },
             [](const V& x) { return linear(x[0], x[1], x[2]); });
    // ---- convolution ----
    add_case("conv2d_pad1",
             [](Generator& g) { return V{leaf(away_from_zero({2, 3, 7, 6}, g)), leaf(away_from_zero({4, 3, 3, 3}, g)), leaf(away_from_zero({4}, g))}; },
             [](const V& x) { return conv2d(x[0], x[1], x[2], {1, 1, 1}); });
    add_case("conv2d_stride2",
             [](Generator& g) { return V{leaf(away_from_zero({2, 2, 7, 8}, g)), leaf(away_from_zero({3, 2, 3, 3}, g))}; },
             [](const V& x) { return conv2d(x[0], x[1], Tensor(), {2, 0, 1}); });
    add_case("conv2d_stride2_pad1",
             [](Generator& g) { return V{leaf(away_from_zero({1, 2, 6, 5}, g)), leaf(away_from_zero({2, 2, 3, 3}, g))}; },
             [](const V& x) { return conv2d(x[0], x[1], Tensor(), {2, 1, 1}); });
    add_case("conv2d_groups",
             [](Generator& g) { return V{leaf(away_from_zero({2, 4, 5, 5}, g)), leaf(away_from_zero({6, 2, 3, 3}, g))}; },
             [](const V& x) { return conv2d(x[0], x[1], Tensor(), {1, 1, 2}); });
    add_case("conv2d_depthwise_5x3",
             [](Generator& g) { return V{leaf(away_from_zero({2, 3, 6, 5}, g)), leaf(away_from_zero({3, 1, 3, 2}, g))}; },
             [](const V& x) { return conv2d(x[0], x[1], Tensor(), {1, 0, 3}); });
    add_case("conv2d_input_grad",
             [](Generator& g) { return V{leaf(away_from_zero({2, 3, 3, 3}, g)), leaf(away_from_zero({3, 2, 3, 3}, g))}; },
             [](const V& x) {
               ConvParams p = conv2d_params(Shape{2, 2, 6, 5}, x[1].shape(), {2, 1, 1});
               return conv2d_input_grad(x[0], x[1], p);
             });
    add_case("conv2d_weight_grad",
             [](Generator& g) { return V{leaf(away_from_zero({2, 2, 6, 5}, g)), leaf(away_from_zero({2, 3, 3, 3}, g))}; },
             [](const V& x) {
               ConvParams p = conv2d_params(x[0].shape(), Shape{3, 2, 3, 3}, {2, 1, 1});
               return conv2d_weight_grad(x[0], x[1], p);
             });
    // ---- pooling ----
    add_case("max_pool2d", [](Generator& g) { return V{leaf(distinct({2, 3, 6, 5}, g))}; },
             [](const V& x) { return max_pool2d(x[0], {2, 2, 0}); });
    add_case("max_pool2d_k3_s2_pad1", [](Generator& g) { return V{leaf(distinct({1, 2, 7, 7}, g))}; },
             [](const V& x) { return max_pool2d(x[0], {3, 2, 1}); });
    add_case("avg_pool2d", [](Generator& g) { return V{leaf(away_from_zero({2, 2, 5, 6}, g))}; },
             [](const V& x) { return avg_pool2d(x[0], {2, 2, 0}); });
    add_case("avg_pool2d_k3_pad1", [](Generator& g) { return V{leaf(away_from_zero({1, 2, 5, 5}, g))}; },
             [](const V& x) { return avg_pool2d(x[0], {3, 2, 1}); });
    add_case("avg_pool2d_backward", [](Generator& g) { return V{leaf(away_from_zero({1, 2, 2, 3}, g))}; },
             [](const V& x) { return avg_pool2d_backward(x[0], pool2d_params("t", Shape{1, 2, 5, 6}, {2, 2, 0})); });
    add_case("global_avg_pool2d", [](Generator& g) { return V{leaf(away_from_zero({2, 3, 4, 3}, g))}; },
             [](const V& x) { return global_avg_pool2d(x[0]); });
    // ---- normalization, softmax, losses, distances ----
    add_case("batch_norm_4d",
             [](Generator& g) { return V{leaf(away_from_zero({3, 2, 3, 3}, g)), leaf(positive({2}, g)), leaf(away_from_zero({2}, g))}; },
             [](const V& x) { return batch_norm(x[0], x[1], x[2]); });
    add_case("batch_norm_2d",
             [](Generator& g) { return V{leaf(away_from_zero({5, 3}, g)), leaf(positive({3}, g)), leaf(away_from_zero({3}, g))}; },
             [](const V& x) { return batch_norm(x[0], x[1], x[2]); });
    add_case("log_softmax", [](Generator& g) { return V{leaf(away_from_zero({4, 5}, g))}; },
             [](const V& x) { return log_softmax(x[0], 1); });
    add_case("log_softmax_dim0", [](Generator& g) { return V{leaf(away_from_zero({3, 2, 4}, g))}; },
             [](const V& x) { return log_softmax(x[0], 0); });
    add_case("softmax", [](Generator& g) { return V{leaf(away_from_zero({3, 4}, g))}; },
             [](const V& x) { return softmax(x[0], -1); });
    add_case("cross_entropy", [](Generator& g) { return V{leaf(away_from_zero({5, 4}, g))}; },
             [](const V& x) { return cross_entropy(x[0], Tensor::from_indices({0, 3, 1, 1, 2}, Shape{5}, x[0].device())); });
    add_case("mse_loss", [](Generator& g) { return V{leaf(away_from_zero({3, 4}, g)), leaf(away_from_zero({3, 4}, g))}; },
             [](const V& x) { return mse_loss(x[0], x[1]); });
    add_case("sqdist", [](Generator& g) { return V{leaf(away_from_zero({4, 3}, g)), leaf(away_from_zero({5, 3}, g))}; },
             [](const V& x) { return sqdist(x[0], x[1]); });
    // ---- shape and indexing ----
    add_case("reshape", [](Generator& g) { return V{leaf(away_from_zero({2, 6}, g))}; },
             [](const V& x) { return mul(reshape(x[0], Shape{3, 4}), x[0].reshape(Shape{3, 4})); });
    add_case("flatten", [](Generator& g) { return V{leaf(away_from_zero({2, 3, 2}, g))}; },
             [](const V& x) { return exp(flatten(x[0], 1)); });
    add_case("squeeze_unsqueeze", [](Generator& g) { return V{leaf(away_from_zero({3, 1}, g))}; },
             [](const V& x) { return unsqueeze(squeeze(x[0], 1), 0); });
    add_case("cat", [](Generator& g) { return V{leaf(away_from_zero({2, 3}, g)), leaf(away_from_zero({2, 2}, g))}; },
             [](const V& x) { return cat({x[0], x[1], x[0]}, 1); });
    add_case("stack", [](Generator& g) { return V{leaf(away_from_zero({2, 3}, g)), leaf(away_from_zero({2, 3}, g))}; },
             [](const V& x) { return stack({x[0], x[1]}, 1); });
    add_case("narrow_leading", [](Generator& g) { return V{leaf(away_from_zero({5, 3}, g))}; },
             [](const V& x) { return mul(narrow(x[0], 0, 1, 3), narrow(x[0], 0, 2, 3)); });
    add_case("slice_inner", [](Generator& g) { return V{leaf(away_from_zero({3, 6}, g))}; },
             [](const V& x) { return mul(slice(x[0], 1, 1, -1), slice(x[0], 1, 0, 4)); });
    add_case("narrow_embed", [](Generator& g) { return V{leaf(away_from_zero({2, 3}, g))}; },
             [](const V& x) { return narrow_embed(x[0], 1, 1, 5); });
    add_case("index_select", [](Generator& g) { return V{leaf(away_from_zero({4, 3}, g))}; },
             [](const V& x) { return index_select(x[0], 0, Tensor::from_indices({2, 0, 2, 3}, Shape{4}, x[0].device())); });
    add_case("index_select_dim1", [](Generator& g) { return V{leaf(away_from_zero({2, 4, 3}, g))}; },
             [](const V& x) { return index_select(x[0], 1, Tensor::from_indices({3, 1}, Shape{2}, x[0].device())); });
    add_case("index_add", [](Generator& g) { return V{leaf(away_from_zero({3, 2}, g))}; },
             [](const V& x) { return index_add(x[0], 0, Tensor::from_indices({1, 3, 1}, Shape{3}, x[0].device()), 4); });
    add_case("gather", [](Generator& g) { return V{leaf(away_from_zero({3, 4}, g))}; },
             [](const V& x) { return gather(x[0], 1, Tensor::from_indices({0, 3, 1, 1, 2, 2}, Shape{3, 2}, x[0].device())); });
    add_case("scatter_add", [](Generator& g) { return V{leaf(away_from_zero({3, 2}, g))}; },
             [](const V& x) { return scatter_add(x[0], 1, Tensor::from_indices({0, 3, 1, 1, 2, 2}, Shape{3, 2}, x[0].device()), Shape{3, 4}); });
    add_case("transpose", [](Generator& g) { return V{leaf(away_from_zero({2, 3, 4}, g))}; },
             [](const V& x) { return transpose(x[0]); });
    add_case("clone", [](Generator& g) { return V{leaf(away_from_zero({3}, g))}; },
             [](const V& x) { return mul(clone(x[0]), x[0]); });
    return c;
  }();
  return cases;
}

}  // namespace fewshot::testing
