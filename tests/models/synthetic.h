#pragma once
// Tiny synthetic task families for fast learner tests (no datasets library).
//  images:   `classes` fixed random 1x8x8 patterns; an example is its class pattern plus noise.
//            A task picks `ways` classes and shuffles which label each gets, so a learner must
//            adapt to the labelling (what meta-learning learns to do quickly).
//  sinusoid: the MAML paper's family, y = A sin(x - phase), A ~ U[0.1, 5], phase ~ U[0, pi],
//            x ~ U[-5, 5].
#include <cmath>
#include <numeric>
#include <vector>

#include "engine/ops.h"
#include "models/learner.h"

namespace fewshot::testing {

struct ImageFamily {
  int64_t classes = 20, ways = 3, shots = 2, queries = 4, side = 8;
  double noise = 0.6;
  std::vector<std::vector<double>> patterns;

  explicit ImageFamily(uint64_t seed = 7, int64_t n_classes = 20) : classes(n_classes) {
    Generator g(seed);
    for (int64_t c = 0; c < classes; ++c) {
      std::vector<double> p(static_cast<size_t>(side * side));
      for (auto& v : p) v = g.normal();
      patterns.push_back(p);
    }
  }

  Tensor example_batch(const std::vector<int64_t>& cls, Generator& g) const {
    std::vector<double> v;
    for (int64_t c : cls)
      for (double p : patterns[static_cast<size_t>(c)]) v.push_back(p + noise * g.normal());
    return Tensor::from_vector(v, Shape{static_cast<int64_t>(cls.size()), 1, side, side});
  }

  models::Task task(Generator& g, int64_t first_class = 0, int64_t n_classes = -1) const {
    if (n_classes < 0) n_classes = classes;
    std::vector<int64_t> pool(static_cast<size_t>(n_classes));
    std::iota(pool.begin(), pool.end(), first_class);
    for (int64_t i = n_classes - 1; i > 0; --i) std::swap(pool[i], pool[g.below(static_cast<uint64_t>(i + 1))]);
    std::vector<int64_t> sc, qc, sy, qy;
    for (int64_t w = 0; w < ways; ++w) {
      for (int64_t s = 0; s < shots; ++s) sc.push_back(pool[w]), sy.push_back(w);
      for (int64_t q = 0; q < queries; ++q) qc.push_back(pool[w]), qy.push_back(w);
    }
    models::Task t;
    t.support_x = example_batch(sc, g);
    t.query_x = example_batch(qc, g);
    t.support_y = Tensor::from_indices(sy, Shape{static_cast<int64_t>(sy.size())});
    t.query_y = Tensor::from_indices(qy, Shape{static_cast<int64_t>(qy.size())});
    t.ways = ways;
    return t;
  }

  // Meta-train on the first half of the classes, validate on the second half.
  models::TrainData train_data(int64_t val_tasks = 8, uint64_t val_seed = 99) const {
    models::TrainData d;
    int64_t half = classes / 2;
    d.sample_task = [this, half](Generator& g) { return task(g, 0, half); };
    Generator vg(val_seed);
    for (int64_t i = 0; i < val_tasks; ++i) d.val_tasks.push_back(task(vg, half, classes - half));
    d.sample_batch = [this, half](Generator& g, int64_t n) {
      std::vector<int64_t> cls;
      for (int64_t i = 0; i < n; ++i) cls.push_back(static_cast<int64_t>(g.below(static_cast<uint64_t>(half))));
      return models::Batch{example_batch(cls, g), Tensor::from_indices(cls, Shape{n})};
    };
    d.num_classes = half;
    d.input_shape = {1, side, side};
    return d;
  }

  std::vector<models::Task> test_tasks(int64_t n, uint64_t seed = 1234) const {
    Generator g(seed);
    std::vector<models::Task> ts;
    for (int64_t i = 0; i < n; ++i) ts.push_back(task(g, classes / 2, classes - classes / 2));
    return ts;
  }

  models::LearnerConfig config(const std::string& method) const {
    models::LearnerConfig c = models::LearnerConfig::defaults(method);
    c.backbone.kind = "conv4";
    c.backbone.in_channels = 1;
    c.backbone.height = c.backbone.width = side;
    c.backbone.filters = 8;
    c.backbone.blocks = 2;
    c.backbone.max_pool = false;
    c.ways = ways;
    c.meta_batch = 4;
    c.meta_lr = 3e-3;
    c.seed = 5;
    return c;
  }
};

struct Sinusoid {
  int64_t k = 10, q = 10;
  models::Task task(Generator& g) const {
    double amp = g.uniform(0.1, 5.0), phase = g.uniform(0.0, M_PI);
    auto points = [&](int64_t n, Tensor& x, Tensor& y) {
      std::vector<double> xs, ys;
      for (int64_t i = 0; i < n; ++i) {
        double v = g.uniform(-5.0, 5.0);
        xs.push_back(v);
        ys.push_back(amp * std::sin(v - phase));
      }
      x = Tensor::from_vector(xs, Shape{n, 1});
      y = Tensor::from_vector(ys, Shape{n, 1});
    };
    models::Task t;
    points(k, t.support_x, t.support_y);
    points(q, t.query_x, t.query_y);
    t.ways = 0;
    return t;
  }
  std::vector<models::Task> tasks(int64_t n, uint64_t seed) const {
    Generator g(seed);
    std::vector<models::Task> ts;
    for (int64_t i = 0; i < n; ++i) ts.push_back(task(g));
    return ts;
  }
};

}  // namespace fewshot::testing
