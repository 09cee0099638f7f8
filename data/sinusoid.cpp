#include "data/sinusoid.h"

#include <cmath>

#include "data/error.h"

namespace fewshot::data {

double SinusoidTask::operator()(double x) const { return amplitude * std::sin(x - phase); }

SinusoidTask sample_sinusoid_task(Rng& rng, int64_t k, int64_t q, const SinusoidFamily& f) {
  if (k < 0 || q < 0)
    throw DataError("sinusoid task needs K >= 0 and Q >= 0, got K=" + std::to_string(k) + " Q=" + std::to_string(q));
  SinusoidTask t;
  t.amplitude = rng.uniform(f.amplitude_min, f.amplitude_max);
  t.phase = rng.uniform(f.phase_min, f.phase_max);
  auto draw = [&](int64_t n, std::vector<float>& xs, std::vector<float>& ys) {
    for (int64_t i = 0; i < n; ++i) {
      const double x = rng.uniform(f.x_min, f.x_max);
      xs.push_back(static_cast<float>(x));
      ys.push_back(static_cast<float>(t(x)));
    }
  };
  draw(k, t.support_x, t.support_y);
  draw(q, t.query_x, t.query_y);
  return t;
}

std::vector<SinusoidTask> make_sinusoid_tasks(int64_t count, int64_t k, int64_t q, uint64_t seed,
                                              const SinusoidFamily& f) {
  std::vector<SinusoidTask> out;
  for (int64_t i = 0; i < count; ++i) {
    Rng rng(mix64(seed ^ mix64(static_cast<uint64_t>(i) + 1)));
    out.push_back(sample_sinusoid_task(rng, k, q, f));
  }
  return out;
}

}  // namespace fewshot::data
