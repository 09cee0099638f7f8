#include "experiments/compare.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <tuple>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "engine/core/backend.h"
#include "engine/core/error.h"
#include "experiments/environment.h"
#include "experiments/progress.h"
#include "experiments/report/report.h"
#include "experiments/report/results.h"
#include "experiments/setting.h"
#include "models/evaluate.h"
#include "models/learner.h"

namespace fewshot {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kTestEpisodeSeed = 2024;  // independent of --seeds: every run sees the same tasks
constexpr uint64_t kValEpisodeSeed = 2025;

std::atomic<bool> g_stop{false};
extern "C" void on_interrupt(int) { g_stop.store(true); }

std::string sanitize(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '+') ? c : '_';
  return out;
}

std::string run_id(const std::string& dataset, int64_t ways, int64_t shots, const std::string& method, int64_t seed) {
  return sanitize(fmt::format("{}-{}w{}s-{}-seed{}", dataset, ways, shots, method, seed));
}

// Everything one (dataset, shots) setting shares across its methods and seeds.
struct Setting {
  const PreparedDataset* ds = nullptr;
  int64_t shots = 0;
  data::EpisodeSet test_episodes;
  CurveTasks curve;
  models::TrainData train_data;
  std::vector<models::Task> test_tasks;
};

struct RunJob {
  std::string id, method;
  int64_t seed = 0;
  Setting* setting = nullptr;
};

class Comparison {
 public:
  Comparison(CompareOptions opts, std::string command) : o_(std::move(opts)), command_(std::move(command)),
                                                         board_(o_.quiet) {}

  int run();

 private:
  void prepare();
  void execute(const RunJob& job, int threads, bool own_queue);
  models::LearnerConfig learner_config(const std::string& method, const Setting& s, int64_t seed) const;
  void save_locked();
  void print_summary() const;

  CompareOptions o_;
  std::string command_;
  Device device_;
  int threads_ = 1;
  fs::path out_;
  ProgressBoard board_;
  std::vector<PreparedDataset> datasets_;
  std::mutex results_mutex_;
  report::Results results_;
  std::vector<std::string> errors_;
};

models::LearnerConfig Comparison::learner_config(const std::string& method, const Setting& s, int64_t seed) const {
  models::LearnerConfig cfg = models::LearnerConfig::defaults(method);
  const data::Dataset& d = *s.ds->train;
  cfg.ways = o_.ways;
  cfg.seed = static_cast<uint64_t>(seed);
  cfg.device = device_;  // parameters live where the tasks are
  cfg.bn_mode = models::parse_bn_mode(o_.bn_mode);
  cfg.backbone = models::BackboneConfig::conv4_for(d.channels(), d.height(), d.width(), o_.ways);
  cfg.iterations = o_.meta_iterations > 0 ? o_.meta_iterations : default_iterations(method, s.ds->name);
  if (o_.inner_steps > 0) cfg.inner_steps_train = o_.inner_steps;
  if (o_.inner_steps_test > 0) cfg.inner_steps_test = o_.inner_steps_test;
  if (o_.inner_lr > 0) cfg.inner_lr = o_.inner_lr;
  if (o_.meta_batch > 0) cfg.meta_batch = o_.meta_batch;
  if (o_.meta_lr > 0) cfg.meta_lr = o_.meta_lr;
  if (o_.scratch_steps > 0) cfg.scratch_steps = o_.scratch_steps;
  if (o_.finetune_epochs > 0) cfg.finetune_epochs = o_.finetune_epochs;
  return cfg;
}

void Comparison::prepare() {
  // Everything that can fail on bad input fails here, before any training.
  for (const auto& name : o_.datasets) {
    board_.log(fmt::format("loading {}{}", name, o_.cross.empty() ? "" : " (meta-test on " + o_.cross + ")"));
    datasets_.push_back(prepare_dataset(name, o_.cross, o_.split, o_.image_size, o_.data_dir));
    for (int64_t k : o_.shots) check_feasible(datasets_.back(), o_.ways, k, o_.queries, o_.val_episodes);
  }
  fs::create_directories(out_ / "splits");
  for (const auto& ds : datasets_) {
    ds.split.save(out_ / "splits" / (sanitize(ds.name) + ".json"));
    report::Split s;
    for (const auto& c : ds.split.meta_train) s.train_classes.push_back(c.name);
    for (const auto& c : ds.split.meta_test) s.test_classes.push_back(c.name);
    results_.splits[ds.name] = s;
  }
}

