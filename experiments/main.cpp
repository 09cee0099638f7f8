// The `fewshot` program: one subcommand per job (each registers itself, see commands.h).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "experiments/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"fewshot: meta-learning vs conventional training on few-shot image classification", "fewshot"};
  app.require_subcommand(1);
  fewshot::register_report_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
