// The `fewshot` program. Subcommands live in experiments/cmd_*.cpp.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "experiments/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"fewshot: when does meta-learning beat conventional deep learning on scarce data?"};
  app.require_subcommand(1);
  register_demo_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "fewshot: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
