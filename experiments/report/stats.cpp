#include "experiments/report/stats.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace fewshot::report {

double mean(std::span<const double> xs) {
  if (xs.empty()) return 0;
  double s = 0;
  for (double x : xs) s += x;
  return s / static_cast<double>(xs.size());
}

double sample_std(std::span<const double> xs) {
  if (xs.size() < 2) return 0;
  const double m = mean(xs);
  double ss = 0;
  for (double x : xs) ss += (x - m) * (x - m);
  return std::sqrt(ss / static_cast<double>(xs.size() - 1));
}

double ci95_normal(std::span<const double> xs) {
  if (xs.size() < 2) return 0;
  return 1.96 * sample_std(xs) / std::sqrt(static_cast<double>(xs.size()));
}

double ci95_t(std::span<const double> xs) {
  if (xs.size() < 2) return 0;
  const double df = static_cast<double>(xs.size() - 1);
  return student_t_quantile(0.975, df) * sample_std(xs) / std::sqrt(static_cast<double>(xs.size()));
}

namespace {

// Continued fraction for the incomplete beta function, evaluated with the modified Lentz method
// (Numerical Recipes, 2nd ed., betacf). Converges quickly for x < (a + 1) / (a + b + 2).
double beta_continued_fraction(double a, double b, double x) {
  constexpr int kMaxIterations = 10000;
  constexpr double kEps = 1e-15, kTiny = 1e-300;
  const double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1, d = 1 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= kMaxIterations; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));  // even step
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));  // odd step
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1) < kEps) return h;
  }
  return h;  // not converged to 1e-15; still accurate far beyond what a report prints
}

}  // namespace

double incomplete_beta(double a, double b, double x) {
  if (!(a > 0) || !(b > 0)) throw std::invalid_argument("incomplete_beta: a and b must be positive");
  if (!(x >= 0 && x <= 1)) throw std::invalid_argument("incomplete_beta: x must lie in [0, 1]");
  if (x == 0 || x == 1) return x;
  // Prefactor x^a (1-x)^b / (a B(a, b)), in logs to survive large a, b (df up to 1e6 and beyond).
  const double log_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) +
                           b * std::log1p(-x);
  const double front = std::exp(log_front);
  if (x < (a + 1) / (a + b + 2)) return front * beta_continued_fraction(a, b, x) / a;
  return 1 - front * beta_continued_fraction(b, a, 1 - x) / b;  // symmetry I_x(a,b) = 1 - I_{1-x}(b,a)
}

double student_t_two_sided_p(double t, double df) {
  if (!(df > 0)) throw std::invalid_argument("student_t: degrees of freedom must be positive");
  if (std::isinf(t)) return 0;
  if (std::isnan(t)) return std::numeric_limits<double>::quiet_NaN();
  // P(|T| >= |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2)
  return incomplete_beta(df / 2, 0.5, df / (df + t * t));
}

double student_t_cdf(double t, double df) {
  const double tail = 0.5 * student_t_two_sided_p(t, df);  // P(T >= |t|)
  return t >= 0 ? 1 - tail : tail;
}

double student_t_quantile(double p, double df) {
  if (!(p > 0 && p < 1)) throw std::invalid_argument("student_t_quantile: p must lie in (0, 1)");
  // The CDF is monotone; bracket the root and bisect. With df = 1 the 0.9999 quantile is ~3183.
  double lo = -1, hi = 1;
  while (student_t_cdf(lo, df) > p) lo *= 2;
  while (student_t_cdf(hi, df) < p) hi *= 2;
  for (int i = 0; i < 200 && hi - lo > 1e-12 * std::max(1.0, std::fabs(hi)); ++i) {
    const double mid = 0.5 * (lo + hi);
    (student_t_cdf(mid, df) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

Summary summarize(std::span<const double> xs) {
  Summary s;
  s.n = xs.size();
  s.mean = mean(xs);
  s.std = sample_std(xs);
  s.ci95 = ci95_normal(xs);
  s.ci95_t = ci95_t(xs);
  return s;
}

PairedComparison paired_compare(std::span<const double> a, std::span<const double> b) {
  if (a.size() != b.size())
    throw std::invalid_argument("paired_compare: the two methods have " + std::to_string(a.size()) +
                                " and " + std::to_string(b.size()) + " episodes; pairs need equal counts");
  if (a.size() < 2) throw std::invalid_argument("paired_compare: need at least 2 paired episodes");
  std::vector<double> d(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  PairedComparison r;
  r.n = d.size();
  r.mean_diff = mean(d);
  const double sd = sample_std(d);
  const double se = sd / std::sqrt(static_cast<double>(r.n));
  const double df = static_cast<double>(r.n - 1);
  r.ci95 = student_t_quantile(0.975, df) * se;
  if (se == 0) {
    // Every episode differs by the same amount: no spread to test against.
    r.t = r.mean_diff == 0 ? 0 : std::copysign(std::numeric_limits<double>::infinity(), r.mean_diff);
    r.p_value = r.mean_diff == 0 ? 1 : 0;
  } else {
    r.t = r.mean_diff / se;
    r.p_value = student_t_two_sided_p(r.t, df);
  }
  return r;
}

std::optional<double> time_to_target(std::span<const TimePoint> curve, double target) {
  for (const TimePoint& p : curve)
    if (p.accuracy >= target) return p.seconds;
  return std::nullopt;
}

std::optional<double> speedup(std::optional<double> slow, std::optional<double> fast) {
  if (!slow || !fast || !(*fast > 0)) return std::nullopt;
  return *slow / *fast;
}

}  // namespace fewshot::report
