// Conventional deep learning on few-shot tasks.
//  scratch:    the backbone from a fresh random initialization, trained on each test task's support
//              set alone (Adam, full batch, at most scratch_steps steps, early stopping on the
//              support loss). No meta-training: train() returns at once.
//  baseline:   Chen et al. 2019 ("A Closer Look at Few-shot Classification"): supervised
//              pretraining of body + linear head on all meta-train classes (Adam), then per test
//              task a new linear head on frozen features, fitted by SGD with momentum for
//              finetune_epochs epochs over the support set in mini-batches of finetune_batch
//              (their code: 100 epochs, batch 4, lr 0.01, momentum 0.9, weight decay 1e-3).
//  baseline++: the same with a cosine-similarity head, logits = s * cos(f, w_c) (no bias; their
//              scale s = 2 for <= 200 classes, else 10).
// Features at test use the run's BN mode: each batch's own statistics (transductive) or the support
// set's (support). The pretrained net has no running statistics (our batch_norm keeps none).
#include <algorithm>
#include <cmath>

#include "engine/ops.h"
#include "models/device_timer.h"
#include "models/learners_impl.h"

namespace fewshot::models::detail {

namespace {

// The steps at which accuracy is recorded: 0, 1, 2, 5, 10, 20, 50, 100, 200, ... up to last.
std::vector<int64_t> record_schedule(int64_t last) {
  std::vector<int64_t> s;
  for (int64_t base = 1;; base *= 10) {
    for (int64_t m : {1, 2, 5}) {
      if (base * m >= last) {
        s.insert(s.begin(), 0);
        s.push_back(last);
        return s;
      }
      s.push_back(base * m);
    }
  }
}

Tensor l2_normalize_rows(const Tensor& x) { return div(x, add(sqrt(sum(mul(x, x), {1}, true)), 1e-5)); }

class Conventional final : public Learner {
 public:
  explicit Conventional(LearnerConfig cfg) : Learner(std::move(cfg)) {
    cosine_ = cfg_.method == "baseline++";
    scratch_ = cfg_.method == "scratch";
  }
  std::string name() const override { return cfg_.method; }

  TrainResult train(const TrainData& data, TrainHooks& hooks) override {
    if (scratch_) {
      TrainResult r;  // nothing to learn before the test tasks
      return r;
    }
    check(static_cast<bool>(data.sample_batch) && data.num_classes > 0,
          "{}: pretraining needs TrainData::sample_batch and num_classes", name());
    ensure_pretrain_head(data.num_classes);
    return run_loop(data, hooks, [&](int64_t it) {
      Generator gen = iteration_generator(cfg_.seed, it);
      Batch b = data.sample_batch(gen, cfg_.pretrain_batch);
      ParamList body = backbone_.body(params_);
      Tensor logits = head_logits(backbone_.features(b.x, body), pre_head_, scale_for(data.num_classes));
      Tensor loss = cross_entropy(logits, b.y);
      double lv = loss.item();
      check_finite(lv, {}, "pretraining loss");
      std::vector<Tensor> leaves = pre_leaves();
      auto g = grad({loss}, leaves);
      check_finite(lv, g, "pretraining gradient");
      opt_.step(leaves, g);
      return lv;
    });
  }

  AdaptResult adapt(const Task& task) const override {
    check(!task.is_regression(), "{}: classification tasks only", name());
    return scratch_ ? adapt_scratch(task) : adapt_head(task);
  }

 protected:
  std::vector<std::pair<std::string, Tensor>> state() const override {
    std::vector<std::pair<std::string, Tensor>> out;
    if (pre_head_.size()) {
      for (size_t i = 0; i < pre_head_.size(); ++i) out.emplace_back("pretrain_" + pre_head_.names[i], pre_head_[i]);
      opt_.append_state("opt.", out);
    }
    return out;
  }
  void set_state(const std::vector<std::pair<std::string, Tensor>>& items) override {
    for (auto& [k, t] : items)
      if (k == "pretrain_head.weight") ensure_pretrain_head(t.size(0));
    for (auto& [k, t] : items)
      for (size_t i = 0; i < pre_head_.size(); ++i)
        if (k == "pretrain_" + pre_head_.names[i]) pre_head_[i].copy_(t);
    if (pre_head_.size()) opt_.read_state("opt.", items);
  }

