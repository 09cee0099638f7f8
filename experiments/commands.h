#pragma once
// Each subcommand of `fewshot` registers itself on the App; main.cpp only calls these.
#include <CLI/CLI.hpp>

namespace fewshot {

// `fewshot demo`: trains a small conv net on synthetic data, then gradient-checks it (cmd_demo.cpp).
void register_demo_command(CLI::App& app);
// `fewshot data info NAME`, `fewshot data fetch NAME...` (experiments/cmd_data.cpp).
void register_data_command(CLI::App& app);
// `fewshot report DIR`: rebuild the charts, report.md and report.html from DIR/results.json.
void register_report_command(CLI::App& app);
// `fewshot compare`: the comparison itself (cmd_compare.cpp); argv is recorded for reproduction.
void register_compare_command(CLI::App& app, int argc, char** argv);

}  // namespace fewshot
