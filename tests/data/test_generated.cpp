// Things that need no files: the sinusoid family, resizing, rotation, image folders made here.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#include <cmath>

#include "data/dataset.h"
#include "data/image_ops.h"
#include "data/sinusoid.h"
#include "data/split.h"
#include "tests/data/shared.h"

using namespace fewshot::data;
using fewshot::data::testing::TempDir;

TEST_CASE("Sinusoid: ranges of the MAML family, seeded, y = A sin(x - phase)") {
  const auto tasks = make_sinusoid_tasks(200, 10, 20, 5);
  REQUIRE(tasks.size() == 200);
  double amin = 10, amax = 0, pmin = 10, pmax = 0;
  for (const auto& t : tasks) {
    amin = std::min(amin, t.amplitude);
    amax = std::max(amax, t.amplitude);
    pmin = std::min(pmin, t.phase);
    pmax = std::max(pmax, t.phase);
    REQUIRE(t.support_x.size() == 10);
    REQUIRE(t.query_y.size() == 20);
    for (size_t i = 0; i < t.support_x.size(); ++i) {
      REQUIRE(t.support_x[i] >= -5.0f);
      REQUIRE(t.support_x[i] <= 5.0f);
      REQUIRE(t.support_y[i] == doctest::Approx(t.amplitude * std::sin(t.support_x[i] - t.phase)).epsilon(1e-4));
    }
  }
  CHECK(amin >= 0.1);
  CHECK(amax <= 5.0);
  CHECK(amax - amin > 4.0);  // spans the range
  CHECK(pmin >= 0.0);
  CHECK(pmax <= 3.14159266);
  const auto again = make_sinusoid_tasks(3, 10, 20, 5);
  CHECK(again[2].support_x == tasks[2].support_x);
  CHECK(again[2].amplitude == tasks[2].amplitude);
  CHECK(make_sinusoid_tasks(1, 10, 20, 6)[0].amplitude != tasks[0].amplitude);
  const Dataset s = load_dataset("sinusoid");
  CHECK(s.regression);
  CHECK_THROWS_AS(make_split(s), DataError);
}

TEST_CASE("resize_area: exact box means when shrinking, constant stays constant") {
  const std::vector<float> src = {1, 2, 3, 4,  //
                                  5, 6, 7, 8,  //
                                  9, 10, 11, 12,  //
                                  13, 14, 15, 16};
  std::vector<float> dst(4);
  resize_area(src.data(), 1, 4, 4, dst.data(), 2, 2);
  CHECK(dst[0] == doctest::Approx(3.5));
  CHECK(dst[1] == doctest::Approx(5.5));
  CHECK(dst[2] == doctest::Approx(11.5));
  CHECK(dst[3] == doctest::Approx(13.5));
  // 105 -> 28 (Omniglot): non-integer ratio keeps mean and constants.
  std::vector<float> big(105 * 105, 0.25f), small(28 * 28);
  resize_area(big.data(), 1, 105, 105, small.data(), 28, 28);
  for (float v : small) REQUIRE(v == doctest::Approx(0.25f));
  std::vector<float> ramp(105 * 105);
  for (int i = 0; i < 105 * 105; ++i) ramp[i] = static_cast<float>(i % 105) / 104.0f;
  resize_area(ramp.data(), 1, 105, 105, small.data(), 28, 28);
  double mean = 0;
  for (float v : small) mean += v;
  CHECK(mean / small.size() == doctest::Approx(0.5).epsilon(1e-3));
  // Growing: linear interpolation, endpoints kept.
  std::vector<float> two = {0, 1}, four(4);
  resize_area(two.data(), 1, 1, 2, four.data(), 1, 4);
  CHECK(four[0] == doctest::Approx(0.0));
  CHECK(four[3] == doctest::Approx(1.0));
  CHECK(four[1] < four[2]);
}

