// A compare killed mid-way resumes with --resume: finished runs are kept as they were (not rerun,
// not duplicated) and the rest complete.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

#include "tests/experiments/compare_harness.h"

using namespace fewshot::testing;

namespace {

int finished_runs(const fs::path& results) {
  if (!fs::exists(results)) return 0;
  try {
    int n = 0;
    nlohmann::json j = read_json(results);
    for (auto& r : j["runs"]) n += r["status"] == "finished";
    return n;
  } catch (...) {
    return 0;  // never happens with atomic writes, but a test should not depend on that
  }
}

}  // namespace

TEST_CASE("kill a running compare, then --resume completes it without losing or duplicating results") {
  fs::path out = scratch_dir("resume");
  std::string args = "compare --dataset mnist --ways 3 --shots 1 --queries 3 --methods protonet,maml,fomaml,scratch "
                     "--schedule sequential --meta-iterations 40 --meta-batch 2 --test-episodes 5 --val-episodes 2 "
                     "--scratch-steps 3 --threads 1 --no-report --out '" + out.string() + "'";
  std::string cmd = std::string("exec '") + FEWSHOT_BINARY + "' " + args + " > '" + (out / "log1.txt").string() +
                    "' 2>&1";
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    setpgid(0, 0);
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait for the first finished run, then kill hard (no chance to clean up).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (finished_runs(out / "results.json") < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  INFO(read_text(out / "log1.txt"));
  auto before = read_json(out / "results.json");
  int done_before = finished_runs(out / "results.json");
  REQUIRE(done_before >= 1);
  REQUIRE(done_before < 4);  // killed before the end, or the test proves nothing
  std::map<std::string, nlohmann::json> finished;
  for (auto& r : before["runs"])
    if (r["status"] == "finished") finished[r["id"]] = r["test"]["accuracies"];

  CommandResult r = run_fewshot("compare --resume --no-report --out '" + out.string() + "'", out / "log2.txt");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  auto after = read_json(out / "results.json");
  REQUIRE(after["runs"].size() == 4);
  std::map<std::string, int> seen;
  for (auto& run : after["runs"]) {
    CHECK(run["status"] == "finished");
    ++seen[run["id"].get<std::string>()];
    auto it = finished.find(run["id"]);
    if (it != finished.end()) CHECK(run["test"]["accuracies"] == it->second);  // kept, not rerun
  }
  for (auto& [id, count] : seen) CHECK(count == 1);
  fs::remove_all(out);
}
