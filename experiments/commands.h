#pragma once
// Each subcommand of the `fewshot` program registers itself on the CLI11 app.
#include <CLI/CLI.hpp>

namespace fewshot {

// `fewshot report DIR`: rebuild the charts, report.md and report.html from DIR/results.json.
void register_report_command(CLI::App& app);

}  // namespace fewshot
