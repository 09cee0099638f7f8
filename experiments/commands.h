#pragma once
// Each `fewshot` subcommand registers itself on the CLI11 app; main.cpp just calls these.
namespace CLI {
class App;
}

void register_demo_command(CLI::App& app);
