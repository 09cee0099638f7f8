#pragma once
// Options of `fewshot compare`: defaults, the TOML config file, the command line (which overrides
// the file), and validation of everything that can be checked before any training starts.
#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace fewshot {

struct CompareOptions {
  std::vector<std::string> datasets{"mnist"};
  int64_t ways = 5;
  std::vector<int64_t> shots{1, 5};
  int64_t queries = 15;
  std::vector<std::string> methods{"maml", "scratch"};
  std::vector<int64_t> seeds{0};
  int64_t meta_iterations = 0;   // 0: each method's default budget for the dataset
  double time_limit = 0;         // wall-clock seconds per method's training; 0: none
  int64_t test_episodes = 600;
  int64_t val_episodes = 30;     // fixed validation tasks for the learning curves
  int64_t val_every = 0;         // iterations between validations; 0: about 15 points per run
  std::string device = "auto";   // cpu, cuda, cuda:N, auto
  int threads = 0;               // 0: all cores
  std::string out = "results/compare";
  std::string config;            // TOML file the options came from ("" if none)
  bool resume = false;
  std::string schedule = "parallel";  // or sequential
  double target_accuracy = 0.8;
  std::string bn_mode = "transductive";  // or support
  std::string split;             // class split spec (see data/split.h); "" = dataset default
  std::string cross;             // meta-test dataset for cross-dataset runs ("" = same dataset)
  int64_t image_size = 0;        // Omniglot / folder images; 0 = dataset default
  int64_t inner_steps = 0, inner_steps_test = 0, meta_batch = 0;  // 0: method defaults
  double inner_lr = 0, meta_lr = 0;
  int64_t scratch_steps = 0, finetune_epochs = 0;
  std::string data_dir;          // "" = $FEWSHOT_DATA_DIR or <repo>/data-cache
  bool report = true;            // build charts and report at the end
  bool quiet = false;

  nlohmann::json to_json() const;
};

// Adds every option to `cmd`, writing into `opts`; config_loaded() applies the TOML file first.
class CompareCli {
 public:
  void add_options(CLI::App* cmd);
  // Builds the final options: defaults < config file < command line. Throws ValueError for an
  // unknown key or a wrong type in the file (naming both).
  CompareOptions resolve() const;

 private:
  CompareOptions cli_;
  CLI::App* cmd_ = nullptr;
};

// Applies a TOML document's keys (the long option names, e.g. `meta-iterations = 300`).
void apply_toml(const std::string& path, CompareOptions& opts);

// Everything checkable before training: dataset and method names, ways/shots/queries possible for
// each dataset's split, writable output directory, an existing device. Throws with a message that
// names the problem and the numbers.
void validate_options(const CompareOptions& opts);

}  // namespace fewshot

namespace fewshot {
// The inverse of CompareOptions::to_json (used by --resume to reload a compare's own options).
CompareOptions compare_options_from_json(const nlohmann::json& j);
}  // namespace fewshot
