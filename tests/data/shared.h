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

inline const Dataset& cached(const std::string& name) {
  // Function-local statics: each dataset is decoded at most once, on first use.
  if (name == "mnist") { static const Dataset d = load_dataset("mnist"); return d; }
  if (name == "fashion-mnist") { static const Dataset d = load_dataset("fashion-mnist"); return d; }
  if (name == "cifar10") { static const Dataset d = load_dataset("cifar10"); return d; }
  static const Dataset d = load_dataset("omniglot");
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
