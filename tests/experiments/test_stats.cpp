// Statistics of the report checked against values from R / SciPy (pt, qt, t.test(paired = TRUE)).
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "experiments/report/stats.h"

using namespace fewshot::report;

TEST_CASE("mean, sample std and 95% CIs") {
  const std::vector<double> xs = {2, 4, 4, 4, 5, 5, 7, 9};
  CHECK(mean(xs) == doctest::Approx(5.0));
  CHECK(sample_std(xs) == doctest::Approx(2.138089935).epsilon(1e-9));  // sd(c(2,4,4,4,5,5,7,9))
  CHECK(ci95_normal(xs) == doctest::Approx(1.96 * 2.138089935 / std::sqrt(8.0)).epsilon(1e-9));
  // qt(0.975, 7) = 2.364624252
  CHECK(ci95_t(xs) == doctest::Approx(2.364624252 * 2.138089935 / std::sqrt(8.0)).epsilon(1e-8));
  CHECK(mean(std::vector<double>{}) == 0);
  CHECK(sample_std(std::vector<double>{3.0}) == 0);
  const Summary s = summarize(xs);
  CHECK(s.n == 8);
  CHECK(s.ci95 == doctest::Approx(ci95_normal(xs)));
}

TEST_CASE("regularized incomplete beta") {
  CHECK(incomplete_beta(1, 1, 0.3) == doctest::Approx(0.3).epsilon(1e-12));          // uniform
  CHECK(incomplete_beta(2, 3, 0.4) == doctest::Approx(0.5248).epsilon(1e-10));       // pbeta(0.4, 2, 3)
  CHECK(incomplete_beta(0.5, 0.5, 0.5) == doctest::Approx(0.5).epsilon(1e-10));
  CHECK(incomplete_beta(5, 2, 0.9) == doctest::Approx(0.885735).epsilon(1e-6));      // pbeta(0.9, 5, 2)
  CHECK(incomplete_beta(3, 4, 0) == 0);
  CHECK(incomplete_beta(3, 4, 1) == 1);
  CHECK_THROWS(incomplete_beta(-1, 1, 0.5));
  CHECK_THROWS(incomplete_beta(1, 1, 1.5));
}

TEST_CASE("Student-t CDF, two-sided p-values and quantiles") {
  CHECK(student_t_two_sided_p(2.0, 10) == doctest::Approx(0.07338803).epsilon(1e-7));  // 2*pt(-2, 10)
  CHECK(student_t_two_sided_p(1.96, 1e6) == doctest::Approx(0.0499958).epsilon(1e-5));
  CHECK(student_t_two_sided_p(0.0, 5) == doctest::Approx(1.0));
  CHECK(student_t_cdf(1.0, 1) == doctest::Approx(0.75).epsilon(1e-12));                // Cauchy
  CHECK(student_t_cdf(-2.5, 3) == doctest::Approx(0.04385).epsilon(1e-4));             // pt(-2.5, 3)
  CHECK(student_t_cdf(0, 7) == doctest::Approx(0.5));
  CHECK(student_t_quantile(0.975, 7) == doctest::Approx(2.364624252).epsilon(1e-8));
  CHECK(student_t_quantile(0.975, 1) == doctest::Approx(12.70620474).epsilon(1e-8));
  CHECK(student_t_quantile(0.975, 1e6) == doctest::Approx(1.959966).epsilon(1e-5));
  CHECK(student_t_quantile(0.025, 4) == doctest::Approx(-2.776445105).epsilon(1e-8));
}

TEST_CASE("paired t-test on identical episodes") {
  // t.test(a, b, paired = TRUE): mean diff 0.05, t = 2.236068, df = 4, p = 0.0890
  const std::vector<double> a = {0.8, 0.7, 0.9, 0.85, 0.75};
  const std::vector<double> b = {0.7, 0.7, 0.8, 0.85, 0.7};
  const PairedComparison c = paired_compare(a, b);
  CHECK(c.n == 5);
  CHECK(c.mean_diff == doctest::Approx(0.05));
  CHECK(c.t == doctest::Approx(2.236068).epsilon(1e-6));
  CHECK(c.p_value == doctest::Approx(0.08900).epsilon(1e-4));
  CHECK(c.ci95 == doctest::Approx(2.776445105 * 0.05 / std::sqrt(5.0)).epsilon(1e-6));  // sd(diff) = 0.05
  // No spread: identical methods give p = 1; a constant shift gives p = 0.
  CHECK(paired_compare(a, a).p_value == 1);
  std::vector<double> shifted = a;
  for (double& x : shifted) x -= 0.1;
  CHECK(paired_compare(a, shifted).p_value == 0);
  CHECK_THROWS_AS(paired_compare(a, std::vector<double>{0.1, 0.2}), std::invalid_argument);
}

TEST_CASE("time to target accuracy and speed-ups") {
  const std::vector<TimePoint> curve = {{0, 0.2}, {10, 0.5}, {20, 0.79}, {30, 0.81}, {40, 0.78}};
  REQUIRE(time_to_target(curve, 0.8).has_value());
  CHECK(*time_to_target(curve, 0.8) == 30);
  CHECK(*time_to_target(curve, 0.5) == 10);  // reached exactly counts
  CHECK_FALSE(time_to_target(curve, 0.9).has_value());
  CHECK_FALSE(time_to_target(std::vector<TimePoint>{}, 0.5).has_value());
  CHECK(*speedup(100.0, 20.0) == doctest::Approx(5.0));
  CHECK_FALSE(speedup(std::nullopt, 20.0).has_value());
  CHECK_FALSE(speedup(100.0, 0.0).has_value());
}
