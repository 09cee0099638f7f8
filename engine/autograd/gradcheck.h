#pragma once
// Finite-difference checks of the autograd, as torch.autograd.gradcheck/gradgradcheck: the
// analytic vector-Jacobian product J^T v of f is compared, entry by entry, with central
// differences (f(x + eps e_j) - f(x - eps e_j)) / 2 eps . v. Use float64 inputs.
#include <functional>
#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace fewshot {

using TensorFn = std::function<Tensor(const std::vector<Tensor>&)>;

struct GradcheckOptions {
  double eps = 1e-6, atol = 1e-5, rtol = 1e-3;
  uint64_t seed = 1234;  // for the random v
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0;  // over all compared entries
  std::string message;       // the first mismatches, naming input, element, analytic and numeric values
};

// Inputs that require grad are checked; the others are held fixed.
GradcheckResult gradcheck(const TensorFn& f, const std::vector<Tensor>& inputs, GradcheckOptions opt = {});
// Checks the derivative of the first derivative: gradcheck of x, v -> J(x)^T v (with create_graph).
GradcheckResult gradgradcheck(const TensorFn& f, const std::vector<Tensor>& inputs, GradcheckOptions opt = {});

}  // namespace fewshot
