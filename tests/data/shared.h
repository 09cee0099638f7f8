#pragma once
// Real datasets loaded once per test binary (the fetch_data fixture fills FEWSHOT_DATA_DIR), and a
// scratch folder for the corrupt-file tests.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace fewshot::data::testing {

// MNIST and Omniglot are used by many tests: each is decoded at most once (function-local statics).
// Fashion-MNIST and CIFAR-10 are loaded where used and freed after, to keep the binary's memory low.
inline const Dataset& cached(const std::string& name) {
  if (name == "mnist") { static const Dataset d = load_dataset("mnist"); return d; }
  if (name == "omniglot") { static const Dataset d = load_dataset("omniglot"); return d; }
  FAIL("cached(): only mnist and omniglot are shared, got " << name);
  throw;
}

// A small in-memory dataset: `per_class` images of each of `classes` labels, C x H x W, pixel
// value = label / 10, train file only.
inline Dataset synthetic(int64_t classes, int64_t per_class, int64_t c, int64_t h, int64_t w) {
  Dataset d;
  d.name = "synthetic";
  d.train.channels = d.test.channels = c;
  d.train.height = d.test.height = h;
  d.train.width = d.test.width = w;
  for (int64_t k = 0; k < classes; ++k) {
    d.train.class_names.push_back(std::to_string(k));
    for (int64_t i = 0; i < per_class; ++i) {
      d.train.labels.push_back(static_cast<int32_t>(k));
      d.train.pixels.insert(d.train.pixels.end(), static_cast<size_t>(c * h * w), static_cast<float>(k) / 10.0f);
    }
  }
  d.norm = Normalization::of(d.train);
  return d;
}

// A fresh, empty folder under the system temp folder, removed when the object dies.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& tag) {
    path = std::filesystem::temp_directory_path() /
           ("fewshot-data-test-" + tag + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

inline void write_bytes(const std::filesystem::path& p, const std::vector<unsigned char>& bytes) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace fewshot::data::testing
