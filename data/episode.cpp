#include "data/episode.h"

#include <fstream>

#include "data/image_ops.h"

namespace fewshot::data {
namespace fs = std::filesystem;

Episode sample_episode(const FewShotSplit& split, SplitSide side, int64_t ways, int64_t shots,
                       int64_t queries, Rng& rng) {
  const auto& cs = split.classes(side);
  const int64_t n_classes = static_cast<int64_t>(cs.size());
  if (ways < 1 || shots < 1 || queries < 0)
    throw DataError("episode needs ways >= 1, shots >= 1, queries >= 0; got N=" + std::to_string(ways) +
                    " K=" + std::to_string(shots) + " Q=" + std::to_string(queries));
  if (ways > n_classes)
    throw DataError(std::to_string(ways) + "-way episodes need " + std::to_string(ways) +
                    " classes but " + to_string(side) + " of the " + split.protocol + " split of " +
                    split.dataset + " has only " + std::to_string(n_classes));
  Episode e;
  e.ways = ways;
  e.shots = shots;
  e.queries = queries;
  for (int64_t c : rng.sample_without_replacement(n_classes, ways)) {
    e.classes.push_back(static_cast<int32_t>(c));
    e.rotations.push_back(cs[static_cast<size_t>(c)].rotation);
  }
  for (int64_t w = 0; w < ways; ++w) {
    const FewShotClass& fc = cs[static_cast<size_t>(e.classes[w])];
    const int64_t have = static_cast<int64_t>(fc.indices.size());
    if (shots + queries > have)
      throw DataError("K + Q = " + std::to_string(shots) + " + " + std::to_string(queries) + " = " +
                      std::to_string(shots + queries) + " images per class, but class '" + fc.name +
                      "' (" + to_string(side) + " of " + split.dataset + ") has only " +
                      std::to_string(have));
    const auto pick = rng.sample_without_replacement(have, shots + queries);
    for (int64_t k = 0; k < shots + queries; ++k) {
      const int64_t idx = fc.indices[static_cast<size_t>(pick[k])];
      if (k < shots) {
        e.support.push_back(idx);
        e.support_labels.push_back(static_cast<int32_t>(w));
      } else {
        e.query.push_back(idx);
        e.query_labels.push_back(static_cast<int32_t>(w));
      }
    }
  }
  return e;
}

EpisodeSampler::EpisodeSampler(const FewShotSplit& split, SplitSide side, int64_t ways,
                               int64_t shots, int64_t queries, uint64_t seed)
    : split_(split), side_(side), ways_(ways), shots_(shots), queries_(queries), rng_(seed) {}

nlohmann::json Episode::to_json() const {
  return {{"ways", ways},       {"shots", shots},         {"queries", queries},
          {"classes", classes}, {"rotations", rotations}, {"support", support},
          {"query", query},     {"support_labels", support_labels}, {"query_labels", query_labels}};
}

Episode Episode::from_json(const nlohmann::json& j) {
  Episode e;
  e.ways = j.at("ways").get<int64_t>();
  e.shots = j.at("shots").get<int64_t>();
  e.queries = j.at("queries").get<int64_t>();
  e.classes = j.at("classes").get<std::vector<int32_t>>();
  e.rotations = j.at("rotations").get<std::vector<int32_t>>();
  e.support = j.at("support").get<std::vector<int64_t>>();
  e.query = j.at("query").get<std::vector<int64_t>>();
  e.support_labels = j.at("support_labels").get<std::vector<int32_t>>();
  e.query_labels = j.at("query_labels").get<std::vector<int32_t>>();
  return e;
}

EpisodeSet make_test_episodes(const FewShotSplit& split, int64_t ways, int64_t shots,
                              int64_t queries, int64_t count, uint64_t seed, SplitSide side) {
  EpisodeSet s;
  s.dataset = side == SplitSide::meta_test ? split.test_dataset : split.dataset;
  s.side = to_string(side);
  s.ways = ways;
  s.shots = shots;
  s.queries = queries;
  s.seed = seed;
  for (int64_t i = 0; i < count; ++i) {
    Rng rng(mix64(seed ^ mix64(static_cast<uint64_t>(i) + 1)));
    s.episodes.push_back(sample_episode(split, side, ways, shots, queries, rng));
  }
  return s;
}

nlohmann::json EpisodeSet::to_json() const {
  auto eps = nlohmann::json::array();
  for (const auto& e : episodes) eps.push_back(e.to_json());
  return {{"dataset", dataset}, {"side", side},   {"ways", ways},      {"shots", shots},
          {"queries", queries}, {"seed", seed},   {"episodes", eps}};
}

EpisodeSet EpisodeSet::from_json(const nlohmann::json& j) {
  EpisodeSet s;
  try {
    s.dataset = j.at("dataset").get<std::string>();
    s.side = j.at("side").get<std::string>();
    s.ways = j.at("ways").get<int64_t>();
    s.shots = j.at("shots").get<int64_t>();
    s.queries = j.at("queries").get<int64_t>();
    s.seed = j.at("seed").get<uint64_t>();
    for (const auto& e : j.at("episodes")) s.episodes.push_back(Episode::from_json(e));
  } catch (const nlohmann::json::exception& e) {
    throw DataError(std::string("malformed episode-set JSON: ") + e.what());
  }
  return s;
}

void EpisodeSet::save(const fs::path& file) const {
  std::ofstream out(file);
  if (!out) throw DataError("cannot write " + file.string());
  out << to_json().dump() << '\n';
}

EpisodeSet EpisodeSet::load(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw DataError("missing episode file " + file.string());
  try {
    return from_json(nlohmann::json::parse(in));
  } catch (const nlohmann::json::exception& e) {
    throw DataError("cannot parse " + file.string() + ": " + e.what());
  }
}

ImageBatch gather_images(const Dataset& d, const std::vector<int64_t>& indices,
                         const std::vector<int32_t>& rotations, const std::vector<int32_t>& labels,
                         const Normalization& norm, const AugmentFn& augment,
                         uint64_t augment_seed) {
  ImageBatch b;
  b.count = static_cast<int64_t>(indices.size());
  b.channels = d.channels();
  b.height = d.height();
  b.width = d.width();
  b.labels = labels;
  const int64_t numel = b.channels * b.height * b.width;
  if (static_cast<int64_t>(norm.mean.size()) != b.channels || static_cast<int64_t>(norm.std.size()) != b.channels)
    throw DataError("normalization has " + std::to_string(norm.mean.size()) + " channels, images of " +
                    d.name + " have " + std::to_string(b.channels));
  b.pixels.resize(static_cast<size_t>(b.count * numel));
  Rng rng(augment_seed);
  for (int64_t i = 0; i < b.count; ++i) {
    const int64_t idx = indices[static_cast<size_t>(i)];
    if (idx < 0 || idx >= d.pool_size())
      throw DataError("image index " + std::to_string(idx) + " outside the pool of " + d.name +
                      " (" + std::to_string(d.pool_size()) + " images); split or episodes of another dataset?");
    float* dst = b.pixels.data() + i * numel;
    const int rot = rotations.empty() ? 0 : rotations[static_cast<size_t>(i)];
    if (rot % 360 == 0) {
      std::copy(d.pool_image(idx), d.pool_image(idx) + numel, dst);
    } else {
      if (b.height != b.width) throw DataError("rotation classes need square images");
      rotate_square(d.pool_image(idx), b.channels, b.height, rot, dst);
    }
    if (augment) augment(dst, b.channels, b.height, b.width, rng);
    norm.apply(dst, b.channels, b.height * b.width);
  }
  return b;
}

EpisodeBatch materialize(const Episode& e, const Dataset& d, const Normalization& norm,
                         const AugmentFn& augment, uint64_t augment_seed) {
  std::vector<int32_t> srot, qrot;
  for (int32_t l : e.support_labels) srot.push_back(e.rotations[static_cast<size_t>(l)]);
  for (int32_t l : e.query_labels) qrot.push_back(e.rotations[static_cast<size_t>(l)]);
  EpisodeBatch b;
  b.support = gather_images(d, e.support, srot, e.support_labels, norm, augment, augment_seed);
  b.query = gather_images(d, e.query, qrot, e.query_labels, norm, augment, mix64(augment_seed + 1));
  return b;
}

}  // namespace fewshot::data
