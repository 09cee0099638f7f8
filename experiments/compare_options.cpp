#include "experiments/compare_options.h"

#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include "data/dataset.h"
#include "engine/core/backend.h"
#include "engine/core/error.h"
#include "models/learner.h"

namespace fewshot {

namespace fs = std::filesystem;

nlohmann::json CompareOptions::to_json() const {
  return {{"datasets", datasets}, {"ways", ways}, {"shots", shots}, {"queries", queries}, {"methods", methods},
          {"seeds", seeds}, {"meta_iterations", meta_iterations}, {"time_limit_seconds", time_limit},
          {"test_episodes", test_episodes}, {"val_episodes", val_episodes}, {"val_every", val_every},
          {"device", device}, {"threads", threads}, {"out", out}, {"config", config}, {"schedule", schedule},
          {"target_accuracy", target_accuracy}, {"bn_mode", bn_mode}, {"split", split}, {"cross", cross},
          {"image_size", image_size}, {"inner_steps", inner_steps}, {"inner_steps_test", inner_steps_test},
          {"meta_batch", meta_batch}, {"inner_lr", inner_lr}, {"meta_lr", meta_lr},
          {"scratch_steps", scratch_steps}, {"finetune_epochs", finetune_epochs}};
}

namespace {

// One table drives the command line, the TOML keys and their help, so the three cannot drift.
struct OptionSpec {
  const char* name;
  const char* help;
};

template <typename T> std::string join(const std::vector<T>& v) { return fmt::format("{}", fmt::join(v, ",")); }

}  // namespace

void CompareCli::add_options(CLI::App* cmd) {
  cmd_ = cmd;
  CompareOptions d;  // defaults, for the help text
  auto* o = &cli_;
  cmd->add_option("--dataset", o->datasets,
                  "Datasets to compare on: mnist, fashion-mnist, cifar10, omniglot, folder:PATH (several allowed)")
      ->delimiter(',')->default_str(join(d.datasets));
  cmd->add_option("--ways", o->ways, "Classes per task (N-way)")->default_str(std::to_string(d.ways));
  cmd->add_option("--shots", o->shots, "Labelled examples per class, a list (K-shot), e.g. 1,5,10")
      ->delimiter(',')->default_str(join(d.shots));
  cmd->add_option("--queries", o->queries, "Query examples per class in each task, scored for accuracy")
      ->default_str(std::to_string(d.queries));
  cmd->add_option("--methods", o->methods,
                  "Methods: maml, fomaml, reptile, anil, metasgd, protonet (meta-learning); scratch, baseline, "
                  "baseline++ (conventional)")
      ->delimiter(',')->default_str(join(d.methods));
  cmd->add_option("--seeds", o->seeds, "Seeds; each gives an independent run of every method, for spread")
      ->delimiter(',')->default_str(join(d.seeds));
  cmd->add_option("--meta-iterations", o->meta_iterations,
                  "Training iterations per method (meta-iterations, or pretraining steps for baseline); 0 = the "
                  "method's default for the dataset")
      ->default_str("0");
  cmd->add_option("--time-limit", o->time_limit, "Wall-clock budget in seconds for each method's training; 0 = none")
      ->default_str("0");
  cmd->add_option("--test-episodes", o->test_episodes,
                  "Test tasks, identical for every method (paired comparison)")
      ->default_str(std::to_string(d.test_episodes));
  cmd->add_option("--val-episodes", o->val_episodes, "Fixed validation tasks for the learning curves")
      ->default_str(std::to_string(d.val_episodes));
  cmd->add_option("--val-every", o->val_every, "Iterations between validations; 0 = about 15 points per run")
      ->default_str("0");
  cmd->add_option("--device", o->device, "cpu, cuda, cuda:N, or auto (cuda when a GPU is present)")
      ->default_str(d.device);
  cmd->add_option("--threads", o->threads, "CPU threads in all; 0 = every core")->default_str("0");
  cmd->add_option("--out", o->out, "Output directory (results.json, curves, charts, report)")->default_str(d.out);
  cmd->add_option("--config", o->config, "TOML file with any of these options (long names as keys); the command "
                                         "line overrides it");
  cmd->add_flag("--resume", o->resume, "Continue an interrupted compare in --out: finished runs are kept, unfinished "
                                       "ones continue from their checkpoints");
  cmd->add_option("--schedule", o->schedule,
                  "parallel: the methods of a setting train at the same time, sharing the device; sequential: one "
                  "after another (cleaner timings)")
      ->check(CLI::IsMember({"parallel", "sequential"}))->default_str(d.schedule);
  cmd->add_option("--target-accuracy", o->target_accuracy,
                  "Validation accuracy whose time-to-reach the report compares (0-1)")
      ->default_str("0.8");
  cmd->add_option("--bn-mode", o->bn_mode,
                  "Batch-norm statistics at test: transductive (query batch, as MAML's code) or support (support "
                  "set only)")
      ->check(CLI::IsMember({"transductive", "support"}))->default_str(d.bn_mode);
  cmd->add_option("--split", o->split, "Class split, e.g. \"train=0,1,2,3,4;test=5,6,7,8,9\", or maml|vinyals for "
                                       "omniglot; default: the dataset's documented split");
  cmd->add_option("--cross", o->cross, "Meta-test on this dataset instead (same image size), e.g. --dataset omniglot "
                                       "--cross mnist");
  cmd->add_option("--image-size", o->image_size, "Image side for omniglot and folders; 0 = default")->default_str("0");
  cmd->add_option("--inner-steps", o->inner_steps, "Inner-loop steps during meta-training; 0 = method default");
  cmd->add_option("--inner-steps-test", o->inner_steps_test, "Adaptation steps at test; 0 = method default");
  cmd->add_option("--inner-lr", o->inner_lr, "Inner-loop learning rate; 0 = method default");
  cmd->add_option("--meta-batch", o->meta_batch, "Tasks per meta-update; 0 = method default");
  cmd->add_option("--meta-lr", o->meta_lr, "Outer (Adam) learning rate; 0 = method default");
  cmd->add_option("--scratch-steps", o->scratch_steps, "Adam steps of the scratch CNN on each task; 0 = default");
  cmd->add_option("--finetune-epochs", o->finetune_epochs, "Head fine-tuning epochs of baseline/baseline++; 0 = "
                                                           "default");
  cmd->add_option("--data-dir", o->data_dir, "Dataset cache folder; default $FEWSHOT_DATA_DIR or <repo>/data-cache");
  cmd->add_flag("!--no-report", o->report, "Skip charts and report (rebuild later with `fewshot report DIR`)");
  cmd->add_flag("--quiet", o->quiet, "No progress lines");
}

CompareOptions CompareCli::resolve() const {
  CompareOptions out;
  if (!cli_.config.empty()) apply_toml(cli_.config, out);
  // Command-line values override the file: copy each option that was actually given.
  auto given = [&](const char* name) { return cmd_->get_option(name)->count() > 0; };
  if (given("--dataset")) out.datasets = cli_.datasets;
  if (given("--ways")) out.ways = cli_.ways;
  if (given("--shots")) out.shots = cli_.shots;
  if (given("--queries")) out.queries = cli_.queries;
  if (given("--methods")) out.methods = cli_.methods;
  if (given("--seeds")) out.seeds = cli_.seeds;
  if (given("--meta-iterations")) out.meta_iterations = cli_.meta_iterations;
  if (given("--time-limit")) out.time_limit = cli_.time_limit;
  if (given("--test-episodes")) out.test_episodes = cli_.test_episodes;
  if (given("--val-episodes")) out.val_episodes = cli_.val_episodes;
  if (given("--val-every")) out.val_every = cli_.val_every;
  if (given("--device")) out.device = cli_.device;
  if (given("--threads")) out.threads = cli_.threads;
  if (given("--out")) out.out = cli_.out;
  out.config = cli_.config;
  if (given("--resume")) out.resume = cli_.resume;
  if (given("--schedule")) out.schedule = cli_.schedule;
  if (given("--target-accuracy")) out.target_accuracy = cli_.target_accuracy;
  if (given("--bn-mode")) out.bn_mode = cli_.bn_mode;
  if (given("--split")) out.split = cli_.split;
  if (given("--cross")) out.cross = cli_.cross;
  if (given("--image-size")) out.image_size = cli_.image_size;
  if (given("--inner-steps")) out.inner_steps = cli_.inner_steps;
  if (given("--inner-steps-test")) out.inner_steps_test = cli_.inner_steps_test;
  if (given("--inner-lr")) out.inner_lr = cli_.inner_lr;
  if (given("--meta-batch")) out.meta_batch = cli_.meta_batch;
  if (given("--meta-lr")) out.meta_lr = cli_.meta_lr;
  if (given("--scratch-steps")) out.scratch_steps = cli_.scratch_steps;
  if (given("--finetune-epochs")) out.finetune_epochs = cli_.finetune_epochs;
  if (given("--data-dir")) out.data_dir = cli_.data_dir;
  if (given("--no-report")) out.report = cli_.report;
  if (given("--quiet")) out.quiet = cli_.quiet;
  return out;
}

namespace {

std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "a date/time";
  }
}

