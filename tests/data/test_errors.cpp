// Every bad-input path, each with a small corrupt file made here: the error is a DataError whose
// message names the problem and the numbers, and nothing else happens.
#include <zip.h>
#include <zlib.h>

#include <cstdlib>

#include "data/archive.h"
#include "data/dataset.h"
#include "data/episode.h"
#include "data/split.h"
#include "tests/data/shared.h"

using namespace fewshot::data;
using fewshot::data::testing::cached;
using fewshot::data::testing::TempDir;
using fewshot::data::testing::write_bytes;
namespace fs = std::filesystem;

namespace {

std::vector<unsigned char> be32(uint32_t v) {
  return {static_cast<unsigned char>(v >> 24), static_cast<unsigned char>(v >> 16),
          static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
}

// IDX header for n images of 28x28 (magic given), followed by `payload` bytes.
std::vector<unsigned char> idx_images(uint32_t magic, uint32_t n, size_t payload) {
  std::vector<unsigned char> b;
  for (uint32_t v : {magic, n, 28u, 28u}) {
    const auto w = be32(v);
    b.insert(b.end(), w.begin(), w.end());
  }
  b.resize(b.size() + payload, 7);
  return b;
}

std::vector<unsigned char> idx_labels(uint32_t n) {
  auto b = be32(0x801);
  const auto w = be32(n);
  b.insert(b.end(), w.begin(), w.end());
  b.resize(b.size() + n, 1);
  return b;
}

void write_gz(const fs::path& p, const std::vector<unsigned char>& bytes) {
  fs::create_directories(p.parent_path());
  gzFile f = gzopen(p.c_str(), "wb");
  REQUIRE(f);
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

// A zip whose entries hold "x"; `symlink_entry` (if >= 0) is marked as a Unix symbolic link.
void make_zip(const fs::path& p, const std::vector<std::string>& entries, int symlink_entry = -1) {
  int err = 0;
  zip_t* z = zip_open(p.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  REQUIRE(z);
  for (const auto& e : entries) {
    static const char payload[] = "x";
    zip_source_t* src = zip_source_buffer(z, payload, 1, 0);
    const zip_int64_t idx = zip_file_add(z, e.c_str(), src, ZIP_FL_OVERWRITE);
    REQUIRE(idx >= 0);
    if (idx == symlink_entry)
      REQUIRE(zip_file_set_external_attributes(z, static_cast<zip_uint64_t>(idx), 0, ZIP_OPSYS_UNIX,
                                               (0120777u) << 16) == 0);
  }
  REQUIRE(zip_close(z) == 0);
}

LoadOptions in(const fs::path& dir) {
  LoadOptions o;
  o.data_dir = dir.string();
  return o;
}

}  // namespace

TEST_CASE("missing data: names the expected file and the fetch command") {
  TempDir tmp("missing");
  CHECK_THROWS_WITH_AS(load_dataset("mnist", in(tmp.path)),
                       doctest::Contains("mnist/train-images-idx3-ubyte.gz"), DataError);
  CHECK_THROWS_WITH_AS(load_dataset("fashion-mnist", in(tmp.path)),
                       doctest::Contains("scripts/fetch-data.sh fashion-mnist"), DataError);
  CHECK_THROWS_WITH_AS(load_dataset("cifar10", in(tmp.path)),
                       doctest::Contains("cifar-10-batches-bin/data_batch_1.bin"), DataError);
  CHECK_THROWS_WITH_AS(load_dataset("omniglot", in(tmp.path)),
                       doctest::Contains("scripts/fetch-data.sh omniglot"), DataError);
  CHECK_THROWS_WITH_AS(load_dataset("folder:" + (tmp.path / "nope").string(), in(tmp.path)),
                       doctest::Contains("does not exist"), DataError);
  CHECK_THROWS_WITH_AS(load_dataset("imagenet", in(tmp.path)), doctest::Contains("unknown dataset 'imagenet'"),
                       DataError);
  // One of four files missing: that file is named.
  write_bytes(tmp.path / "mnist" / "train-images-idx3-ubyte", idx_images(0x803, 1, 784));
  write_bytes(tmp.path / "mnist" / "train-labels-idx1-ubyte", idx_labels(1));
  write_bytes(tmp.path / "mnist" / "t10k-images-idx3-ubyte", idx_images(0x803, 1, 784));
  CHECK_THROWS_WITH_AS(load_dataset("mnist", in(tmp.path)),
                       doctest::Contains("t10k-labels-idx1-ubyte.gz"), DataError);
  // ... and with it present, raw (uncompressed) IDX files load.
  write_bytes(tmp.path / "mnist" / "t10k-labels-idx1-ubyte", idx_labels(1));
  const Dataset d = load_dataset("mnist", in(tmp.path));
  CHECK(d.train.size() == 1);
  CHECK(d.train.pixels[0] == doctest::Approx(7.0f / 255.0f));
}

TEST_CASE("IDX: wrong magic, short read (raw and gzip), label count mismatch") {
  TempDir tmp("idx");
  const fs::path img = tmp.path / "img", lab = tmp.path / "lab";
  write_bytes(lab, idx_labels(10));
  write_bytes(img, idx_images(0x804, 10, 7840));
  CHECK_THROWS_WITH_AS(load_idx_pair(img, lab), doctest::Contains("wrong IDX magic"), DataError);
  CHECK_THROWS_WITH_AS(load_idx_pair(img, lab), doctest::Contains("expected 0x00000803"), DataError);
  CHECK_THROWS_WITH_AS(load_idx_pair(img, lab), doctest::Contains("got 0x00000804"), DataError);
  write_bytes(img, idx_images(0x803, 10, 100));
  CHECK_THROWS_WITH_AS(load_idx_pair(img, lab), doctest::Contains("expected 7840 bytes, got 100"), DataError);
  write_gz(tmp.path / "img.gz", idx_images(0x803, 10, 5000));
  CHECK_THROWS_WITH_AS(load_idx_pair(tmp.path / "img.gz", lab),
                       doctest::Contains("expected 7840 bytes, got 5000"), DataError);
  write_bytes(img, {0, 0, 8});  // not even a magic number
  CHECK_THROWS_WITH_AS(load_idx_pair(img, lab), doctest::Contains("expected 4 bytes, got 3"), DataError);
  write_bytes(img, idx_images(0x803, 9, 9 * 784));
  CHECK_THROWS_WITH_AS(load_idx_pair(img, lab), doctest::Contains("10 labels but"), DataError);
  write_bytes(img, idx_images(0x803, 10, 7840 + 16));
  CHECK_THROWS_WITH_AS(load_idx_pair(img, lab), doctest::Contains("describes 7840 bytes of data but 16 more"),
                       DataError);
  // A truncated gzip stream (cut in the middle) is a short read or a corrupt-file error.
  write_gz(tmp.path / "full.gz", idx_images(0x803, 10, 7840));
  std::ifstream f(tmp.path / "full.gz", std::ios::binary);
  std::vector<unsigned char> gz((std::istreambuf_iterator<char>(f)), {});
  gz.resize(gz.size() / 2);
  write_bytes(tmp.path / "cut.gz", gz);
  CHECK_THROWS_AS(load_idx_pair(tmp.path / "cut.gz", lab), DataError);
}

TEST_CASE("CIFAR-10: record size mismatch and bad labels") {
  TempDir tmp("cifar");
  const fs::path dir = tmp.path / "cifar-10" / "cifar-10-batches-bin";
  write_bytes(dir / "data_batch_1.bin", std::vector<unsigned char>(3073 * 2 + 5, 0));
  write_bytes(dir / "test_batch.bin", std::vector<unsigned char>(3073, 0));
  CHECK_THROWS_WITH_AS(load_dataset("cifar10", in(tmp.path)),
                       doctest::Contains("6151 bytes is not a whole number of 3073-byte records"), DataError);
  CHECK_THROWS_WITH_AS(load_dataset("cifar10", in(tmp.path)),
                       doctest::Contains("2 records and 5 bytes left over"), DataError);
  std::vector<unsigned char> bad(3073, 0);
  bad[0] = 12;
  write_bytes(dir / "data_batch_1.bin", bad);
  CHECK_THROWS_WITH_AS(load_dataset("cifar10", in(tmp.path)), doctest::Contains("bad CIFAR-10 label 12"), DataError);
  write_bytes(dir / "data_batch_1.bin", std::vector<unsigned char>(3073 * 3, 0));
  const Dataset d = load_dataset("cifar10", in(tmp.path));
  CHECK(d.train.size() == 3);
  CHECK(d.notes.at(0).find("1 of 5 training batches") != std::string::npos);
}

TEST_CASE("Omniglot / image folder: an undecodable PNG is named") {
  TempDir tmp("png");
  const fs::path ch = tmp.path / "omniglot" / "images_background" / "Alpha" / "character01";
  write_bytes(ch / "0001_01.png", {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3});
  fs::create_directories(tmp.path / "omniglot" / "images_evaluation");
  CHECK_THROWS_WITH_AS(load_dataset("omniglot", in(tmp.path)), doctest::Contains("undecodable image"), DataError);
  CHECK_THROWS_WITH_AS(load_dataset("omniglot", in(tmp.path)), doctest::Contains("0001_01.png"), DataError);
  CHECK_THROWS_WITH_AS(load_omniglot_folder(tmp.path / "omniglot" / "images_evaluation", 28),
                       doctest::Contains("no PNG files"), DataError);
  write_bytes(tmp.path / "folder" / "cls" / "a.jpg", {0xff, 0xd8, 0xff, 0});
  CHECK_THROWS_WITH_AS(load_image_folder(tmp.path / "folder", 16), doctest::Contains("a.jpg"), DataError);
}

TEST_CASE("archives: entries escaping the destination are refused, nothing is written") {
  CHECK(zip_entry_is_safe("images_background/A/character01/0001_01.png"));
  CHECK(zip_entry_is_safe("a/../b"));
  CHECK(!zip_entry_is_safe("../evil"));
  CHECK(!zip_entry_is_safe("a/../../evil"));
  CHECK(!zip_entry_is_safe("/etc/passwd"));
  CHECK(!zip_entry_is_safe("..\\evil"));
  CHECK(!zip_entry_is_safe("C:/evil"));
  TempDir tmp("zip");
  const fs::path dest = tmp.path / "cache";
  make_zip(tmp.path / "evil.zip", {"ok/first.txt", "ok/../../evil.txt"});
  CHECK_THROWS_WITH_AS(extract_zip(tmp.path / "evil.zip", dest),
                       doctest::Contains("'ok/../../evil.txt' would extract outside"), DataError);
  CHECK(!fs::exists(tmp.path / "evil.txt"));
  CHECK(!fs::exists(dest / "ok" / "first.txt"));  // checked before anything was written
  make_zip(tmp.path / "good.zip", {"images_x/a/b.txt", "images_x/c.txt"});
  CHECK(extract_zip(tmp.path / "good.zip", dest) == 2);
  CHECK(fs::exists(dest / "images_x" / "a" / "b.txt"));
  write_bytes(tmp.path / "junk.zip", {1, 2, 3});
  CHECK_THROWS_WITH_AS(extract_zip(tmp.path / "junk.zip", dest), doctest::Contains("cannot open archive"), DataError);

  // The fetch script's own check (it extracts the real archives with unzip).
  const std::string script = std::string(FEWSHOT_SOURCE_DIR) + "/scripts/fetch-data.sh";
  const std::string cmd = script + " --extract-zip " + (tmp.path / "evil.zip").string() + " " +
                          (tmp.path / "script-dest").string() + " > " + (tmp.path / "log").string() + " 2>&1";
  CHECK(std::system(cmd.c_str()) != 0);
  CHECK(!fs::exists(tmp.path / "evil.txt"));
  CHECK(!fs::exists(tmp.path / "script-dest" / "ok" / "first.txt"));
  std::ifstream log(tmp.path / "log");
  const std::string text((std::istreambuf_iterator<char>(log)), {});
  CHECK(text.find("would extract outside") != std::string::npos);

  // Symbolic-link entries are refused by both.
  make_zip(tmp.path / "link.zip", {"d/link", "d/file"}, 0);
  CHECK_THROWS_WITH_AS(extract_zip(tmp.path / "link.zip", tmp.path / "dest2"),
                       doctest::Contains("'d/link' is a symbolic link"), DataError);
  const std::string cmd2 = script + " --extract-zip " + (tmp.path / "link.zip").string() + " " +
                           (tmp.path / "script-dest2").string() + " > " + (tmp.path / "log2").string() + " 2>&1";
  CHECK(std::system(cmd2.c_str()) != 0);
  CHECK(!fs::exists(tmp.path / "script-dest2" / "d" / "file"));
  std::ifstream log2(tmp.path / "log2");
  const std::string text2((std::istreambuf_iterator<char>(log2)), {});
  CHECK(text2.find("is a symbolic link") != std::string::npos);
}

TEST_CASE("impossible episodes: N larger than the classes, K + Q larger than a class") {
  const Dataset& d = cached("mnist");
  const FewShotSplit s = make_split(d);
  Rng rng(1);
  CHECK_THROWS_WITH_AS(sample_episode(s, SplitSide::meta_test, 6, 1, 1, rng),
                       doctest::Contains("6-way episodes need 6 classes but meta-test"), DataError);
  CHECK_THROWS_WITH_AS(sample_episode(s, SplitSide::meta_test, 6, 1, 1, rng), doctest::Contains("has only 5"),
                       DataError);
  CHECK_THROWS_WITH_AS(sample_episode(s, SplitSide::meta_val, 1, 1, 1, rng), doctest::Contains("has only 0"),
                       DataError);
  // Class 5 of the test file has 892 images.
  SplitOptions o;
  o.spec = "train=0;test=5";
  const FewShotSplit one = make_split(d, o);
  CHECK_THROWS_WITH_AS(sample_episode(one, SplitSide::meta_test, 1, 500, 400, rng),
                       doctest::Contains("K + Q = 500 + 400 = 900 images per class, but class '5'"), DataError);
  CHECK_THROWS_WITH_AS(sample_episode(one, SplitSide::meta_test, 1, 500, 400, rng), doctest::Contains("has only 892"),
                       DataError);
  CHECK_NOTHROW(sample_episode(one, SplitSide::meta_test, 1, 500, 392, rng));
  CHECK_THROWS_WITH_AS(sample_episode(one, SplitSide::meta_test, 1, 0, 1, rng), doctest::Contains("shots >= 1"),
                       DataError);
  TempDir tmp("json");
  write_bytes(tmp.path / "bad.json", {'{', '"', 'x'});
  CHECK_THROWS_WITH_AS(EpisodeSet::load(tmp.path / "bad.json"), doctest::Contains("cannot parse"), DataError);
  CHECK_THROWS_WITH_AS(FewShotSplit::load(tmp.path / "none.json"), doctest::Contains("missing split file"), DataError);
  // Episodes from one dataset materialized against a smaller pool are caught.
  const Dataset c = fewshot::data::testing::synthetic(10, 2, 3, 32, 32);
  const EpisodeSet set = make_test_episodes(s, 2, 1, 1, 1, 3);
  CHECK_THROWS_WITH_AS(materialize(set.episodes[0], c, d.norm), doctest::Contains("channels"), DataError);
}
