#pragma once
// N-way K-shot Q-query episodes: which classes and which images, as pool indices, drawn from a
// seeded Rng so that a seed gives the same episodes on every machine; a fixed, saveable set of test
// episodes so every method is scored on identical tasks (paired comparison); and materialization
// into contiguous, normalized float buffers.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "data/rng.h"
#include "data/split.h"

namespace fewshot::data {

struct Episode {
  int64_t ways = 0, shots = 0, queries = 0;
  std::vector<int32_t> classes;    // positions in split.classes(side), size ways; way w = label w
  std::vector<int32_t> rotations;  // per way, degrees (Omniglot rotation classes), size ways
  // Pool indices, class-major: way w's images are [w*shots, (w+1)*shots) and
  // [w*queries, (w+1)*queries). Support and query never share an image.
  std::vector<int64_t> support, query;
  std::vector<int32_t> support_labels, query_labels;  // 0..ways-1

  nlohmann::json to_json() const;
  static Episode from_json(const nlohmann::json& j);
  bool operator==(const Episode&) const = default;
};

// One episode from `side` of `split`: `ways` distinct classes, then for each class shots + queries
// distinct images (first `shots` support, rest query). Throws DataError if ways exceeds the side's
// classes or shots + queries exceeds a chosen class's images.
Episode sample_episode(const FewShotSplit& split, SplitSide side, int64_t ways, int64_t shots,
                       int64_t queries, Rng& rng);

// Endless stream of training episodes from one seed. Keeps a reference to `split`, which must
// outlive the sampler.
class EpisodeSampler {
 public:
  EpisodeSampler(const FewShotSplit& split, SplitSide side, int64_t ways, int64_t shots,
                 int64_t queries, uint64_t seed);
  Episode next() { return sample_episode(split_, side_, ways_, shots_, queries_, rng_); }

 private:
  const FewShotSplit& split_;
  SplitSide side_;
  int64_t ways_, shots_, queries_;
  Rng rng_;
};

// A fixed set of episodes (test or validation), saved as JSON with results.
struct EpisodeSet {
  std::string dataset;  // split.test_dataset for meta-test, else split.dataset
  std::string side;     // "meta-test" / "meta-val"
  int64_t ways = 0, shots = 0, queries = 0;
  uint64_t seed = 0;
  std::vector<Episode> episodes;

  nlohmann::json to_json() const;
  static EpisodeSet from_json(const nlohmann::json& j);
  void save(const std::filesystem::path& file) const;
  static EpisodeSet load(const std::filesystem::path& file);
};

// `count` episodes; episode i is drawn from Rng(mix64(seed ^ mix64(i + 1))), so the first k
// episodes do not depend on count.
EpisodeSet make_test_episodes(const FewShotSplit& split, int64_t ways, int64_t shots,
                              int64_t queries, int64_t count, uint64_t seed,
                              SplitSide side = SplitSide::meta_test);

// Optional augmentation, applied to each materialized image (C x H x W, [0,1] range, before
// normalization). It must draw randomness only from `rng` to stay reproducible.
using AugmentFn = std::function<void(float* chw, int64_t channels, int64_t height, int64_t width, Rng& rng)>;

// Images gathered into one contiguous batch.
struct ImageBatch {
  int64_t count = 0, channels = 0, height = 0, width = 0;
  std::vector<float> pixels;    // count x C x H x W, normalized
  std::vector<int32_t> labels;  // count
};

// Copies pool images `indices` (rotated by rotations[i] degrees if given; empty = none) of
// `dataset`, applies `augment` (if set, with Rng(augment_seed)) and then `norm`.
ImageBatch gather_images(const Dataset& dataset, const std::vector<int64_t>& indices,
                         const std::vector<int32_t>& rotations, const std::vector<int32_t>& labels,
                         const Normalization& norm, const AugmentFn& augment = {},
                         uint64_t augment_seed = 0);

struct EpisodeBatch {
  ImageBatch support;  // ways*shots images, labels 0..ways-1
  ImageBatch query;    // ways*queries images
};

// Support and query buffers of an episode drawn from `dataset` (the split's dataset for meta-train
// and meta-val, its test_dataset for meta-test), normalized with `norm`: usually dataset.norm; in
// cross-dataset runs pass the meta-train dataset's norm, since a learner trained on it expects its
// statistics (and record which in the results).
EpisodeBatch materialize(const Episode& episode, const Dataset& dataset, const Normalization& norm,
                         const AugmentFn& augment = {}, uint64_t augment_seed = 0);

}  // namespace fewshot::data