struct TomlReader {
  const std::string& path;
  [[noreturn]] void wrong(const std::string& key, const toml::node& n, const char* expected) const {
    fail<ValueError>("{}: key '{}' must be {}, got {}", path, key, expected, type_name(n));
  }
  int64_t integer(const std::string& key, const toml::node& n) const {
    if (auto v = n.value_exact<int64_t>()) return *v;
    wrong(key, n, "an integer");
  }
  double number(const std::string& key, const toml::node& n) const {
    if (auto v = n.value_exact<double>()) return *v;
    if (auto v = n.value_exact<int64_t>()) return static_cast<double>(*v);
    wrong(key, n, "a number");
  }
  std::string string(const std::string& key, const toml::node& n) const {
    if (auto v = n.value_exact<std::string>()) return *v;
    wrong(key, n, "a string");
  }
  bool boolean(const std::string& key, const toml::node& n) const {
    if (auto v = n.value_exact<bool>()) return *v;
    wrong(key, n, "a boolean");
  }
  // A list key accepts a single value too (shots = 5).
  std::vector<int64_t> integers(const std::string& key, const toml::node& n) const {
    if (!n.is_array()) return {integer(key, n)};
    std::vector<int64_t> out;
    for (auto& e : *n.as_array()) out.push_back(integer(key + "[]", e));
    return out;
  }
  std::vector<std::string> strings(const std::string& key, const toml::node& n) const {
    if (!n.is_array()) return {string(key, n)};
    std::vector<std::string> out;
    for (auto& e : *n.as_array()) out.push_back(string(key + "[]", e));
    return out;
  }
};

}  // namespace

