#pragma once
// Datasets as plain buffers: no engine types here, models/ turns these into tensors.
//
// Names used everywhere (command line, configs, results):
//   mnist, fashion-mnist   IDX files (gzip or raw)    1x28x28, 10 classes, train 60000 / test 10000
//   cifar10                CIFAR-10 binary batches    3x32x32, 10 classes, data_batch_*.bin / test_batch.bin
//   omniglot               images_background/ (train) and images_evaluation/ (test), 1xSxS (S=28 default)
//   folder:PATH            PATH/CLASS/*.png|jpg (or PATH/train/CLASS/..., PATH/test/CLASS/...)
//   sinusoid               generated regression family (no images; see sinusoid.h)
//
// Files live under data_dir(): LoadOptions::data_dir, else $FEWSHOT_DATA_DIR, else <repo>/data-cache.
// scripts/fetch-data.sh NAME (or `fewshot data fetch NAME`) puts them there. Layout under data_dir():
//   mnist/{train-images-idx3-ubyte,train-labels-idx1-ubyte,t10k-images-idx3-ubyte,t10k-labels-idx1-ubyte}[.gz]
//   fashion-mnist/ (same four names)
//   cifar-10/cifar-10-batches-bin/{data_batch_1..5.bin (any present), test_batch.bin, batches.meta.txt}
//   omniglot/images_background/ALPHABET/characterNN/*.png, omniglot/images_evaluation/...
//     (if only omniglot/images_*.zip are there, they are extracted in place first).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "data/error.h"

namespace fewshot::data {

// N images of C x H x W floats, row-major (image, channel, row, column), values in [0, 1] (not yet
// normalized; normalization happens when an episode or batch is materialized).
struct ImageSet {
  int64_t channels = 0, height = 0, width = 0;
  std::vector<float> pixels;             // size() * channels * height * width
  std::vector<int32_t> labels;           // size(), each in [0, class_names.size())
  std::vector<std::string> class_names;  // label -> name ("7", "airplane", "Greek/character03")

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  int64_t image_numel() const { return channels * height * width; }
  const float* image(int64_t i) const { return pixels.data() + i * image_numel(); }
  // Images per label, size class_names.size().
  std::vector<int64_t> class_counts() const;
  // Image indices of each label, in file order.
  std::vector<std::vector<int64_t>> indices_by_class() const;
};

// Per-channel mean and standard deviation; materialized pixels are (x - mean[c]) / std[c].
// load_dataset computes them from the train ImageSet (the file-defined training images).
struct Normalization {
  std::vector<float> mean, std;
  static Normalization identity(int64_t channels);
  static Normalization of(const ImageSet& images);  // computed over all images, per channel
  void apply(float* chw, int64_t channels, int64_t hw) const;
};

struct Dataset {
  std::string name;  // as given to load_dataset ("mnist", "folder:/x/y", ...)
  ImageSet train;    // the files' training images (Omniglot: images_background)
  ImageSet test;     // the files' test images (Omniglot: images_evaluation)
  std::string train_source, test_source;  // what the files were, for `data info` and results
  Normalization norm;                     // computed from train
  bool regression = false;                // sinusoid: no images, see sinusoid.h
  std::vector<std::string> notes;         // e.g. CIFAR-10 "1 of 5 training batches, per class ..."

  // The pool that splits and episodes index into: train images at [0, train.size()), then test
  // images at [train.size(), train.size() + test.size()).
  int64_t pool_size() const { return train.size() + test.size(); }
  const float* pool_image(int64_t i) const {
    return i < train.size() ? train.image(i) : test.image(i - train.size());
  }
  int64_t channels() const { return train.size() ? train.channels : test.channels; }
  int64_t height() const { return train.size() ? train.height : test.height; }
  int64_t width() const { return train.size() ? train.width : test.width; }
};

struct LoadOptions {
  std::string data_dir;     // empty: $FEWSHOT_DATA_DIR, else default_data_dir()
  int64_t image_size = 0;   // Omniglot / folder side length; 0: 28 for Omniglot, 84 for folders
  int threads = 0;          // OpenMP threads for decoding; 0: OpenMP's default
};

// <repo>/data-cache, fixed at compile time.
std::filesystem::path default_data_dir();
// The repository root, fixed at compile time (where scripts/fetch-data.sh lives).
std::filesystem::path repo_dir();
// LoadOptions::data_dir, else $FEWSHOT_DATA_DIR, else default_data_dir().
std::filesystem::path data_dir(const LoadOptions& opts = {});

// Loads a dataset by name (see the top of this file). Throws DataError naming the missing file and
// the fetch command, or the corruption found. "sinusoid" returns an empty, regression=true Dataset.
Dataset load_dataset(const std::string& name, const LoadOptions& opts = {});
// The names load_dataset accepts (folder: takes a path).
const std::vector<std::string>& dataset_names();

// Format-level loaders (exposed for tests and tools). dir is the dataset's own folder.
// IDX: images file (magic 0x00000803) and labels file (magic 0x00000801), gzip or raw.
ImageSet load_idx_pair(const std::filesystem::path& images_file,
                       const std::filesystem::path& labels_file);
// CIFAR-10 binary batch files (3073-byte records: label, 1024 R, 1024 G, 1024 B).
ImageSet load_cifar_batches(const std::vector<std::filesystem::path>& files,
                            const std::vector<std::string>& class_names);
// Omniglot: root/ALPHABET/characterNN/*.png, classes "ALPHABET/characterNN" in sorted order,
// ink = 1, resized to size x size with an area filter. Decoded in parallel.
ImageSet load_omniglot_folder(const std::filesystem::path& root, int64_t size, int threads = 0);
// Image folder: root/CLASS/*.{png,jpg,jpeg,bmp} (case-insensitive), classes sorted by name,
// channels kept (grey -> 1, RGB/RGBA -> 3, alpha dropped), resized to size x size (no crop).
ImageSet load_image_folder(const std::filesystem::path& root, int64_t size, int threads = 0);

}  // namespace fewshot::data
