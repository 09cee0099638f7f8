// `fewshot compare` (see experiments/compare.h) and `fewshot report DIR`.
#include <memory>

#include "experiments/commands.h"
#include "experiments/compare.h"

namespace fewshot {

void register_compare_command(CLI::App& app, int argc, char** argv) {
  auto* cmd = app.add_subcommand(
      "compare",
      "Train meta-learning and conventional methods side by side on the same few-shot tasks; write results.json, "
      "charts and an analysis report. With no options: MNIST, 5-way, 1 and 5 shots, MAML against a CNN trained from "
      "scratch on each task (about 10 minutes on a 2-core CPU).");
  auto cli = std::make_shared<CompareCli>();
  cli->add_options(cmd);
  std::string command = "fewshot";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  cmd->callback([cli, command] {
    int rc = run_compare(cli->resolve(), command);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace fewshot
