// IDX files (MNIST, Fashion-MNIST): big-endian header, magic 0x00000803 (uint8, 3 dims) for images
// and 0x00000801 (uint8, 1 dim) for labels, then the raw bytes. zlib's gzread reads both the
// gzip-compressed and the raw files (it passes non-gzip data through unchanged).
#include <zlib.h>

#include <array>
#include <filesystem>
#include <memory>

#include "data/dataset.h"

namespace fewshot::data {
namespace fs = std::filesystem;
namespace {

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};
using Gz = std::unique_ptr<std::remove_pointer_t<gzFile>, GzCloser>;

Gz open_gz(const fs::path& p) {
  if (!fs::exists(p)) throw DataError("missing file " + p.string());
  Gz f(gzopen(p.c_str(), "rb"));
  if (!f) throw DataError("cannot open " + p.string());
  gzbuffer(f.get(), 1 << 17);
  return f;
}

// Reads exactly n bytes or throws a short-read error naming what was being read.
void read_exact(gzFile f, const fs::path& p, void* dst, size_t n, const char* what) {
  size_t got = 0;
  auto* out = static_cast<unsigned char*>(dst);
  while (got < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - got, 1u << 30));
    const int r = gzread(f, out + got, chunk);
    if (r < 0) {
      int errnum = 0;
      throw DataError("corrupt file " + p.string() + " while reading " + what + ": " +
                      gzerror(f, &errnum));
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  if (got != n)
    throw DataError("short read in " + p.string() + " (" + what + "): expected " + std::to_string(n) +
                    " bytes, got " + std::to_string(got) + " (truncated file?)");
}

// The header's dimensions account for the whole file: anything after the data is an error.
void expect_end(gzFile f, const fs::path& p, size_t data_bytes) {
  unsigned char extra[4096];
  size_t n = 0;
  for (int r; (r = gzread(f, extra, sizeof extra)) > 0;) n += static_cast<size_t>(r);
  if (n > 0)
    throw DataError("IDX size mismatch in " + p.string() + ": the header describes " +
                    std::to_string(data_bytes) + " bytes of data but " + std::to_string(n) +
                    " more bytes follow");
}

uint32_t be32(const unsigned char* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

std::string hex32(uint32_t v) {
  char s[16];
  std::snprintf(s, sizeof s, "0x%08x", v);
  return s;
}

// Reads the header of an IDX file with `ndims` dimensions and returns the dimensions.
std::vector<uint32_t> read_header(gzFile f, const fs::path& p, uint32_t magic, int ndims) {
  unsigned char b[4];
  read_exact(f, p, b, 4, "magic number");
  const uint32_t m = be32(b);
  if (m != magic)
    throw DataError("wrong IDX magic in " + p.string() + ": expected " + hex32(magic) + " (" +
                    std::to_string(ndims) + "-d unsigned byte), got " + hex32(m));
  std::vector<uint32_t> dims(ndims);
  for (int d = 0; d < ndims; ++d) {
    read_exact(f, p, b, 4, "header dimensions");
    dims[d] = be32(b);
  }
  return dims;
}

}  // namespace

ImageSet load_idx_pair(const fs::path& images_file, const fs::path& labels_file) {
  ImageSet set;
  {
    Gz f = open_gz(images_file);
    const auto dims = read_header(f.get(), images_file, 0x00000803u, 3);
    if (dims[1] == 0 || dims[2] == 0 || dims[1] > 4096 || dims[2] > 4096)
      throw DataError("implausible IDX image size " + std::to_string(dims[1]) + "x" +
                      std::to_string(dims[2]) + " in " + images_file.string());
    set.channels = 1;
    set.height = dims[1];
    set.width = dims[2];
    const size_t n = size_t{dims[0]} * dims[1] * dims[2];
    std::vector<unsigned char> raw(n);
    read_exact(f.get(), images_file, raw.data(), n, "pixels");
    expect_end(f.get(), images_file, n);
    set.pixels.resize(n);
    for (size_t i = 0; i < n; ++i) set.pixels[i] = raw[i] * (1.0f / 255.0f);
    set.labels.resize(dims[0]);
  }
  {
    Gz f = open_gz(labels_file);
    const auto dims = read_header(f.get(), labels_file, 0x00000801u, 1);
    if (dims[0] != set.labels.size())
      throw DataError("IDX size mismatch: " + labels_file.string() + " has " +
                      std::to_string(dims[0]) + " labels but " + images_file.string() + " has " +
                      std::to_string(set.labels.size()) + " images");
    std::vector<unsigned char> raw(dims[0]);
    read_exact(f.get(), labels_file, raw.data(), raw.size(), "labels");
    expect_end(f.get(), labels_file, raw.size());
    int max_label = 0;
    for (size_t i = 0; i < raw.size(); ++i) {
      set.labels[i] = raw[i];
      max_label = std::max<int>(max_label, raw[i]);
    }
    if (max_label > 9)
      throw DataError("bad label " + std::to_string(max_label) + " in " + labels_file.string() +
                      " (expected 0..9)");
  }
  return set;
}

}  // namespace fewshot::data
