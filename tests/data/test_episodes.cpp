// Splits and episodes: determinism, disjointness, JSON round trips, pinned values (so a change of
// generator or ordering, which would silently change every published number, fails here).
#include <set>

#include "data/episode.h"
#include "data/rng.h"
#include "data/split.h"
#include "tests/data/shared.h"

using namespace fewshot::data;
using fewshot::data::testing::cached;
using fewshot::data::testing::TempDir;

TEST_CASE("Rng: SplitMix64 reference values and unbiased bounded draws") {
  Rng r(0);
  CHECK(r.next_u64() == 0xe220a8397b1dcdafULL);
  CHECK(r.next_u64() == 0x6e789e6aa1b965f4ULL);
  CHECK(r.next_u64() == 0x06c45d188009454fULL);
  Rng a(7);
  std::vector<int> hist(6, 0);
  for (int i = 0; i < 60000; ++i) {
    const auto v = a.uniform_int(6);
    REQUIRE(v < 6);
    ++hist[v];
  }
  for (int h : hist) CHECK(std::abs(h - 10000) < 500);
  for (int i = 0; i < 1000; ++i) {
    const double u = a.uniform01();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
  }
}

TEST_CASE("10-class default split: 0-4 from the train file, 5-9 from the test file") {
  const Dataset& d = cached("mnist");
  const FewShotSplit s = make_split(d);
  REQUIRE(s.meta_train.size() == 5);
  REQUIRE(s.meta_test.size() == 5);
  CHECK(s.meta_val.empty());
  CHECK(s.protocol == "default-10");
  for (int c = 0; c < 5; ++c) {
    CHECK(s.meta_train[c].label == c);
    CHECK(s.meta_test[c].label == c + 5);
    for (int64_t i : s.meta_train[c].indices) REQUIRE(i < d.train.size());
    for (int64_t i : s.meta_test[c].indices) {
      REQUIRE(i >= d.train.size());
      REQUIRE(d.test.labels[i - d.train.size()] == c + 5);
    }
  }
  CHECK(s.meta_train[1].indices.size() == 6742);
  CHECK(s.meta_test[0].indices.size() == 892);

  SplitOptions o;
  o.spec = "train=0,1,2;val=3;test=7,8,9";
  const FewShotSplit c = make_split(d, o);
  CHECK(c.meta_train.size() == 3);
  CHECK(c.meta_val.size() == 1);
  CHECK(c.meta_test[0].name == "7");
  o.spec = "train=0,1;test=1,2";
  CHECK_THROWS_WITH_AS(make_split(d, o), doctest::Contains("appears twice"), DataError);
  o.spec = "train=0,11";
  CHECK_THROWS_WITH_AS(make_split(d, o), doctest::Contains("'11'"), DataError);
}

TEST_CASE("Omniglot splits: MAML 1100/100/423 and Vinyals 1028/172/423 characters, x4 rotations") {
  const Dataset& d = cached("omniglot");
  const FewShotSplit m = make_split(d);
  CHECK(m.protocol == "maml");
  CHECK(m.meta_train.size() == 4400);
  CHECK(m.meta_val.size() == 400);
  CHECK(m.meta_test.size() == 1692);
  SplitOptions v;
  v.spec = "vinyals";
  const FewShotSplit vs = make_split(d, v);
  CHECK(vs.meta_train.size() == 1028 * 4);
  CHECK(vs.meta_val.size() == 172 * 4);
  CHECK(vs.meta_test.size() == 423 * 4);
  SplitOptions nr;
  nr.rotations = false;
  CHECK(make_split(d, nr).meta_train.size() == 1100);

  // Characters are disjoint across sides (compare the base character, rotations aside).
  auto base = [](const std::string& n) { return n.substr(0, n.find('@')); };
  std::set<std::string> train_chars;
  for (const auto& c : m.meta_train) train_chars.insert(base(c.name));
  for (const auto& c : m.meta_val) CHECK(!train_chars.count(base(c.name)));
  for (const auto& c : m.meta_test) CHECK(!train_chars.count(base(c.name)));
  // Rotations: 4 consecutive classes per character, same images.
  CHECK(m.meta_train[0].rotation == 0);
  CHECK(m.meta_train[1].rotation == 90);
  CHECK(m.meta_train[3].rotation == 270);
  CHECK(m.meta_train[1].indices == m.meta_train[0].indices);

  // Split determinism: a fixed rule, independent of anything else that ran.
  CHECK(make_split(d).to_json() == m.to_json());
  // Pinned: the first meta-train and meta-test characters of the fixed order + seed-1 shuffle.
  CHECK(m.meta_train[0].name == "Manipuri/character01");
  CHECK(m.meta_test[0].name == "Gurmukhi/character28");
}

TEST_CASE("Episodes: same seed identical, different seeds differ, support/query disjoint") {
  const Dataset& d = cached("omniglot");
  const FewShotSplit s = make_split(d);
  EpisodeSampler a(s, SplitSide::meta_train, 5, 1, 15, 123), b(s, SplitSide::meta_train, 5, 1, 15, 123),
      c(s, SplitSide::meta_train, 5, 1, 15, 124);
  bool any_diff = false;
  for (int i = 0; i < 50; ++i) {
    const Episode ea = a.next(), eb = b.next(), ec = c.next();
    REQUIRE(ea == eb);
    any_diff = any_diff || !(ea == ec);
    CHECK(ea.support.size() == 5);
    CHECK(ea.query.size() == 75);
    std::set<std::pair<int64_t, int32_t>> sup;  // an image is (pool index, rotation)
    for (size_t k = 0; k < ea.support.size(); ++k) sup.insert({ea.support[k], ea.rotations[ea.support_labels[k]]});
    for (size_t k = 0; k < ea.query.size(); ++k)
      REQUIRE(!sup.count({ea.query[k], ea.rotations[ea.query_labels[k]]}));
    std::set<int32_t> classes(ea.classes.begin(), ea.classes.end());
    CHECK(classes.size() == 5);
    for (size_t k = 0; k < ea.query_labels.size(); ++k) CHECK(ea.query_labels[k] == static_cast<int32_t>(k / 15));
  }
  CHECK(any_diff);
}

