#pragma once
// Runs the real `fewshot` binary (path fixed at build time) on the real data cache prepared by the
// fetch_data fixture, and reads what it wrote.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace fewshot::testing {

namespace fs = std::filesystem;

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

inline fs::path scratch_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("fewshot-test-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

// Runs `BINARY ARGS` synchronously (BINARY: `fewshot`, or the CUDA emulator's build of it).
inline CommandResult run_program(const std::string& binary, const std::string& args, const fs::path& log) {
  std::string cmd = "'" + binary + "' " + args + " > '" + log.string() + "' 2>&1";
  int status = std::system(cmd.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream f(log);
  std::stringstream ss;
  ss << f.rdbuf();
  r.output = ss.str();
  return r;
}

#ifdef FEWSHOT_BINARY
// Runs `fewshot ARGS` synchronously.
inline CommandResult run_fewshot(const std::string& args, const fs::path& log) {
  return run_program(FEWSHOT_BINARY, args, log);
}
#endif

inline nlohmann::json read_json(const fs::path& p) {
  std::ifstream f(p);
  return nlohmann::json::parse(f);
}

inline std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Small budgets: a whole compare in seconds. The numbers are meaningless; the plumbing is not.
inline std::string tiny_compare_args(const fs::path& out) {
  return "compare --dataset mnist --ways 3 --shots 1,2 --queries 3 --methods maml,protonet,scratch,baseline "
         "--meta-iterations 4 --meta-batch 2 --test-episodes 6 --val-episodes 2 --val-every 2 --scratch-steps 3 "
         "--finetune-epochs 2 --threads 2 --out '" + out.string() + "'";
}

}  // namespace fewshot::testing
