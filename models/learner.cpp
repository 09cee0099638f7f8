// The Learner base: configuration, the shared training loop (validation, checkpoints, resume,
// divergence), save/load, Adam, and the factory.
#include "models/learner.h"

#include <chrono>
#include <cmath>
#include <filesystem>

#include "engine/ops.h"
#include "models/checkpoint.h"
#include "models/device_timer.h"
#include "models/learners_impl.h"

namespace fewshot::models {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

const std::vector<std::string>& learner_names() {
  static const std::vector<std::string> names = {"maml",     "fomaml",  "reptile",  "anil",      "metasgd",
                                                 "protonet", "scratch", "baseline", "baseline++"};
  return names;
}

// ---------------------------------------------------------------- config

LearnerConfig LearnerConfig::defaults(const std::string& method) {
  LearnerConfig c;
  c.method = method;
  if (method == "reptile") {
    // Nichol et al. use more inner steps and evaluate with more; SGD inner loop here.
    c.inner_lr = 0.1;
    c.inner_steps_train = 5;
    c.inner_steps_test = 10;
  } else if (method == "anil") {
    c.inner_steps_train = 5;
    c.inner_steps_test = 10;
  } else if (method == "protonet" || method == "baseline" || method == "baseline++") {
    c.meta_batch = 1;  // protonet: one episode per step (Snell et al.)
  }
  return c;
}

#define FEWSHOT_CONFIG_FIELDS(X)                                                                              \
  X(method) X(ways) X(seed) X(iterations) X(meta_batch) X(meta_lr) X(inner_lr) X(inner_steps_train)         \
  X(inner_steps_test) X(reptile_eps) X(scratch_steps) X(scratch_lr) X(scratch_patience) X(scratch_min_loss) \
  X(pretrain_batch) X(pretrain_lr) X(finetune_epochs) X(finetune_batch) X(finetune_lr) X(finetune_momentum) \
  X(finetune_weight_decay) X(cosine_scale) X(val_tasks)

json LearnerConfig::to_json() const {
  json j;
#define X(f) j[#f] = f;
  FEWSHOT_CONFIG_FIELDS(X)
#undef X
  j["bn_mode"] = bn_mode_name(bn_mode);
  j["device"] = device.str();
  const auto& b = backbone;
  j["backbone"] = {{"kind", b.kind},           {"in_channels", b.in_channels}, {"height", b.height},
                   {"width", b.width},         {"filters", b.filters},         {"blocks", b.blocks},
                   {"max_pool", b.max_pool},   {"in_features", b.in_features}, {"hidden", b.hidden},
                   {"outputs", b.outputs},       {"mlp_weight_std", b.mlp_weight_std}};
  return j;
}

LearnerConfig LearnerConfig::from_json(const json& j) {
  LearnerConfig c = defaults(j.value("method", std::string("maml")));
#define X(f) \
  if (j.contains(#f)) j.at(#f).get_to(c.f);
  FEWSHOT_CONFIG_FIELDS(X)
#undef X
  if (j.contains("device")) c.device = parse_device(j.at("device").get<std::string>());
  if (j.contains("bn_mode")) c.bn_mode = parse_bn_mode(j.at("bn_mode").get<std::string>());
  if (j.contains("backbone")) {
    const json& b = j.at("backbone");
    auto& o = c.backbone;
#define X(f) \
  if (b.contains(#f)) b.at(#f).get_to(o.f);
    X(kind) X(in_channels) X(height) X(width) X(filters) X(blocks) X(max_pool) X(in_features) X(hidden) X(outputs) X(mlp_weight_std)
#undef X
  }
  return c;
}

// ---------------------------------------------------------------- helpers

Adam::Adam(const std::vector<Tensor>& params, double lr, double beta1, double beta2, double eps, double weight_decay)
    : lr_(lr), b1_(beta1), b2_(beta2), eps_(eps), wd_(weight_decay) {
  for (auto& p : params) {
    m_.push_back(zeros_like(p.detach()));
    v_.push_back(zeros_like(p.detach()));
  }
}

void Adam::step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads) {
  check(params.size() == m_.size() && grads.size() == m_.size(), "Adam: {} params, {} grads, state for {}",
        params.size(), grads.size(), m_.size());
  NoGradGuard ng;
  ++step_;
  for (size_t i = 0; i < params.size(); ++i) {
    if (!grads[i].defined()) continue;
    backend_for(params[i]).adam_step(params[i], grads[i], m_[i], v_[i], lr_, b1_, b2_, eps_, wd_, step_);
    params[i].bump_version();
  }
}

void Adam::append_state(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const {
  for (size_t i = 0; i < m_.size(); ++i) {
    out.emplace_back(fmt::format("{}m.{}", prefix, i), m_[i]);
    out.emplace_back(fmt::format("{}v.{}", prefix, i), v_[i]);
  }
  out.emplace_back(prefix + "step", Tensor::from_indices({step_}, Shape{1}));
}

bool Adam::read_state(const std::string& prefix, const std::vector<std::pair<std::string, Tensor>>& items) {
  auto find = [&](const std::string& n) -> const Tensor* {
    for (auto& [k, t] : items)
      if (k == n) return &t;
    return nullptr;
  };
  const Tensor* st = find(prefix + "step");
  if (!st) return false;
  for (size_t i = 0; i < m_.size(); ++i) {
    const Tensor* m = find(fmt::format("{}m.{}", prefix, i));
    const Tensor* v = find(fmt::format("{}v.{}", prefix, i));
    check<CheckpointError>(m && v && m->shape() == m_[i].shape() && v->shape() == v_[i].shape(),
                           "checkpoint: optimizer state '{}' {} missing or of the wrong shape", prefix, i);
    m_[i].copy_(*m);
    v_[i].copy_(*v);
  }
  step_ = st->to_indices()[0];
  return true;
}

Tensor task_loss(const Tensor& out, const Tensor& y, bool regression) {
  return regression ? mse_loss(out, y) : cross_entropy(out, y);
}

double accuracy(const Tensor& logits, const Tensor& y) {
  auto pred = argmax(logits, 1).to_indices();
  auto t = y.to_indices();
  int64_t hit = 0;
  for (size_t i = 0; i < t.size(); ++i) hit += pred[i] == t[i];
  return t.empty() ? 0.0 : static_cast<double>(hit) / static_cast<double>(t.size());
}

Generator iteration_generator(uint64_t seed, int64_t iteration) {
  Generator g(seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(iteration) + 1);
  return g.fork();
}

namespace detail {

Tensor query_forward(const Backbone& net, const Task& task, const ParamList& params, BNMode mode) {
  if (mode == BNMode::transductive || task.is_regression()) return net.forward(task.query_x, params);
  int64_t ns = task.support_x.size(0), nq = task.query_x.size(0);
  return narrow(net.forward(cat({task.support_x, task.query_x}, 0), params, ns), 0, ns, nq);
}

Tensor query_features(const Backbone& net, const Task& task, const ParamList& params, BNMode mode) {
  if (mode == BNMode::transductive || task.is_regression()) return net.features(task.query_x, params);
  int64_t ns = task.support_x.size(0), nq = task.query_x.size(0);
  return narrow(net.features(cat({task.support_x, task.query_x}, 0), params, ns), 0, ns, nq);
}

}  // namespace detail

// ---------------------------------------------------------------- Learner

static LearnerConfig fix_outputs(LearnerConfig c) {
  if (c.backbone.kind == "conv4" || c.ways > 0) c.backbone.outputs = c.ways > 0 ? c.ways : c.backbone.outputs;
  return c;
}

Learner::Learner(LearnerConfig cfg) : cfg_(fix_outputs(std::move(cfg))), backbone_(cfg_.backbone) {
  Generator g(cfg_.seed);
  params_ = backbone_.init(g, cfg_.device);
  for (auto& p : params_.tensors) p.set_requires_grad(true);
}

std::vector<Tensor> Learner::outer_direction(const std::vector<Task>&) {
  fail("{}: outer_direction is only defined for the gradient-based meta-learners", name());
}

std::vector<std::pair<std::string, Tensor>> Learner::state() const { return {}; }
void Learner::set_state(const std::vector<std::pair<std::string, Tensor>>&) {}

void Learner::check_finite(double loss, const std::vector<Tensor>& grads, const char* what) const {
  bool bad = !std::isfinite(loss);
  std::string which = bad ? "loss" : "";
  for (size_t i = 0; !bad && i < grads.size(); ++i)
    if (grads[i].defined() && backend_for(grads[i]).count_nonfinite(grads[i]) > 0) {
      bad = true;
      which = fmt::format("gradient of '{}'", i < params_.size() ? params_.names[i] : std::to_string(i));
    }
  if (!bad) return;
  std::string ck = last_checkpoint_.empty() ? "no checkpoint was written"
                                            : fmt::format("last good checkpoint: {}", last_checkpoint_);
  throw DivergenceError(fmt::format("{}: training diverged at iteration {} ({}: non-finite {}, loss {}); {}", name(),
                                    iteration_, what, which, loss, ck),
                        iteration_, last_checkpoint_);
}

double Learner::validate(const TrainData& data) const {
  size_t n = data.val_tasks.size();
  if (cfg_.val_tasks > 0) n = std::min(n, static_cast<size_t>(cfg_.val_tasks));
  if (n == 0) return 0;
  double s = 0;
  for (size_t i = 0; i < n; ++i) {
    AdaptResult r = adapt(data.val_tasks[i]);
    s += data.val_tasks[i].is_regression() ? -r.loss : r.accuracy;
  }
  return s / static_cast<double>(n);
}

TrainResult Learner::run_loop(const TrainData& data, TrainHooks& hooks, const std::function<double(int64_t)>& step) {
  TrainResult res;
  double compute_before = 0;
  if (!hooks.checkpoint_path.empty() && hooks.resume && std::filesystem::exists(hooks.checkpoint_path)) {
    NamedTensors f = load_safetensors(hooks.checkpoint_path);
    load(hooks.checkpoint_path);
    last_checkpoint_ = hooks.checkpoint_path.string();
    compute_before = f.metadata.value("compute_seconds", 0.0);
    if (f.metadata.contains("curve"))
      for (auto& p : f.metadata["curve"])
        res.curve.push_back({p.at(0).get<int64_t>(), p.at(1).get<double>(), p.at(2).get<double>(),
                             p.at(3).get<double>()});
  }
  res.start_iteration = iteration_;
  auto wall0 = Clock::now();
  double compute = compute_before, loss_acc = 0;
  int64_t loss_n = 0;
  auto seconds_since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  auto save_ckpt = [&] {
    if (hooks.checkpoint_path.empty()) return;
    json curve = json::array();
    for (auto& c : res.curve) curve.push_back({c.iteration, c.seconds, c.val_accuracy, c.loss});
    save(hooks.checkpoint_path, {{"curve", curve}, {"compute_seconds", compute}});
    last_checkpoint_ = hooks.checkpoint_path.string();
  };
  auto add_point = [&] {
    CurvePoint p{iteration_, compute, validate(data), loss_n ? loss_acc / static_cast<double>(loss_n) : 0.0};
    loss_acc = 0;
    loss_n = 0;
    res.curve.push_back(p);
    if (hooks.on_curve) hooks.on_curve(p);
  };
  if (hooks.val_every > 0 && iteration_ == 0 && res.curve.empty()) add_point();
  while (iteration_ < cfg_.iterations) {
    if ((hooks.stop && hooks.stop->load()) ||
        (hooks.time_budget_seconds > 0 && seconds_since(wall0) >= hooks.time_budget_seconds)) {
      res.stopped = true;
      break;
    }
    DeviceTimer timer(cfg_.device);
    double loss = step(iteration_);
    compute += timer.seconds();
    ++iteration_;
    loss_acc += loss;
    ++loss_n;
    if (hooks.on_progress) hooks.on_progress({iteration_, loss, compute});
    if (hooks.val_every > 0 && (iteration_ % hooks.val_every == 0 || iteration_ == cfg_.iterations)) add_point();
    if (hooks.checkpoint_every > 0 && iteration_ % hooks.checkpoint_every == 0) save_ckpt();
  }
  if (res.stopped && hooks.val_every > 0 && (res.curve.empty() || res.curve.back().iteration != iteration_))
    add_point();
  // A final checkpoint, so a stopped run resumes where it stopped.
  if (hooks.checkpoint_every > 0 && iteration_ > res.start_iteration && iteration_ % hooks.checkpoint_every != 0)
    save_ckpt();
  res.iterations = iteration_;
  res.wall_seconds = seconds_since(wall0);
  res.compute_seconds = compute;
  res.last_checkpoint = last_checkpoint_;
  return res;
}

void Learner::save(const std::filesystem::path& path, const json& extra_metadata) const {
  std::vector<std::pair<std::string, Tensor>> items;
  for (size_t i = 0; i < params_.size(); ++i) items.emplace_back(params_.names[i], params_.tensors[i]);
  for (auto& s : state()) items.push_back(s);
  json meta = {{"format", "fewshot-learner"}, {"method", name()}, {"iteration", iteration_},
               {"config", cfg_.to_json()}};
  for (auto& [k, v] : extra_metadata.items()) meta[k] = v;
  save_safetensors(path, items, meta);
}

void Learner::load(const std::filesystem::path& path) {
  NamedTensors f = load_safetensors(path);
  NoGradGuard ng;  // in-place copies into leaves
  std::string method = f.metadata.value("method", std::string());
  check<CheckpointError>(method == name(), "checkpoint {}: written by method '{}', loading into '{}'",
                         path.string(), method, name());
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& t = f.at(params_.names[i]);
    check<CheckpointError>(t.shape() == params_[i].shape(), "checkpoint {}: '{}' has shape {}, the model needs {}",
                           path.string(), params_.names[i], t.shape().str(), params_[i].shape().str());
    params_[i].copy_(t);
  }
  set_state(f.items);
  iteration_ = f.metadata.value("iteration", int64_t{0});
}

// ---------------------------------------------------------------- factory

std::unique_ptr<Learner> make_learner(const std::string& name, LearnerConfig config) {
  config.method = name;
  if (name == "maml" || name == "fomaml" || name == "anil" || name == "metasgd" || name == "reptile")
    return detail::make_gradient_learner(std::move(config));
  if (name == "protonet") return detail::make_protonet(std::move(config));
  if (name == "scratch" || name == "baseline" || name == "baseline++")
    return detail::make_conventional_learner(std::move(config));
  std::string valid;
  for (auto& n : learner_names()) valid += (valid.empty() ? "" : ", ") + n;
  fail("unknown learner '{}' (valid: {})", name, valid);
}

std::unique_ptr<Learner> make_learner(const std::string& name) {
  return make_learner(name, LearnerConfig::defaults(name));
}

}  // namespace fewshot::models
