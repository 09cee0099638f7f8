// Prototypical Networks, trained episodically with Adam on the backbone's body (the head is unused).
// BN: "transductive" embeds support and query in one batch (Snell et al.'s code); "support" takes
// the statistics from the support rows only.
#include "models/protonet.h"

#include "engine/ops.h"
#include "models/device_timer.h"
#include "models/learners_impl.h"

namespace fewshot::models {

Tensor prototypes(const Tensor& emb, const Tensor& labels, int64_t ways) {
  Tensor sums = index_add(emb, 0, labels, ways);  // (ways, d)
  std::vector<double> counts(static_cast<size_t>(ways), 0.0);
  for (int64_t l : labels.to_indices()) {
    check(l >= 0 && l < ways, "prototypes: label {} outside [0, {})", l, ways);
    counts[static_cast<size_t>(l)] += 1;
  }
  for (auto& c : counts) c = c > 0 ? 1.0 / c : 0.0;
  return mul(sums, Tensor::from_vector(counts, Shape{ways, 1}, emb.dtype(), emb.device()));
}

Tensor proto_logits(const Tensor& query_emb, const Tensor& protos) { return neg(sqdist(query_emb, protos)); }

namespace detail {

namespace {

class ProtoNet final : public Learner {
 public:
  explicit ProtoNet(LearnerConfig cfg) : Learner(std::move(cfg)) {
    body_ = backbone_.body(params_);
    opt_ = Adam(body_.tensors, cfg_.meta_lr);
  }
  std::string name() const override { return "protonet"; }

  TrainResult train(const TrainData& data, TrainHooks& hooks) override {
    check(static_cast<bool>(data.sample_task), "protonet: TrainData::sample_task is not set");
    return run_loop(data, hooks, [&](int64_t it) {
      Generator gen = iteration_generator(cfg_.seed, it);
      std::vector<Tensor> sum;
      double total = 0;
      for (int64_t b = 0; b < cfg_.meta_batch; ++b) {
        Task t = data.sample_task(gen);
        Tensor loss = cross_entropy(logits(t, body_), t.query_y);
        double lv = loss.item();
        check_finite(lv, {}, "episode loss");
        total += lv;
        auto g = grad({loss}, body_.tensors);
        NoGradGuard ng;
        if (sum.empty()) sum = g;
        else
          for (size_t i = 0; i < g.size(); ++i) sum[i] = add(sum[i], g[i]);
      }
      {
        NoGradGuard ng;
        for (auto& s : sum) s = mul(s, 1.0 / static_cast<double>(cfg_.meta_batch));
      }
      double loss = total / static_cast<double>(cfg_.meta_batch);
      check_finite(loss, sum, "gradient");
      opt_.step(body_.tensors, sum);
      return loss;
    });
  }

  AdaptResult adapt(const Task& task) const override {
    check(!task.is_regression(), "protonet: classification tasks only");
    NoGradGuard ng;
    DeviceTimer timer(cfg_.device);
    Tensor lg = logits(task, body_);
    AdaptResult r;
    r.seconds = timer.seconds();
    r.steps = {0};
    r.accuracy = accuracy(lg, task.query_y);
    r.loss = cross_entropy(lg, task.query_y).item();
    r.accuracy_by_step = {r.accuracy};
    r.loss_by_step = {r.loss};
    r.adapt_steps = 0;
    return r;
  }

 protected:
  std::vector<std::pair<std::string, Tensor>> state() const override {
    std::vector<std::pair<std::string, Tensor>> out;
    opt_.append_state("opt.", out);
    return out;
  }
  void set_state(const std::vector<std::pair<std::string, Tensor>>& items) override { opt_.read_state("opt.", items); }

 private:
  Tensor logits(const Task& t, const ParamList& body) const {
    int64_t ns = t.support_x.size(0), nq = t.query_x.size(0);
    Tensor emb = backbone_.features(cat({t.support_x, t.query_x}, 0), body,
                                    cfg_.bn_mode == BNMode::support ? ns : 0);
    Tensor protos = prototypes(narrow(emb, 0, 0, ns), t.support_y, t.ways);
    return proto_logits(narrow(emb, 0, ns, nq), protos);
  }

  ParamList body_;  // handles into params_
  Adam opt_;
};

}  // namespace

std::unique_ptr<Learner> make_protonet(LearnerConfig cfg) { return std::make_unique<ProtoNet>(std::move(cfg)); }

}  // namespace detail
}  // namespace fewshot::models
