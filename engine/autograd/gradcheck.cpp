#include "engine/autograd/gradcheck.h"

#include <cmath>

#include <fmt/format.h>

#include "engine/autograd/autograd.h"
#include "engine/core/random.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/reduce.h"
#include "engine/ops/shape_ops.h"

namespace fewshot {

namespace {

// <f(inputs), v> as a double. f runs with grad mode on: it may differentiate internally.
double dot_output(const TensorFn& f, const std::vector<Tensor>& inputs, const Tensor& v) {
  Tensor out = f(inputs);
  auto a = out.to_vector(), b = v.to_vector();
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

}  // namespace

GradcheckResult gradcheck(const TensorFn& f, const std::vector<Tensor>& inputs, GradcheckOptions opt) {
  GradcheckResult res;
  std::vector<Tensor> diff;
  for (auto& t : inputs)
    if (t.defined() && t.requires_grad()) diff.push_back(t);
  if (diff.empty()) {
    res.ok = false;
    res.message = "gradcheck: no input requires grad";
    return res;
  }
  Tensor out = f(inputs);
  Generator gen(opt.seed);
  Tensor v = randn(out.shape(), gen, out.dtype(), out.device());
  std::vector<Tensor> analytic = grad({out}, diff, {v}, false, true);

  int reported = 0;
  for (size_t k = 0; k < diff.size(); ++k) {
    Tensor x = diff[k];
    std::vector<double> a = analytic[k].defined() ? analytic[k].to_vector() : std::vector<double>(x.numel(), 0.0);
    std::vector<double> base = x.to_vector();
    for (int64_t j = 0; j < x.numel(); ++j) {
      auto set = [&](double value) {
        std::vector<double> vals = base;
        vals[j] = value;
        NoGradGuard no_grad;
        x.copy_(Tensor::from_vector(vals, x.shape(), x.dtype(), x.device()));
      };
      set(base[j] + opt.eps);
      double plus = dot_output(f, inputs, v);
      set(base[j] - opt.eps);
      double minus = dot_output(f, inputs, v);
      set(base[j]);
      double numeric = (plus - minus) / (2 * opt.eps);
      double err = std::abs(a[j] - numeric);
      res.max_abs_error = std::max(res.max_abs_error, err);
      if (!(err <= opt.atol + opt.rtol * std::abs(numeric))) {
        res.ok = false;
        if (reported++ < 5)
          res.message += fmt::format("input {} {} element {}: analytic {:.10g} vs numeric {:.10g}\n", k,
                                     x.shape().str(), j, a[j], numeric);
      }
    }
  }
  return res;
}

GradcheckResult gradgradcheck(const TensorFn& f, const std::vector<Tensor>& inputs, GradcheckOptions opt) {
  Tensor out = f(inputs);
  Generator gen(opt.seed + 1);
  Tensor v = randn(out.shape(), gen, out.dtype(), out.device()).set_requires_grad(true);
  std::vector<size_t> diff;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].defined() && inputs[i].requires_grad()) diff.push_back(i);
  // x..., v -> concat of flattened J(x)^T v: checking it checks every second derivative of f and
  // the linearity of the backward formula in v.
  TensorFn first = [&](const std::vector<Tensor>& xs_and_v) {
    std::vector<Tensor> xs(xs_and_v.begin(), xs_and_v.end() - 1);
    Tensor out = f(xs);
    std::vector<Tensor> wrt;
    for (size_t i : diff) wrt.push_back(xs[i]);
    std::vector<Tensor> gs = grad({out}, wrt, {xs_and_v.back()}, true, true);
    std::vector<Tensor> flat;
    for (size_t i = 0; i < gs.size(); ++i)
      flat.push_back(gs[i].defined() ? reshape(gs[i], Shape{gs[i].numel()}) : Tensor::zeros(Shape{wrt[i].numel()}, wrt[i].dtype(), wrt[i].device()));
    return cat(flat, 0);
  };
  std::vector<Tensor> all = inputs;
  all.push_back(v);
  return gradcheck(first, all, opt);
}

}  // namespace fewshot