void Comparison::save_locked() { report::save_results(results_, (out_ / "results.json").string()); }

void Comparison::execute(const RunJob& job, int threads, bool own_queue) {
  omp_set_num_threads(threads);
  // On a GPU each method training side by side gets its own stream (a no-op on the CPU).
  Backend& backend = backend_for(device_);
  void* queue = own_queue ? backend.create_queue() : nullptr;
  backend.set_thread_queue(queue);
  struct QueueScope {
    Backend& b;
    void* q;
    ~QueueScope() {
      try {
        b.synchronize();
        b.set_thread_queue(nullptr);
        b.destroy_queue(q);
      } catch (...) {
      }
    }
  } queue_scope{backend, queue};
  const Setting& s = *job.setting;
  int line = board_.add(fmt::format("{} {}-shot {} seed {}", s.ds->name, s.shots, job.method, job.seed));
  try {
    models::LearnerConfig cfg = learner_config(job.method, s, job.seed);
    auto learner = models::make_learner(job.method, cfg);
    report::Run run;
    run.id = job.id;
    run.dataset = s.ds->name;
    run.method = job.method;
    run.ways = o_.ways, run.shots = s.shots, run.queries = o_.queries, run.seed = job.seed;
    run.status = "running";
    run.schedule = o_.schedule;
    run.family = report::default_family(job.method);
    {
      std::lock_guard lock(results_mutex_);
      bool found = false;
      for (auto& r : results_.runs)
        if (r.id == run.id) r = run, found = true;
      if (!found) results_.runs.push_back(run);
      results_.config.extra["learners"][job.method] = cfg.to_json();
      save_locked();
    }

    double last_acc = -1;
    models::TrainHooks hooks;
    hooks.on_progress = [&](const models::Progress& p) {
      board_.update(line, "train", p.iteration, cfg.iterations, p.loss, last_acc);
    };
    hooks.on_curve = [&](const models::CurvePoint& c) { last_acc = c.val_accuracy; };
    hooks.val_every = o_.val_every > 0 ? o_.val_every : std::max<int64_t>(1, cfg.iterations / 15);
    hooks.stop = &g_stop;
    hooks.time_budget_seconds = o_.time_limit;
    hooks.checkpoint_path = out_ / "runs" / (job.id + ".safetensors");
    hooks.checkpoint_every = std::max<int64_t>(1, cfg.iterations / 10);
    hooks.resume = true;
    models::TrainResult tr = learner->train(s.train_data, hooks);
    if (g_stop.load()) {
      board_.finish(line, fmt::format("interrupted at iteration {} (checkpoint kept)", tr.iterations));
      return;
    }

    models::EvalResult ev = models::evaluate(*learner, s.test_tasks, [&](int64_t done, int64_t total) {
      board_.update(line, "test", done, total, -1, -1);
    });
    if (g_stop.load()) {
      board_.finish(line, "interrupted during testing");
      return;
    }

    run.status = "finished";
    run.train.iterations = tr.iterations;
    run.train.wall_seconds = tr.wall_seconds;
    run.train.compute_seconds = tr.compute_seconds;
    for (const auto& c : tr.curve) run.train.curve.push_back({c.iteration, c.seconds, c.val_accuracy, c.loss});
    report::TestInfo t;
    t.episodes = ev.episodes;
    t.accuracies = ev.accuracies;
    t.mean = ev.mean;
    t.ci95 = ev.ci95;
    t.adapt_seconds_mean = ev.adapt_seconds_mean;
    t.adapt_steps = static_cast<int64_t>(ev.adapt_steps_mean + 0.5);
    t.accuracy_by_step = ev.accuracy_by_step;
    t.accuracy_steps = ev.steps;
    run.test = t;
    {
      std::lock_guard lock(results_mutex_);
      fs::create_directories(out_ / "curves");
      report::write_curve_csv(run.train.curve, (out_ / "curves" / (run.id + ".csv")).string());
      for (auto& r : results_.runs)
        if (r.id == run.id) r = run;
      save_locked();
    }
    board_.finish(line, fmt::format("test accuracy {:.1f}% ± {:.1f}%  (training {}, {:.1f} ms per task to adapt)",
                                    100 * ev.mean, 100 * ev.ci95, format_duration(tr.wall_seconds),
                                    1000 * ev.adapt_seconds_mean));
  } catch (const std::exception& e) {
    board_.finish(line, fmt::format("FAILED: {}", e.what()));
    std::lock_guard lock(results_mutex_);
    errors_.push_back(fmt::format("{}: {}", job.id, e.what()));
  }
}

