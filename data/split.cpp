#include "data/split.h"

#include <algorithm>
#include <fstream>
#include <set>

#include "data/rng.h"

namespace fewshot::data {
namespace fs = std::filesystem;

std::string to_string(SplitSide side) {
  switch (side) {
    case SplitSide::meta_train: return "meta-train";
    case SplitSide::meta_val: return "meta-val";
    default: return "meta-test";
  }
}

SplitSide split_side_from_string(const std::string& s) {
  if (s == "meta-train" || s == "train") return SplitSide::meta_train;
  if (s == "meta-val" || s == "val") return SplitSide::meta_val;
  if (s == "meta-test" || s == "test") return SplitSide::meta_test;
  throw DataError("unknown split side '" + s + "' (meta-train, meta-val or meta-test)");
}

const std::vector<FewShotClass>& FewShotSplit::classes(SplitSide side) const {
  switch (side) {
    case SplitSide::meta_train: return meta_train;
    case SplitSide::meta_val: return meta_val;
    default: return meta_test;
  }
}

namespace {

nlohmann::json classes_to_json(const std::vector<FewShotClass>& cs) {
  auto a = nlohmann::json::array();
  for (const auto& c : cs)
    a.push_back({{"name", c.name}, {"label", c.label}, {"rotation", c.rotation}, {"indices", c.indices}});
  return a;
}

std::vector<FewShotClass> classes_from_json(const nlohmann::json& a) {
  std::vector<FewShotClass> cs;
  for (const auto& j : a) {
    FewShotClass c;
    c.name = j.at("name").get<std::string>();
    c.label = j.at("label").get<int32_t>();
    c.rotation = j.at("rotation").get<int32_t>();
    c.indices = j.at("indices").get<std::vector<int64_t>>();
    cs.push_back(std::move(c));
  }
  return cs;
}

// Class `label` of `set`, whose pool indices start at `offset` (0 for train, train.size() for test).
FewShotClass make_class(const ImageSet& set, const std::vector<std::vector<int64_t>>& by_class,
                        int32_t label, int64_t offset, int32_t rotation = 0) {
  FewShotClass c;
  c.name = set.class_names[static_cast<size_t>(label)];
  if (rotation != 0) {
    c.name += '@';
    c.name += std::to_string(rotation);
  }
  c.label = label;
  c.rotation = rotation;
  c.indices = by_class[static_cast<size_t>(label)];
  for (auto& i : c.indices) i += offset;
  return c;
}

std::vector<std::string> split_on(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t") - a + 1);
}

// A class given by label number or by name.
int32_t resolve_class(const ImageSet& set, const std::string& token, const std::string& spec) {
  const auto it = std::find(set.class_names.begin(), set.class_names.end(), token);
  if (it != set.class_names.end()) return static_cast<int32_t>(it - set.class_names.begin());
  try {
    size_t used = 0;
    const int v = std::stoi(token, &used);
    if (used == token.size() && v >= 0 && v < static_cast<int>(set.class_names.size())) return v;
  } catch (const std::exception&) {
  }
  throw DataError("split spec '" + spec + "': class '" + token + "' is neither a label in 0.." +
                  std::to_string(set.class_names.size() - 1) + " nor a class name");
}

// "train=0,1;val=2;test=5,6": train/val classes from the train file, test from the test file.
FewShotSplit custom_split(const Dataset& d, const std::string& spec) {
  FewShotSplit s;
  s.dataset = s.test_dataset = d.name;
  s.protocol = "custom";
  s.description = "custom '" + spec + "': meta-train/meta-val images from the train file (" +
                  d.train_source + "), meta-test images from the test file (" + d.test_source + ")";
  const bool has_test = d.test.size() > 0;
  const ImageSet& test_set = has_test ? d.test : d.train;
  const int64_t test_offset = has_test ? d.train.size() : 0;
  const auto by_train = d.train.indices_by_class();
  const auto by_test = test_set.indices_by_class();
  std::set<std::string> used;
  for (const auto& part : split_on(spec, ';')) {
    if (trim(part).empty()) continue;
    const auto kv = split_on(part, '=');
    if (kv.size() != 2)
      throw DataError("split spec '" + spec + "': expected SIDE=classes, got '" + part + "'");
    const SplitSide side = split_side_from_string(trim(kv[0]));
    for (const auto& raw : split_on(kv[1], ',')) {
      const std::string token = trim(raw);
      if (token.empty()) continue;
      const ImageSet& set = side == SplitSide::meta_test ? test_set : d.train;
      const int32_t label = resolve_class(set, token, spec);
      const std::string name = set.class_names[static_cast<size_t>(label)];
      if (!used.insert(name).second)
        throw DataError("split spec '" + spec + "': class '" + name +
                        "' appears twice; meta-train, meta-val and meta-test must be disjoint");
      auto& dst = side == SplitSide::meta_train ? s.meta_train
                  : side == SplitSide::meta_val ? s.meta_val
                                                : s.meta_test;
      dst.push_back(side == SplitSide::meta_test ? make_class(set, by_test, label, test_offset)
                                                 : make_class(set, by_train, label, 0));
    }
  }
  return s;
}

FewShotSplit ten_class_split(const Dataset& d) {
  FewShotSplit s = custom_split(d, "train=0,1,2,3,4;test=5,6,7,8,9");
  s.protocol = "default-10";
  s.description = "classes 0-4 meta-train (images of the train file: " + d.train_source +
                  "), classes 5-9 meta-test (images of the test file: " + d.test_source +
                  "), no meta-val";
  return s;
}

FewShotSplit omniglot_split(const Dataset& d, const SplitOptions& o) {
  const std::string proto = o.spec.empty() ? "maml" : o.spec;
  int64_t n_train = 0, n_val = 0;
  if (proto == "maml") {
    if (o.omniglot_val < 0 || o.omniglot_val >= 1200)
      throw DataError("omniglot_val must be in 0..1199, got " + std::to_string(o.omniglot_val));
    n_train = 1200 - o.omniglot_val;
    n_val = o.omniglot_val;
  } else if (proto == "vinyals") {
    n_train = 1028;
    n_val = 172;
  } else {
    throw DataError("omniglot split '" + proto + "': expected maml or vinyals");
  }
  // Fixed order: background characters (pool 0..), then evaluation characters, each sorted by name
  // (the loader sorts), then a shuffle seeded with kOmniglotSplitSeed.
  struct Char {
    const ImageSet* set;
    int32_t label;
    int64_t offset;
  };
  std::vector<Char> chars;
  for (int32_t l = 0; l < static_cast<int32_t>(d.train.class_names.size()); ++l) chars.push_back({&d.train, l, 0});
  for (int32_t l = 0; l < static_cast<int32_t>(d.test.class_names.size()); ++l)
    chars.push_back({&d.test, l, d.train.size()});
  if (chars.size() != 1623)
    throw DataError("omniglot split needs all 1623 characters, found " + std::to_string(chars.size()));
  Rng rng(kOmniglotSplitSeed);
  rng.shuffle(chars);
  const auto by_train = d.train.indices_by_class(), by_test = d.test.indices_by_class();
  FewShotSplit s;
  s.dataset = s.test_dataset = d.name;
  s.protocol = proto;
  const int nrot = o.rotations ? 4 : 1;
  for (size_t i = 0; i < chars.size(); ++i) {
    auto& dst = static_cast<int64_t>(i) < n_train             ? s.meta_train
                : static_cast<int64_t>(i) < n_train + n_val ? s.meta_val
                                                              : s.meta_test;
    const auto& by = chars[i].set == &d.train ? by_train : by_test;
    for (int r = 0; r < nrot; ++r) dst.push_back(make_class(*chars[i].set, by, chars[i].label, chars[i].offset, 90 * r));
  }
  s.description = proto + ": 1623 characters (images_background then images_evaluation, sorted, "
                  "shuffled with seed " + std::to_string(kOmniglotSplitSeed) + ") cut " +
                  std::to_string(n_train) + "/" + std::to_string(n_val) + "/" +
                  std::to_string(1623 - n_train - n_val) + " characters" +
                  (o.rotations ? ", each x4 rotations (0/90/180/270) as classes" : "");
  return s;
}

FewShotSplit folder_split(const Dataset& d) {
  FewShotSplit s;
  s.dataset = s.test_dataset = d.name;
  s.protocol = "folder";
  const auto by_train = d.train.indices_by_class();
  const int64_t n = static_cast<int64_t>(d.train.class_names.size());
  if (d.test.size() == 0) {
    const int64_t n_train = (n * 6 + 5) / 10, n_val = (n * 2 + 5) / 10;
    for (int32_t l = 0; l < n; ++l) {
      auto& dst = l < n_train ? s.meta_train : l < n_train + n_val ? s.meta_val : s.meta_test;
      dst.push_back(make_class(d.train, by_train, l, 0));
    }
    s.description = "classes sorted by name: first 60% meta-train, next 20% meta-val, rest meta-test, all from " + d.train_source;
    return s;
  }
  std::set<std::string> train_names(d.train.class_names.begin(), d.train.class_names.end());
  bool disjoint = true;
  for (const auto& c : d.test.class_names) disjoint = disjoint && !train_names.count(c);
  if (!disjoint && d.test.class_names != d.train.class_names)
    throw DataError(d.name + ": train/ and test/ share some class folders but not all (" +
                    std::to_string(d.train.class_names.size()) + " vs " +
                    std::to_string(d.test.class_names.size()) +
                    " classes); give the split explicitly as train=..;val=..;test=..");
  if (!disjoint) {
    std::string spec = "train=";
    for (int64_t l = 0; l < n; ++l) {
      if (l == n / 2) spec += ";test=";
      spec += std::to_string(l);
      spec += ',';
    }
    FewShotSplit c = custom_split(d, spec);
    c.protocol = "folder";
    c.description = "same classes in train/ and test/: first half meta-train (train/ images), rest meta-test (test/ images)";
    return c;
  }
  const int64_t n_val = (n * 2 + 5) / 10;
  for (int32_t l = 0; l < n; ++l)
    (l < n - n_val ? s.meta_train : s.meta_val).push_back(make_class(d.train, by_train, l, 0));
  const auto by_test = d.test.indices_by_class();
  for (int32_t l = 0; l < static_cast<int32_t>(d.test.class_names.size()); ++l)
    s.meta_test.push_back(make_class(d.test, by_test, l, d.train.size()));
  s.description = "train/ classes: last 20% meta-val, rest meta-train; test/ classes: meta-test";
  return s;
}

}  // namespace

FewShotSplit make_split(const Dataset& d, const SplitOptions& o) {
  if (d.regression) throw DataError(d.name + ": a regression family has no class split");
  if (d.name == "omniglot" && (o.spec.empty() || o.spec == "maml" || o.spec == "vinyals"))
    return omniglot_split(d, o);
  if (!o.spec.empty()) return custom_split(d, o.spec);
  if (d.name.rfind("folder:", 0) == 0) return folder_split(d);
  if (d.train.class_names.size() == 10) return ten_class_split(d);
  throw DataError(d.name + ": no default split for " + std::to_string(d.train.class_names.size()) +
                  " classes; give one as train=..;val=..;test=..");
}

FewShotSplit make_cross_split(const Dataset& a, const Dataset& b, const SplitOptions& o) {
  if (a.channels() != b.channels() || a.height() != b.height() || a.width() != b.width())
    throw DataError("cross-dataset split " + a.name + " -> " + b.name + ": image shapes differ (" +
                    std::to_string(a.channels()) + "x" + std::to_string(a.height()) + "x" +
                    std::to_string(a.width()) + " vs " + std::to_string(b.channels()) + "x" +
                    std::to_string(b.height()) + "x" + std::to_string(b.width()) + ")");
  FewShotSplit s = make_split(a, o);
  s.test_dataset = b.name;
  s.protocol = "cross";
  s.meta_test.clear();
  const auto by = b.test.indices_by_class();
  for (int32_t l = 0; l < static_cast<int32_t>(b.test.class_names.size()); ++l)
    s.meta_test.push_back(make_class(b.test, by, l, b.train.size()));
  s.description = "cross-dataset: meta-train/meta-val from " + a.name + " (" + s.description +
                  "); meta-test = all " + std::to_string(s.meta_test.size()) + " classes of " +
                  b.name + "'s test file (" + b.test_source + ")";
  return s;
}

nlohmann::json FewShotSplit::to_json() const {
  return {{"dataset", dataset},           {"test_dataset", test_dataset},
          {"protocol", protocol},         {"description", description},
          {"meta_train", classes_to_json(meta_train)}, {"meta_val", classes_to_json(meta_val)},
          {"meta_test", classes_to_json(meta_test)}};
}

FewShotSplit FewShotSplit::from_json(const nlohmann::json& j) {
  FewShotSplit s;
  try {
    s.dataset = j.at("dataset").get<std::string>();
    s.test_dataset = j.at("test_dataset").get<std::string>();
    s.protocol = j.at("protocol").get<std::string>();
    s.description = j.value("description", "");
    s.meta_train = classes_from_json(j.at("meta_train"));
    s.meta_val = classes_from_json(j.at("meta_val"));
    s.meta_test = classes_from_json(j.at("meta_test"));
  } catch (const nlohmann::json::exception& e) {
    throw DataError(std::string("malformed split JSON: ") + e.what());
  }
  return s;
}

void FewShotSplit::save(const fs::path& file) const {
  std::ofstream out(file);
  if (!out) throw DataError("cannot write " + file.string());
  out << to_json().dump() << '\n';
}

FewShotSplit FewShotSplit::load(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw DataError("missing split file " + file.string());
  try {
    return from_json(nlohmann::json::parse(in));
  } catch (const nlohmann::json::exception& e) {
    throw DataError("cannot parse " + file.string() + ": " + e.what());
  }
}

LabeledImages side_images(const FewShotSplit& split, SplitSide side) {
  LabeledImages out;
  const auto& cs = split.classes(side);
  for (size_t c = 0; c < cs.size(); ++c)
    for (int64_t i : cs[c].indices) {
      out.indices.push_back(i);
      out.rotations.push_back(cs[c].rotation);
      out.labels.push_back(static_cast<int32_t>(c));
    }
  return out;
}

}  // namespace fewshot::data
