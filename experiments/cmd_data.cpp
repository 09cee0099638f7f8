#include "experiments/commands.h"
namespace fewshot {
void register_data_command(CLI::App& app) { app.add_subcommand("data", "datasets"); }
}  // namespace fewshot
