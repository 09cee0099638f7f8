#pragma once
// The one interface every learner implements and the experiment driver calls:
//   auto l = make_learner("maml", cfg);  l->train(data, hooks);  l->adapt(task) per test task.
// Method names: maml, fomaml, reptile, anil, metasgd, protonet, scratch, baseline, baseline++.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "models/backbone.h"
#include "models/task.h"

namespace fewshot::models {

const std::vector<std::string>& learner_names();

// Training hit a NaN or Inf loss or gradient. The message names the iteration and the last good
// checkpoint (or says none was written).
struct DivergenceError : Error {
  DivergenceError(const std::string& msg, int64_t iteration, std::string checkpoint)
      : Error(msg), iteration(iteration), last_checkpoint(std::move(checkpoint)) {}
  int64_t iteration;
  std::string last_checkpoint;  // empty when none was written
};

// Hyper-parameters of every method. The defaults are the MAML paper's Omniglot settings scaled to a
// 2-core CPU; LearnerConfig::defaults(method) adjusts the method-specific ones.
struct LearnerConfig {
  std::string method = "maml";
  BackboneConfig backbone;      // outputs is overwritten with `ways` for classification
  int64_t ways = 5;
  uint64_t seed = 0;
  Device device = Device::cpu();  // parameters live here; the driver puts tasks on it too
  BNMode bn_mode = BNMode::transductive;  // at test, and for the query pass during meta-training

  // Meta-training (maml, fomaml, reptile, anil, metasgd, protonet) or pretraining steps (baseline*).
  int64_t iterations = 1000;
  int64_t meta_batch = 8;       // tasks per outer step (paper: 32 Omniglot, 4 miniImageNet; 8 on 2 cores)
  double meta_lr = 1e-3;        // outer Adam
  double inner_lr = 0.4;        // paper: 0.4 Omniglot, 0.01 miniImageNet and sinusoid
  int64_t inner_steps_train = 1;  // paper: 1 Omniglot, 5 miniImageNet
  int64_t inner_steps_test = 3;   // paper: 3 Omniglot, 10 miniImageNet/sinusoid
  // Reptile (Nichol et al. 2018): outer step theta += eps * (mean adapted - theta), eps annealed
  // linearly from reptile_eps to 0 over `iterations`.
  double reptile_eps = 1.0;
  // Scratch CNN: Adam from a fresh random init on the support set alone.
  int64_t scratch_steps = 100;
  double scratch_lr = 5e-3;
  int64_t scratch_patience = 10;      // stop after this many steps without a 1e-4 support-loss drop
  double scratch_min_loss = 1e-2;     // or when the support loss is below this (support fitted)
  // Baseline / Baseline++ (Chen et al. 2019): supervised pretraining, then a new head per task.
  int64_t pretrain_batch = 64;
  double pretrain_lr = 1e-3;          // Adam
  int64_t finetune_epochs = 100;      // over the support set
  int64_t finetune_batch = 4;         // their code's mini-batch
  double finetune_lr = 0.01, finetune_momentum = 0.9, finetune_weight_decay = 1e-3;
  double cosine_scale = 0;            // 0: their rule, 2 for <= 200 classes, else 10
  // Learning curve: validate on at most this many of TrainData::val_tasks (0 = all).
  int64_t val_tasks = 0;

  static LearnerConfig defaults(const std::string& method);
  nlohmann::json to_json() const;
  static LearnerConfig from_json(const nlohmann::json& j);  // missing keys keep defaults
};

struct CurvePoint {
  int64_t iteration = 0;
  double seconds = 0;        // training compute seconds so far (validation and checkpoints excluded)
  double val_accuracy = 0;   // mean over the validation tasks (regression: -MSE)
  double loss = 0;           // mean training loss since the previous point
};

struct Progress {
  int64_t iteration = 0;     // iterations completed
  double loss = 0;           // this iteration's training loss
  double seconds = 0;        // training compute seconds so far
};

struct TrainHooks {
  std::function<void(const Progress&)> on_progress;   // after every iteration
  std::function<void(const CurvePoint&)> on_curve;    // after every validation
  int64_t val_every = 0;                              // 0: no learning curve
  const std::atomic<bool>* stop = nullptr;            // checked every iteration
  double time_budget_seconds = 0;                     // wall clock; 0: none
  std::filesystem::path checkpoint_path;              // empty: no checkpoints
  int64_t checkpoint_every = 0;
  bool resume = true;                                 // continue from checkpoint_path if it exists
};

struct TrainResult {
  int64_t iterations = 0;        // completed (including those before a resume)
  int64_t start_iteration = 0;   // where this call started (> 0 after a resume)
  double wall_seconds = 0, compute_seconds = 0;
  std::vector<CurvePoint> curve;
  bool stopped = false;          // by the stop flag or the time budget
  std::string last_checkpoint;
};

struct AdaptResult {
  // Query accuracy (regression: MSE in query_loss_by_step) after steps[i] adaptation steps.
  std::vector<int64_t> steps;
  std::vector<double> accuracy_by_step, loss_by_step;
  double accuracy = 0, loss = 0;  // final
  double seconds = 0;             // adaptation and final prediction, without the per-step evaluations
  int64_t adapt_steps = 0;
};

class Learner {
 public:
  virtual ~Learner() = default;
  virtual std::string name() const = 0;
  const LearnerConfig& config() const { return cfg_; }

