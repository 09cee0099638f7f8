#pragma once
// Each subcommand of `fewshot` registers itself on the App; main.cpp only calls these.
#include <CLI/CLI.hpp>

namespace fewshot {

// `fewshot data info NAME`, `fewshot data fetch NAME...` (experiments/cmd_data.cpp).
void register_data_command(CLI::App& app);

}  // namespace fewshot
