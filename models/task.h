#pragma once
// What a learner sees: few-shot tasks as tensors, and the callbacks through which the experiment
// driver (or a test) hands out training data. models/ does not depend on the datasets library; the
// driver fills TrainData from it.
#include <cstdint>
#include <functional>
#include <vector>

#include "engine/core/random.h"
#include "engine/core/tensor.h"

namespace fewshot::models {

// One N-way task. Classification: x (n, C, H, W) float32, y int64 (n,) in [0, ways).
// Regression (ways == 0): x (n, in) and y (n, out) float32.
struct Task {
  Tensor support_x, support_y, query_x, query_y;
  int64_t ways = 0;
  bool is_regression() const { return ways == 0; }
  Task to(Device d) const { return {support_x.to(d), support_y.to(d), query_x.to(d), query_y.to(d), ways}; }
};

// A supervised mini-batch over every meta-train class (for the pretraining baselines).
struct Batch {
  Tensor x, y;
};

struct TrainData {
  // A fresh meta-training task; all randomness from gen (so a seed reproduces the stream).
  std::function<Task(Generator& gen)> sample_task;
  // The fixed validation tasks used for the learning curve (same for every method).
  std::vector<Task> val_tasks;
  // A supervised batch of `batch_size` examples over all meta-train classes, labels in
  // [0, num_classes). May be empty for regression or when the driver has no flat view.
  std::function<Batch(Generator& gen, int64_t batch_size)> sample_batch;
  int64_t num_classes = 0;
  // Image shape (C, H, W); for regression {in_features}.
  std::vector<int64_t> input_shape;
  int64_t output_dim = 1;  // regression output width
};

}  // namespace fewshot::models
