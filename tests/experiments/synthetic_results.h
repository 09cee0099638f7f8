#pragma once
// A made-up but plausible comparison: 2 datasets x shots {1, 5} x {maml, protonet, scratch, baseline},
// one seed, with curves, per-episode accuracies and accuracy-by-step. Deterministic.
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <algorithm>
#include <unistd.h>

#include <fmt/format.h>

#include "experiments/report/results.h"
#include "experiments/report/stats.h"

namespace fewshot::report::testing {

inline Results synthetic_results(int episodes = 40, std::vector<std::int64_t> seeds = {0}) {
  Results r;
  r.command = "fewshot compare --dataset mnist,omniglot --shots 1,5 --methods maml,protonet,scratch,baseline --out out";
  Config& c = r.config;
  c.datasets = {"mnist", "omniglot"};
  c.ways = 5;
  c.shots = {1, 5};
  c.queries = 15;
  c.methods = {"maml", "protonet", "scratch", "baseline"};
  c.seeds = seeds;
  c.meta_iterations = 300;
  c.test_episodes = episodes;
  c.device = "cpu";
  c.threads = 2;
  c.schedule = "parallel";
  c.extra = {{"inner_lr", 0.4}, {"inner_steps", 5}};
  r.environment = {"Intel(R) Xeon(R) Processor", 2, std::nullopt, 2, "Release", "abc1234", "g++ 12.2.0", "2026-12-04T16:00:00Z"};
  r.splits["mnist"] = {{0, 1, 2, 3, 4}, {5, 6, 7, 8, 9}};
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 0.06);
  for (const std::string& d : c.datasets)
    for (auto shots : c.shots)
      for (const auto& m : c.methods)
        for (auto seed : seeds) {
          Run run;
          run.id = fmt::format("{}-5w{}s-{}-seed{}", d, shots, m, seed);
          run.dataset = d, run.method = m, run.ways = 5, run.shots = shots, run.queries = 15, run.seed = seed;
          run.family = default_family(m);
          const bool meta = run.family == "meta";
          // Meta-learners: ~90% at 5 shots, ~70% at 1 shot; scratch near chance at 1 shot.
          double level = meta ? (shots == 5 ? 0.9 : 0.7) : (m == "scratch" ? (shots == 5 ? 0.55 : 0.25) : (shots == 5 ? 0.82 : 0.5));
          if (d == "omniglot") level = std::min(0.97, level + 0.03);
          TestInfo t;
          t.episodes = episodes;
          for (int e = 0; e < episodes; ++e) t.accuracies.push_back(std::clamp(level + noise(rng), 0.0, 1.0));
          t.mean = mean(t.accuracies);
          t.ci95 = ci95_normal(t.accuracies);
          t.adapt_steps = m == "protonet" ? 0 : (meta ? 5 : 100);
          t.adapt_seconds_mean = m == "protonet" ? 0.0008 : (meta ? 0.004 : 0.35);
          const int points = static_cast<int>(t.adapt_steps) + 1;  // after 0, 1, ..., adapt_steps steps
          for (int s = 0; s < points; ++s) {
            const double progress = points == 1 ? 1.0 : static_cast<double>(s) / (points - 1);
            t.accuracy_by_step.push_back(0.2 + (t.mean - 0.2) * (1 - std::exp(-5 * progress)) / (1 - std::exp(-5.0)));
          }
          run.test = t;
          if (m == "scratch") {
            run.train.iterations = 0;  // trains a CNN per task: no training phase
          } else {
            run.train.iterations = 300;
            run.train.wall_seconds = meta ? 120.5 + 10 * shots : 400.25;
            run.train.compute_seconds = run.train.wall_seconds * 0.9;
            for (int i = 0; i <= 10; ++i) {
              const double frac = i / 10.0;
              run.train.curve.push_back({i * 30, frac * run.train.wall_seconds,
                                         std::min(1.0, 0.2 + (level - 0.2) * std::sqrt(frac)), 1.6 * (1 - frac) + 0.2});
            }
          }
          r.runs.push_back(std::move(run));
        }
  return r;
}

// A fresh empty directory under the system temp dir.
inline std::filesystem::path temp_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("fewshot_test_{}_{}", name, ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace fewshot::report::testing
