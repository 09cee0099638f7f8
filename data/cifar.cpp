// CIFAR-10 binary version: each batch file is a sequence of 3073-byte records, one label byte
// (0..9) followed by the 32x32 red, green and blue planes (row-major), i.e. already CHW.
#include <fstream>

#include "data/dataset.h"

namespace fewshot::data {
namespace fs = std::filesystem;

ImageSet load_cifar_batches(const std::vector<fs::path>& files,
                            const std::vector<std::string>& class_names) {
  constexpr int64_t kRecord = 3073, kPixels = 3072;
  ImageSet set;
  set.channels = 3;
  set.height = set.width = 32;
  set.class_names = class_names;
  for (const auto& p : files) {
    if (!fs::exists(p)) throw DataError("missing file " + p.string());
    const auto bytes = static_cast<int64_t>(fs::file_size(p));
    if (bytes == 0 || bytes % kRecord != 0)
      throw DataError("CIFAR record size mismatch in " + p.string() + ": " + std::to_string(bytes) +
                      " bytes is not a whole number of 3073-byte records (1 label + 3072 pixels); " +
                      std::to_string(bytes / kRecord) + " records and " +
                      std::to_string(bytes % kRecord) + " bytes left over");
    std::ifstream in(p, std::ios::binary);
    std::vector<unsigned char> raw(static_cast<size_t>(bytes));
    in.read(reinterpret_cast<char*>(raw.data()), bytes);
    if (in.gcount() != bytes)
      throw DataError("short read in " + p.string() + ": expected " + std::to_string(bytes) +
                      " bytes, got " + std::to_string(in.gcount()));
    const int64_t n = bytes / kRecord;
    const size_t base = set.pixels.size();
    set.pixels.resize(base + static_cast<size_t>(n * kPixels));
    for (int64_t r = 0; r < n; ++r) {
      const unsigned char* rec = raw.data() + r * kRecord;
      if (rec[0] > 9)
        throw DataError("bad CIFAR-10 label " + std::to_string(rec[0]) + " in record " +
                        std::to_string(r) + " of " + p.string() + " (expected 0..9)");
      set.labels.push_back(rec[0]);
      float* dst = set.pixels.data() + base + r * kPixels;
      for (int64_t i = 0; i < kPixels; ++i) dst[i] = rec[1 + i] * (1.0f / 255.0f);
    }
  }
  return set;
}

}  // namespace fewshot::data