 private:
  double scale_for(int64_t classes) const { return cfg_.cosine_scale > 0 ? cfg_.cosine_scale : classes <= 200 ? 2 : 10; }

  void ensure_pretrain_head(int64_t classes) {
    if (pre_head_.size() && pre_head_[0].size(0) == classes) return;
    Generator g(cfg_.seed + 1);
    pre_head_ = backbone_.init_head(g, classes, cfg_.device);
    for (auto& t : pre_head_.tensors) t.set_requires_grad(true);
    opt_ = Adam(pre_leaves(), cfg_.pretrain_lr);
  }

  std::vector<Tensor> pre_leaves() const {
    std::vector<Tensor> l(params_.tensors.begin(), params_.tensors.begin() + static_cast<long>(backbone_.body_size()));
    l.push_back(pre_head_[0]);
    if (!cosine_) l.push_back(pre_head_[1]);
    return l;
  }

  Tensor head_logits(const Tensor& f, const ParamList& head, double scale) const {
    if (!cosine_) return Backbone::head(f, head);
    return mul(matmul_t(l2_normalize_rows(f), l2_normalize_rows(head[0]), false, true), scale);
  }

  AdaptResult adapt_head(const Task& task) const {
    AdaptResult r;
    DeviceTimer t0(cfg_.device);
    Tensor fs, fq;
    {
      NoGradGuard ng;
      ParamList body = backbone_.body(params_);
      fs = backbone_.features(task.support_x, body);
      fq = query_features(backbone_, task, body, cfg_.bn_mode);
    }
    Generator g(cfg_.seed + 2);
    ParamList head = backbone_.init_head(g, task.ways, cfg_.device);
    for (auto& t : head.tensors) t.set_requires_grad(true);
    std::vector<Tensor> leaves = {head[0]};
    if (!cosine_) leaves.push_back(head[1]);
    std::vector<Tensor> bufs;
    for (auto& l : leaves) bufs.push_back(zeros_like(l.detach()));
    const double scale = scale_for(task.ways);
    double secs = t0.seconds();

    int64_t ns = fs.size(0), bs = std::max<int64_t>(1, std::min(cfg_.finetune_batch, ns));
    std::vector<int64_t> sched = record_schedule(cfg_.finetune_epochs);
    size_t next = 0;
    int64_t steps = 0;
    auto record = [&](int64_t epoch) {
      NoGradGuard ng;
      Tensor lg = head_logits(fq, head, scale);
      r.steps.push_back(epoch);
      r.accuracy_by_step.push_back(accuracy(lg, task.query_y));
      r.loss_by_step.push_back(cross_entropy(lg, task.query_y).item());
    };
    std::vector<int64_t> perm(static_cast<size_t>(ns));
    for (int64_t e = 0; e <= cfg_.finetune_epochs; ++e) {
      if (next < sched.size() && sched[next] == e) {
        record(e);
        ++next;
      }
      if (e == cfg_.finetune_epochs) break;
      DeviceTimer t1(cfg_.device);
      for (int64_t i = 0; i < ns; ++i) perm[i] = i;
      for (int64_t i = ns - 1; i > 0; --i) std::swap(perm[i], perm[g.below(static_cast<uint64_t>(i + 1))]);
      for (int64_t b0 = 0; b0 < ns; b0 += bs) {
        int64_t n = std::min(bs, ns - b0);
        Tensor idx = Tensor::from_indices(std::vector<int64_t>(perm.begin() + b0, perm.begin() + b0 + n), Shape{n}).to(fs.device());
        Tensor loss = cross_entropy(head_logits(index_select(fs, 0, idx), head, scale), index_select(task.support_y, 0, idx));
        auto gr = grad({loss}, leaves);
        NoGradGuard ng;
        for (size_t i = 0; i < leaves.size(); ++i) {
          backend_for(leaves[i]).sgd_step(leaves[i], gr[i], bufs[i], cfg_.finetune_lr, cfg_.finetune_momentum,
                                          cfg_.finetune_weight_decay, steps == 0);
          leaves[i].bump_version();
        }
        ++steps;
      }
      secs += t1.seconds();
    }
    r.accuracy = r.accuracy_by_step.back();
    r.loss = r.loss_by_step.back();
    r.seconds = secs;
    r.adapt_steps = steps;
    return r;
  }

