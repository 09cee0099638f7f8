// End-to-end: a tiny `fewshot compare` on real MNIST from the mirror writes results.json, every
// chart (PNG and SVG), report.md and report.html, and the report's numbers are results.json's.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include "tests/experiments/compare_harness.h"

using namespace fewshot::testing;

namespace {

bool is_png(const fs::path& p) {
  std::string s = read_text(p);
  return s.size() > 8 && s.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0;
}

bool is_svg(const fs::path& p) {
  std::string s = read_text(p);
  return s.size() > 100 && s.find("<svg") != std::string::npos && s.find("</svg>") != std::string::npos;
}

}  // namespace

TEST_CASE("a tiny compare on real data writes results, charts and a report that agree") {
  fs::path out = scratch_dir("compare");
  CommandResult r = run_fewshot(tiny_compare_args(out), out / "log.txt");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);

  nlohmann::json results = read_json(out / "results.json");
  CHECK(results["schema"] == 1);
  CHECK(results["command"].get<std::string>().find("compare --dataset mnist") != std::string::npos);
  CHECK(results["environment"]["cpu"].get<std::string>().size() > 0);
  CHECK(results["splits"].contains("mnist"));
  auto& runs = results["runs"];
  REQUIRE(runs.size() == 8);  // 2 shot counts x 4 methods x 1 seed
  for (auto& run : runs) {
    CAPTURE(run["id"].get<std::string>());
    CHECK(run["status"] == "finished");
    CHECK(run["test"]["accuracies"].size() == 6);
    double mean = 0;
    for (double a : run["test"]["accuracies"]) mean += a / 6.0;
    CHECK(run["test"]["mean"].get<double>() == doctest::Approx(mean));
    CHECK(fs::exists(out / "curves" / (run["id"].get<std::string>() + ".csv")));
  }
  // The test episodes are identical across methods: saved once per setting.
  CHECK(fs::exists(out / "episodes" / "mnist-3w1s-test.json"));
  CHECK(fs::exists(out / "splits" / "mnist.json"));

  // Charts: PNG and SVG, valid headers, non-empty.
  for (std::string stem : {"accuracy_vs_shots_mnist", "training_time", "adaptation_time"}) {
    CAPTURE(stem);
    CHECK(is_png(out / "charts" / (stem + ".png")));
    CHECK(is_svg(out / "charts" / (stem + ".svg")));
  }
  int pngs = 0;
  for (auto& e : fs::directory_iterator(out / "charts"))
    if (e.path().extension() == ".png") {
      CHECK(is_png(e.path()));
      CHECK(is_svg(fs::path(e.path()).replace_extension(".svg")));
      ++pngs;
    }
  CHECK(pngs >= 7);  // accuracy vs shots, 2 times, 2 x time-to-accuracy, 2 x accuracy vs steps

  // The report quotes results.json's numbers.
  std::string md = read_text(out / "report.md"), html = read_text(out / "report.html");
  REQUIRE(!md.empty());
  REQUIRE(!html.empty());
  CHECK(html.find("http://") == std::string::npos);
  CHECK(html.find("https://") == std::string::npos);
  for (auto& run : runs) {
    std::string acc = fmt::format("{:.1f}% ± {:.1f}%", 100 * run["test"]["mean"].get<double>(),
                                  100 * run["test"]["ci95"].get<double>());
    CAPTURE(acc);
    CHECK(md.find(acc) != std::string::npos);
    CHECK(html.find(acc) != std::string::npos);
  }
  CHECK(md.find(results["command"].get<std::string>()) != std::string::npos);

  // `fewshot report DIR` rebuilds the same report from the data alone.
  fs::remove(out / "report.md");
  fs::remove(out / "charts" / "accuracy_vs_shots_mnist.png");
  CommandResult rr = run_fewshot("report '" + out.string() + "'", out / "report-log.txt");
  INFO(rr.output);
  CHECK(rr.exit_code == 0);
  CHECK(read_text(out / "report.md") == md);
  CHECK(is_png(out / "charts" / "accuracy_vs_shots_mnist.png"));
  fs::remove_all(out);
}
