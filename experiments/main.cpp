// The `fewshot` program: one CLI11 App, each subcommand registered by its own file.
#include "experiments/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"fewshot: meta-learning vs conventional training on few-shot classification"};
  app.require_subcommand(1);
  fewshot::register_data_command(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
