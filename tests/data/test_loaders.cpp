// Real MNIST, Fashion-MNIST, CIFAR-10 and Omniglot from the mirror: counts, shapes, value ranges,
// known label counts, normalization.
#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "data/dataset.h"
#include "tests/data/shared.h"

using namespace fewshot::data;
using fewshot::data::testing::cached;

namespace {

void check_range(const ImageSet& s) {
  const auto [lo, hi] = std::minmax_element(s.pixels.begin(), s.pixels.end());
  CHECK(*lo >= 0.0f);
  CHECK(*hi <= 1.0f);
  CHECK(*hi > 0.9f);  // something is bright
  CHECK(s.pixels.size() == static_cast<size_t>(s.size() * s.image_numel()));
}

}  // namespace

TEST_CASE("MNIST: counts, shape, range and the known label counts") {
  const Dataset& d = cached("mnist");
  CHECK(d.train.size() == 60000);
  CHECK(d.test.size() == 10000);
  CHECK(d.train.channels == 1);
  CHECK(d.train.height == 28);
  CHECK(d.train.width == 28);
  CHECK(d.train.class_names.size() == 10);
  check_range(d.train);
  check_range(d.test);
  CHECK(d.train.class_counts() ==
        std::vector<int64_t>{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949});
  CHECK(d.test.class_counts() ==
        std::vector<int64_t>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009});
  CHECK(d.train.labels[0] == 5);  // the famous first training digit
  CHECK(d.norm.mean[0] == doctest::Approx(0.1307).epsilon(0.002));
  CHECK(d.norm.std[0] == doctest::Approx(0.3081).epsilon(0.002));
}

TEST_CASE("Fashion-MNIST: counts, shape, range, 6000/1000 per class") {
  const Dataset d = load_dataset("fashion-mnist");
  CHECK(d.train.size() == 60000);
  CHECK(d.test.size() == 10000);
  CHECK(d.train.height == 28);
  check_range(d.train);
  check_range(d.test);
  CHECK(d.train.class_counts() == std::vector<int64_t>(10, 6000));
  CHECK(d.test.class_counts() == std::vector<int64_t>(10, 1000));
  CHECK(d.train.class_names[9] == "Ankle boot");
  CHECK(d.train.labels[0] == 9);  // first Fashion-MNIST training image is an ankle boot
}

TEST_CASE("CIFAR-10 subset: one training batch and the test batch, per-class counts") {
  const Dataset d = load_dataset("cifar10");
  CHECK(d.train.size() == 10000);
  CHECK(d.test.size() == 10000);
  CHECK(d.train.channels == 3);
  CHECK(d.train.height == 32);
  CHECK(d.train.width == 32);
  CHECK(d.train.class_names ==
        std::vector<std::string>{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                 "horse", "ship", "truck"});
  check_range(d.train);
  check_range(d.test);
  // A single training batch is not balanced (the mirror's data_batch_1 is a rebuilt subset, so
  // its counts differ from the official file's); the test batch is, 1000 per class.
  const auto counts = d.train.class_counts();
  for (int64_t c : counts) {
    CHECK(c > 900);
    CHECK(c < 1100);
  }
  CHECK(d.notes.at(0).find("airplane=" + std::to_string(counts[0])) != std::string::npos);
  CHECK(d.test.class_counts() == std::vector<int64_t>(10, 1000));
  REQUIRE(d.notes.size() == 1);
  CHECK(d.notes[0].find("1 of 5 training batches") != std::string::npos);
  CHECK(d.norm.mean.size() == 3);
}

TEST_CASE("Omniglot: 964 + 659 characters, 19280 + 13180 images, 28x28, ink is 1") {
  const Dataset& d = cached("omniglot");
  CHECK(d.train.class_names.size() == 964);
  CHECK(d.test.class_names.size() == 659);
  CHECK(d.train.size() == 19280);
  CHECK(d.test.size() == 13180);
  CHECK(d.train.channels == 1);
  CHECK(d.train.height == 28);
  CHECK(d.train.width == 28);
  CHECK(d.train.class_counts() == std::vector<int64_t>(964, 20));
  CHECK(d.test.class_counts() == std::vector<int64_t>(659, 20));
  CHECK(std::is_sorted(d.train.class_names.begin(), d.train.class_names.end()));
  CHECK(d.train.class_names[0] == "Alphabet_of_the_Magi/character01");
  check_range(d.train);
  check_range(d.test);
  // Strokes are a minority of pixels and the corners are background (0 after inversion).
  CHECK(d.norm.mean[0] > 0.02f);
  CHECK(d.norm.mean[0] < 0.3f);
  int64_t corner_ink = 0;
  for (int64_t i = 0; i < d.train.size(); ++i) corner_ink += d.train.image(i)[0] > 0.5f;
  CHECK(corner_ink < d.train.size() / 100);
}

TEST_CASE("data_dir: explicit option, then FEWSHOT_DATA_DIR, then <repo>/data-cache") {
  LoadOptions o;
  o.data_dir = "/some/where";
  CHECK(data_dir(o) == "/some/where");
  CHECK(default_data_dir() == std::filesystem::path(FEWSHOT_SOURCE_DIR) / "data-cache");
  CHECK(repo_dir() == std::filesystem::path(FEWSHOT_SOURCE_DIR));
}