  // Meta-training or pretraining. Deterministic for a seed: iteration i draws its tasks from a
  // generator seeded by (seed, i), so a resumed run continues the same stream. Throws
  // DivergenceError on a NaN/Inf loss or gradient.
  virtual TrainResult train(const TrainData& data, TrainHooks& hooks) = 0;
  // Adapt to one task and score its query set. Does not change the learner.
  virtual AdaptResult adapt(const Task& task) const = 0;

  // The direction one outer step would move the parameters on these tasks (meta-gradient averaged
  // over the tasks; Reptile: theta - mean adapted weights), without applying it. Gradient-based
  // meta-learners only (tests compare MAML, first-order MAML and Reptile with it).
  virtual std::vector<Tensor> outer_direction(const std::vector<Task>& tasks);

  // Everything needed to resume or evaluate: parameters, optimizer state, iteration, config.
  void save(const std::filesystem::path& path, const nlohmann::json& extra_metadata = nlohmann::json::object()) const;
  void load(const std::filesystem::path& path);
  int64_t iteration() const { return iteration_; }

  // For tests and tools.
  ParamList& params() { return params_; }
  const ParamList& params() const { return params_; }
  const Backbone& backbone() const { return backbone_; }

 protected:
  explicit Learner(LearnerConfig cfg);
  // Extra tensors a learner keeps (optimizer state, learned inner lrs), named.
  virtual std::vector<std::pair<std::string, Tensor>> state() const;
  virtual void set_state(const std::vector<std::pair<std::string, Tensor>>& items);

  // The shared training loop: calls step(iteration) until cfg.iterations, handling hooks,
  // validation, checkpoints, divergence and resume. step returns the training loss.
  TrainResult run_loop(const TrainData& data, TrainHooks& hooks, const std::function<double(int64_t)>& step);
  double validate(const TrainData& data) const;
  // Throws DivergenceError if the loss or any tensor is not finite.
  void check_finite(double loss, const std::vector<Tensor>& grads, const char* what) const;

  LearnerConfig cfg_;
  Backbone backbone_;
  ParamList params_;
  int64_t iteration_ = 0;
  std::string last_checkpoint_;
};

// Throws ValueError listing the valid names for an unknown one.
std::unique_ptr<Learner> make_learner(const std::string& name, LearnerConfig config);
std::unique_ptr<Learner> make_learner(const std::string& name);  // with LearnerConfig::defaults(name)

// ---- pieces shared by the learners (models/learner.cpp) ----

// Adam over a list of leaves with the fused backend kernel, in place (bumps versions).
class Adam {
 public:
  Adam() = default;
  Adam(const std::vector<Tensor>& params, double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
       double weight_decay = 0);
  void step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads);
  void set_lr(double lr) { lr_ = lr; }
  int64_t steps() const { return step_; }
  // "<prefix>m.<i>", "<prefix>v.<i>", "<prefix>step"
  void append_state(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const;
  bool read_state(const std::string& prefix, const std::vector<std::pair<std::string, Tensor>>& items);

 private:
  std::vector<Tensor> m_, v_;
  double lr_ = 1e-3, b1_ = 0.9, b2_ = 0.999, eps_ = 1e-8, wd_ = 0;
  int64_t step_ = 0;
};

// The task loss: cross-entropy for classification, MSE for regression.
Tensor task_loss(const Tensor& out, const Tensor& y, bool regression);
double accuracy(const Tensor& logits, const Tensor& y);  // fraction of argmax == y
// A per-(seed, iteration) generator: the stream a resumed run sees is the uninterrupted one.
Generator iteration_generator(uint64_t seed, int64_t iteration);

}  // namespace fewshot::models
