// The gradient-based meta-learners: MAML (Finn et al. 2017), first-order MAML, ANIL (Raghu et al.
// 2020: adapt the head only), Meta-SGD (Li et al. 2017: per-parameter inner learning rates learned
// in the outer loop) and Reptile (Nichol et al. 2018). All share test-time adaptation: plain SGD
// steps on the support loss from the meta-learned initialization.

#include "engine/ops.h"
#include "models/device_timer.h"
#include "models/learners_impl.h"

namespace fewshot::models::detail {

namespace {

enum class Kind { maml, fomaml, anil, metasgd, reptile };

Kind kind_of(const std::string& m) {
  if (m == "maml") return Kind::maml;
  if (m == "fomaml") return Kind::fomaml;
  if (m == "anil") return Kind::anil;
  if (m == "metasgd") return Kind::metasgd;
  return Kind::reptile;
}

class GradientLearner final : public Learner {
 public:
  explicit GradientLearner(LearnerConfig cfg) : Learner(std::move(cfg)), kind_(kind_of(cfg_.method)) {
    size_t first = kind_ == Kind::anil ? backbone_.body_size() : 0;
    for (size_t i = first; i < params_.size(); ++i) adapt_idx_.push_back(i);
    if (kind_ == Kind::metasgd)
      for (size_t i : adapt_idx_)
        lrs_.push_back(Tensor::full(params_[i].shape(), cfg_.inner_lr, DType::Float32, cfg_.device).set_requires_grad(true));
    opt_ = Adam(outer_leaves(), cfg_.meta_lr);
  }

  std::string name() const override { return cfg_.method; }

  TrainResult train(const TrainData& data, TrainHooks& hooks) override {
    check(static_cast<bool>(data.sample_task), "{}: TrainData::sample_task is not set", name());
    return run_loop(data, hooks, [&](int64_t it) { return kind_ == Kind::reptile ? reptile_step(data, it)
                                                                                   : maml_step(data, it); });
  }

  AdaptResult adapt(const Task& task) const override {
    AdaptResult r;
    const bool reg = task.is_regression();
    double secs = 0;
    ParamList fast = params_.leaves();
    // ANIL's body is fixed during adaptation: its features are computed once.
    Tensor fs, fq;
    if (kind_ == Kind::anil) {
      NoGradGuard ng;
      DeviceTimer timer(cfg_.device);
      fs = backbone_.features(task.support_x, fast);
      fq = query_features(backbone_, task, fast, cfg_.bn_mode);
      secs += timer.seconds();
    }
    auto record = [&](int64_t step) {
      NoGradGuard ng;
      Tensor out = kind_ == Kind::anil ? Backbone::head(fq, fast) : query_forward(backbone_, task, fast, cfg_.bn_mode);
      double loss = task_loss(out, task.query_y, reg).item();
      double acc = reg ? 0.0 : accuracy(out, task.query_y);
      r.steps.push_back(step);
      r.loss_by_step.push_back(loss);
      r.accuracy_by_step.push_back(acc);
    };
    for (int64_t s = 0; s < cfg_.inner_steps_test; ++s) {
      record(s);
      DeviceTimer timer(cfg_.device);
      Tensor out = kind_ == Kind::anil ? Backbone::head(fs, fast) : backbone_.forward(task.support_x, fast);
      Tensor loss = task_loss(out, task.support_y, reg);
      auto g = grad({loss}, select(fast, adapt_idx_));
      NoGradGuard ng;
      for (size_t j = 0; j < adapt_idx_.size(); ++j) {
        size_t i = adapt_idx_[j];
        Tensor lr_g = kind_ == Kind::metasgd ? mul(lrs_[j].detach(), g[j]) : mul(g[j], cfg_.inner_lr);
        fast[i] = sub(fast[i], lr_g).set_requires_grad(true);
      }
      secs += timer.seconds();
    }
    DeviceTimer timer(cfg_.device);
    record(cfg_.inner_steps_test);
    secs += timer.seconds();
    r.accuracy = r.accuracy_by_step.back();
    r.loss = r.loss_by_step.back();
    r.seconds = secs;
    r.adapt_steps = cfg_.inner_steps_test;
    return r;
  }

  std::vector<Tensor> outer_direction(const std::vector<Task>& tasks) override {
    return kind_ == Kind::reptile ? reptile_direction(tasks) : meta_gradient(tasks);
  }

  // The meta-gradient of one meta-batch, averaged, without applying it.
  std::vector<Tensor> meta_gradient(const std::vector<Task>& tasks, double* loss_out = nullptr) {
    std::vector<Tensor> leaves = outer_leaves();
    std::vector<Tensor> sum(leaves.size());
    double total = 0;
    for (const Task& task : tasks) {
      auto [qloss, g] = task_meta_grad(task, leaves);
      total += qloss;
      NoGradGuard ng;
      for (size_t i = 0; i < g.size(); ++i)
        if (g[i].defined()) sum[i] = sum[i].defined() ? add(sum[i], g[i]) : g[i];
    }
    NoGradGuard ng;
    double inv = 1.0 / static_cast<double>(tasks.size());
    for (auto& s : sum)
      if (s.defined()) s = mul(s, inv);
    if (loss_out) *loss_out = total * inv;
    return sum;
  }

