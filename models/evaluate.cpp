#include "models/evaluate.h"

#include <chrono>
#include <cmath>

namespace fewshot::models {

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

double ci95(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  double m = mean_of(v), ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  double sd = std::sqrt(ss / static_cast<double>(v.size() - 1));
  return 1.96 * sd / std::sqrt(static_cast<double>(v.size()));
}

EvalResult evaluate(const Learner& learner, const std::vector<Task>& tasks,
                    const std::function<void(int64_t, int64_t)>& progress) {
  auto t0 = std::chrono::steady_clock::now();
  EvalResult r;
  r.episodes = static_cast<int64_t>(tasks.size());
  double secs = 0, steps = 0;
  std::vector<double> acc_sum, loss_sum;
  std::vector<int64_t> count;
  for (size_t i = 0; i < tasks.size(); ++i) {
    AdaptResult a = learner.adapt(tasks[i]);
    r.accuracies.push_back(a.accuracy);
    r.losses.push_back(a.loss);
    secs += a.seconds;
    steps += static_cast<double>(a.adapt_steps);
    // Every task of one learner records the same step schedule; average position by position.
    if (r.steps.empty()) r.steps = a.steps;
    for (size_t k = 0; k < a.steps.size() && k < r.steps.size(); ++k) {
      if (acc_sum.size() <= k) {
        acc_sum.push_back(0);
        loss_sum.push_back(0);
        count.push_back(0);
      }
      acc_sum[k] += a.accuracy_by_step[k];
      loss_sum[k] += a.loss_by_step[k];
      ++count[k];
    }
    if (progress) progress(static_cast<int64_t>(i + 1), r.episodes);
  }
  r.steps.resize(acc_sum.size());
  for (size_t k = 0; k < acc_sum.size(); ++k) {
    r.accuracy_by_step.push_back(acc_sum[k] / static_cast<double>(count[k]));
    r.loss_by_step.push_back(loss_sum[k] / static_cast<double>(count[k]));
  }
  r.mean = mean_of(r.accuracies);
  r.ci95 = ci95(r.accuracies);
  r.loss_mean = mean_of(r.losses);
  r.loss_ci95 = ci95(r.losses);
  double n = tasks.empty() ? 1.0 : static_cast<double>(tasks.size());
  r.adapt_seconds_mean = secs / n;
  r.adapt_steps_mean = steps / n;
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace fewshot::models