TEST_CASE("Test episodes: only meta-test classes, stable prefix, JSON round trip, materialize") {
  const Dataset& d = cached("mnist");
  const FewShotSplit s = make_split(d);
  const EpisodeSet set = make_test_episodes(s, 5, 5, 15, 40, 2024);
  REQUIRE(set.episodes.size() == 40);
  for (const auto& e : set.episodes) {
    for (int64_t i : e.support) {
      REQUIRE(i >= d.train.size());                 // test-file images
      REQUIRE(d.test.labels[i - d.train.size()] >= 5);  // never a meta-train class
    }
    for (int64_t i : e.query) REQUIRE(d.test.labels[i - d.train.size()] >= 5);
    std::set<int64_t> sup(e.support.begin(), e.support.end());
    for (int64_t i : e.query) REQUIRE(!sup.count(i));
  }
  // Episode i does not depend on how many were asked for.
  const EpisodeSet prefix = make_test_episodes(s, 5, 5, 15, 3, 2024);
  CHECK(prefix.episodes[2] == set.episodes[2]);
  CHECK(!(make_test_episodes(s, 5, 5, 15, 1, 2025).episodes[0] == set.episodes[0]));
  // Pinned first episode: the generator, the sampler and the MNIST order together.
  CHECK(set.episodes[0].classes[0] == 4);
  CHECK(set.episodes[0].support[0] == 65961);

  TempDir tmp("episodes");
  set.save(tmp.path / "episodes.json");
  const EpisodeSet back = EpisodeSet::load(tmp.path / "episodes.json");
  CHECK(back.episodes == set.episodes);
  CHECK(back.seed == 2024);
  CHECK(back.ways == 5);
  s.save(tmp.path / "split.json");
  CHECK(FewShotSplit::load(tmp.path / "split.json").to_json() == s.to_json());

  const EpisodeBatch b = materialize(set.episodes[0], d, d.norm);
  CHECK(b.support.count == 25);
  CHECK(b.query.count == 75);
  CHECK(b.support.pixels.size() == 25 * 28 * 28);
  CHECK(b.query.labels == set.episodes[0].query_labels);
  // Normalized: background pixels map to -mean/std.
  const float* first = b.support.pixels.data();
  CHECK(first[0] == doctest::Approx(-d.norm.mean[0] / d.norm.std[0]));
  // Augmentation hook sees [0,1] pixels and is reproducible from the seed.
  int calls = 0;
  const AugmentFn flip = [&](float* chw, int64_t, int64_t h, int64_t w, Rng& rng) {
    ++calls;
    if (rng.uniform_int(2))
      for (int64_t y = 0; y < h; ++y) std::reverse(chw + y * w, chw + (y + 1) * w);
  };
  const auto x1 = materialize(set.episodes[0], d, d.norm, flip, 9);
  const auto x2 = materialize(set.episodes[0], d, d.norm, flip, 9);
  CHECK(calls == 200);
  CHECK(x1.query.pixels == x2.query.pixels);
}

TEST_CASE("Omniglot materialize applies the class rotation") {
  const Dataset& d = cached("omniglot");
  const FewShotSplit s = make_split(d);
  Episode e;
  e.ways = 1;
  e.shots = 1;
  e.queries = 0;
  e.classes = {1};
  e.rotations = {s.meta_train[1].rotation};  // 90
  e.support = {s.meta_train[1].indices[0]};
  e.support_labels = {0};
  const Normalization id = Normalization::identity(1);
  const auto b = materialize(e, d, id);
  const float* src = d.pool_image(e.support[0]);
  // 90 degrees counter-clockwise: output (y, x) = input (x, 27 - y).
  for (int y = 0; y < 28; ++y)
    for (int x = 0; x < 28; ++x) REQUIRE(b.support.pixels[y * 28 + x] == src[x * 28 + (27 - y)]);
}

TEST_CASE("Cross-dataset split: Omniglot meta-train, MNIST test classes") {
  const FewShotSplit s = make_cross_split(cached("omniglot"), cached("mnist"));
  CHECK(s.protocol == "cross");
  CHECK(s.dataset == "omniglot");
  CHECK(s.test_dataset == "mnist");
  CHECK(s.meta_train.size() == 4400);
  CHECK(s.meta_test.size() == 10);
  const EpisodeSet set = make_test_episodes(s, 10, 1, 5, 3, 1);
  CHECK(set.dataset == "mnist");
  const auto b = materialize(set.episodes[0], cached("mnist"), cached("omniglot").norm);
  CHECK(b.support.count == 10);
  CHECK_THROWS_WITH_AS(make_cross_split(cached("mnist"), fewshot::data::testing::synthetic(10, 1, 3, 32, 32)),
                       doctest::Contains("1x28x28 vs 3x32x32"), DataError);
}
