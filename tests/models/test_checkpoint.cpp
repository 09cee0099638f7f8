#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "engine/ops.h"
#include "models/checkpoint.h"
#include "models/learner.h"

using namespace fewshot;
using namespace fewshot::models;
namespace fs = std::filesystem;

namespace {
fs::path temp_path(const std::string& name) {
  fs::path d = fs::temp_directory_path() / fmt::format("fewshot-models-test-{}", ::getpid());
  fs::create_directories(d);
  return d / name;
}
}  // namespace

TEST_CASE("safetensors round trip: dtypes, shapes, values, metadata; layout readable by other tools") {
  Generator g(3);
  Tensor a = randn(Shape{2, 3}, g), b = randn(Shape{4}, g, DType::Float64);
  Tensor c = Tensor::from_indices({7, -1, 42}, Shape{3}), s = Tensor::scalar(2.5);
  fs::path p = temp_path("rt.safetensors");
  nlohmann::json meta = {{"config", {{"inner_lr", 0.4}}}, {"note", "hello"}};
  save_safetensors(p, {{"a", a}, {"b", b}, {"c", c}, {"s", s}}, meta);
  NamedTensors f = load_safetensors(p);
  REQUIRE(f.items.size() == 4);
  CHECK(f.at("a").to_vector() == a.to_vector());
  CHECK(f.at("b").dtype() == DType::Float64);
  CHECK(f.at("b").to_vector() == b.to_vector());
  CHECK(f.at("c").to_indices() == c.to_indices());
  CHECK(f.at("s").shape() == Shape{});
  CHECK(f.metadata["config"]["inner_lr"].get<double>() == 0.4);
  CHECK(f.metadata["note"].get<std::string>() == "hello");
  CHECK_THROWS_WITH_AS(f.at("zz"), doctest::Contains("have: a, b, c, s"), CheckpointError);

  // The raw layout: u64 LE header length, JSON with dtype/shape/data_offsets and string metadata.
  std::ifstream in(p, std::ios::binary);
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  std::string h(n, ' ');
  in.read(h.data(), static_cast<std::streamsize>(n));
  auto j = nlohmann::json::parse(h);
  CHECK(j["a"]["dtype"] == "F32");
  CHECK(j["c"]["dtype"] == "I64");
  CHECK(j["a"]["shape"] == nlohmann::json::array({2, 3}));
  CHECK(j["__metadata__"]["config"].is_string());
  CHECK(n % 8 == 0);
  CHECK_FALSE(fs::exists(p.string() + ".tmp"));
}

TEST_CASE("safetensors: truncated and corrupt files give clear errors") {
  Generator g(4);
  fs::path p = temp_path("bad.safetensors");
  save_safetensors(p, {{"w", randn(Shape{64}, g)}});
  auto size = fs::file_size(p);
  fs::resize_file(p, size - 10);
  CHECK_THROWS_WITH_AS(load_safetensors(p), doctest::Contains("truncated"), CheckpointError);
  fs::resize_file(p, 5);
  CHECK_THROWS_WITH_AS(load_safetensors(p), doctest::Contains("truncated"), CheckpointError);
  {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    uint64_t n = 8;
    out.write(reinterpret_cast<const char*>(&n), 8);
    out << "{not json";
  }
  CHECK_THROWS_WITH_AS(load_safetensors(p), doctest::Contains("corrupt JSON"), CheckpointError);
  {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    std::string h = R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,12]}})";
    uint64_t n = h.size();
    out.write(reinterpret_cast<const char*>(&n), 8);
    out << h << std::string(16, '\0');
  }
  CHECK_THROWS_WITH_AS(load_safetensors(p), doctest::Contains("needs 16 bytes"), CheckpointError);
  CHECK_THROWS_WITH_AS(load_safetensors(temp_path("missing.safetensors")), doctest::Contains("cannot open"),
                       CheckpointError);
}

TEST_CASE("learner save/load restores parameters and rejects another method's checkpoint") {
  LearnerConfig c = LearnerConfig::defaults("maml");
  c.backbone = BackboneConfig::mlp_for(1, 1);
  c.ways = 0;
  auto a = make_learner("maml", c);
  fs::path p = temp_path("maml.safetensors");
  a->save(p);
  c.seed = 99;
  auto b = make_learner("maml", c);
  CHECK(b->params()[0].to_vector() != a->params()[0].to_vector());
  b->load(p);
  for (size_t i = 0; i < a->params().size(); ++i) CHECK(b->params()[i].to_vector() == a->params()[i].to_vector());
  auto r = make_learner("reptile", c);
  CHECK_THROWS_WITH_AS(r->load(p), doctest::Contains("written by method 'maml'"), CheckpointError);
  auto cfg = load_safetensors(p).metadata["config"];
  CHECK(LearnerConfig::from_json(cfg).inner_lr == c.inner_lr);
}
