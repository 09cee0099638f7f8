#include "data/archive.h"

#include <sys/stat.h>
#include <zip.h>

#include <fstream>
#include <memory>
#include <vector>

#include "data/error.h"

namespace fewshot::data {
namespace fs = std::filesystem;

bool zip_entry_is_safe(const std::string& entry) {
  if (entry.empty()) return false;
  if (entry[0] == '/' || entry[0] == '\\') return false;
  if (entry.size() >= 2 && entry[1] == ':') return false;  // C:\... drive paths
  // Walk the components: depth may never drop below zero.
  int depth = 0;
  size_t start = 0;
  while (start <= entry.size()) {
    size_t end = entry.find_first_of("/\\", start);
    if (end == std::string::npos) end = entry.size();
    const std::string part = entry.substr(start, end - start);
    if (part == "..") {
      if (--depth < 0) return false;
    } else if (!part.empty() && part != ".") {
      ++depth;
    }
    start = end + 1;
  }
  return true;
}

int64_t extract_zip(const fs::path& zip_path, const fs::path& dest) {
  int err = 0;
  std::unique_ptr<zip_t, decltype(&zip_discard)> za(zip_open(zip_path.c_str(), ZIP_RDONLY, &err),
                                                     &zip_discard);
  if (!za) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, err);
    const std::string msg = zip_error_strerror(&ze);
    zip_error_fini(&ze);
    throw DataError("cannot open archive " + zip_path.string() + ": " + msg);
  }
  const zip_int64_t n = zip_get_num_entries(za.get(), 0);
  // Check every name before writing anything, so a bad archive leaves no partial output.
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* name = zip_get_name(za.get(), static_cast<zip_uint64_t>(i), 0);
    if (!name || !zip_entry_is_safe(name))
      throw DataError("archive " + zip_path.string() + ": entry " + std::to_string(i) + " '" +
                      (name ? name : "?") + "' would extract outside " + dest.string() +
                      "; refusing to extract anything");
    // A symbolic-link entry could point outside and let a later entry write through it.
    zip_uint8_t opsys = 0;
    zip_uint32_t attr = 0;
    if (zip_file_get_external_attributes(za.get(), static_cast<zip_uint64_t>(i), 0, &opsys, &attr) == 0 &&
        opsys == ZIP_OPSYS_UNIX && ((attr >> 16) & S_IFMT) == S_IFLNK)
      throw DataError("archive " + zip_path.string() + ": entry '" + name +
                      "' is a symbolic link; refusing to extract anything");
  }
  fs::create_directories(dest);
  int64_t written = 0;
  std::vector<char> buf(1 << 16);
  for (zip_int64_t i = 0; i < n; ++i) {
    const std::string name = zip_get_name(za.get(), static_cast<zip_uint64_t>(i), 0);
    const fs::path out = dest / fs::path(name).lexically_normal();
    if (name.back() == '/' || name.back() == '\\') {
      fs::create_directories(out);
      continue;
    }
    fs::create_directories(out.parent_path());
    std::unique_ptr<zip_file_t, decltype(&zip_fclose)> zf(
        zip_fopen_index(za.get(), static_cast<zip_uint64_t>(i), 0), &zip_fclose);
    if (!zf) throw DataError("archive " + zip_path.string() + ": cannot read entry '" + name + "'");
    std::ofstream os(out, std::ios::binary);
    if (!os) throw DataError("cannot write " + out.string());
    for (;;) {
      const zip_int64_t got = zip_fread(zf.get(), buf.data(), buf.size());
      if (got < 0) throw DataError("archive " + zip_path.string() + ": corrupt entry '" + name + "'");
      if (got == 0) break;
      os.write(buf.data(), got);
    }
    ++written;
  }
  return written;
}

}  // namespace fewshot::data
