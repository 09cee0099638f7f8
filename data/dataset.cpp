#include "data/dataset.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "data/archive.h"

#ifndef FEWSHOT_REPO_DIR
#error "data/CMakeLists.txt defines FEWSHOT_REPO_DIR"
#endif

namespace fewshot::data {
namespace fs = std::filesystem;

std::vector<int64_t> ImageSet::class_counts() const {
  std::vector<int64_t> counts(class_names.size(), 0);
  for (int32_t l : labels) ++counts[static_cast<size_t>(l)];
  return counts;
}

std::vector<std::vector<int64_t>> ImageSet::indices_by_class() const {
  std::vector<std::vector<int64_t>> out(class_names.size());
  for (int64_t i = 0; i < size(); ++i) out[static_cast<size_t>(labels[i])].push_back(i);
  return out;
}

Normalization Normalization::identity(int64_t channels) {
  return {std::vector<float>(channels, 0.0f), std::vector<float>(channels, 1.0f)};
}

Normalization Normalization::of(const ImageSet& s) {
  Normalization n;
  const int64_t hw = s.height * s.width;
  for (int64_t c = 0; c < s.channels; ++c) {
    double sum = 0, sq = 0;  // double: 47M MNIST pixels would lose digits in float
    for (int64_t i = 0; i < s.size(); ++i) {
      const float* p = s.image(i) + c * hw;
      for (int64_t k = 0; k < hw; ++k) {
        sum += p[k];
        sq += double{p[k]} * p[k];
      }
    }
    const double count = static_cast<double>(s.size() * hw);
    const double mean = count > 0 ? sum / count : 0.0;
    const double var = count > 0 ? std::max(0.0, sq / count - mean * mean) : 1.0;
    n.mean.push_back(static_cast<float>(mean));
    n.std.push_back(static_cast<float>(var > 1e-12 ? std::sqrt(var) : 1.0));
  }
  return n;
}

void Normalization::apply(float* chw, int64_t channels, int64_t hw) const {
  for (int64_t c = 0; c < channels; ++c) {
    const float m = mean[c], inv = 1.0f / std[c];
    for (int64_t k = 0; k < hw; ++k) chw[c * hw + k] = (chw[c * hw + k] - m) * inv;
  }
}

fs::path default_data_dir() { return fs::path(FEWSHOT_REPO_DIR) / "data-cache"; }
fs::path repo_dir() { return fs::path(FEWSHOT_REPO_DIR); }

fs::path data_dir(const LoadOptions& opts) {
  if (!opts.data_dir.empty()) return opts.data_dir;
  if (const char* env = std::getenv("FEWSHOT_DATA_DIR"); env && *env) return env;
  return default_data_dir();
}

const std::vector<std::string>& dataset_names() {
  static const std::vector<std::string> names = {"mnist",    "fashion-mnist", "cifar10",
                                                 "omniglot", "sinusoid",      "folder:PATH"};
  return names;
}

namespace {

// The error for a dataset whose files are not in the cache.
[[noreturn]] void missing(const std::string& dataset, const fs::path& expected,
                          const std::string& fetch_name) {
  throw DataError(dataset + ": expected " + expected.string() +
                  " but it does not exist. Fetch it with `scripts/fetch-data.sh " + fetch_name +
                  "` (or `fewshot data fetch " + fetch_name +
                  "`); the data folder is $FEWSHOT_DATA_DIR, else <repo>/data-cache");
}

// IDX file `base` in dir, gzip-compressed (base.gz) or raw (base).
fs::path find_idx(const std::string& dataset, const fs::path& dir, const std::string& base) {
  if (fs::exists(dir / (base + ".gz"))) return dir / (base + ".gz");
  if (fs::exists(dir / base)) return dir / base;
  missing(dataset, dir / (base + ".gz"), dataset);
}

Dataset load_idx_dataset(const std::string& name, const fs::path& dir,
                         std::vector<std::string> class_names) {
  Dataset d;
  d.name = name;
  const auto tri = find_idx(name, dir, "train-images-idx3-ubyte");
  const auto trl = find_idx(name, dir, "train-labels-idx1-ubyte");
  const auto tei = find_idx(name, dir, "t10k-images-idx3-ubyte");
  const auto tel = find_idx(name, dir, "t10k-labels-idx1-ubyte");
  d.train = load_idx_pair(tri, trl);
  d.test = load_idx_pair(tei, tel);
  d.train.class_names = class_names;
  d.test.class_names = std::move(class_names);
  d.train_source = tri.filename().string() + " + " + trl.filename().string();
  d.test_source = tei.filename().string() + " + " + tel.filename().string();
  return d;
}

Dataset load_cifar10(const fs::path& root) {
  const fs::path dir = root / "cifar-10" / "cifar-10-batches-bin";
  Dataset d;
  d.name = "cifar10";
  std::vector<fs::path> train_files;
  std::string present;
  for (int b = 1; b <= 5; ++b) {
    const fs::path p = dir / ("data_batch_" + std::to_string(b) + ".bin");
    if (fs::exists(p)) {
      train_files.push_back(p);
      present += (present.empty() ? "" : ", ") + p.filename().string();
    }
  }
  if (train_files.empty()) missing("cifar10", dir / "data_batch_1.bin", "cifar10");
  if (!fs::exists(dir / "test_batch.bin")) missing("cifar10", dir / "test_batch.bin", "cifar10");
  std::vector<std::string> names;
  if (std::ifstream meta(dir / "batches.meta.txt"); meta) {
    for (std::string line; std::getline(meta, line);)
      if (!line.empty()) names.push_back(line);
  }
  if (names.size() != 10) {
    names.clear();
    for (int c = 0; c < 10; ++c) names.push_back(std::to_string(c));
  }
  d.train = load_cifar_batches(train_files, names);
  d.test = load_cifar_batches({dir / "test_batch.bin"}, names);
  d.train_source = present;
  d.test_source = "test_batch.bin";
  std::ostringstream note;
  note << "found " << train_files.size() << " of 5 training batches (" << present << "): "
       << d.train.size() << " training images; per class:";
  const auto counts = d.train.class_counts();
  for (size_t c = 0; c < counts.size(); ++c) note << ' ' << names[c] << '=' << counts[c];
  d.notes.push_back(note.str());
  return d;
}

Dataset load_omniglot(const fs::path& root, const LoadOptions& opts) {
  const fs::path dir = root / "omniglot";
  const int64_t size = opts.image_size > 0 ? opts.image_size : 28;
  Dataset d;
  d.name = "omniglot";
  for (const char* part : {"images_background", "images_evaluation"}) {
    const fs::path folder = dir / part;
    if (!fs::is_directory(folder)) {
      const fs::path zip = dir / (std::string(part) + ".zip");
      if (!fs::exists(zip)) missing("omniglot", folder, "omniglot");
      extract_zip(zip, dir);
      d.notes.push_back("extracted " + zip.string());
    }
  }
  d.train = load_omniglot_folder(dir / "images_background", size, opts.threads);
  d.test = load_omniglot_folder(dir / "images_evaluation", size, opts.threads);
  d.train_source = "images_background (" + std::to_string(d.train.class_names.size()) + " characters)";
  d.test_source = "images_evaluation (" + std::to_string(d.test.class_names.size()) + " characters)";
  return d;
}

Dataset load_folder(const std::string& name, const fs::path& root, const LoadOptions& opts) {
  const int64_t size = opts.image_size > 0 ? opts.image_size : 84;
  Dataset d;
  d.name = name;
  if (!fs::is_directory(root))
    throw DataError(name + ": image folder " + root.string() +
                    " does not exist (expected ROOT/CLASS/*.png|jpg or ROOT/{train,test}/CLASS/...)");
  if (fs::is_directory(root / "train")) {
    d.train = load_image_folder(root / "train", size, opts.threads);
    d.train_source = (root / "train").string();
    if (fs::is_directory(root / "test")) {
      d.test = load_image_folder(root / "test", size, opts.threads);
      d.test_source = (root / "test").string();
      if (d.test.channels != d.train.channels)
        throw DataError(name + ": train images have " + std::to_string(d.train.channels) +
                        " channels but test images " + std::to_string(d.test.channels));
    }
  } else {
    d.train = load_image_folder(root, size, opts.threads);
    d.train_source = root.string();
  }
  if (d.test.size() == 0) {
    d.test.channels = d.train.channels;
    d.test.height = d.train.height;
    d.test.width = d.train.width;
  }
  return d;
}

}  // namespace

Dataset load_dataset(const std::string& name, const LoadOptions& opts) {
  const fs::path root = data_dir(opts);
  Dataset d;
  if (name == "mnist" || name == "fashion-mnist") {
    const fs::path dir = root / name;
    if (!fs::is_directory(dir)) missing(name, dir / "train-images-idx3-ubyte.gz", name);
    std::vector<std::string> classes;
    if (name == "mnist") {
      for (int c = 0; c < 10; ++c) classes.push_back(std::to_string(c));
    } else {
      classes = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    }
    d = load_idx_dataset(name, dir, classes);
  } else if (name == "cifar10" || name == "cifar-10") {
    d = load_cifar10(root);
  } else if (name == "omniglot") {
    d = load_omniglot(root, opts);
  } else if (name.rfind("folder:", 0) == 0) {
    d = load_folder(name, name.substr(7), opts);
  } else if (name == "sinusoid") {
    d.name = name;
    d.regression = true;
    d.train_source = d.test_source = "generated (see data/sinusoid.h)";
    return d;
  } else {
    std::string known;
    for (const auto& n : dataset_names()) known += (known.empty() ? "" : ", ") + n;
    throw DataError("unknown dataset '" + name + "' (known: " + known + ")");
  }
  d.norm = Normalization::of(d.train);
  return d;
}

}  // namespace fewshot::data
