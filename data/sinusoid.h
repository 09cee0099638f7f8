#pragma once
// The sinusoid regression family of the MAML paper (Finn et al. 2017, section 5.1):
// y = amplitude * sin(x - phase), amplitude ~ U[0.1, 5], phase ~ U[0, pi], x ~ U[-5, 5].
// Tasks are generated, not loaded (dataset name "sinusoid"), and drawn from our Rng so a seed gives
// the same tasks everywhere.
#include <cstdint>
#include <vector>

#include "data/rng.h"

namespace fewshot::data {

struct SinusoidFamily {
  double amplitude_min = 0.1, amplitude_max = 5.0;
  double phase_min = 0.0, phase_max = 3.14159265358979323846;
  double x_min = -5.0, x_max = 5.0;
};

struct SinusoidTask {
  double amplitude = 0, phase = 0;
  std::vector<float> support_x, support_y;  // K points (x, y)
  std::vector<float> query_x, query_y;      // Q points
  double operator()(double x) const;        // the task's true function
};

// Draws amplitude, phase, then K support x's and Q query x's, in that order, from rng.
SinusoidTask sample_sinusoid_task(Rng& rng, int64_t k, int64_t q, const SinusoidFamily& family = {});
// `count` tasks, task i from Rng(mix64(seed ^ mix64(i + 1))) (a fixed test set, like make_test_episodes).
std::vector<SinusoidTask> make_sinusoid_tasks(int64_t count, int64_t k, int64_t q, uint64_t seed,
                                              const SinusoidFamily& family = {});

}  // namespace fewshot::data
