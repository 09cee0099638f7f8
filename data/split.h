#pragma once
// Few-shot class splits: which classes are meta-train, meta-val and meta-test. A split is a pure
// function of the dataset's files and the options (never of a run's random state), and is saved as
// split.json next to results so every method and every rerun uses the same classes.
//
// Default splits (make_split with SplitOptions{}):
//   mnist, fashion-mnist, cifar10 (10 classes): meta-train = classes 0-4, drawn from the TRAIN file's
//     images; meta-test = classes 5-9, drawn from the TEST file's images; meta-val empty. Override
//     with spec "train=0,1,2,3,4;val=;test=5,6,7,8,9" (labels or class names; train/val classes
//     draw from the train file, test classes from the test file; sides must not overlap).
//   omniglot, spec "maml" (default): the 1623 characters in a fixed order (images_background's
//     964 then images_evaluation's 659, each sorted by "alphabet/characterNN"), shuffled by Rng with
//     kOmniglotSplitSeed; the first 1200 are the MAML paper's training characters, of which the last
//     100 (SplitOptions::omniglot_val) are meta-val, so 1100/100/423. spec "vinyals": the same order
//     cut 1028/172/423 (Vinyals et al. 2016 counts; not their published character lists). With
//     rotations (default) each character gives 4 classes, rotated 0/90/180/270 degrees
//     (Santoro et al. 2016), in every side: 4400/400/1692 classes for maml.
//   folder:PATH without test/: classes sorted by name; first 60% meta-train, next 20% meta-val,
//     rest meta-test, all from the same images. With train/ and test/ folders of disjoint classes
//     (miniImageNet style): train classes -> meta-train (last 20% meta-val), test classes -> meta-test.
//     With the same classes in both: the 10-class rule (first half train file, rest test file).
//   Cross-dataset (make_cross_split): meta-train/meta-val from one dataset's default split, meta-test
//     = every class of another dataset's test file (same channels and image size required).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"

namespace fewshot::data {

enum class SplitSide { meta_train, meta_val, meta_test };
std::string to_string(SplitSide side);         // "meta-train", "meta-val", "meta-test"
SplitSide split_side_from_string(const std::string& s);

// One few-shot class: images of one label of the pool, optionally rotated at materialization.
struct FewShotClass {
  std::string name;              // "3", "Greek/character03@90"
  int32_t label = 0;             // label in the ImageSet its images come from
  int32_t rotation = 0;          // degrees counter-clockwise: 0, 90, 180 or 270
  std::vector<int64_t> indices;  // pool indices (Dataset::pool_image), file order
};

struct FewShotSplit {
  std::string dataset;       // pool of meta_train and meta_val
  std::string test_dataset;  // pool of meta_test (== dataset unless cross-dataset)
  std::string protocol;      // "default-10", "maml", "vinyals", "folder", "custom", "cross"
  std::string description;   // which files' images each side draws from
  std::vector<FewShotClass> meta_train, meta_val, meta_test;

  const std::vector<FewShotClass>& classes(SplitSide side) const;
  nlohmann::json to_json() const;
  static FewShotSplit from_json(const nlohmann::json& j);
  void save(const std::filesystem::path& file) const;  // split.json
  static FewShotSplit load(const std::filesystem::path& file);
};

struct SplitOptions {
  // "" = dataset default; omniglot: "maml" | "vinyals"; any image dataset:
  // "train=A,B,..;val=..;test=.." with labels or class names.
  std::string spec;
  bool rotations = true;         // omniglot: rotated copies as extra classes
  int64_t omniglot_val = 100;    // maml: meta-val characters carved from the 1200 training ones
};

inline constexpr uint64_t kOmniglotSplitSeed = 1;

FewShotSplit make_split(const Dataset& dataset, const SplitOptions& opts = {});
// Meta-train/val from `train_dataset`'s split (opts), meta-test from all of `test_dataset`'s test
// file classes. Throws DataError if image shapes differ.
FewShotSplit make_cross_split(const Dataset& train_dataset, const Dataset& test_dataset,
                              const SplitOptions& opts = {});

// All images of one side as (pool index, rotation, label 0..classes-1) triples, for conventional
// (non-episodic) training on the meta-train classes.
struct LabeledImages {
  std::vector<int64_t> indices;
  std::vector<int32_t> rotations;
  std::vector<int32_t> labels;
};
LabeledImages side_images(const FewShotSplit& split, SplitSide side);

}  // namespace fewshot::data
