#pragma once
// Backbones as functions of their parameters (STYLE.md, "Models are functions of their
// parameters"): the parameters are a named, ordered list of plain tensors and forward(x, params)
// runs the network with whatever tensors it is given, so a learner can pass adapted ("fast")
// weights that are themselves graph nodes (MAML's inner loop).
//
// conv4 (Finn et al. 2017, after Vinyals et al. 2016): 4 blocks of 3x3 conv (pad 1), batch norm,
// ReLU and either a 2x2 max-pool or a stride-2 conv (the paper's Omniglot setting), then a linear
// head. As in the paper's code, strided nets average the last feature map over space (64-d
// features for 28x28 inputs) and max-pooled nets flatten it (32*5*5 = 800-d for 84x84).
// The conv layers have no bias: batch norm's beta makes it redundant.
// mlp: in -> hidden... -> out with ReLU (the sinusoid net of the MAML paper: 1-40-40-1).
#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/random.h"
#include "engine/core/tensor.h"

namespace fewshot::models {

// Named parameters in a fixed order. Copying copies the handles (like Tensor).
struct ParamList {
  std::vector<std::string> names;
  std::vector<Tensor> tensors;

  size_t size() const { return tensors.size(); }
  Tensor& operator[](size_t i) { return tensors[i]; }
  const Tensor& operator[](size_t i) const { return tensors[i]; }
  // Throws ValueError naming the missing parameter and the ones that exist.
  const Tensor& at(const std::string& name) const;
  int index_of(const std::string& name) const;  // -1 if absent
  void add(std::string name, Tensor t) { names.push_back(std::move(name)); tensors.push_back(std::move(t)); }
  // Same names, tensors replaced (the fast weights of an inner step).
  ParamList with(std::vector<Tensor> ts) const;
  // Detached copies that require grad: fresh leaves for an adaptation.
  ParamList leaves() const;
  ParamList clone() const;  // deep copy, no history
  int64_t numel() const;
};

// Batch-norm statistics at test time.
//   transductive: each forward call normalizes with its own batch (the query set's statistics for
//                 the query), what MAML's code and most libraries do.
//   support:      statistics from the support set only ("non-transductive"): support and query go
//                 through one forward and every batch norm takes mean and variance from the
//                 support rows alone (models::forward's bn_rows).
enum class BNMode { transductive, support };
BNMode parse_bn_mode(const std::string& s);  // "transductive" | "support" (also "non-transductive")
std::string bn_mode_name(BNMode m);

struct BackboneConfig {
  std::string kind = "conv4";   // "conv4" | "mlp"
  // conv4
  int64_t in_channels = 1, height = 28, width = 28;
  int64_t filters = 64;         // 64 for 28x28 grey images, 32 for 84x84 colour (the paper)
  int64_t blocks = 4;
  bool max_pool = false;        // false: stride-2 convs (the paper's Omniglot net); true: 2x2 max-pool
  // mlp
  int64_t in_features = 1;
  std::vector<int64_t> hidden = {40, 40};
  // 0: He (kaiming) uniform weights; > 0: normal(0, std) truncated at 2 std, the MAML code's MLP
  // init (std 0.01), which keeps the sinusoid net smooth enough for 0.01 inner steps.
  double mlp_weight_std = 0;
  // head
  int64_t outputs = 5;          // classes (ways) or regression outputs

  // Sensible defaults for an image shape: 64 filters and strided convs below 32x32 pixels,
  // 32 filters and max-pooling above (the MAML paper's two settings).
  static BackboneConfig conv4_for(int64_t channels, int64_t height, int64_t width, int64_t outputs);
  // MLP with the MAML code's init (mlp_weight_std 0.01).
  static BackboneConfig mlp_for(int64_t in_features, int64_t outputs, std::vector<int64_t> hidden = {40, 40});
};

// The body/head split used by ANIL and the pretraining baselines: params [0, body_size) are the
// feature extractor, the rest ("head.weight", "head.bias") the final linear layer.
class Backbone {
 public:
  explicit Backbone(BackboneConfig cfg);
  const BackboneConfig& config() const { return cfg_; }

  // Values are drawn on the host (same numbers on every device), then moved to `device`.
  ParamList init(Generator& gen, Device device = Device::cpu()) const;                 // body then head
  ParamList init_head(Generator& gen, int64_t outputs, Device device = Device::cpu()) const;  // a fresh linear head
  size_t body_size() const { return body_size_; }
  int64_t feature_dim() const { return feature_dim_; }

  // Features (n, feature_dim). bn_rows > 0: every batch norm takes its statistics from the first
  // bn_rows rows of x (the support rows, BNMode::support); 0: from the whole batch.
  Tensor features(const Tensor& x, const ParamList& params, int64_t bn_rows = 0) const;
  // Linear head on features, with head parameters found by name in params.
  static Tensor head(const Tensor& feats, const ParamList& params);
  Tensor forward(const Tensor& x, const ParamList& params, int64_t bn_rows = 0) const {
    return head(features(x, params, bn_rows), params);
  }
  // The body's parameters only (a prefix of a full list).
  ParamList body(const ParamList& params) const;

 private:
  BackboneConfig cfg_;
  size_t body_size_ = 0;
  int64_t feature_dim_ = 0;
};

// Batch norm with statistics from the first `rows` rows of x, applied to all of x, written with
// differentiable ops (no new kernel); rows == x.size(0) equals batch_norm.
Tensor batch_norm_rows(const Tensor& x, const Tensor& gamma, const Tensor& beta, int64_t rows, double eps = 1e-5);

}  // namespace fewshot::models
