#include "models/backbone.h"

#include <cmath>

#include "engine/ops.h"

namespace fewshot::models {

const Tensor& ParamList::at(const std::string& name) const {
  int i = index_of(name);
  if (i < 0) {
    std::string have;
    for (auto& n : names) have += (have.empty() ? "" : ", ") + n;
    fail("ParamList: no parameter '{}' (have: {})", name, have);
  }
  return tensors[i];
}

int ParamList::index_of(const std::string& name) const {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<int>(i);
  return -1;
}

ParamList ParamList::with(std::vector<Tensor> ts) const {
  check(ts.size() == names.size(), "ParamList::with: {} tensors for {} names", ts.size(), names.size());
  return ParamList{names, std::move(ts)};
}

ParamList ParamList::leaves() const {
  ParamList out{names, {}};
  for (auto& t : tensors) out.tensors.push_back(t.detach().set_requires_grad(true));
  return out;
}

ParamList ParamList::clone() const {
  ParamList out{names, {}};
  for (auto& t : tensors) out.tensors.push_back(t.detach().clone());
  return out;
}

int64_t ParamList::numel() const {
  int64_t n = 0;
  for (auto& t : tensors) n += t.numel();
  return n;
}

BNMode parse_bn_mode(const std::string& s) {
  if (s == "transductive") return BNMode::transductive;
  if (s == "support" || s == "non-transductive" || s == "support-only") return BNMode::support;
  fail("unknown batch-norm mode '{}' (valid: transductive, support)", s);
}

std::string bn_mode_name(BNMode m) { return m == BNMode::transductive ? "transductive" : "support"; }

BackboneConfig BackboneConfig::conv4_for(int64_t channels, int64_t height, int64_t width, int64_t outputs) {
  BackboneConfig c;
  c.kind = "conv4";
  c.in_channels = channels;
  c.height = height;
  c.width = width;
  bool small = height < 32 && width < 32;
  c.filters = small ? 64 : 32;
  c.max_pool = !small;
  c.outputs = outputs;
  return c;
}

BackboneConfig BackboneConfig::mlp_for(int64_t in_features, int64_t outputs, std::vector<int64_t> hidden) {
  BackboneConfig c;
  c.kind = "mlp";
  c.in_features = in_features;
  c.hidden = std::move(hidden);
  c.outputs = outputs;
  c.mlp_weight_std = 0.01;  // the MAML code's sinusoid init
  return c;
}

Backbone::Backbone(BackboneConfig cfg) : cfg_(std::move(cfg)) {
  if (cfg_.kind == "conv4") {
    check(cfg_.blocks >= 1 && cfg_.filters >= 1, "conv4: needs blocks >= 1 and filters >= 1");
    int64_t h = cfg_.height, w = cfg_.width;
    for (int64_t b = 0; b < cfg_.blocks; ++b) {
      // 3x3 pad 1 stride 2 and 2x2/2 max-pool (floor) map h to ceil(h/2) and floor(h/2).
      h = cfg_.max_pool ? h / 2 : (h + 1) / 2;
      w = cfg_.max_pool ? w / 2 : (w + 1) / 2;
      check<ShapeError>(h >= 1 && w >= 1, "conv4: input {}x{} too small for {} blocks", cfg_.height, cfg_.width,
                        cfg_.blocks);
    }
    feature_dim_ = cfg_.max_pool ? cfg_.filters * h * w : cfg_.filters;
    body_size_ = static_cast<size_t>(3 * cfg_.blocks);
  } else if (cfg_.kind == "mlp") {
    feature_dim_ = cfg_.hidden.empty() ? cfg_.in_features : cfg_.hidden.back();
    body_size_ = 2 * cfg_.hidden.size();
  } else {
    fail("unknown backbone '{}' (valid: conv4, mlp)", cfg_.kind);
  }
}

ParamList Backbone::init_head(Generator& gen, int64_t outputs, Device device) const {
  ParamList p;
  p.add("head.weight", xavier_uniform(Shape{outputs, feature_dim_}, gen).to(device));
  p.add("head.bias", Tensor::zeros(Shape{outputs}, DType::Float32, device));
  return p;
}

ParamList Backbone::init(Generator& gen, Device device) const {
  ParamList p;
  if (cfg_.kind == "conv4") {
    int64_t c = cfg_.in_channels;
    for (int64_t b = 1; b <= cfg_.blocks; ++b) {
      p.add(fmt::format("conv{}.weight", b), kaiming_uniform(Shape{cfg_.filters, c, 3, 3}, gen));
      p.add(fmt::format("bn{}.weight", b), Tensor::ones(Shape{cfg_.filters}));
      p.add(fmt::format("bn{}.bias", b), Tensor::zeros(Shape{cfg_.filters}));
      c = cfg_.filters;
    }
  } else {
    int64_t in = cfg_.in_features;
    for (size_t l = 0; l < cfg_.hidden.size(); ++l) {
      Shape ws{cfg_.hidden[l], in};
      if (cfg_.mlp_weight_std > 0) {
        std::vector<double> v(static_cast<size_t>(ws.numel()));
        for (auto& x : v) do x = gen.normal(); while (std::abs(x) > 2.0);
        for (auto& x : v) x *= cfg_.mlp_weight_std;
        p.add(fmt::format("fc{}.weight", l + 1), Tensor::from_vector(v, ws));
      } else {
        p.add(fmt::format("fc{}.weight", l + 1), kaiming_uniform(ws, gen));
      }
      p.add(fmt::format("fc{}.bias", l + 1), Tensor::zeros(Shape{cfg_.hidden[l]}));
      in = cfg_.hidden[l];
    }
  }
  for (auto& t : p.tensors) t = t.to(device);
  ParamList h = init_head(gen, cfg_.outputs, device);
  for (size_t i = 0; i < h.size(); ++i) p.add(h.names[i], h.tensors[i]);
  return p;
}

ParamList Backbone::body(const ParamList& params) const {
  check(params.size() >= body_size_, "Backbone::body: {} parameters, body needs {}", params.size(), body_size_);
  ParamList b;
  for (size_t i = 0; i < body_size_; ++i) b.add(params.names[i], params.tensors[i]);
  return b;
}

Tensor batch_norm_rows(const Tensor& x, const Tensor& gamma, const Tensor& beta, int64_t rows, double eps) {
  if (rows <= 0 || rows == x.size(0)) return batch_norm(x, gamma, beta, eps);
  check<ShapeError>(rows < x.size(0), "batch_norm_rows: {} statistic rows for a batch of {}", rows, x.size(0));
  std::vector<int> dims = x.dim() == 2 ? std::vector<int>{0} : std::vector<int>{0, 2, 3};
  Shape cs = x.dim() == 2 ? Shape{1, x.size(1)} : Shape{1, x.size(1), 1, 1};
  Tensor s = narrow(x, 0, 0, rows);
  Tensor mu = mean(s, dims, true);
  Tensor sc = sub(s, mu);
  Tensor invstd = pow(add(mean(mul(sc, sc), dims, true), eps), -0.5);
  return add(mul(mul(sub(x, mu), invstd), reshape(gamma, cs)), reshape(beta, cs));
}

Tensor Backbone::features(const Tensor& x, const ParamList& params, int64_t bn_rows) const {
  Tensor h = x;
  if (cfg_.kind == "conv4") {
    check<ShapeError>(x.dim() == 4 && x.size(1) == cfg_.in_channels && x.size(2) == cfg_.height &&
                          x.size(3) == cfg_.width,
                      "conv4: expected input (N, {}, {}, {}), got {}", cfg_.in_channels, cfg_.height, cfg_.width,
                      x.shape().str());
    for (int64_t b = 0; b < cfg_.blocks; ++b) {
      const Tensor& w = params[3 * b];
      h = conv2d(h, w, Tensor(), {cfg_.max_pool ? 1 : 2, 1, 1});
      h = relu(batch_norm_rows(h, params[3 * b + 1], params[3 * b + 2], bn_rows));
      if (cfg_.max_pool) h = max_pool2d(h, {2, 2, 0});
    }
    return cfg_.max_pool ? flatten(h, 1) : mean(h, {2, 3});
  }
  check<ShapeError>(x.dim() == 2 && x.size(1) == cfg_.in_features, "mlp: expected input (N, {}), got {}",
                    cfg_.in_features, x.shape().str());
  for (size_t l = 0; l < cfg_.hidden.size(); ++l) h = relu(linear(h, params[2 * l], params[2 * l + 1]));
  return h;
}

Tensor Backbone::head(const Tensor& feats, const ParamList& params) {
  return linear(feats, params.at("head.weight"), params.at("head.bias"));
}

}  // namespace fewshot::models
