#pragma once
// One dataset prepared for a comparison: its files loaded, the class split fixed, the validation
// and test episodes drawn (identical for every method), and the bridge from data/ buffers to the
// learners' tensors (models::TrainData and models::Task).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/episode.h"
#include "data/split.h"
#include "engine/core/device.h"
#include "models/task.h"

namespace fewshot {

struct PreparedDataset {
  std::string name;  // "mnist", or "omniglot->mnist" for a cross-dataset run
  std::shared_ptr<const data::Dataset> train;  // meta-train/val pool
  std::shared_ptr<const data::Dataset> test;   // meta-test pool (== train unless cross-dataset)
  data::FewShotSplit split;
};

// Loads the dataset(s) and fixes the split. Throws DataError/ValueError naming the problem.
PreparedDataset prepare_dataset(const std::string& name, const std::string& cross, const std::string& split_spec,
                                int64_t image_size, const std::string& data_dir);

// Checks that `ways`-way `shots`+`queries` tasks can be drawn from every side used, with the
// numbers in the message when not (e.g. "mnist has 5 meta-test classes; --ways 10 needs 10").
void check_feasible(const PreparedDataset& ds, int64_t ways, int64_t shots, int64_t queries, int64_t val_episodes);

// A tensor task from an episode of `pool`, normalized with the meta-train dataset's statistics.
models::Task make_task(const data::Episode& e, const data::Dataset& pool, const data::Normalization& norm,
                       Device device);

// The tasks the learning curves are measured on ("validation accuracy"): new classes, never the
// meta-train ones. From the split's meta-val classes when it has them (Omniglot, folders); the
// 10-class datasets have none, so there the curves use the meta-test classes, but only images of
// the dataset's training file, which no test episode uses. Nothing is selected on these curves
// (no early stopping), so they measure progress on new classes without touching the test tasks.
struct CurveTasks {
  data::EpisodeSet episodes;
  const data::Dataset* pool = nullptr;  // where their images are
  std::string description;
};
CurveTasks make_curve_tasks(const PreparedDataset& ds, int64_t ways, int64_t shots, int64_t queries, int64_t count,
                            uint64_t seed);

// TrainData for one (dataset, ways, shots, queries): fresh meta-train episodes per call, the fixed
// curve tasks, and supervised batches over all meta-train classes (for the baselines).
models::TrainData make_train_data(const PreparedDataset& ds, int64_t ways, int64_t shots, int64_t queries,
                                  const CurveTasks& curve, Device device);

}  // namespace fewshot
