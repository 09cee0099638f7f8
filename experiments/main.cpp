// The `fewshot` program: one CLI11 App, each subcommand registered by its own file.
#include <exception>
#include <iostream>

#include "experiments/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"fewshot: when does meta-learning beat conventional deep learning on scarce data?"};
  app.require_subcommand(1);
  fewshot::register_demo_command(app);
  fewshot::register_data_command(app);
  fewshot::register_compare_command(app, argc, argv);
  fewshot::register_report_command(app);
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