int Comparison::run() {
  out_ = o_.out;
  fs::path options_file = out_ / "options.json";
  if (o_.resume) {
    // A resumed compare continues the same experiment: its options come from the first run;
    // only how it runs (threads, device, progress) may change.
    check<ValueError>(fs::exists(options_file), "--resume: {} has no options.json: nothing to resume (run without "
                                                "--resume to start a comparison there)", out_.string());
    std::ifstream f(options_file);
    CompareOptions saved = compare_options_from_json(nlohmann::json::parse(f));
    saved.out = o_.out, saved.threads = o_.threads, saved.quiet = o_.quiet, saved.report = o_.report;
    saved.resume = true;
    o_ = saved;
  }
  validate_options(o_);
  device_ = o_.device == "auto" ? (device_count(DeviceType::CUDA) > 0 ? Device::cuda(0) : Device::cpu())
                                : parse_device(o_.device);
  threads_ = o_.threads > 0 ? o_.threads : omp_get_num_procs();
  fs::create_directories(out_ / "runs");

  if (o_.resume && fs::exists(out_ / "results.json")) results_ = report::load_results_dir(out_.string());
  prepare();
  if (!o_.resume) report::write_file_atomic(options_file.string(), o_.to_json().dump(2));

  results_.command = command_;
  auto& c = results_.config;
  c.datasets = o_.datasets, c.ways = o_.ways, c.shots = o_.shots, c.queries = o_.queries, c.methods = o_.methods;
  c.seeds = o_.seeds, c.test_episodes = o_.test_episodes;
  // The budget actually used: the option, else the largest of the methods' defaults.
  c.meta_iterations = o_.meta_iterations;
  for (const auto& m : o_.methods)
    for (const auto& d : o_.datasets)
      if (o_.meta_iterations == 0) c.meta_iterations = std::max(c.meta_iterations, default_iterations(m, d));
  c.device = device_.str(), c.schedule = o_.schedule, c.threads = threads_, c.target_accuracy = o_.target_accuracy;
  c.bn_mode = o_.bn_mode, c.time_limit_seconds = o_.time_limit;
  c.extra["options"] = o_.to_json();
  EnvironmentInfo env = read_environment(device_, threads_);
  results_.environment = {env.cpu, env.cores, env.gpu.empty() ? std::nullopt : std::optional<std::string>(env.gpu),
                          env.threads, env.build_type, env.git_revision, env.compiler, env.date};
  save_locked();

  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  for (auto& ds : datasets_) {
    for (int64_t shots : o_.shots) {
      Setting s;
      s.ds = &ds;
      s.shots = shots;
      // Pending runs of this setting (finished ones are kept as they are on --resume).
      std::vector<RunJob> jobs;
      for (int64_t seed : o_.seeds)
        for (const auto& m : o_.methods) {
          std::string id = run_id(ds.name, o_.ways, shots, m, seed);
          bool finished = false;
          for (auto& r : results_.runs) finished = finished || (r.id == id && r.status == "finished");
          if (!finished) jobs.push_back({id, m, seed, nullptr});
        }
      if (jobs.empty()) continue;
      board_.log(fmt::format("{} {}-way {}-shot: preparing {} test and {} validation tasks", ds.name, o_.ways, shots,
                             o_.test_episodes, o_.val_episodes));
      s.test_episodes = data::make_test_episodes(ds.split, o_.ways, shots, o_.queries, o_.test_episodes,
                                                 kTestEpisodeSeed);
      s.curve = make_curve_tasks(ds, o_.ways, shots, o_.queries, o_.val_episodes, kValEpisodeSeed);
      {
        std::lock_guard lock(results_mutex_);
        results_.config.extra["learning_curves_on"][ds.name] = s.curve.description;
      }
      fs::create_directories(out_ / "episodes");
      s.test_episodes.save(out_ / "episodes" / (sanitize(fmt::format("{}-{}w{}s-test", ds.name, o_.ways, shots)) + ".json"));
      s.train_data = make_train_data(ds, o_.ways, shots, o_.queries, s.curve, device_);
      for (const auto& e : s.test_episodes.episodes)
        s.test_tasks.push_back(make_task(e, *ds.test, ds.train->norm, device_));
      backend_for(device_).synchronize();  // the tasks are on the device before other streams read them
      for (auto& j : jobs) j.setting = &s;

      if (o_.schedule == "parallel" && jobs.size() > 1) {
        // Each method in its own thread; the cores are shared out evenly.
        int per = std::max(1, threads_ / static_cast<int>(jobs.size()));
        std::vector<std::thread> workers;
        for (auto& j : jobs) workers.emplace_back([this, &j, per] { execute(j, per, true); });
        for (auto& w : workers) w.join();
      } else {
        for (auto& j : jobs) {
          if (g_stop.load()) break;
          execute(j, threads_, false);
        }
      }
      if (g_stop.load()) break;
    }
    if (g_stop.load()) break;
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (g_stop.load()) {
    std::cerr << fmt::format("interrupted: finished runs are in {}; continue with: fewshot compare --out {} --resume\n",
                             (out_ / "results.json").string(), out_.string());
    return 130;
  }
  print_summary();
  if (o_.report) {
    report::ReportOptions ropts;
    ropts.target_accuracy = o_.target_accuracy;
    report::ReportFiles files = report::build_report(out_.string(), ropts);
    std::cout << fmt::format("\nreport: {}  (and {}; {} chart files in {})\n", files.html, files.markdown,
                             files.charts.size(), (out_ / "charts").string());
  }
  for (const auto& e : errors_) std::cerr << "error: " << e << "\n";
  return errors_.empty() ? 0 : 1;
}

void Comparison::print_summary() const {
  // In the order of the options: dataset, shots, method, seed.
  auto rank = [&](const report::Run& r) {
    auto pos = [](const auto& list, const auto& v) {
      return std::find(list.begin(), list.end(), v) - list.begin();
    };
    size_t d = 0;
    while (d < datasets_.size() && datasets_[d].name != r.dataset) ++d;
    return std::make_tuple(d, pos(o_.shots, r.shots), pos(o_.methods, r.method), r.seed);
  };
  std::vector<const report::Run*> runs;
  for (const auto& r : results_.runs)
    if (r.status == "finished" && r.test) runs.push_back(&r);
  std::sort(runs.begin(), runs.end(), [&](auto* a, auto* b) { return rank(*a) < rank(*b); });
  std::cout << fmt::format("\n{:<28} {:>6} {:<11} {:>17} {:>10} {:>12}\n", "dataset", "shots", "method",
                           "accuracy", "training", "adapt/task");
  for (const auto* r : runs)
    std::cout << fmt::format("{:<28} {:>6} {:<11} {:>8.1f}% ± {:>4.1f}% {:>10} {:>9.1f} ms\n", r->dataset, r->shots,
                             r->method, 100 * r->test->mean, 100 * r->test->ci95, format_duration(r->train.wall_seconds),
                             1000 * r->test->adapt_seconds_mean);
}

}  // namespace

int64_t default_iterations(const std::string& method, const std::string& dataset) {
  // Measured on the 2-core CPU (bench/README.md): a MAML meta-iteration on MNIST 5-way (meta-batch
  // 8) takes about 1 s at 1 shot and 1.5 s at 5 shots with one thread, so 200 iterations keep the
  // default compare near 10 minutes. Larger budgets: --meta-iterations or --time-limit.
  (void)dataset;
  if (method == "scratch") return 0;  // trained on each test task's support set only
  if (method == "protonet" || method == "baseline" || method == "baseline++") return 500;
  return 200;  // maml, fomaml, reptile, anil, metasgd
}

int run_compare(CompareOptions opts, const std::string& command) {
  g_stop.store(false);
  return Comparison(std::move(opts), command).run();
}

}  // namespace fewshot
