// `fewshot report DIR`: rebuilds every chart and the report of a comparison from its data alone.
#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "experiments/commands.h"
#include "experiments/report/report.h"

namespace fewshot {

namespace {

struct ReportArgs {
  std::string dir;
  double target = -1;  // < 0: use results.json's config.target_accuracy
  std::string gnuplot = "gnuplot";
};

}  // namespace

void register_report_command(CLI::App& app) {
  auto args = std::make_shared<ReportArgs>();
  CLI::App* cmd = app.add_subcommand("report", "Rebuild charts, report.md and report.html from DIR/results.json");
  cmd->add_option("dir", args->dir, "Output directory of a `fewshot compare` run (holds results.json)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--target-accuracy", args->target,
                  "Target accuracy for time-to-target, as a fraction (default: the run's config, else 0.8)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--gnuplot", args->gnuplot, "gnuplot program used to draw the charts")->capture_default_str();
  cmd->callback([args] {
    report::ReportOptions options;
    if (args->target >= 0) options.target_accuracy = args->target;
    report::ChartOptions charts;
    charts.gnuplot = args->gnuplot;
    try {
      const report::ReportFiles files = report::build_report(args->dir, options, charts);
      fmt::print("wrote {} chart files (PNG and SVG) under {}/charts, {} and {}\n", files.charts.size(), args->dir,
                 files.markdown, files.html);
    } catch (const std::exception& e) {
      throw CLI::RuntimeError(fmt::format("fewshot report: {}", e.what()), 1);
    }
  });
}

}  // namespace fewshot
