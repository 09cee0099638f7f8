// `fewshot compare --device cuda` end to end, on the CUDA emulator: every learner family trains and
// is tested on the (emulated) GPU, methods side by side on their own streams, and the numbers
// match the product's CPU run of the same command. Small, well-conditioned setting (5-way 2-shot,
// 16x16 Omniglot: batch norm sees at least 10 values) so that rounding differences stay rounding.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <string>

#include "tests/experiments/compare_harness.h"

using namespace fewshot::testing;

namespace {

std::map<std::string, nlohmann::json> runs_by_method(const nlohmann::json& results) {
  std::map<std::string, nlohmann::json> m;
  for (const auto& r : results["runs"]) m[r["method"].get<std::string>()] = r;
  return m;
}

}  // namespace

TEST_CASE("fewshot compare --device cuda runs every learner family and matches the CPU run") {
  fs::path out = scratch_dir("compare-cuda");
  const std::string args =
      "compare --dataset omniglot --image-size 16 --ways 5 --shots 2 --queries 1 "
      "--methods maml,protonet,scratch,baseline++ --schedule parallel --meta-iterations 2 --meta-batch 1 "
      "--inner-steps 1 --inner-steps-test 1 --test-episodes 2 --val-episodes 1 --scratch-steps 2 --finetune-epochs 1 "
      "--threads 2 --no-report";
  CommandResult cpu = run_program(FEWSHOT_BINARY, args + " --device cpu --out '" + (out / "cpu").string() + "'",
                                  out / "cpu.txt");
  INFO(cpu.output);
  REQUIRE(cpu.exit_code == 0);
  CommandResult gpu = run_program(FEWSHOT_EMULATED_BINARY,
                                  args + " --device cuda --out '" + (out / "cuda").string() + "'", out / "cuda.txt");
  INFO(gpu.output);
  REQUIRE(gpu.exit_code == 0);

  auto rc = read_json(out / "cpu" / "results.json"), rg = read_json(out / "cuda" / "results.json");
  CHECK(rg["config"]["device"] == "cuda:0");
  CHECK(rg["environment"]["gpu"].get<std::string>().find("fewshot CUDA emulator") == 0);
  auto c = runs_by_method(rc), g = runs_by_method(rg);
  REQUIRE(g.size() == 4);
  for (const auto& [method, run] : g) {
    CAPTURE(method);
    REQUIRE(c.count(method) == 1);
    CHECK(run["status"] == "finished");
    // Test accuracy over the same 10 queries: training amplifies rounding, so allow 2 flipped queries.
    double ac = c[method]["test"]["mean"].get<double>(), ag = run["test"]["mean"].get<double>();
    MESSAGE(method << ": test accuracy cpu " << ac << ", cuda " << ag);
    CHECK(std::abs(ac - ag) <= 0.2 + 1e-9);
    // The first training loss comes from identical parameters and tasks: only rounding separates them.
    const auto& cc = c[method]["train"]["curve"];
    const auto& cg = run["train"]["curve"];
    REQUIRE(cc.size() == cg.size());
    if (cc.size() >= 2) {
      double lc = cc[1]["loss"].get<double>(), lg = cg[1]["loss"].get<double>();
      MESSAGE(method << ": first training loss cpu " << lc << ", cuda " << lg);
      CHECK(std::abs(lc - lg) <= 1e-4 * std::abs(lc));
    }
  }
}
