#pragma once
// The evaluation protocol shared by every method: the same fixed, ordered list of test tasks,
// each adapted to from the same trained learner; per-task accuracies in task order (paired
// comparisons), mean with a 95% confidence interval, adaptation time and steps, and the mean
// accuracy after each recorded number of adaptation steps.
#include <cstdint>
#include <functional>
#include <vector>

#include "models/learner.h"

namespace fewshot::models {

struct EvalResult {
  int64_t episodes = 0;
  std::vector<double> accuracies;  // one per task, in task order (regression: query MSE in losses)
  std::vector<double> losses;      // final query loss per task
  double mean = 0, ci95 = 0;       // of accuracies: 1.96 * std / sqrt(n) (sample std, n - 1)
  double loss_mean = 0, loss_ci95 = 0;
  double adapt_seconds_mean = 0;
  double adapt_steps_mean = 0;
  std::vector<int64_t> steps;               // adaptation steps at which the means below were taken
  std::vector<double> accuracy_by_step;     // mean query accuracy after steps[i] steps
  std::vector<double> loss_by_step;
  double wall_seconds = 0;
};

// 1.96 * sample std / sqrt(n); 0 for n < 2.
double ci95(const std::vector<double>& values);
double mean_of(const std::vector<double>& values);

EvalResult evaluate(const Learner& learner, const std::vector<Task>& tasks,
                    const std::function<void(int64_t done, int64_t total)>& progress = {});

}  // namespace fewshot::models
