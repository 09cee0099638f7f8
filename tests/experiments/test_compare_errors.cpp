// Bad input to `fewshot compare` is rejected before any training starts, with a message that names
// the problem and the numbers, and nothing is written.
#include <doctest/doctest.h>

#include "tests/experiments/compare_harness.h"

using namespace fewshot::testing;

namespace {

struct Rejection {
  std::string args, expected;
};

}  // namespace

TEST_CASE("compare rejects bad input before training") {
  fs::path dir = scratch_dir("errors");
  fs::path out = dir / "out";
  std::string common = " --meta-iterations 2 --test-episodes 2 --out '" + out.string() + "'";
  {
    std::ofstream f(dir / "unknown_key.toml");
    f << "dataset = \"mnist\"\nmeta_iteration = 3\n";
  }
  {
    std::ofstream f(dir / "wrong_type.toml");
    f << "shots = \"five\"\n";
  }
  std::vector<Rejection> cases = {
      {"compare --dataset imagenet" + common, "unknown dataset 'imagenet'"},
      {"compare --methods maml,svm" + common, "unknown method 'svm'"},
      {"compare --ways 6" + common, "mnist meta-train has 5 classes; 6-way tasks need at least 6"},
      {"compare --dataset omniglot --shots 10 --queries 15" + common, "need 25 images per class"},
      {"compare --shots 0" + common, "--shots 0 must be at least 1"},
      {"compare --device cuda" + common, "use --device cpu"},
      {"compare --config '" + (dir / "unknown_key.toml").string() + "'" + common, "unknown key 'meta_iteration'"},
      {"compare --config '" + (dir / "wrong_type.toml").string() + "'" + common,
       "key 'shots' must be an integer, got a string"},
      {"compare --config '" + (dir / "missing.toml").string() + "'" + common, "does not exist"},
  };
  for (auto& c : cases) {
    CAPTURE(c.args);
    fs::remove_all(out);
    CommandResult r = run_fewshot(c.args, dir / "log.txt");
    CAPTURE(r.output);
    CHECK(r.exit_code != 0);
    CHECK(r.output.find(c.expected) != std::string::npos);
    CHECK_FALSE(fs::exists(out / "results.json"));
  }
  // An output path that cannot be a directory (a file is in the way).
  { std::ofstream f(dir / "a-file"); f << "x"; }
  CommandResult r = run_fewshot("compare --out '" + (dir / "a-file" / "sub").string() + "'", dir / "log.txt");
  CAPTURE(r.output);
  CHECK(r.exit_code != 0);
  CHECK(r.output.find("cannot create output directory") != std::string::npos);
  // --help explains each option with its default.
  CommandResult h = run_fewshot("compare --help", dir / "help.txt");
  CHECK(h.exit_code == 0);
  for (std::string opt : {"--dataset", "--ways", "--shots", "--queries", "--methods", "--seeds", "--meta-iterations",
                          "--test-episodes", "--device", "--threads", "--out", "--config", "--resume", "--schedule"})
    CHECK(h.output.find(opt) != std::string::npos);
  CHECK(h.output.find("600") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("a TOML config supplies options and the command line overrides it") {
  fs::path dir = scratch_dir("config");
  {
    std::ofstream f(dir / "c.toml");
    f << "dataset = \"mnist\"\nways = 2\nshots = [1]\nqueries = 2\nmethods = [\"protonet\"]\n"
         "meta-iterations = 2\ntest-episodes = 3\nval-episodes = 0\nthreads = 1\nreport = false\n";
  }
  fs::path out = dir / "out";
  CommandResult r = run_fewshot("compare --config '" + (dir / "c.toml").string() + "' --test-episodes 4 --out '" +
                                    out.string() + "'",
                                dir / "log.txt");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  auto results = read_json(out / "results.json");
  CHECK(results["config"]["ways"] == 2);
  CHECK(results["config"]["test_episodes"] == 4);  // command line wins
  CHECK(results["runs"].size() == 1);
  CHECK(results["runs"][0]["test"]["accuracies"].size() == 4);
  fs::remove_all(dir);
}