  // Reptile's update direction (theta - mean adapted) for a batch, without applying it.
  std::vector<Tensor> reptile_direction(const std::vector<Task>& tasks, double* loss_out = nullptr) {
    std::vector<Tensor> sum(params_.size());
    double total = 0;
    for (const Task& task : tasks) {
      bool reg = task.is_regression();
      // Reptile trains on all of the task's examples (support and query) in the inner loop.
      Tensor x = cat({task.support_x, task.query_x}, 0), y = cat({task.support_y, task.query_y}, 0);
      ParamList fast = params_.leaves();
      for (int64_t s = 0; s < cfg_.inner_steps_train; ++s) {
        Tensor loss = task_loss(backbone_.forward(x, fast), y, reg);
        if (s == 0) total += loss.item();
        auto g = grad({loss}, fast.tensors);
        NoGradGuard ng;
        for (size_t i = 0; i < fast.size(); ++i) fast[i] = sub(fast[i], mul(g[i], cfg_.inner_lr)).set_requires_grad(true);
      }
      NoGradGuard ng;
      for (size_t i = 0; i < fast.size(); ++i) {
        Tensor d = sub(params_[i].detach(), fast[i].detach());
        sum[i] = sum[i].defined() ? add(sum[i], d) : d;
      }
    }
    NoGradGuard ng;
    double inv = 1.0 / static_cast<double>(tasks.size());
    for (auto& s : sum) s = mul(s, inv);
    if (loss_out) *loss_out = total * inv;
    return sum;
  }

 protected:
  std::vector<std::pair<std::string, Tensor>> state() const override {
    std::vector<std::pair<std::string, Tensor>> out;
    for (size_t j = 0; j < lrs_.size(); ++j) out.emplace_back("inner_lr." + params_.names[adapt_idx_[j]], lrs_[j]);
    opt_.append_state("opt.", out);
    return out;
  }
  void set_state(const std::vector<std::pair<std::string, Tensor>>& items) override {
    for (size_t j = 0; j < lrs_.size(); ++j) {
      std::string n = "inner_lr." + params_.names[adapt_idx_[j]];
      for (auto& [k, t] : items)
        if (k == n) lrs_[j].copy_(t);
    }
    opt_.read_state("opt.", items);
  }

 private:
  static std::vector<Tensor> select(const ParamList& p, const std::vector<size_t>& idx) {
    std::vector<Tensor> out;
    for (size_t i : idx) out.push_back(p[i]);
    return out;
  }

  std::vector<Tensor> outer_leaves() const {
    std::vector<Tensor> l = params_.tensors;
    l.insert(l.end(), lrs_.begin(), lrs_.end());
    return l;
  }

  // Inner loop on the support set, then the query loss and its gradient w.r.t. the outer leaves.
  std::pair<double, std::vector<Tensor>> task_meta_grad(const Task& task, const std::vector<Tensor>& leaves) {
    const bool reg = task.is_regression();
    const bool second_order = kind_ != Kind::fomaml;
    ParamList fast = params_;
    Tensor fs, fq;
    if (kind_ == Kind::anil) {
      fs = backbone_.features(task.support_x, params_);
      fq = query_features(backbone_, task, params_, cfg_.bn_mode);
    }
    for (int64_t s = 0; s < cfg_.inner_steps_train; ++s) {
      Tensor out = kind_ == Kind::anil ? Backbone::head(fs, fast) : backbone_.forward(task.support_x, fast);
      Tensor loss = task_loss(out, task.support_y, reg);
      auto g = grad({loss}, select(fast, adapt_idx_), {}, /*create_graph=*/second_order);
      for (size_t j = 0; j < adapt_idx_.size(); ++j) {
        size_t i = adapt_idx_[j];
        // First-order MAML stops the gradient through the inner gradient (one flag, STYLE.md).
        Tensor gj = second_order ? g[j] : g[j].detach();
        fast[i] = sub(fast[i], kind_ == Kind::metasgd ? mul(lrs_[j], gj) : mul(gj, cfg_.inner_lr));
      }
    }
    Tensor out = kind_ == Kind::anil ? Backbone::head(fq, fast) : query_forward(backbone_, task, fast, cfg_.bn_mode);
    Tensor qloss = task_loss(out, task.query_y, reg);
    double lv = qloss.item();
    check_finite(lv, {}, "query loss");
    return {lv, grad({qloss}, leaves, {}, false, /*allow_unused=*/true)};
  }

  double maml_step(const TrainData& data, int64_t it) {
    Generator gen = iteration_generator(cfg_.seed, it);
    std::vector<Task> tasks;
    for (int64_t b = 0; b < cfg_.meta_batch; ++b) tasks.push_back(data.sample_task(gen));
    double loss = 0;
    std::vector<Tensor> g = meta_gradient(tasks, &loss);
    check_finite(loss, g, "meta-gradient");
    opt_.step(outer_leaves(), g);
    return loss;
  }

  double reptile_step(const TrainData& data, int64_t it) {
    Generator gen = iteration_generator(cfg_.seed, it);
    std::vector<Task> tasks;
    for (int64_t b = 0; b < cfg_.meta_batch; ++b) tasks.push_back(data.sample_task(gen));
    double loss = 0;
    std::vector<Tensor> d = reptile_direction(tasks, &loss);
    check_finite(loss, d, "Reptile update");
    // theta <- theta - eps * (theta - mean phi), eps annealed linearly to 0 (Nichol et al.).
    double eps = cfg_.reptile_eps * (1.0 - static_cast<double>(it) / static_cast<double>(cfg_.iterations));
    NoGradGuard ng;
    for (size_t i = 0; i < params_.size(); ++i) {
      backend_for(params_[i]).sgd_step(params_[i], d[i], Tensor(), eps, 0.0, 0.0, true);
      params_[i].bump_version();
    }
    return loss;
  }

  Kind kind_;
  std::vector<size_t> adapt_idx_;
  std::vector<Tensor> lrs_;  // Meta-SGD: one learning-rate tensor per adapted parameter
  Adam opt_;
};

}  // namespace

std::unique_ptr<Learner> make_gradient_learner(LearnerConfig cfg) {
  return std::make_unique<GradientLearner>(std::move(cfg));
}

}  // namespace fewshot::models::detail