void apply_toml(const std::string& path, CompareOptions& o) {
  check<ValueError>(fs::exists(path), "config file {} does not exist", path);
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    fail<ValueError>("{}: not valid TOML at line {}: {}", path, e.source().begin.line, e.description());
  }
  TomlReader r{path};
  for (auto&& [k, node] : table) {
    std::string key(k.str());
    if (key == "dataset") o.datasets = r.strings(key, node);
    else if (key == "ways") o.ways = r.integer(key, node);
    else if (key == "shots") o.shots = r.integers(key, node);
    else if (key == "queries") o.queries = r.integer(key, node);
    else if (key == "methods") o.methods = r.strings(key, node);
    else if (key == "seeds") o.seeds = r.integers(key, node);
    else if (key == "meta-iterations") o.meta_iterations = r.integer(key, node);
    else if (key == "time-limit") o.time_limit = r.number(key, node);
    else if (key == "test-episodes") o.test_episodes = r.integer(key, node);
    else if (key == "val-episodes") o.val_episodes = r.integer(key, node);
    else if (key == "val-every") o.val_every = r.integer(key, node);
    else if (key == "device") o.device = r.string(key, node);
    else if (key == "threads") o.threads = static_cast<int>(r.integer(key, node));
    else if (key == "out") o.out = r.string(key, node);
    else if (key == "schedule") o.schedule = r.string(key, node);
    else if (key == "target-accuracy") o.target_accuracy = r.number(key, node);
    else if (key == "bn-mode") o.bn_mode = r.string(key, node);
    else if (key == "split") o.split = r.string(key, node);
    else if (key == "cross") o.cross = r.string(key, node);
    else if (key == "image-size") o.image_size = r.integer(key, node);
    else if (key == "inner-steps") o.inner_steps = r.integer(key, node);
    else if (key == "inner-steps-test") o.inner_steps_test = r.integer(key, node);
    else if (key == "inner-lr") o.inner_lr = r.number(key, node);
    else if (key == "meta-batch") o.meta_batch = r.integer(key, node);
    else if (key == "meta-lr") o.meta_lr = r.number(key, node);
    else if (key == "scratch-steps") o.scratch_steps = r.integer(key, node);
    else if (key == "finetune-epochs") o.finetune_epochs = r.integer(key, node);
    else if (key == "data-dir") o.data_dir = r.string(key, node);
    else if (key == "report") o.report = r.boolean(key, node);
    else if (key == "quiet") o.quiet = r.boolean(key, node);
    else
      fail<ValueError>("{}: unknown key '{}' (keys are the long option names of `fewshot compare --help`, e.g. "
                       "meta-iterations)",
                       path, key);
  }
}

