#pragma once
// Statistics for the comparison report: summaries of per-episode accuracies, paired tests on identical
// test episodes, and time-to-target-accuracy read off a training curve. Plain doubles in, plain structs
// out; nothing here knows about files or charts.
#include <optional>
#include <span>
#include <vector>

namespace fewshot::report {

double mean(std::span<const double> xs);                 // 0 for an empty list
double sample_std(std::span<const double> xs);           // n-1 denominator; 0 when n < 2
// Normal-approximation 95% CI half-width, 1.96 * std / sqrt(n), as results.json's "ci95" is defined.
double ci95_normal(std::span<const double> xs);
// Student-t 95% CI half-width, t_{0.975, n-1} * std / sqrt(n): the honest one for a handful of seeds.
double ci95_t(std::span<const double> xs);

// Regularized incomplete beta I_x(a, b) (continued fraction, Numerical Recipes 6.4), 0 <= x <= 1.
double incomplete_beta(double a, double b, double x);
// Student-t cumulative distribution P(T <= t) with df degrees of freedom (df > 0, may be non-integer).
double student_t_cdf(double t, double df);
// Two-sided p-value P(|T| >= |t|).
double student_t_two_sided_p(double t, double df);
// Quantile: the t with P(T <= t) = p, 0 < p < 1 (bisection on the CDF).
double student_t_quantile(double p, double df);

struct Summary {
  std::size_t n = 0;
  double mean = 0, std = 0;
  double ci95 = 0;      // 1.96 * std / sqrt(n)
  double ci95_t = 0;    // t-based
};
Summary summarize(std::span<const double> xs);

// Paired comparison of method A against method B on the same episodes (a[i] and b[i] are the same
// episode). diff = a - b. The p-value is the two-sided paired t-test; the CI is t-based.
struct PairedComparison {
  std::size_t n = 0;
  double mean_diff = 0;
  double ci95 = 0;        // half-width of the t-based 95% CI of the mean difference
  double t = 0;           // t statistic (0 when every difference is identical and zero)
  double p_value = 1;
};
// Throws std::invalid_argument when the lengths differ or n < 2.
PairedComparison paired_compare(std::span<const double> a, std::span<const double> b);

// One point of a validation curve.
struct TimePoint {
  double seconds = 0;
  double accuracy = 0;
};
// First time the validation accuracy reaches target (>=), or nullopt ("not reached").
std::optional<double> time_to_target(std::span<const TimePoint> curve, double target);
// Speed-up of `fast` over `slow`: slow / fast. nullopt when either is missing or fast <= 0.
std::optional<double> speedup(std::optional<double> slow, std::optional<double> fast);

}  // namespace fewshot::report
