// Accuracy benchmark (issue 4): few-shot test accuracy with a 95% CI and training time for each
// method on one fixed set of test episodes per setting (the same episodes for every method).
//
//   bench_accuracy [--dataset omniglot] [--ways 5] [--shots 1,5] [--episodes 600]
//                  [--methods maml,fomaml,protonet,scratch,baseline,baseline++]
//                  [--train-seconds maml=600,fomaml=300,protonet=180,baseline=180,baseline++=180]
//                  [--iterations 60000] [--meta-batch 8] [--train-queries 1|shots] [--queries 15]
//                  [--val-every 200] [--val-tasks 50] [--bn transductive|support] [--device cpu|cuda]
//                  [--threads 1] [--seed 0] [--out results.jsonl] [--checkpoints DIR]
//
// Training of each (shots, method) stops at its --iterations or its --train-seconds (wall clock),
// whichever comes first; --train-seconds 0 means no time limit (the paper's protocol:
// --iterations 60000 --meta-batch 32 --train-seconds 0 --device cuda). Baseline/Baseline++
// pretrain once (their pretraining does not depend on the shot count) and are scored on every
// shot setting. One JSON object per (shots, method) is appended to --out as it finishes.
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "data/episode.h"
#include "data/split.h"
#include "engine/ops.h"
#include "models/evaluate.h"
#include "models/learner.h"

using namespace fewshot;
using namespace fewshot::models;
using nlohmann::json;

namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) if (!item.empty()) out.push_back(item);
  return out;
}

