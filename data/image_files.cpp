// Loaders for folders of image files: Omniglot (alphabet/character/*.png) and generic
// root/class/*.png|jpg folders. Files are listed in sorted order (so labels never depend on the
// file system's order), then decoded with stb_image and resized in parallel with OpenMP.
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_HDR
#define STBI_NO_LINEAR
#include <stb_image.h>
#include <omp.h>

#include <algorithm>
#include <fstream>

#include "data/dataset.h"
#include "data/image_ops.h"

namespace fewshot::data {
namespace fs = std::filesystem;
namespace {

std::vector<fs::path> sorted_subdirs(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && e.path().filename().string()[0] != '.') out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<fs::path> sorted_images(const fs::path& dir, bool png_only) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const std::string ext = lower(e.path().extension().string());
    if (ext == ".png" || (!png_only && (ext == ".jpg" || ext == ".jpeg" || ext == ".bmp")))
      out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<unsigned char> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  const auto n = static_cast<size_t>(in.tellg());
  in.seekg(0);
  std::vector<unsigned char> buf(n);
  in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(n));
  return buf;
}

// Decodes files[i] into set.pixels slot i, in parallel. channels: 1 or 3. invert: 1 - v (ink = 1).
// Throws DataError naming the first file (in list order) that failed.
void decode_all(const std::vector<fs::path>& files, ImageSet& set, bool invert, int threads) {
  const int64_t n = static_cast<int64_t>(files.size());
  const int64_t numel = set.image_numel();
  set.pixels.assign(static_cast<size_t>(n * numel), 0.0f);
  std::vector<std::string> errors(static_cast<size_t>(n));
  const int nthreads = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel num_threads(nthreads)
  {
    std::vector<float> tmp;
#pragma omp for schedule(dynamic, 64)
    for (int64_t i = 0; i < n; ++i) {
      const auto bytes = read_file(files[i]);
      int w = 0, h = 0, c = 0;
      unsigned char* px =
          bytes.empty() ? nullptr
                        : stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w,
                                                &h, &c, static_cast<int>(set.channels));
      if (!px) {
        errors[i] = bytes.empty() ? "empty or unreadable file" : stbi_failure_reason();
        continue;
      }
      // Interleaved HWC bytes -> planar CHW floats in [0, 1].
      const int64_t ch = set.channels, hw = int64_t{w} * h;
      tmp.resize(static_cast<size_t>(ch * hw));
      for (int64_t p = 0; p < hw; ++p)
        for (int64_t k = 0; k < ch; ++k) {
          const float v = px[p * ch + k] * (1.0f / 255.0f);
          tmp[k * hw + p] = invert ? 1.0f - v : v;
        }
      stbi_image_free(px);
      float* dst = set.pixels.data() + i * numel;
      resize_area(tmp.data(), ch, h, w, dst, set.height, set.width);
      // Filter weights sum to 1 only up to rounding; keep the documented [0, 1] range exact.
      for (int64_t k = 0; k < numel; ++k) dst[k] = std::clamp(dst[k], 0.0f, 1.0f);
    }
  }
  for (int64_t i = 0; i < n; ++i)
    if (!errors[i].empty())
      throw DataError("undecodable image " + files[i].string() + " (stb_image: " + errors[i] + ")");
}

}  // namespace

ImageSet load_omniglot_folder(const fs::path& root, int64_t size, int threads) {
  if (!fs::is_directory(root)) throw DataError("missing folder " + root.string());
  ImageSet set;
  set.channels = 1;
  set.height = set.width = size;
  std::vector<fs::path> files;
  for (const auto& alphabet : sorted_subdirs(root))
    for (const auto& character : sorted_subdirs(alphabet)) {
      const auto imgs = sorted_images(character, true);
      if (imgs.empty()) continue;
      const auto label = static_cast<int32_t>(set.class_names.size());
      set.class_names.push_back(alphabet.filename().string() + "/" + character.filename().string());
      for (const auto& f : imgs) {
        files.push_back(f);
        set.labels.push_back(label);
      }
    }
  if (files.empty()) throw DataError("no PNG files under " + root.string() + "/ALPHABET/characterNN/");
  // Omniglot PNGs are 1-bit with strokes black on white; invert so ink is 1 and background 0.
  decode_all(files, set, /*invert=*/true, threads);
  return set;
}

ImageSet load_image_folder(const fs::path& root, int64_t size, int threads) {
  if (!fs::is_directory(root)) throw DataError("missing folder " + root.string());
  ImageSet set;
  set.height = set.width = size;
  std::vector<fs::path> files;
  for (const auto& cls : sorted_subdirs(root)) {
    const auto imgs = sorted_images(cls, false);
    if (imgs.empty()) continue;
    const auto label = static_cast<int32_t>(set.class_names.size());
    set.class_names.push_back(cls.filename().string());
    for (const auto& f : imgs) {
      files.push_back(f);
      set.labels.push_back(label);
    }
  }
  if (files.empty())
    throw DataError("no images under " + root.string() + "/CLASS/*.{png,jpg,jpeg,bmp}");
  // Channel count from the first image: grey (+alpha) -> 1, colour (+alpha) -> 3.
  int w = 0, h = 0, c = 0;
  if (!stbi_info(files[0].c_str(), &w, &h, &c))
    throw DataError("undecodable image " + files[0].string() + " (stb_image: " +
                    stbi_failure_reason() + ")");
  set.channels = c >= 3 ? 3 : 1;
  decode_all(files, set, /*invert=*/false, threads);
  return set;
}

}  // namespace fewshot::data
