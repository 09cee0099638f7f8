#pragma once
// `fewshot compare`: for every dataset, shot count and seed, the chosen methods train on the same
// meta-train classes (side by side, or one after another) and are scored on the same fixed test
// episodes; results.json, curves and checkpoints are written as runs finish, so an interrupted
// compare resumes where it stopped.
#include <string>

#include "experiments/compare_options.h"

namespace fewshot {

// Runs the comparison described by `opts`; `command` is the command line to record for
// reproduction. Returns the process exit code.
int run_compare(CompareOptions opts, const std::string& command);

// The training budget a method gets when --meta-iterations is 0 (sized so the default compare
// finishes in about 10 minutes on a 2-core CPU).
int64_t default_iterations(const std::string& method, const std::string& dataset);

}  // namespace fewshot
