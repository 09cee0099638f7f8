#pragma once
// The table of differentiable ops under test: each case builds its float64 inputs (random, away
// from zeros and kinks) and a function of them. Shared by the gradient checks and the
// float32-vs-float64 forward test, so adding an op means adding one case here. Index tensors a
// case builds inside its fn live on its first input's device, so tests/cuda reuses the table on GPU.
#include <functional>
#include <string>
#include <vector>

#include "engine/autograd/gradcheck.h"
#include "engine/ops.h"

namespace fewshot::testing {

struct OpCase {
  std::string name;
  std::function<std::vector<Tensor>(Generator&)> make_inputs;  // float64; the ones to check require grad
  TensorFn fn;
};

// Uniform values in [lo, hi] with a random sign when signed; |x| >= lo keeps them away from kinks.
Tensor away_from_zero(const Shape& s, Generator& g, double lo = 0.2, double hi = 1.5, bool signed_values = true);
Tensor positive(const Shape& s, Generator& g, double lo = 0.5, double hi = 2.0);
// Distinct values (a shuffled ramp plus noise): no ties for max and max-pool.
Tensor distinct(const Shape& s, Generator& g);
Tensor leaf(Tensor t);  // requires grad

const std::vector<OpCase>& op_cases();

}  // namespace fewshot::testing