  AdaptResult adapt_scratch(const Task& task) const {
    AdaptResult r;
    Generator g(cfg_.seed);
    ParamList p = backbone_.init(g, cfg_.device);
    if (p[p.size() - 2].size(0) != task.ways) {
      ParamList h = backbone_.init_head(g, task.ways, cfg_.device);
      p[p.size() - 2] = h[0];
      p[p.size() - 1] = h[1];
    }
    for (auto& t : p.tensors) t.set_requires_grad(true);
    Adam opt(p.tensors, cfg_.scratch_lr);
    std::vector<int64_t> sched = record_schedule(cfg_.scratch_steps);
    size_t next = 0;
    double best = INFINITY, secs = 0;
    int64_t since_best = 0, s = 0;
    bool stopped = false;
    auto record = [&](int64_t step) {
      NoGradGuard ng;
      Tensor lg = query_forward(backbone_, task, p, cfg_.bn_mode);
      r.steps.push_back(step);
      r.accuracy_by_step.push_back(accuracy(lg, task.query_y));
      r.loss_by_step.push_back(cross_entropy(lg, task.query_y).item());
    };
    for (s = 0; s <= cfg_.scratch_steps; ++s) {
      if (next < sched.size() && sched[next] == s) {
        record(s);
        ++next;
      }
      if (s == cfg_.scratch_steps || stopped) break;
      DeviceTimer t0(cfg_.device);
      Tensor loss = cross_entropy(backbone_.forward(task.support_x, p), task.support_y);
      double lv = loss.item();
      auto gr = grad({loss}, p.tensors);
      opt.step(p.tensors, gr);
      secs += t0.seconds();
      // Early stopping on the support loss (the only data a conventional learner may look at).
      if (lv < best - 1e-4) {
        best = lv;
        since_best = 0;
      } else if (++since_best >= cfg_.scratch_patience) {
        stopped = true;
      }
      if (lv < cfg_.scratch_min_loss) stopped = true;
    }
    int64_t taken = s;
    // After an early stop the remaining scheduled points keep the final accuracy.
    if (next < sched.size()) {
      NoGradGuard ng;
      Tensor lg = query_forward(backbone_, task, p, cfg_.bn_mode);
      double acc = accuracy(lg, task.query_y), loss = cross_entropy(lg, task.query_y).item();
      for (; next < sched.size(); ++next) {
        r.steps.push_back(sched[next]);
        r.accuracy_by_step.push_back(acc);
        r.loss_by_step.push_back(loss);
      }
    }
    DeviceTimer t0(cfg_.device);
    {
      NoGradGuard ng;
      query_forward(backbone_, task, p, cfg_.bn_mode);  // the final prediction, timed as part of adaptation
    }
    secs += t0.seconds();
    r.accuracy = r.accuracy_by_step.back();
    r.loss = r.loss_by_step.back();
    r.seconds = secs;
    r.adapt_steps = taken;
    return r;
  }

  bool cosine_ = false, scratch_ = false;
  ParamList pre_head_;  // pretraining head over all meta-train classes
  Adam opt_;
};

}  // namespace

std::unique_ptr<Learner> make_conventional_learner(LearnerConfig cfg) {
  return std::make_unique<Conventional>(std::move(cfg));
}

}  // namespace fewshot::models::detail
