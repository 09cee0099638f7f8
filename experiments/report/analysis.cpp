#include "experiments/report/analysis.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

namespace fewshot::report {

namespace {

template <class T>
void add_unique(std::vector<T>& v, const T& x) {
  if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

// Best validation accuracy a method showed (for "not reached" lines): the curve's max, or the test
// accuracy when it has no curve.
double best_seen(const MethodResult& m) {
  double best = -1;
  for (const Run* r : m.runs)
    for (const auto& p : r->train.curve) best = std::max(best, p.val_accuracy);
  return best >= 0 ? best : m.accuracy;
}

// Number of adaptation steps after which accuracy stays within `tol` of the final one. Without an
// accuracy-by-step list, the steps the method used.
std::int64_t steps_to_plateau(const MethodResult& m, double tol) {
  const auto& a = m.accuracy_by_step;
  if (a.empty()) return m.adapt_steps;
  const double final_acc = a.back();
  for (std::size_t s = 0; s < a.size(); ++s) {
    bool stays = true;
    for (std::size_t k = s; k < a.size(); ++k) stays = stays && a[k] >= final_acc - tol;
    if (stays) return m.accuracy_steps[s];
  }
  return m.accuracy_steps.back();
}

// "plateau at step 3", or a note that the steps count is all we know.
std::string plateau_text(const MethodResult& m, std::int64_t steps) {
  if (m.accuracy_by_step.empty()) return "no per-step accuracy recorded; counted as its " + std::to_string(steps) + " steps";
  return "plateau at step " + std::to_string(steps);
}

std::string describe_time_to_target(const MethodResult& m, double target) {
  if (m.time_to_target) {
    if (m.target_from_adaptation)
      return fmt::format("{} reached {} in {} per task (no training phase; trained on each task's support set)",
                         m.method, format_percent(target), format_seconds(*m.time_to_target));
    return fmt::format("{} reached {} after {} of training", m.method, format_percent(target),
                       format_seconds(*m.time_to_target));
  }
  if (!m.has_curve && m.runs.front()->train.iterations > 0)
    return fmt::format("{}: no validation curve recorded", m.method);
  return fmt::format("{} did not reach {} (best {}, training budget {})", m.method, format_percent(target),
                     format_percent(best_seen(m)), format_seconds(m.train_seconds));
}

bool has_time_data(const MethodResult& m) { return m.has_curve || m.runs.front()->train.iterations == 0; }

Verdict combine(const std::vector<Verdict>& vs) {
  bool any_supported = false;
  for (Verdict v : vs) {
    if (v == Verdict::not_supported) return Verdict::not_supported;
    any_supported = any_supported || v == Verdict::supported;
  }
  return any_supported ? Verdict::supported : Verdict::not_testable;
}

std::string join_shots(const std::vector<std::int64_t>& shots) {
  std::string s;
  for (auto x : shots) s += (s.empty() ? "" : ", ") + std::to_string(x);
  return s;
}

// The claim's verdict over every dataset or setting it was checked at, and its one-line summary.
void conclude(ClaimCheck& c, const std::vector<Verdict>& vs, const std::string& unit) {
  c.verdict = combine(vs);
  c.summary = c.verdict == Verdict::supported       ? "Supported at every " + unit + " tested."
              : c.verdict == Verdict::not_supported ? "Not supported at one or more " + unit + "s (below)."
                                                    : "No " + unit + " gave a testable comparison (below).";
}

ClaimCheck check_speed(const Analysis& a, const ReportOptions& o) {
  ClaimCheck c;
  c.title = fmt::format("Meta-learning reaches the target accuracy ({}) in much less time (at least {}× less) "
                        "than conventional training at 5 shots.",
                        format_percent(a.target), o.much_faster);
  if (std::find(a.shots.begin(), a.shots.end(), 5) == a.shots.end()) {
    c.summary = "This run has no 5-shot setting (shots: " + join_shots(a.shots) + ").";
    return c;
  }
  std::vector<Verdict> vs;
  for (const auto& d : a.datasets) {
    const MethodResult *meta = nullptr, *conv = nullptr;
    std::vector<const MethodResult*> metas, convs;
    for (const auto& m : a.results) {
      if (m.dataset != d || m.shots != 5) continue;
      (m.family == "meta" ? metas : convs).push_back(&m);
    }
    if (metas.empty() || convs.empty()) {
      c.evidence.push_back(fmt::format("{}, 5-shot: needs at least one meta-learner and one conventional method", d));
      vs.push_back(Verdict::not_testable);
      continue;
    }
    // The fastest of each family to reach the target (or, if none did, the first with data).
    auto fastest = [](const std::vector<const MethodResult*>& ms) {
      const MethodResult* best = nullptr;
      for (const auto* m : ms)
        if (m->time_to_target && (!best || !best->time_to_target || *m->time_to_target < *best->time_to_target)) best = m;
      if (!best)
        for (const auto* m : ms)
          if (has_time_data(*m) && (!best || best_seen(*m) > best_seen(*best))) best = m;
      return best ? best : ms.front();
    };
    meta = fastest(metas);
    conv = fastest(convs);
    const std::string both = describe_time_to_target(*meta, a.target) + "; " + describe_time_to_target(*conv, a.target);
    Verdict v;
    std::string why;
    if (!has_time_data(*meta) || !has_time_data(*conv)) {
      v = Verdict::not_testable;
      why = "no validation curve to read a time from";
    } else if (!meta->time_to_target) {
      v = Verdict::not_supported;
      why = "no meta-learner reached the target";
    } else if (!conv->time_to_target) {
      v = Verdict::supported;
      why = "the conventional methods did not reach the target within their budget";
    } else {
      const double ratio = *conv->time_to_target / std::max(*meta->time_to_target, 1e-12);
      v = ratio >= o.much_faster ? Verdict::supported : Verdict::not_supported;
      why = fmt::format("meta-learning was {} as fast", format_ratio(ratio));
    }
    c.evidence.push_back(fmt::format("{}, 5-shot: {} → {} ({})", d, both, to_string(v), why));
    vs.push_back(v);
  }
  conclude(c, vs, "dataset");
  return c;
}

ClaimCheck check_one_shot(const Analysis& a, const ReportOptions& o) {
  ClaimCheck c;
  c.title = fmt::format("Conventional training collapses at 1 shot (near chance: below chance + {:.0f} pp) while "
                        "meta-learning stays well above chance (at least chance + {:.0f} pp).",
                        100 * o.collapse_margin, 100 * o.well_above_margin);
  if (std::find(a.shots.begin(), a.shots.end(), 1) == a.shots.end()) {
    c.summary = "This run has no 1-shot setting (shots: " + join_shots(a.shots) + ").";
    return c;
  }
  std::vector<Verdict> vs;
  for (const auto& d : a.datasets) {
    const MethodResult *meta = nullptr, *conv = nullptr;
    std::vector<const MethodResult*> convs;
    for (const auto& m : a.results) {
      if (m.dataset != d || m.shots != 1) continue;
      if (m.family == "conventional") convs.push_back(&m);
      const MethodResult*& best = m.family == "meta" ? meta : conv;
      if (!best || m.accuracy > best->accuracy) best = &m;
    }
    if (!meta || !conv) {
      c.evidence.push_back(fmt::format("{}, 1-shot: needs at least one meta-learner and one conventional method", d));
      vs.push_back(Verdict::not_testable);
      continue;
    }
    const double chance = 1.0 / static_cast<double>(meta->ways);
    // Every conventional method must collapse, so the best one decides.
    const bool collapsed = conv->accuracy < chance + o.collapse_margin;
    const bool well_above = meta->accuracy >= chance + o.well_above_margin;
    const Verdict v = collapsed && well_above ? Verdict::supported : Verdict::not_supported;
    std::string conv_text;
    for (const auto* cm : convs)
      conv_text += fmt::format("{}{} {} ({})", conv_text.empty() ? "" : ", ", cm->method,
                               format_accuracy_ci(cm->accuracy, cm->ci95),
                               cm->accuracy < chance + o.collapse_margin ? "near chance" : "not near chance");
    c.evidence.push_back(fmt::format("{}, {}-way 1-shot (chance {}): conventional: {}; best meta-learner {} {} ({}) → {}", d,
                                     meta->ways, format_percent(chance), conv_text, meta->method,
                                     format_accuracy_ci(meta->accuracy, meta->ci95),
                                     well_above ? "well above chance" : "not well above chance", to_string(v)));
    vs.push_back(v);
  }
  conclude(c, vs, "dataset");
  return c;
}

ClaimCheck check_adaptation(const Analysis& a, const ReportOptions& o) {
  ClaimCheck c;
  c.title = fmt::format("Meta-learning adapts to new classes in a few steps (at most {}) while conventional "
                        "training needs full retraining (more steps, or at least {}× the adaptation time).",
                        o.few_steps, o.much_faster);
  std::vector<Verdict> vs;
  for (const auto& d : a.datasets)
    for (auto shots : a.shots) {
      const MethodResult* meta = nullptr;
      std::vector<const MethodResult*> convs;
      for (const auto& m : a.results) {
        if (m.dataset != d || m.shots != shots) continue;
        if (m.family == "meta") {
          if (!meta || m.accuracy > meta->accuracy) meta = &m;
        } else {
          convs.push_back(&m);
        }
      }
      if (!meta && convs.empty()) continue;
      if (!meta || convs.empty()) {
        c.evidence.push_back(fmt::format("{}, {}-shot: needs at least one meta-learner and one conventional method", d, shots));
        vs.push_back(Verdict::not_testable);
        continue;
      }
      const auto meta_steps = steps_to_plateau(*meta, o.plateau_tolerance);
      const bool meta_few = meta_steps <= o.few_steps;
      bool meta_as_accurate = true, conv_all_need_more = true;
      std::string conv_text;
      for (const auto* cm : convs) {
        const auto steps = steps_to_plateau(*cm, o.plateau_tolerance);
        const bool more_steps = steps > o.few_steps;
        const bool slower = cm->adapt_seconds >= o.much_faster * meta->adapt_seconds && cm->adapt_seconds > 0;
        const bool retrains = cm->runs.front()->train.iterations == 0;  // trained from scratch on each task
        conv_all_need_more = conv_all_need_more && (more_steps || slower);
        meta_as_accurate = meta_as_accurate && meta->accuracy >= cm->accuracy;
        conv_text += fmt::format("; {}{}: {} after {} steps ({} per task, {})", cm->method,
                                 retrains ? " (trained from scratch per task)" : "",
                                 format_accuracy_ci(cm->accuracy, cm->ci95), cm->adapt_steps,
                                 format_milliseconds(cm->adapt_seconds), plateau_text(*cm, steps));
      }
      const Verdict v = meta_few && meta_as_accurate && conv_all_need_more ? Verdict::supported : Verdict::not_supported;
      std::string why;
      if (!meta_few) why = fmt::format("{} needs {} steps to plateau", meta->method, meta_steps);
      else if (!meta_as_accurate) why = "a conventional method is more accurate";
      else if (!conv_all_need_more) why = "a conventional method adapts as quickly";
      else why = "all three conditions hold";
      c.evidence.push_back(fmt::format("{}, {}-shot: {}: {} after {} steps ({} per task, {}){} → {} ({})",
                                       d, shots, meta->method, format_accuracy_ci(meta->accuracy, meta->ci95),
                                       meta->adapt_steps, format_milliseconds(meta->adapt_seconds),
                                       plateau_text(*meta, meta_steps),
                                       conv_text, to_string(v), why));
      vs.push_back(v);
    }
  conclude(c, vs, "setting");
  return c;
}

}  // namespace

std::string to_string(Verdict v) {
  switch (v) {
    case Verdict::supported: return "supported";
    case Verdict::not_supported: return "not supported";
    case Verdict::not_testable: return "not testable in this run";
  }
  return "?";
}

const MethodResult* Analysis::find(const std::string& dataset, std::int64_t s, const std::string& method) const {
  for (const auto& m : results)
    if (m.dataset == dataset && m.shots == s && m.method == method) return &m;
  return nullptr;
}

Analysis analyze(const Results& r, const ReportOptions& o) {
  Analysis a;
  a.target = o.target_accuracy.value_or(r.config.target_accuracy);
  a.datasets = r.config.datasets;
  a.methods = r.config.methods;
  std::set<std::int64_t> shots(r.config.shots.begin(), r.config.shots.end());
  for (const Run& run : r.runs) {
    add_unique(a.datasets, run.dataset);
    add_unique(a.methods, run.method);
    shots.insert(run.shots);
  }
  a.shots.assign(shots.begin(), shots.end());

  for (const auto& d : a.datasets)
    for (auto s : a.shots)
      for (const auto& method : a.methods) {
        MethodResult m;
        m.dataset = d, m.method = method, m.shots = s;
        for (const Run& run : r.runs)
          if (run.dataset == d && run.shots == s && run.method == method && run.status == "finished" && run.test)
            m.runs.push_back(&run);
        if (m.runs.empty()) continue;
        std::sort(m.runs.begin(), m.runs.end(), [](const Run* x, const Run* y) { return x->seed < y->seed; });
        const Run& first = *m.runs.front();
        m.family = first.family.empty() ? default_family(method) : first.family;  // runs built in code may leave it empty
        m.ways = first.ways;
        m.adapt_steps = first.test->adapt_steps;
        std::vector<double> means;
        bool all_reached = true;
        std::vector<double> ttt;
        std::size_t with_steps = 0;
        for (const Run* run : m.runs) {
          means.push_back(run->test->mean);
          m.train_seconds += run->train.wall_seconds;
          m.compute_seconds += run->train.compute_seconds;
          m.adapt_seconds += run->test->adapt_seconds_mean;
          const auto& steps = run->test->accuracy_by_step;
          if (!steps.empty() && (m.accuracy_by_step.empty() || steps.size() == m.accuracy_by_step.size())) {
            if (m.accuracy_by_step.empty()) m.accuracy_by_step.assign(steps.size(), 0.0);
            for (std::size_t k = 0; k < steps.size(); ++k) m.accuracy_by_step[k] += steps[k];
            ++with_steps;
          }
          std::optional<double> t;
          if (!run->train.curve.empty()) {
            m.has_curve = true;
            std::vector<TimePoint> pts;
            for (const auto& p : run->train.curve) pts.push_back({p.seconds, p.val_accuracy});
            t = time_to_target(pts, a.target);
          } else if (run->train.iterations == 0 && run->test->mean >= a.target) {
            t = run->test->adapt_seconds_mean;
            m.target_from_adaptation = true;
          }
          if (t) ttt.push_back(*t);
          else all_reached = false;
        }
        const double n = static_cast<double>(m.runs.size());
        m.train_seconds /= n, m.compute_seconds /= n, m.adapt_seconds /= n;
        for (double& x : m.accuracy_by_step) x /= static_cast<double>(with_steps);
        // Step numbers of the per-step accuracies: the runs' own, else 0, 1, 2, ...
        m.accuracy_steps = first.test->accuracy_steps;
        if (m.accuracy_steps.size() != m.accuracy_by_step.size()) {
          m.accuracy_steps.resize(m.accuracy_by_step.size());
          for (std::size_t k = 0; k < m.accuracy_steps.size(); ++k) m.accuracy_steps[k] = static_cast<std::int64_t>(k);
        }
        if (all_reached && !ttt.empty()) m.time_to_target = mean(ttt);
        if (m.runs.size() == 1) {
          m.accuracy = first.test->mean;
          m.ci95 = first.test->ci95;
        } else {
          m.accuracy = mean(means);
          m.ci95 = ci95_t(means);
          m.ci_over_seeds = true;
        }
        a.results.push_back(std::move(m));
      }

  // Conventional baseline for the speed-up columns.
  // Default: the first conventional method that has a training phase (so training-time ratios exist),
  // else the first conventional method.
  if (!r.config.reference_method.empty()) a.reference_method = r.config.reference_method;
  for (int pass = 0; pass < 2 && a.reference_method.empty(); ++pass)
    for (const auto& method : a.methods)
      for (const auto& m : a.results)
        if (a.reference_method.empty() && m.method == method && m.family == "conventional" &&
            (pass == 1 || m.train_seconds > 0))
          a.reference_method = method;

  // Paired comparisons: every meta-learner against every conventional method at each setting.
  for (const auto& d : a.datasets)
    for (auto s : a.shots)
      for (const auto& mm : a.methods)
        for (const auto& cm : a.methods) {
          const MethodResult* meta = a.find(d, s, mm);
          const MethodResult* conv = a.find(d, s, cm);
          if (!meta || !conv || meta->family != "meta" || conv->family != "conventional") continue;
          Comparison c;
          c.dataset = d, c.shots = s, c.meta = mm, c.conventional = cm;
          std::vector<double> x, y;
          for (const Run* mr : meta->runs)
            for (const Run* cr : conv->runs) {
              if (mr->seed != cr->seed) continue;
              const auto& ma = mr->test->accuracies;
              const auto& ca = cr->test->accuracies;
              if (ma.size() != ca.size()) {
                c.why_not = fmt::format("seed {}: {} and {} test episodes, not the same episodes", mr->seed, ma.size(), ca.size());
                break;
              }
              x.insert(x.end(), ma.begin(), ma.end());
              y.insert(y.end(), ca.begin(), ca.end());
            }
          if (c.why_not.empty() && x.size() < 2) c.why_not = "fewer than 2 paired test episodes (no common seed?)";
          if (c.why_not.empty()) {
            c.paired = paired_compare(x, y);
            c.possible = true;
          }
          a.comparisons.push_back(std::move(c));
        }

  for (const Run& run : r.runs) {
    if (run.schedule != r.config.schedule)
      a.data_notes.push_back(fmt::format("Run `{}` was timed with schedule \"{}\", the others with \"{}\"; its times are "
                                         "not directly comparable.", run.id, run.schedule, r.config.schedule));
    if (!run.test || run.test->accuracies.empty()) continue;
    const Summary s = summarize(run.test->accuracies);
    if (std::fabs(s.mean - run.test->mean) > 1e-6 || std::fabs(s.ci95 - run.test->ci95) > 1e-6)
      a.data_notes.push_back(fmt::format(
          "Run `{}`: results.json gives {}, but its {} per-episode accuracies give {}; the tables show results.json's "
          "values, the paired comparisons use the per-episode accuracies.",
          run.id, format_accuracy_ci(run.test->mean, run.test->ci95), s.n, format_accuracy_ci(s.mean, s.ci95)));
  }

  a.claims = {check_speed(a, o), check_one_shot(a, o), check_adaptation(a, o)};
  return a;
}

std::string format_percent(double fraction) { return fmt::format("{:.1f}%", 100 * fraction); }

std::string format_accuracy_ci(double mean_, double ci95) {
  return fmt::format("{:.1f}% ± {:.1f}%", 100 * mean_, 100 * ci95);
}

std::string format_seconds(double s) {
  if (s == 0) return "0 s";
  if (s >= 1) return fmt::format("{:.1f} s", s);
  return fmt::format("{:.3f} s", s);
}

std::string format_milliseconds(double s) {
  const double ms = 1000 * s;
  if (ms >= 100) return fmt::format("{:.0f} ms", ms);
  if (ms >= 10) return fmt::format("{:.1f} ms", ms);
  return fmt::format("{:.2f} ms", ms);
}

std::string format_ratio(double r) { return r >= 10 ? fmt::format("{:.0f}×", r) : fmt::format("{:.1f}×", r); }

std::string format_p_value(double p) {
  if (p < 0.001) return "< 0.001";
  return fmt::format("{:.3f}", p);
}

std::string format_difference_pp(double diff, double ci95) {
  return fmt::format("{:+.1f} pp [{:+.1f}, {:+.1f}]", 100 * diff, 100 * (diff - ci95), 100 * (diff + ci95));
}

}  // namespace fewshot::report
