#pragma once
// Turns the runs of results.json into what charts and the report show: one entry per
// (dataset, shots, method) with seeds combined, paired comparisons, times to target, and the checks of
// the claims commonly made for meta-learning. Every number here is computed from Results alone.
#include <optional>
#include <string>
#include <vector>

#include "experiments/report/results.h"
#include "experiments/report/stats.h"

namespace fewshot::report {

struct ReportOptions {
  std::optional<double> target_accuracy;  // default: config.target_accuracy (0.8 when absent)
  int few_steps = 10;                     // "a few adaptation steps" for claim (iii)
  double much_faster = 2.0;               // "much less time": at least this factor, claim (i)
  double collapse_margin = 0.10;          // "near chance": mean accuracy < chance + this, claim (ii)
  double well_above_margin = 0.20;        // "well above chance": mean accuracy >= chance + this
  double plateau_tolerance = 0.01;        // step counts as converged within this of the final accuracy
};

// One method at one setting, seeds combined.
struct MethodResult {
  std::string dataset, method, family;
  std::int64_t ways = 0, shots = 0;
  std::vector<const Run*> runs;        // finished runs, one per seed, in seed order
  double accuracy = 0;                 // one seed: test.mean; several: mean of the seeds' means
  double ci95 = 0;                     // one seed: test.ci95; several: t-based CI over the seeds' means
  bool ci_over_seeds = false;
  double train_seconds = 0;            // mean over seeds of train.wall_seconds
  double compute_seconds = 0;          // mean over seeds of train.compute_seconds
  double adapt_seconds = 0;            // mean over seeds of test.adapt_seconds_mean
  std::int64_t adapt_steps = 0;        // of the first seed
  std::vector<double> accuracy_by_step;  // mean over the seeds that have it (all the same length)
  std::vector<std::int64_t> accuracy_steps;  // step count of each entry (0, 1, 2, ... when the runs gave none)
  // Seconds of training until validation accuracy first reached the target, mean over seeds; nullopt
  // when any seed did not reach it. For a method with no training phase (train.iterations == 0) it is
  // the per-task adaptation time when its test accuracy reaches the target.
  std::optional<double> time_to_target;
  bool has_curve = false;
  bool target_from_adaptation = false;  // time_to_target came from the no-training-phase rule
};

struct Comparison {  // meta-learner vs conventional method, same dataset/shots, episodes paired per seed
  std::string dataset, meta, conventional;
  std::int64_t shots = 0;
  PairedComparison paired;  // meta - conventional
  bool possible = false;
  std::string why_not;      // when !possible
};

enum class Verdict { supported, not_supported, not_testable };
std::string to_string(Verdict v);  // "supported", "not supported", "not testable in this run"

struct ClaimCheck {
  std::string title;     // the claim in plain words
  Verdict verdict = Verdict::not_testable;
  std::string summary;   // one sentence: why this verdict (with the reason when not testable)
  std::vector<std::string> evidence;  // one line per setting, with the numbers
};

struct Analysis {
  double target = 0.8;
  std::string reference_method;  // conventional baseline for speed-ups ("" when there is none)
  std::vector<std::string> datasets;
  std::vector<std::int64_t> shots;     // sorted
  std::vector<std::string> methods;    // config order, then any others found in runs
  std::vector<MethodResult> results;   // dataset, shots, method order
  std::vector<Comparison> comparisons;
  std::vector<ClaimCheck> claims;      // (i), (ii), (iii)
  // Consistency problems in the data (a run's mean or ci95 that does not match its per-episode
  // accuracies, runs whose times were taken under another schedule): shown in the report, never hidden.
  std::vector<std::string> data_notes;
  const MethodResult* find(const std::string& dataset, std::int64_t shots, const std::string& method) const;
};

Analysis analyze(const Results& r, const ReportOptions& options = {});

// Formatting shared by the report and the tests, so both print a number the same way.
std::string format_percent(double fraction);                      // 0.7934 -> "79.3%"
std::string format_accuracy_ci(double mean, double ci95);         // "79.3% ± 1.2%"
std::string format_seconds(double seconds);                       // "250.1 s"
std::string format_milliseconds(double seconds);                  // 0.004 -> "4.00 ms"
std::string format_ratio(double ratio);                           // "12.3×"
std::string format_p_value(double p);                             // "0.073", "< 0.001"
std::string format_difference_pp(double diff, double ci95);       // "+3.2 pp [+1.1, +5.3]"

}  // namespace fewshot::report