Task to_task(const data::EpisodeBatch& b, int64_t ways, Device device) {
  auto images = [](const data::ImageBatch& ib) {
    return Tensor::from_floats(ib.pixels.data(), Shape{ib.count, ib.channels, ib.height, ib.width});
  };
  auto labels = [](const data::ImageBatch& ib) {
    std::vector<int64_t> v(ib.labels.begin(), ib.labels.end());
    return Tensor::from_indices(v, Shape{ib.count});
  };
  Task t{images(b.support), labels(b.support), images(b.query), labels(b.query), ways};
  return device.is_cpu() ? t : t.to(device);
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> opt = {
      {"dataset", "omniglot"}, {"ways", "5"}, {"shots", "1,5"}, {"episodes", "600"},
      {"methods", "maml,fomaml,protonet,scratch,baseline,baseline++"},
      {"train-seconds", "maml=600,fomaml=300,protonet=180,baseline=180,baseline++=180"},
      {"iterations", "60000"}, {"meta-batch", "8"}, {"train-queries", "1"}, {"queries", "15"},
      {"val-every", "200"}, {"val-tasks", "50"}, {"bn", "transductive"}, {"device", "cpu"}, {"threads", "1"},
      {"seed", "0"}, {"out", "accuracy_results.jsonl"}, {"checkpoints", ""}, {"data-dir", ""}};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || i + 1 >= argc || !opt.count(a.substr(2))) {
      std::fprintf(stderr, "usage: see the header of bench/accuracy.cpp (bad argument '%s')\n", a.c_str());
      return 2;
    }
    opt[a.substr(2)] = argv[++i];
  }
  if (std::atoi(opt["threads"].c_str()) > 0) omp_set_num_threads(std::atoi(opt["threads"].c_str()));
  const Device device = parse_device(opt["device"]);
  const int64_t ways = std::atoll(opt["ways"].c_str()), episodes = std::atoll(opt["episodes"].c_str());
  const int64_t queries = std::atoll(opt["queries"].c_str());
  // "--train-queries shots": as many query images per class as shots during meta-training (the paper).
  const bool train_queries_as_shots = opt["train-queries"] == "shots";
  const uint64_t seed = std::strtoull(opt["seed"].c_str(), nullptr, 10);
  std::map<std::string, double> budget;
  for (auto& kv : split_list(opt["train-seconds"])) {
    auto eq = kv.find('=');
    budget[kv.substr(0, eq)] = std::atof(kv.substr(eq + 1).c_str());
  }

  double t0 = now_s();
  data::LoadOptions lo;
  lo.data_dir = opt["data-dir"];
  data::Dataset ds = data::load_dataset(opt["dataset"], lo);
  data::FewShotSplit split = data::make_split(ds);
  std::printf("# %s: %zu meta-train / %zu meta-val / %zu meta-test classes, loaded in %.1f s; %d threads, %s\n",
              opt["dataset"].c_str(), split.meta_train.size(), split.meta_val.size(), split.meta_test.size(),
              now_s() - t0, omp_get_max_threads(), device.str().c_str());
  data::LabeledImages flat = data::side_images(split, data::SplitSide::meta_train);
  int64_t num_classes = static_cast<int64_t>(split.meta_train.size());

  std::ofstream out(opt["out"], std::ios::app);
  std::map<std::string, std::unique_ptr<Learner>> pretrained;  // baseline / baseline++ across shots
  std::map<std::string, TrainResult> pretrained_train;
  std::printf("%-6s %-11s %8s %7s %10s %10s %8s %9s\n", "shots", "method", "acc%", "ci95", "train_s", "iters",
              "adapt_ms", "eval_s");
  for (const std::string& shots_s : split_list(opt["shots"])) {
    const int64_t shots = std::atoll(shots_s.c_str());
    const int64_t train_queries = train_queries_as_shots ? shots : std::atoll(opt["train-queries"].c_str());
    // The fixed test and validation episodes of this setting, shared by every method.
    auto test_set = data::make_test_episodes(split, ways, shots, queries, episodes, seed + 1000);
    std::vector<Task> test;
    for (auto& e : test_set.episodes) test.push_back(to_task(data::materialize(e, ds, ds.norm), ways, device));
    std::vector<Task> val;
    if (!split.meta_val.empty()) {
      auto vs = data::make_test_episodes(split, ways, shots, queries, std::atoll(opt["val-tasks"].c_str()), seed + 2000,
                                         data::SplitSide::meta_val);
      for (auto& e : vs.episodes) val.push_back(to_task(data::materialize(e, ds, ds.norm), ways, device));
    }
    TrainData td;
    td.sample_task = [&](Generator& g) {
      data::Rng rng(g.next_u64());
      auto e = data::sample_episode(split, data::SplitSide::meta_train, ways, shots, train_queries, rng);
      return to_task(data::materialize(e, ds, ds.norm), ways, device);
    };
    td.val_tasks = val;
    td.sample_batch = [&](Generator& g, int64_t n) {
      std::vector<int64_t> idx;
      std::vector<int32_t> rot, lab;
      for (int64_t i = 0; i < n; ++i) {
        size_t k = static_cast<size_t>(g.below(flat.indices.size()));
        idx.push_back(flat.indices[k]);
        rot.push_back(flat.rotations[k]);
        lab.push_back(flat.labels[k]);
      }
      data::ImageBatch b = data::gather_images(ds, idx, rot, lab, ds.norm);
      Batch out{Tensor::from_floats(b.pixels.data(), Shape{b.count, b.channels, b.height, b.width}),
                Tensor::from_indices(std::vector<int64_t>(b.labels.begin(), b.labels.end()), Shape{b.count})};
      return device.is_cpu() ? out : Batch{out.x.to(device), out.y.to(device)};
    };
    td.num_classes = num_classes;
    td.input_shape = {ds.channels(), ds.height(), ds.width()};

    for (const std::string& m : split_list(opt["methods"])) {
      LearnerConfig c = LearnerConfig::defaults(m);
      c.backbone = BackboneConfig::conv4_for(ds.channels(), ds.height(), ds.width(), ways);
      c.ways = ways;
      c.seed = seed;
      c.device = device;
      c.bn_mode = parse_bn_mode(opt["bn"]);
      c.iterations = std::atoll(opt["iterations"].c_str());
      if (m != "protonet" && m != "baseline" && m != "baseline++") c.meta_batch = std::atoll(opt["meta-batch"].c_str());
      c.val_tasks = std::atoll(opt["val-tasks"].c_str());
      TrainHooks hooks;
      hooks.val_every = std::atoll(opt["val-every"].c_str());
      hooks.time_budget_seconds = budget.count(m) ? budget[m] : 0;
      if (!opt["checkpoints"].empty())
        hooks.checkpoint_path = opt["checkpoints"] + "/" + m + "-" + shots_s + "shot.safetensors",
        hooks.checkpoint_every = 100;
      double last_print = now_s();
      hooks.on_progress = [&](const Progress& p) {
        if (now_s() - last_print > 60) {
          std::fprintf(stderr, "  [%s %ld-shot] iteration %ld, loss %.3f, %.0f s\n", m.c_str(), shots, p.iteration,
                       p.loss, p.seconds);
          last_print = now_s();
        }
      };
      hooks.on_curve = [&](const CurvePoint& p) {
        std::fprintf(stderr, "  [%s %ld-shot] iteration %ld, %.0f s: val acc %.3f, loss %.3f\n", m.c_str(), shots,
                     p.iteration, p.seconds, p.val_accuracy, p.loss);
      };
      Learner* l = nullptr;
      std::unique_ptr<Learner> owned;
      TrainResult tr;
      bool shared_pretraining = (m == "baseline" || m == "baseline++");
      if (shared_pretraining && pretrained.count(m)) {
        l = pretrained[m].get();
        tr = pretrained_train[m];
      } else {
        owned = make_learner(m, c);
        tr = owned->train(td, hooks);
        l = owned.get();
        if (shared_pretraining) {
          pretrained_train[m] = tr;
          pretrained[m] = std::move(owned);
        }
      }
      EvalResult r = evaluate(*l, test);
      std::printf("%-6ld %-11s %8.2f %7.2f %10.1f %10ld %8.1f %9.1f\n", shots, m.c_str(), 100 * r.mean, 100 * r.ci95,
                  tr.wall_seconds, tr.iterations, 1e3 * r.adapt_seconds_mean, r.wall_seconds);
      std::fflush(stdout);
      json curve = json::array();
      for (auto& p : tr.curve)
        curve.push_back({{"iteration", p.iteration}, {"seconds", p.seconds}, {"val_accuracy", p.val_accuracy},
                         {"loss", p.loss}});
      json j = {{"dataset", opt["dataset"]}, {"ways", ways}, {"shots", shots}, {"queries", queries},
                {"method", m}, {"seed", seed}, {"device", device.str()}, {"threads", omp_get_max_threads()},
                {"config", l->config().to_json()},
                {"train", {{"iterations", tr.iterations}, {"wall_seconds", tr.wall_seconds},
                           {"compute_seconds", tr.compute_seconds}, {"curve", curve},
                           {"shared_pretraining", shared_pretraining}}},
                {"test", {{"episodes", r.episodes}, {"accuracies", r.accuracies}, {"mean", r.mean}, {"ci95", r.ci95},
                          {"adapt_seconds_mean", r.adapt_seconds_mean}, {"adapt_steps", r.adapt_steps_mean},
                          {"steps", r.steps}, {"accuracy_by_step", r.accuracy_by_step},
                          {"eval_wall_seconds", r.wall_seconds}}}};
      out << j.dump() << "\n";
      out.flush();
    }
  }
  std::printf("# total %.1f s\n", now_s() - t0);
  return 0;
}
