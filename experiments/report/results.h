#pragma once
// results.json and the CSV curves (docs/results-schema.md) as plain structs, with loading that names
// the file and the field on every error, and atomic writing (tmp + fsync + rename).
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fewshot::report {

// Thrown for a results.json or curve CSV that does not match the schema. what() reads like
// "results.json: runs[2].test.mean: expected a number, got string".
class ResultsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CurvePoint {
  std::int64_t iteration = 0;
  double seconds = 0;       // wall-clock seconds since the run's training started
  double val_accuracy = 0;  // in [0, 1]
  double loss = 0;
};

struct TrainInfo {
  std::int64_t iterations = 0;  // 0: the method has no training phase (e.g. a CNN trained per task)
  double wall_seconds = 0;
  double compute_seconds = 0;
  std::vector<CurvePoint> curve;  // inline; when empty, the loader reads curves/<id>.csv if present
};

struct TestInfo {
  std::int64_t episodes = 0;
  std::vector<double> accuracies;  // one per test episode, in episode order (paired across methods)
  double mean = 0;
  double ci95 = 0;  // 1.96 * std / sqrt(n)
  double adapt_seconds_mean = 0;
  std::int64_t adapt_steps = 0;
  std::vector<double> accuracy_by_step;  // after 0, 1, 2, ... adaptation steps (or accuracy_steps); may be empty
  std::vector<std::int64_t> accuracy_steps;  // the step count of each accuracy_by_step entry; empty: 0, 1, 2, ...
};

struct Run {
  std::string id, dataset, method;
  std::int64_t ways = 0, shots = 0, queries = 0, seed = 0;
  std::string status = "finished";  // or "running"
  std::string schedule = "parallel";
  std::string family;  // "meta" or "conventional"; filled from the method name when absent
  TrainInfo train;
  std::optional<TestInfo> test;  // required when status is "finished"
};

struct Config {
  std::vector<std::string> datasets;
  std::int64_t ways = 0;
  std::vector<std::int64_t> shots;
  std::int64_t queries = 0;
  std::vector<std::string> methods;
  std::vector<std::int64_t> seeds;
  std::int64_t meta_iterations = 0, test_episodes = 0;
  std::string device, schedule;
  std::int64_t threads = 0;
  double target_accuracy = 0.8;
  std::string bn_mode = "transductive";
  double time_limit_seconds = 0;
  std::string reference_method;  // conventional baseline for speed-ups; "" = first conventional method
  nlohmann::json extra = nlohmann::json::object();  // learner hyper-parameters and anything else
};

struct Environment {
  std::string cpu;
  std::int64_t cores = 0;
  std::optional<std::string> gpu;  // null in JSON when there is none
  std::int64_t threads = 0;
  std::string build_type, git_revision, compiler, date;
};

struct Split {
  std::vector<nlohmann::json> train_classes, test_classes;  // class ids or names, as the dataset has them
};

struct Results {
  std::int64_t schema = 1;
  std::string command;
  Config config;
  Environment environment;
  std::map<std::string, Split> splits;
  std::vector<Run> runs;
};

// "meta" for meta-learners (maml, fomaml, reptile, protonet, ...), "conventional" for scratch,
// baseline, pretrain, finetune, baseline++ (and names starting with "pretrain" / "finetune").
std::string default_family(const std::string& method);

// Parse and validate. `source` names the file in error messages.
Results results_from_json(const nlohmann::json& j, const std::string& source = "results.json");
nlohmann::json results_to_json(const Results& r);

// Load DIR/results.json; for each run with an empty inline curve, read DIR/curves/<id>.csv if present.
Results load_results(const std::string& path);
Results load_results_dir(const std::string& dir);
// Atomic: writes path + ".tmp", fsyncs it, renames over path, fsyncs the directory.
void save_results(const Results& r, const std::string& path);

// Curves: header "iteration,seconds,val_accuracy,loss".
std::vector<CurvePoint> read_curve_csv(const std::string& path);
void write_curve_csv(const std::vector<CurvePoint>& curve, const std::string& path);  // atomic

// Writes `contents` to `path` atomically (tmp + fsync + rename). Throws std::runtime_error on failure.
void write_file_atomic(const std::string& path, const std::string& contents);

}  // namespace fewshot::report