void validate_options(const CompareOptions& o) {
  check<ValueError>(!o.datasets.empty(), "compare: no dataset given");
  for (auto& d : o.datasets) {
    bool known = d.rfind("folder:", 0) == 0;
    for (auto& n : data::dataset_names()) known = known || n == d;
    check<ValueError>(known, "compare: unknown dataset '{}' (choose from mnist, fashion-mnist, cifar10, omniglot, "
                             "folder:PATH)", d);
    check<ValueError>(d != "sinusoid", "compare: sinusoid is a regression family and compare reports classification "
                                       "accuracy; the sinusoid experiment is in the models tests and bench/");
  }
  check<ValueError>(!o.methods.empty(), "compare: no method given");
  std::set<std::string> seen;
  for (auto& m : o.methods) {
    bool known = false;
    for (auto& n : models::learner_names()) known = known || n == m;
    check<ValueError>(known, "compare: unknown method '{}' (choose from {})", m, join(models::learner_names()));
    check<ValueError>(seen.insert(m).second, "compare: method '{}' given twice", m);
  }
  check<ValueError>(o.ways >= 2, "compare: --ways {} must be at least 2", o.ways);
  check<ValueError>(!o.shots.empty(), "compare: no shot count given");
  for (auto k : o.shots) check<ValueError>(k >= 1, "compare: --shots {} must be at least 1", k);
  check<ValueError>(o.queries >= 1, "compare: --queries {} must be at least 1", o.queries);
  check<ValueError>(!o.seeds.empty(), "compare: no seed given");
  check<ValueError>(o.test_episodes >= 1, "compare: --test-episodes {} must be at least 1", o.test_episodes);
  check<ValueError>(o.val_episodes >= 0, "compare: --val-episodes {} must not be negative", o.val_episodes);
  check<ValueError>(o.meta_iterations >= 0, "compare: --meta-iterations {} must not be negative", o.meta_iterations);
  check<ValueError>(o.target_accuracy > 0 && o.target_accuracy <= 1, "compare: --target-accuracy {} must be in (0, 1]",
                    o.target_accuracy);
  check<ValueError>(o.schedule == "parallel" || o.schedule == "sequential",
                    "compare: --schedule '{}' must be parallel or sequential", o.schedule);
  check<ValueError>(o.bn_mode == "transductive" || o.bn_mode == "support",
                    "compare: --bn-mode '{}' must be transductive or support", o.bn_mode);
  check<ValueError>(o.threads >= 0, "compare: --threads {} must not be negative", o.threads);
  if (o.device != "auto") {
    Device dev = parse_device(o.device);
    if (dev.is_cuda()) {
      int n = device_count(DeviceType::CUDA);
      check<DeviceError>(dev.index < n, "compare: --device {} requested but {} CUDA device(s) were found; use "
                                        "--device cpu", o.device, n);
    }
  }
  // The output directory must be writable before hours of training are spent.
  std::error_code ec;
  fs::create_directories(o.out, ec);
  check<ValueError>(!ec && fs::is_directory(o.out), "compare: cannot create output directory {}: {}", o.out,
                    ec ? ec.message() : "a file is in the way");
  fs::path probe = fs::path(o.out) / ".write-test";
  {
    std::ofstream f(probe);
    check<ValueError>(static_cast<bool>(f << "ok"), "compare: output directory {} is not writable", o.out);
  }
  fs::remove(probe, ec);
}

}  // namespace fewshot

namespace fewshot {

CompareOptions compare_options_from_json(const nlohmann::json& j) {
  CompareOptions o;
  auto get = [&](const char* key, auto& field) {
    if (j.contains(key)) j.at(key).get_to(field);
  };
  get("datasets", o.datasets), get("ways", o.ways), get("shots", o.shots), get("queries", o.queries);
  get("methods", o.methods), get("seeds", o.seeds), get("meta_iterations", o.meta_iterations);
  get("time_limit_seconds", o.time_limit), get("test_episodes", o.test_episodes), get("val_episodes", o.val_episodes);
  get("val_every", o.val_every), get("device", o.device), get("threads", o.threads), get("out", o.out);
  get("config", o.config), get("schedule", o.schedule), get("target_accuracy", o.target_accuracy);
  get("bn_mode", o.bn_mode), get("split", o.split), get("cross", o.cross), get("image_size", o.image_size);
  get("inner_steps", o.inner_steps), get("inner_steps_test", o.inner_steps_test), get("meta_batch", o.meta_batch);
  get("inner_lr", o.inner_lr), get("meta_lr", o.meta_lr), get("scratch_steps", o.scratch_steps);
  get("finetune_epochs", o.finetune_epochs);
  return o;
}

}  // namespace fewshot
