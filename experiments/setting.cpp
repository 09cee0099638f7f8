#include "experiments/setting.h"

#include <algorithm>

#include <fmt/format.h>

#include "engine/core/error.h"
#include "engine/ops/shape_ops.h"

namespace fewshot {

PreparedDataset prepare_dataset(const std::string& name, const std::string& cross, const std::string& split_spec,
                                int64_t image_size, const std::string& data_dir) {
  data::LoadOptions load;
  load.data_dir = data_dir;
  load.image_size = image_size;
  PreparedDataset p;
  auto train = std::make_shared<data::Dataset>(data::load_dataset(name, load));
  data::SplitOptions opts;
  opts.spec = split_spec;
  if (cross.empty() || cross == name) {
    p.name = name;
    p.split = data::make_split(*train, opts);
    p.train = p.test = train;
  } else {
    auto test = std::make_shared<data::Dataset>(data::load_dataset(cross, load));
    p.name = name + "->" + cross;
    p.split = data::make_cross_split(*train, *test, opts);
    p.train = train;
    p.test = test;
  }
  return p;
}

void check_feasible(const PreparedDataset& ds, int64_t ways, int64_t shots, int64_t queries, int64_t val_episodes) {
  auto check_side = [&](data::SplitSide side) {
    const auto& classes = ds.split.classes(side);
    std::string where = fmt::format("{} {}", ds.name, data::to_string(side));
    check<ValueError>(static_cast<int64_t>(classes.size()) >= ways,
                      "{} has {} classes; {}-way tasks need at least {} (lower --ways, or pick another --split)",
                      where, classes.size(), ways, ways);
    size_t enough = std::count_if(classes.begin(), classes.end(), [&](const data::FewShotClass& c) {
      return static_cast<int64_t>(c.indices.size()) >= shots + queries;
    });
    int64_t smallest = classes.empty() ? 0 : static_cast<int64_t>(std::min_element(classes.begin(), classes.end(),
        [](auto& a, auto& b) { return a.indices.size() < b.indices.size(); })->indices.size());
    check<ValueError>(static_cast<int64_t>(enough) >= ways,
                      "{}: {}-shot tasks with {} queries need {} images per class, but only {} of its classes have "
                      "that many (smallest class: {} images)",
                      where, shots, queries, shots + queries, enough, smallest);
  };
  check_side(data::SplitSide::meta_train);
  check_side(data::SplitSide::meta_test);
  if (val_episodes > 0 && !ds.split.meta_val.empty()) check_side(data::SplitSide::meta_val);
}

namespace {

Tensor image_tensor(const data::ImageBatch& b, Device device) {
  return Tensor::from_floats(b.pixels.data(), Shape{b.count, b.channels, b.height, b.width}, device);
}

Tensor label_tensor(const std::vector<int32_t>& labels, Device device) {
  return Tensor::from_indices(std::vector<int64_t>(labels.begin(), labels.end()),
                              Shape{static_cast<int64_t>(labels.size())}, device);
}

}  // namespace

models::Task make_task(const data::Episode& e, const data::Dataset& pool, const data::Normalization& norm,
                       Device device) {
  data::EpisodeBatch b = data::materialize(e, pool, norm);
  models::Task t;
  t.support_x = image_tensor(b.support, device);
  t.support_y = label_tensor(b.support.labels, device);
  t.query_x = image_tensor(b.query, device);
  t.query_y = label_tensor(b.query.labels, device);
  t.ways = e.ways;
  return t;
}

CurveTasks make_curve_tasks(const PreparedDataset& ds, int64_t ways, int64_t shots, int64_t queries, int64_t count,
                            uint64_t seed) {
  CurveTasks c;
  if (!ds.split.meta_val.empty()) {
    c.episodes = data::make_test_episodes(ds.split, ways, shots, queries, count, seed, data::SplitSide::meta_val);
    c.pool = ds.train.get();
    c.description = "meta-val classes";
    return c;
  }
  data::FewShotSplit curve = ds.split;
  auto by_label = ds.test->train.indices_by_class();  // pool indices: the training file comes first
  curve.meta_val = curve.meta_test;
  for (auto& cls : curve.meta_val) {
    check<ValueError>(cls.label >= 0 && cls.label < static_cast<int32_t>(by_label.size()),
                      "{}: class {} has no images in the training file for the learning curves", ds.name, cls.name);
    cls.indices = by_label[cls.label];
  }
  c.episodes = data::make_test_episodes(curve, ways, shots, queries, count, seed, data::SplitSide::meta_val);
  c.pool = ds.test.get();
  c.description = "meta-test classes, training-file images (no test episode uses them; the split has no meta-val)";
  return c;
}

models::TrainData make_train_data(const PreparedDataset& ds, int64_t ways, int64_t shots, int64_t queries,
                                  const CurveTasks& curve, Device device) {
  models::TrainData td;
  auto train = ds.train;
  auto split = std::make_shared<data::FewShotSplit>(ds.split);
  // Meta-training tasks: a fresh episode drawn from the learner's generator, so a seed (and a
  // resumed run) reproduces the stream.
  td.sample_task = [train, split, ways, shots, queries, device](Generator& gen) {
    data::Rng rng(gen.next_u64());
    data::Episode e = data::sample_episode(*split, data::SplitSide::meta_train, ways, shots, queries, rng);
    return make_task(e, *train, train->norm, device);
  };
  for (const auto& e : curve.episodes.episodes) td.val_tasks.push_back(make_task(e, *curve.pool, train->norm, device));
  // Supervised batches over every meta-train class (Baseline / Baseline++ pretraining).
  auto flat = std::make_shared<data::LabeledImages>(data::side_images(*split, data::SplitSide::meta_train));
  td.num_classes = static_cast<int64_t>(split->meta_train.size());
  td.sample_batch = [train, flat, device](Generator& gen, int64_t batch) {
    std::vector<int64_t> idx;
    std::vector<int32_t> rot, lab;
    for (int64_t i = 0; i < batch; ++i) {
      auto k = static_cast<size_t>(gen.below(flat->indices.size()));
      idx.push_back(flat->indices[k]);
      rot.push_back(flat->rotations[k]);
      lab.push_back(flat->labels[k]);
    }
    data::ImageBatch b = data::gather_images(*train, idx, rot, lab, train->norm);
    return models::Batch{image_tensor(b, device), label_tensor(b.labels, device)};
  };
  td.input_shape = {train->channels(), train->height(), train->width()};
  return td;
}

}  // namespace fewshot
