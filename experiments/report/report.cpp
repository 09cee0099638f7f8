#include "experiments/report/report.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "experiments/report/document.h"

namespace fewshot::report {

namespace fs = std::filesystem;

namespace {

std::string join(const std::vector<std::string>& xs, const std::string& sep = ", ") {
  std::string s;
  for (const auto& x : xs) s += (s.empty() ? "" : sep) + x;
  return s;
}
template <class T>
std::string join_numbers(const std::vector<T>& xs) {
  std::vector<std::string> s;
  for (const auto& x : xs) s.push_back(fmt::format("{}", x));
  return join(s);
}

std::string optional_ratio(std::optional<double> r) { return r ? format_ratio(*r) : "—"; }

std::string family_name(const std::string& family) { return family == "meta" ? "meta-learning" : "conventional"; }

std::vector<std::string> methods_of(const Analysis& a, const std::string& family) {
  std::vector<std::string> out;
  for (const auto& method : a.methods)
    for (const auto& m : a.results)
      if (m.method == method && m.family == family) {
        out.push_back(method);
        break;
      }
  return out;
}

// Charts of one stem, or "" when it was not drawn.
std::string png_of(const std::vector<std::string>& charts, const std::string& stem) {
  for (const auto& f : charts)
    if (fs::path(f).filename() == stem + ".png") return f;
  return "";
}

void question_and_setup(Document& doc, const Results& r, const Analysis& a) {
  const Config& c = r.config;
  const auto metas = methods_of(a, "meta"), convs = methods_of(a, "conventional");
  doc.heading(2, "The question");
  doc.paragraph(
      "When a new task brings only a handful of labelled examples per class, does **meta-learning** (training on "
      "many small practice tasks so that the model learns how to learn, e.g. MAML) beat **conventional training** "
      "of a convolutional network (trained from scratch on the few examples, or pre-trained on the training classes "
      "and fine-tuned)? Every method is tested on classes it never saw during training, on the very same test "
      "episodes, and we measure accuracy, how long training took, how long adapting to a new task took, and how "
      "quickly each method reached the target accuracy of " + format_percent(a.target) + ".");
  doc.heading(2, "Setup");
  std::vector<std::string> items;
  std::string datasets;
  for (const auto& d : a.datasets) {
    std::string s = d;
    if (auto it = r.splits.find(d); it != r.splits.end())
      s += fmt::format(" ({} training classes, {} held-out test classes)", it->second.train_classes.size(),
                       it->second.test_classes.size());
    datasets += (datasets.empty() ? "" : "; ") + s;
  }
  items.push_back("Datasets: " + datasets + ".");
  items.push_back(fmt::format("Each task: {} classes (ways); shots per class: {}; {} query images per class to score it.",
                              c.ways, join_numbers(a.shots), c.queries));
  items.push_back("Meta-learning methods: " + (metas.empty() ? std::string("none") : join(metas)) +
                  ". Conventional methods: " + (convs.empty() ? std::string("none") : join(convs)) + ".");
  items.push_back(fmt::format("Seeds: {} ({} run{} of every setting).", join_numbers(c.seeds), c.seeds.size(),
                              c.seeds.size() == 1 ? "" : "s"));
  std::string budget = fmt::format("Budgets: {} meta-training iterations; {} test episodes per setting", c.meta_iterations,
                                   c.test_episodes);
  if (c.time_limit_seconds > 0) budget += "; wall-clock limit " + format_seconds(c.time_limit_seconds) + " per method";
  items.push_back(budget + ".");
  items.push_back(fmt::format("Device: {}; {} thread{}.", c.device, c.threads, c.threads == 1 ? "" : "s"));
  items.push_back(c.schedule == "parallel"
                      ? "Schedule: parallel. The methods of one setting trained at the same time, sharing the device, so "
                        "wall-clock times include waiting for each other; each method's own compute time is listed beside it."
                      : "Schedule: sequential. The methods trained one at a time, so each wall-clock time is that method alone.");
  items.push_back("Batch normalisation: " + c.bn_mode +
                  (c.bn_mode == "transductive" ? " (statistics of each task's own batch, as in the original MAML code)." : "."));
  items.push_back("Target accuracy for time-to-target: " + format_percent(a.target) + " validation accuracy.");
  if (!a.reference_method.empty())
    items.push_back("Speed-ups are measured against the conventional baseline `" + a.reference_method +
                    "`: its time divided by the method's time (above 1× means faster than the baseline).");
  if (!c.extra.empty()) {
    std::vector<std::string> hp;
    for (auto it = c.extra.begin(); it != c.extra.end(); ++it) hp.push_back("`" + it.key() + " = " + it.value().dump() + "`");
    items.push_back("Other settings: " + join(hp) + ".");
  }
  doc.bullets(items);
}

// The findings in a few lines, for a reader who stops after the first screen.
void summary_section(Document& doc, const Analysis& a) {
  doc.heading(2, "At a glance");
  std::vector<std::string> items;
  for (const auto& d : a.datasets)
    for (auto s : a.shots) {
      const MethodResult *best = nullptr, *fastest = nullptr;
      for (const auto& m : a.results) {
        if (m.dataset != d || m.shots != s) continue;
        if (!best || m.accuracy > best->accuracy) best = &m;
        if (m.time_to_target && (!fastest || *m.time_to_target < *fastest->time_to_target)) fastest = &m;
      }
      if (!best) continue;
      std::string line = fmt::format("{}, {}-shot: most accurate **{}** ({}, {})", d, s, best->method,
                                     format_accuracy_ci(best->accuracy, best->ci95), family_name(best->family));
      if (fastest)
        line += fmt::format("; first to {}: **{}** ({}{})", format_percent(a.target), fastest->method,
                            format_seconds(*fastest->time_to_target), fastest->target_from_adaptation ? " per task" : "");
      else
        line += "; no method reached " + format_percent(a.target);
      items.push_back(line + ".");
    }
  const char* numerals[] = {"(i)", "(ii)", "(iii)"};
  for (std::size_t i = 0; i < a.claims.size() && i < 3; ++i)
    items.push_back(fmt::format("Claim {}: **{}** (see below).", numerals[i], to_string(a.claims[i].verdict)));
  doc.bullets(items);
}

void results_table(Document& doc, const Results& r, const Analysis& a) {
  doc.heading(2, "Results");
  doc.paragraph("Accuracy is the mean query accuracy over the test episodes with its 95% confidence interval (1.96 × "
                "standard deviation / √episodes; with several seeds, the mean of the seeds' means with a t-based "
                "interval over seeds). Training time is wall-clock meta-training or pre-training time; adaptation time "
                "is the mean time to adapt to one new task.");
  std::vector<std::vector<std::string>> rows = {{"Dataset", "Shots", "Method", "Family", "Accuracy (95% CI)",
                                                 "Training time", "Compute time", "Adaptation time per task",
                                                 "Adaptation steps", "Training speed-up", "Adaptation speed-up"}};
  for (const auto& m : a.results) {
    const MethodResult* ref = a.reference_method.empty() ? nullptr : a.find(m.dataset, m.shots, a.reference_method);
    std::optional<double> train_speedup, adapt_speedup;
    if (ref && m.train_seconds > 0) train_speedup = speedup(ref->train_seconds > 0 ? std::optional(ref->train_seconds) : std::nullopt, m.train_seconds);
    if (ref) adapt_speedup = speedup(ref->adapt_seconds, m.adapt_seconds);
    rows.push_back({m.dataset, std::to_string(m.shots), m.method, family_name(m.family), format_accuracy_ci(m.accuracy, m.ci95),
                    m.runs.front()->train.iterations == 0 && m.train_seconds == 0 ? "none (trains per task)" : format_seconds(m.train_seconds),
                    format_seconds(m.compute_seconds), format_milliseconds(m.adapt_seconds), std::to_string(m.adapt_steps),
                    m.method == a.reference_method ? "1.0× (baseline)" : optional_ratio(train_speedup),
                    m.method == a.reference_method ? "1.0× (baseline)" : optional_ratio(adapt_speedup)});
  }
  doc.table(rows);
  doc.paragraph("A dash means the ratio is undefined (a method with no training phase, or no baseline at that setting).");

  // Every run as recorded, so each number in results.json is visible.
  bool several = false;
  for (const auto& m : a.results) several = several || m.runs.size() > 1;
  std::vector<std::vector<std::string>> per_run = {{"Run", "Seed", "Status", "Accuracy (95% CI)", "Test episodes",
                                                    "Training iterations", "Training time", "Compute time", "Adaptation time per task"}};
  for (const Run& run : r.runs) {
    if (run.test)
      per_run.push_back({"`" + run.id + "`", std::to_string(run.seed), run.status, format_accuracy_ci(run.test->mean, run.test->ci95),
                         std::to_string(run.test->episodes), std::to_string(run.train.iterations), format_seconds(run.train.wall_seconds),
                         format_seconds(run.train.compute_seconds), format_milliseconds(run.test->adapt_seconds_mean)});
    else
      per_run.push_back({"`" + run.id + "`", std::to_string(run.seed), run.status + " (not finished; not in the tables above)", "—",
                         "—", std::to_string(run.train.iterations), format_seconds(run.train.wall_seconds),
                         format_seconds(run.train.compute_seconds), "—"});
  }
  doc.heading(3, several ? "Every run (one per seed)" : "Every run");
  doc.table(per_run);
}

void charts_section(Document& doc, const Results& r, const Analysis& a, const std::vector<std::string>& charts) {
  doc.heading(2, "Charts");
  auto figure = [&](const std::string& stem, const std::string& caption) {
    const std::string png = png_of(charts, stem);
    if (!png.empty()) doc.figure(png, caption);
  };
  if (a.datasets.size() > 1) figure("grid_accuracy", "Test accuracy against shots for every dataset (mean ± 95% CI).");
  for (const auto& d : a.datasets)
    figure("accuracy_vs_shots_" + file_safe(d),
           d + ": test accuracy against shots per class, with 95% confidence intervals; the dotted line is chance.");
  figure("training_time", std::string("Training time per method (meta-training or pre-training), ") +
                              (r.config.schedule == "parallel" ? "methods trained concurrently." : "methods trained one at a time."));
  figure("adaptation_time", "Time to adapt to one new task, per method (mean over test episodes).");
  for (const auto& d : a.datasets)
    for (auto s : a.shots) {
      figure(fmt::format("time_to_accuracy_{}_{}shot", file_safe(d), s),
             fmt::format("{}, {}-shot: validation accuracy against training wall-clock time; the dashed line is the "
                         "target ({}).", d, s, format_percent(a.target)));
      figure(fmt::format("accuracy_vs_steps_{}_{}shot", file_safe(d), s),
             fmt::format("{}, {}-shot: query accuracy after each adaptation step on a new task.", d, s));
    }
}

void comparisons_section(Document& doc, const Analysis& a) {
  doc.heading(2, "Paired comparisons on identical test episodes");
  if (a.comparisons.empty()) {
    doc.paragraph("No comparison: this run needs at least one meta-learner and one conventional method at the same setting.");
    return;
  }
  doc.paragraph("Every method was scored on the same test episodes, so each meta-learner is compared with each "
                "conventional method episode by episode: the difference is meta-learner minus conventional accuracy in "
                "percentage points (pp), with its 95% confidence interval and the two-sided p-value of a paired t-test.");
  std::vector<std::vector<std::string>> rows = {{"Dataset", "Shots", "Meta-learner", "Conventional", "Paired episodes",
                                                 "Difference [95% CI]", "p-value", "Verdict at 5%"}};
  for (const auto& c : a.comparisons) {
    if (!c.possible) {
      rows.push_back({c.dataset, std::to_string(c.shots), c.meta, c.conventional, "—", "—", "—", "not compared: " + c.why_not});
      continue;
    }
    const auto& p = c.paired;
    const std::string verdict = p.p_value >= 0.05 ? "no significant difference"
                                : p.mean_diff > 0 ? c.meta + " better"
                                                  : c.conventional + " better";
    rows.push_back({c.dataset, std::to_string(c.shots), c.meta, c.conventional, std::to_string(p.n),
                    format_difference_pp(p.mean_diff, p.ci95), format_p_value(p.p_value), verdict});
  }
  doc.table(rows);
}

void time_to_target_section(Document& doc, const Analysis& a) {
  doc.heading(2, "Time to reach " + format_percent(a.target) + " validation accuracy");
  doc.paragraph("The first moment in training at which validation accuracy reached the target (the mean over seeds; "
                "\"not reached\" if any seed never did). A method with no training phase (it trains a network on each "
                "task's support set) counts its per-task training time, if its test accuracy reaches the target.");
  std::vector<std::vector<std::string>> rows = {{"Dataset", "Shots", "Method", "Time to target", "Speed-up vs " +
                                                 (a.reference_method.empty() ? std::string("baseline") : a.reference_method)}};
  for (const auto& m : a.results) {
    std::string t;
    if (m.time_to_target) t = format_seconds(*m.time_to_target) + (m.target_from_adaptation ? " (per task)" : "");
    else if (!m.has_curve && m.runs.front()->train.iterations > 0) t = "no validation curve recorded";
    else t = "not reached";
    const MethodResult* ref = a.reference_method.empty() ? nullptr : a.find(m.dataset, m.shots, a.reference_method);
    const std::string sp = m.method == a.reference_method ? "1.0× (baseline)"
                                                         : optional_ratio(ref ? speedup(ref->time_to_target, m.time_to_target) : std::nullopt);
    rows.push_back({m.dataset, std::to_string(m.shots), m.method, t, sp});
  }
  doc.table(rows);
}

void claims_section(Document& doc, const Analysis& a) {
  doc.heading(2, "Claims commonly made for meta-learning, checked against this run");
  doc.paragraph("Each claim is checked with the numbers above, comparing the best meta-learner with the best "
                "conventional method at each setting. A verdict holds for this run's datasets, budgets and hardware only.");
  const char* numerals[] = {"(i)", "(ii)", "(iii)"};
  for (std::size_t i = 0; i < a.claims.size(); ++i) {
    const ClaimCheck& c = a.claims[i];
    doc.heading(3, std::string(i < 3 ? numerals[i] : "") + " " + c.title);
    std::string verdict = "**Verdict: " + to_string(c.verdict) + ".** " + c.summary;
    doc.paragraph(verdict);
    if (!c.evidence.empty()) doc.bullets(c.evidence);
  }
}

void environment_section(Document& doc, const Results& r) {
  const Environment& e = r.environment;
  doc.heading(2, "Environment");
  doc.bullets({"CPU: " + e.cpu + fmt::format(" ({} cores)", e.cores), "GPU: " + (e.gpu ? *e.gpu : std::string("none")),
               fmt::format("Threads: {}", e.threads), "Build: " + e.build_type + ", " + e.compiler,
               "Git revision: `" + e.git_revision + "`", "Date: " + e.date});
}

Document make_document(const Results& r, const Analysis& a, const std::vector<std::string>& charts) {
  Document doc;
  doc.heading(1, "Meta-learning vs conventional training on few-shot image classification");
  question_and_setup(doc, r, a);
  summary_section(doc, a);
  results_table(doc, r, a);
  charts_section(doc, r, a, charts);
  comparisons_section(doc, a);
  time_to_target_section(doc, a);
  claims_section(doc, a);
  if (!a.data_notes.empty()) {
    doc.heading(2, "Data checks");
    doc.paragraph("These inconsistencies were found in results.json:");
    doc.bullets(a.data_notes);
  }
  environment_section(doc, r);
  doc.heading(2, "Reproduce");
  doc.paragraph("Run this command to repeat the comparison, then `fewshot report DIR` to rebuild the charts and this "
                "report from DIR/results.json alone:");
  doc.code(r.command);
  return doc;
}

}  // namespace

std::string render_markdown(const Results& r, const Analysis& a, const std::vector<std::string>& charts) {
  return make_document(r, a, charts).markdown();
}

std::string render_html(const Results& r, const Analysis& a, const std::vector<std::string>& charts) {
  return make_document(r, a, charts).html("Meta-learning vs conventional training: report");
}

ReportFiles build_report(const std::string& dir, const ReportOptions& options, const ChartOptions& chart_options) {
  const Results r = load_results_dir(dir);
  const Analysis a = analyze(r, options);
  ReportFiles files;
  files.charts = write_charts(r, a, (fs::path(dir) / "charts").string(), chart_options);
  const Document doc = make_document(r, a, files.charts);
  files.markdown = (fs::path(dir) / "report.md").string();
  files.html = (fs::path(dir) / "report.html").string();
  write_file_atomic(files.markdown, doc.markdown());
  write_file_atomic(files.html, doc.html("Meta-learning vs conventional training: report"));
  return files;
}

void build_report(const std::string& dir) { build_report(dir, ReportOptions{}, ChartOptions{}); }

}  // namespace fewshot::report