TEST_CASE("rotate_square: four quarter turns are the identity") {
  std::vector<float> a(9), b(9), c(9);
  for (int i = 0; i < 9; ++i) a[i] = static_cast<float>(i);
  rotate_square(a.data(), 1, 3, 90, b.data());
  CHECK(b[0] == 2.0f);  // top-right moves to top-left under a counter-clockwise turn
  rotate_square(b.data(), 1, 3, 90, c.data());
  rotate_square(c.data(), 1, 3, 90, b.data());
  rotate_square(b.data(), 1, 3, 90, c.data());
  CHECK(c == a);
  rotate_square(a.data(), 1, 3, 180, b.data());
  CHECK(b[0] == 8.0f);
  CHECK_THROWS_AS(rotate_square(a.data(), 1, 3, 45, b.data()), DataError);
}

namespace {

// root/CLASS/img{0,1}.png + img2.jpg, 12x10, `channels` channels, value 40*c + i.
void make_folder(const std::filesystem::path& root, const std::vector<std::string>& classes, int channels) {
  for (size_t c = 0; c < classes.size(); ++c) {
    std::filesystem::create_directories(root / classes[c]);
    for (int i = 0; i < 3; ++i) {
      std::vector<unsigned char> px(static_cast<size_t>(12 * 10 * channels), static_cast<unsigned char>(40 * c + i));
      const auto f = root / classes[c] / ("img" + std::to_string(i) + (i == 2 ? ".jpg" : ".png"));
      if (i == 2) REQUIRE(stbi_write_jpg(f.c_str(), 12, 10, channels, px.data(), 95));
      else REQUIRE(stbi_write_png(f.c_str(), 12, 10, channels, px.data(), 12 * channels));
    }
  }
}

}  // namespace

TEST_CASE("folder:PATH with disjoint train/ and test/ classes (miniImageNet style), grey images") {
  TempDir tmp("folder2");
  make_folder(tmp.path / "train", {"a", "b", "c", "d", "e"}, 1);
  make_folder(tmp.path / "test", {"x", "y"}, 1);
  LoadOptions o;
  o.image_size = 6;
  const Dataset d = load_dataset("folder:" + tmp.path.string(), o);
  CHECK(d.train.channels == 1);
  CHECK(d.train.size() == 15);
  CHECK(d.test.size() == 6);
  const FewShotSplit s = make_split(d);
  CHECK(s.meta_train.size() == 4);
  CHECK(s.meta_val.size() == 1);
  REQUIRE(s.meta_test.size() == 2);
  CHECK(s.meta_test[1].name == "y");
  CHECK(s.meta_test[1].indices.front() == 15 + 3);  // pool: train images first
  TempDir bad("folder3");
  make_folder(bad.path / "train", {"a", "b"}, 1);
  make_folder(bad.path / "test", {"b", "c"}, 1);
  CHECK_THROWS_WITH_AS(make_split(load_dataset("folder:" + bad.path.string(), o)),
                       doctest::Contains("share some class folders but not all"), DataError);
}

TEST_CASE("folder:PATH loads root/class/*.png|jpg, keeps channels, resizes, default split") {
  TempDir tmp("folder");
  make_folder(tmp.path, {"ant", "bee", "cat", "dog", "eel"}, 3);
  LoadOptions o;
  o.image_size = 8;
  const Dataset d = load_dataset("folder:" + tmp.path.string(), o);
  CHECK(d.train.size() == 15);
  CHECK(d.test.size() == 0);
  CHECK(d.train.channels == 3);
  CHECK(d.train.height == 8);
  CHECK(d.train.class_names[4] == "eel");
  CHECK(d.train.image(3)[0] == doctest::Approx(40.0f / 255.0f).epsilon(0.01));  // bee, img0
  const FewShotSplit s = make_split(d);
  CHECK(s.meta_train.size() == 3);  // 60% of 5
  CHECK(s.meta_val.size() == 1);
  CHECK(s.meta_test.size() == 1);
}
