// results.json and curve CSVs: round trips, atomic writes, and errors that name the file and the field.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "experiments/report/results.h"
#include "synthetic_results.h"

using namespace fewshot::report;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string error_of(const json& j) {
  try {
    results_from_json(j, "results.json");
  } catch (const ResultsError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("results.json round trip keeps every field") {
  const Results r = testing::synthetic_results(12);
  const json j = results_to_json(r);
  const Results back = results_from_json(j);
  CHECK(results_to_json(back) == j);
  CHECK(back.runs.size() == r.runs.size());
  CHECK(back.config.extra.at("inner_lr") == 0.4);
  CHECK_FALSE(back.environment.gpu.has_value());
  CHECK(back.runs[0].test->accuracies == r.runs[0].test->accuracies);
  CHECK(back.splits.at("mnist").test_classes.size() == 5);
}

TEST_CASE("save is atomic and load reads curves from CSV when the inline curve is empty") {
  const auto dir = testing::temp_dir("results");
  Results r = testing::synthetic_results(8);
  const std::vector<CurvePoint> curve = r.runs[0].train.curve;
  r.runs[0].train.curve.clear();
  fs::create_directories(dir / "curves");
  write_curve_csv(curve, (dir / "curves" / (r.runs[0].id + ".csv")).string());
  save_results(r, (dir / "results.json").string());
  CHECK_FALSE(fs::exists(dir / "results.json.tmp"));
  const Results back = load_results_dir(dir.string());
  REQUIRE(back.runs[0].train.curve.size() == curve.size());
  for (std::size_t i = 0; i < curve.size(); ++i) {
    CHECK(back.runs[0].train.curve[i].iteration == curve[i].iteration);
    CHECK(back.runs[0].train.curve[i].seconds == doctest::Approx(curve[i].seconds));
    CHECK(back.runs[0].train.curve[i].val_accuracy == doctest::Approx(curve[i].val_accuracy));
  }
  fs::remove_all(dir);
}

TEST_CASE("schema errors name the file and the field") {
  const json good = results_to_json(testing::synthetic_results(4));
  CHECK(error_of(good) == "(no error)");

  json j = good;
  j["runs"][2]["test"].erase("mean");
  CHECK(error_of(j) == "results.json: runs[2].test.mean: missing required field");

  j = good;
  j["runs"][1]["test"]["mean"] = "high";
  CHECK(error_of(j) == "results.json: runs[1].test.mean: expected a number, got string");

  j = good;
  j["runs"][0]["train"]["wallseconds"] = 3;
  CHECK(error_of(j).rfind("results.json: runs[0].train.wallseconds: unknown field", 0) == 0);

  j = good;
  j["environment"]["gpu"] = 3;
  CHECK(error_of(j) == "results.json: environment.gpu: expected a string, got integer");

  j = good;
  j["config"]["ways"] = 5.5;
  CHECK(error_of(j) == "results.json: config.ways: expected an integer, got 5.5");

  j = good;
  j["config"]["learner_hyper_parameter"] = 3;  // config keeps unknown keys (learner settings)
  CHECK(error_of(j) == "(no error)");

  j = good;
  j["runs"][0]["test"]["accuracies"][1] = 1.5;
  CHECK(error_of(j) == "results.json: runs[0].test.accuracies[1]: expected an accuracy in [0, 1], got 1.5");

  j = good;
  j["runs"][0]["test"]["episodes"] = 600;
  CHECK(error_of(j) == "results.json: runs[0].test.accuracies: has 4 entries but test.episodes is 600");

  j = good;
  j["runs"][3]["id"] = j["runs"][0]["id"];
  CHECK(error_of(j).find("runs[3].id: duplicate run id") != std::string::npos);

  j = good;
  j["runs"][0].erase("test");
  CHECK(error_of(j).find("runs[0].test: missing required field") != std::string::npos);
  j["runs"][0]["status"] = "running";  // an unfinished run has no test results yet
  CHECK(error_of(j) == "(no error)");

  j = good;
  j["runs"][0]["family"] = "other";
  CHECK(error_of(j).find("runs[0].family: expected \"meta\" or \"conventional\"") != std::string::npos);

  j = good;
  j["schema"] = 2;
  CHECK(error_of(j).find("schema: unsupported schema version 2") != std::string::npos);

  CHECK(error_of(json::array()) == "results.json: (top level): expected an object, got array");
}

TEST_CASE("file-level errors: unreadable, invalid JSON, bad CSV") {
  const auto dir = testing::temp_dir("results_errors");
  CHECK_THROWS_WITH_AS(load_results((dir / "missing.json").string()),
                       doctest::Contains("missing.json: cannot open"), ResultsError);
  std::ofstream((dir / "bad.json").string()) << "{ \"schema\": 1, ";
  CHECK_THROWS_WITH_AS(load_results((dir / "bad.json").string()), doctest::Contains("bad.json: not valid JSON"), ResultsError);
  std::ofstream((dir / "a.csv").string()) << "iteration,seconds,val_accuracy,loss\n0,0,0.2,1.6\n1,2.5,abc,1.2\n";
  CHECK_THROWS_WITH_AS(read_curve_csv((dir / "a.csv").string()),
                       doctest::Contains("a.csv:3: val_accuracy: \"abc\" is not a number"), ResultsError);
  std::ofstream((dir / "b.csv").string()) << "iter,sec\n";
  CHECK_THROWS_WITH_AS(read_curve_csv((dir / "b.csv").string()), doctest::Contains("b.csv:1: expected the header"), ResultsError);
  fs::remove_all(dir);
}

TEST_CASE("method families") {
  CHECK(default_family("maml") == "meta");
  CHECK(default_family("protonet") == "meta");
  CHECK(default_family("scratch") == "conventional");
  CHECK(default_family("baseline") == "conventional");
  CHECK(default_family("pretrain-finetune") == "conventional");
}

TEST_CASE("runs built in code without a family still save, load and classify") {
  Results r = testing::synthetic_results(4);
  for (Run& run : r.runs) run.family.clear();
  const Results back = results_from_json(results_to_json(r));
  for (const Run& run : back.runs) CHECK(run.family == default_family(run.method));
}
