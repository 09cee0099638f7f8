// Where one meta-iteration's time goes: MAML / first-order MAML / ProtoNets on Omniglot-sized
// random tasks (1x28x28, conv4 with 64 filters and stride-2 convs, 5-way), phase by phase.
//   bench_learner_step [shots=1] [queries=15] [meta_batch=8] [repeats=3] [threads=0 (OpenMP default)]
// Prints seconds per phase for one task and for a whole meta-iteration through the Learner API.
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "engine/ops.h"
#include "models/learner.h"

using namespace fewshot;
using namespace fewshot::models;
using Clock = std::chrono::steady_clock;

static double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

static Task random_task(Generator& g, int64_t ways, int64_t shots, int64_t queries) {
  std::vector<int64_t> sy, qy;
  for (int64_t w = 0; w < ways; ++w) {
    for (int64_t s = 0; s < shots; ++s) sy.push_back(w);
    for (int64_t q = 0; q < queries; ++q) qy.push_back(w);
  }
  Task t;
  t.support_x = randn(Shape{ways * shots, 1, 28, 28}, g);
  t.query_x = randn(Shape{ways * queries, 1, 28, 28}, g);
  t.support_y = Tensor::from_indices(sy, Shape{ways * shots});
  t.query_y = Tensor::from_indices(qy, Shape{ways * queries});
  t.ways = ways;
  return t;
}

int main(int argc, char** argv) {
  int64_t shots = argc > 1 ? atoi(argv[1]) : 1, queries = argc > 2 ? atoi(argv[2]) : 15;
  int64_t meta_batch = argc > 3 ? atoi(argv[3]) : 8, repeats = argc > 4 ? atoi(argv[4]) : 3;
  if (argc > 5 && atoi(argv[5]) > 0) omp_set_num_threads(atoi(argv[5]));
  const int64_t ways = 5;
  std::printf("5-way %ld-shot, %ld queries/class, meta-batch %ld, %d threads\n", shots, queries, meta_batch,
              omp_get_max_threads());
  Generator g(0);
  Backbone net(BackboneConfig::conv4_for(1, 28, 28, ways));
  ParamList p = net.init(g);
  for (auto& t : p.tensors) t.set_requires_grad(true);
  Task task = random_task(g, ways, shots, queries);

  // Phases of one second-order MAML task (1 inner step, lr 0.4).
  double t_fwd_s = 0, t_inner = 0, t_fwd_q = 0, t_outer = 0, t_fo_inner = 0, t_fo_outer = 0;
  for (int64_t r = 0; r < repeats; ++r) {
    auto t0 = Clock::now();
    Tensor ls = cross_entropy(net.forward(task.support_x, p), task.support_y);
    t_fwd_s += since(t0);
    t0 = Clock::now();
    auto gs = grad({ls}, p.tensors, {}, true);
    ParamList fast = p;
    for (size_t i = 0; i < p.size(); ++i) fast[i] = sub(p[i], mul(gs[i], 0.4));
    t_inner += since(t0);
    t0 = Clock::now();
    Tensor lq = cross_entropy(net.forward(task.query_x, fast), task.query_y);
    t_fwd_q += since(t0);
    t0 = Clock::now();
    auto gm = grad({lq}, p.tensors);
    t_outer += since(t0);
    // first-order
    Tensor ls2 = cross_entropy(net.forward(task.support_x, p), task.support_y);
    t0 = Clock::now();
    auto g2 = grad({ls2}, p.tensors);
    ParamList fast2 = p;
    for (size_t i = 0; i < p.size(); ++i) fast2[i] = sub(p[i], mul(g2[i].detach(), 0.4));
    t_fo_inner += since(t0);
    Tensor lq2 = cross_entropy(net.forward(task.query_x, fast2), task.query_y);
    t0 = Clock::now();
    auto gm2 = grad({lq2}, p.tensors);
    t_fo_outer += since(t0);
  }
  double R = static_cast<double>(repeats);
  std::printf("one task, ms: support fwd %.1f | inner grad (create_graph) %.1f | query fwd %.1f | outer grad "
              "(second-order) %.1f | total %.1f\n",
              1e3 * t_fwd_s / R, 1e3 * t_inner / R, 1e3 * t_fwd_q / R, 1e3 * t_outer / R,
              1e3 * (t_fwd_s + t_inner + t_fwd_q + t_outer) / R);
  std::printf("first-order: inner grad %.1f ms, outer grad %.1f ms\n", 1e3 * t_fo_inner / R, 1e3 * t_fo_outer / R);

  // Whole meta-iterations through the Learner API (Adam step included).
  for (std::string m : {"maml", "fomaml", "protonet"}) {
    LearnerConfig c = LearnerConfig::defaults(m);
    c.backbone = BackboneConfig::conv4_for(1, 28, 28, ways);
    c.meta_batch = m == "protonet" ? 1 : meta_batch;
    c.iterations = repeats;
    auto l = make_learner(m, c);
    TrainData d;
    d.sample_task = [&](Generator& gen) { return random_task(gen, ways, shots, queries); };
    TrainHooks h;
    auto t0 = Clock::now();
    TrainResult tr = l->train(d, h);
    double tot = since(t0);
    // Task generation is part of the loop; measure it to subtract.
    auto t1 = Clock::now();
    Generator gg(1);
    for (int64_t i = 0; i < repeats * c.meta_batch; ++i) random_task(gg, ways, shots, queries);
    double gen = since(t1);
    std::printf("%-8s %.3f s per meta-iteration (meta-batch %ld; %.3f s of it generating random tasks)\n", m.c_str(),
                tot / R, c.meta_batch, gen / R);
    (void)tr;
  }
  return 0;
}
