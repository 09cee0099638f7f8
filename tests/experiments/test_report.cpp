// End to end through the report library: a synthetic results.json in a temp dir becomes charts (PNG and
// SVG), report.md and a self-contained report.html whose numbers are results.json's.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "experiments/report/analysis.h"
#include "experiments/report/charts.h"
#include "experiments/report/report.h"
#include "synthetic_results.h"

using namespace fewshot::report;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool keep_output() { return std::getenv("FEWSHOT_KEEP_TEST_OUTPUT") != nullptr; }

}  // namespace

TEST_CASE("build_report writes every chart, report.md and a self-contained report.html") {
  const auto dir = testing::temp_dir("report");
  const Results r = testing::synthetic_results(40);
  save_results(r, (dir / "results.json").string());

  const ReportFiles files = build_report(dir.string(), ReportOptions{}, ChartOptions{});

  // Every expected chart, as PNG (magic bytes) and SVG, non-empty.
  std::set<std::string> expected = {"training_time", "adaptation_time", "grid_accuracy"};
  for (const std::string d : {"mnist", "omniglot"}) {
    expected.insert("accuracy_vs_shots_" + d);
    for (int s : {1, 5}) {
      expected.insert("time_to_accuracy_" + d + "_" + std::to_string(s) + "shot");
      expected.insert("accuracy_vs_steps_" + d + "_" + std::to_string(s) + "shot");
    }
  }
  CHECK(files.charts.size() == 2 * expected.size());
  for (const auto& stem : expected) {
    CAPTURE(stem);
    const fs::path png = dir / "charts" / (stem + ".png"), svg = dir / "charts" / (stem + ".svg");
    REQUIRE(fs::exists(png));
    REQUIRE(fs::exists(svg));
    const std::string p = slurp(png), s = slurp(svg);
    CHECK(p.size() > 1000);
    CHECK(p.rfind("\x89PNG\r\n\x1a\n", 0) == 0);
    CHECK(s.find("<svg") != std::string::npos);
    CHECK(s.find("</svg>") != std::string::npos);
  }
  for (const auto& f : files.charts) CHECK(fs::exists(f));

  // report.html: self-contained (no external references), charts embedded as data URIs.
  REQUIRE(fs::exists(dir / "report.md"));
  REQUIRE(fs::exists(dir / "report.html"));
  const std::string html = slurp(dir / "report.html"), md = slurp(dir / "report.md");
  CHECK(html.find("http://") == std::string::npos);
  CHECK(html.find("https://") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  // (std::regex would recurse once per character of a base64 image and overflow the stack: scan by hand.)
  int images = 0;
  for (std::size_t at = html.find("src="); at != std::string::npos; at = html.find("src=", at + 1), ++images)
    CHECK(html.compare(at, 27, "src=\"data:image/png;base64,") == 0);
  CHECK(images == static_cast<int>(expected.size()));

  // Every run's accuracy and CI from results.json appears, formatted as the report formats it, in both.
  for (const Run& run : r.runs) {
    const std::string acc = format_accuracy_ci(run.test->mean, run.test->ci95);
    CAPTURE(run.id);
    CAPTURE(acc);
    CHECK(md.find(acc) != std::string::npos);
    CHECK(html.find(acc) != std::string::npos);
    CHECK(md.find(format_seconds(run.train.wall_seconds)) != std::string::npos);
    CHECK(md.find(format_milliseconds(run.test->adapt_seconds_mean)) != std::string::npos);
  }
  // Accuracy formatting: percent with one decimal.
  CHECK(format_accuracy_ci(0.7934, 0.0121) == "79.3% ± 1.2%");

  // Paired comparisons recomputed from results.json's per-episode accuracies appear in the report.
  const Analysis a = analyze(r);
  CHECK(a.comparisons.size() == 2 * 2 * 2 * 2);  // datasets x shots x meta x conventional
  for (const auto& c : a.comparisons) {
    REQUIRE(c.possible);
    CHECK(md.find(format_difference_pp(c.paired.mean_diff, c.paired.ci95)) != std::string::npos);
  }

  // Sections and claim verdicts.
  for (const char* section : {"## The question", "## Setup", "## At a glance", "## Results", "## Paired comparisons on identical test episodes",
                              "## Time to reach 80.0% validation accuracy",
                              "## Claims commonly made for meta-learning, checked against this run", "## Environment",
                              "## Reproduce"})
    CHECK(md.find(section) != std::string::npos);
  CHECK(md.find(r.command) != std::string::npos);
  CHECK(md.find("abc1234") != std::string::npos);
  const std::regex verdict_re(R"(\*\*Verdict: (supported|not supported|not testable in this run)\.\*\*)");
  CHECK(std::distance(std::sregex_iterator(md.begin(), md.end(), verdict_re), std::sregex_iterator()) == 3);
  REQUIRE(a.claims.size() == 3);
  // The synthetic data: scratch (no training phase) never reaches 80% and sits near chance at 1 shot,
  // baseline reaches 80% after its 400 s of pre-training, maml much sooner. MAML plateaus within 5 steps.
  CHECK(a.claims[0].verdict == Verdict::supported);
  CHECK(a.claims[2].verdict == Verdict::supported);
  if (!keep_output()) fs::remove_all(dir);
}

TEST_CASE("claims that this run cannot test say why") {
  Results r = testing::synthetic_results(10);
  // Keep only 1-shot runs: claim (i) needs a 5-shot setting.
  std::erase_if(r.runs, [](const Run& run) { return run.shots != 1; });
  r.config.shots = {1};
  const Analysis a = analyze(r);
  CHECK(a.claims[0].verdict == Verdict::not_testable);
  CHECK(a.claims[0].summary.find("no 5-shot setting") != std::string::npos);
  // Conventional scratch at 1 shot: ~25-28% against chance 20%: near chance; best conventional is
  // baseline at ~50%, not near chance, so claim (ii) is not supported by this run.
  CHECK(a.claims[1].verdict == Verdict::not_supported);
}

TEST_CASE("several seeds: accuracy is the mean of seed means with a t-based CI") {
  const Results r = testing::synthetic_results(10, {0, 1, 2});
  const Analysis a = analyze(r);
  const MethodResult* m = a.find("mnist", 5, "maml");
  REQUIRE(m != nullptr);
  REQUIRE(m->runs.size() == 3);
  std::vector<double> means;
  for (const Run* run : m->runs) means.push_back(run->test->mean);
  CHECK(m->accuracy == doctest::Approx(mean(means)));
  CHECK(m->ci95 == doctest::Approx(ci95_t(means)));
  // Paired comparisons pool the episodes of every common seed.
  for (const auto& c : a.comparisons) CHECK(c.paired.n == 30);
}

TEST_CASE("a missing gnuplot gives a clear error") {
  ChartOptions o;
  o.gnuplot = "gnuplot-that-does-not-exist";
  CHECK_THROWS_WITH_AS(require_gnuplot(o), doctest::Contains("charts need gnuplot"), ChartError);
}

TEST_CASE("a small run: one dataset with an odd name, no curves, no step data, an unfinished run") {
  const auto dir = testing::temp_dir("report_small");
  Results r = testing::synthetic_results(6);
  std::erase_if(r.runs, [](const Run& run) {
    return run.dataset != "mnist" || run.shots != 1 || (run.method != "maml" && run.method != "scratch");
  });
  r.config.datasets = {"my folder's images"};
  r.config.shots = {1};
  r.config.methods = {"maml", "scratch"};
  for (Run& run : r.runs) {
    run.dataset = "my folder's images";
    run.id = "folder-" + run.method;
    run.train.curve.clear();
    run.test->accuracy_by_step.clear();
  }
  Run unfinished = r.runs.front();
  unfinished.id = "folder-maml-seed1";
  unfinished.seed = 1;
  unfinished.status = "running";
  unfinished.test.reset();
  r.runs.push_back(unfinished);
  save_results(r, (dir / "results.json").string());

  const ReportFiles files = build_report(dir.string(), ReportOptions{}, ChartOptions{});
  std::set<std::string> names;
  for (const auto& f : files.charts) names.insert(fs::path(f).filename().string());
  CHECK(names.count("accuracy_vs_shots_my_folder_s_images.png") == 1);
  CHECK(names.count("training_time.svg") == 1);
  CHECK(names.count("adaptation_time.png") == 1);
  CHECK(names.count("grid_accuracy.png") == 0);                            // one dataset: no grid
  CHECK(names.count("accuracy_vs_steps_my_folder_s_images_1shot.png") == 0);  // no step data: no chart
  const std::string md = slurp(dir / "report.md");
  CHECK(md.find("running (not finished; not in the tables above)") != std::string::npos);
  const Analysis a = analyze(load_results_dir(dir.string()));
  CHECK(a.claims[0].verdict == Verdict::not_testable);  // no 5-shot setting
  CHECK(md.find("**Verdict: not testable in this run.** This run has no 5-shot setting (shots: 1).") != std::string::npos);
  if (!keep_output()) fs::remove_all(dir);
}

TEST_CASE("analysis classifies runs with an empty family by method name") {
  Results r = testing::synthetic_results(4);
  for (Run& run : r.runs) run.family.clear();
  const Analysis a = analyze(r);
  CHECK(a.find("mnist", 5, "maml")->family == "meta");
  CHECK(a.find("mnist", 5, "scratch")->family == "conventional");
  CHECK(a.reference_method == "baseline");  // first conventional method with a training phase
}

TEST_CASE("data checks flag a mean that does not match the per-episode accuracies") {
  Results r = testing::synthetic_results(10);
  CHECK(analyze(r).data_notes.empty());
  r.runs[0].test->mean += 0.05;
  r.runs[1].schedule = "sequential";
  const Analysis a = analyze(r);
  REQUIRE(a.data_notes.size() == 2);
  CHECK(a.data_notes[0].find(r.runs[0].id) != std::string::npos);
  CHECK(a.data_notes[1].find("schedule") != std::string::npos);
}
