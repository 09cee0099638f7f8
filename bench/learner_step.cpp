// Where one meta-iteration's time goes: MAML / first-order MAML / ProtoNets on Omniglot-sized
// random tasks (1x28x28, conv4 with 64 filters and stride-2 convs, 5-way), phase by phase.
//   bench_learner_step [shots=1] [queries=15] [meta_batch=8] [repeats=3] [threads=0 (OpenMP default)] [device=cpu]
// Prints seconds per phase for one task and for a whole meta-iteration through the Learner API.
// With device cuda the meta-iterations are also timed on the CPU, and RESULT lines (for
// scripts/gpu-check.sh) give CUDA's speed-up over the CPU per method.
#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "engine/ops.h"
#include "models/device_timer.h"
#include "models/learner.h"

using namespace fewshot;
using namespace fewshot::models;

static Task random_task(Generator& g, int64_t ways, int64_t shots, int64_t queries, Device dev) {
  std::vector<int64_t> sy, qy;
  for (int64_t w = 0; w < ways; ++w) {
    for (int64_t s = 0; s < shots; ++s) sy.push_back(w);
    for (int64_t q = 0; q < queries; ++q) qy.push_back(w);
  }
  Task t;
  t.support_x = randn(Shape{ways * shots, 1, 28, 28}, g).to(dev);
  t.query_x = randn(Shape{ways * queries, 1, 28, 28}, g).to(dev);
  t.support_y = Tensor::from_indices(sy, Shape{ways * shots}).to(dev);
  t.query_y = Tensor::from_indices(qy, Shape{ways * queries}).to(dev);
  t.ways = ways;
  return t;
}

// Seconds per meta-iteration through the Learner API (Adam step included) for maml, fomaml and
// protonet, task generation subtracted.
static std::map<std::string, double> meta_iterations(Device dev, int64_t ways, int64_t shots, int64_t queries,
                                                     int64_t meta_batch, int64_t repeats) {
  std::map<std::string, double> out;
  const double R = static_cast<double>(repeats);
  for (std::string m : {"maml", "fomaml", "protonet"}) {
    LearnerConfig c = LearnerConfig::defaults(m);
    c.backbone = BackboneConfig::conv4_for(1, 28, 28, ways);
    c.meta_batch = m == "protonet" ? 1 : meta_batch;
    c.iterations = repeats;
    c.device = dev;
    auto l = make_learner(m, c);
    TrainData d;
    d.sample_task = [&](Generator& gen) { return random_task(gen, ways, shots, queries, dev); };
    TrainHooks h;
    DeviceTimer t0(dev);
    l->train(d, h);
    double tot = t0.seconds();
    // Task generation is part of the loop; measure it to subtract.
    DeviceTimer t1(dev);
    Generator gg(1);
    for (int64_t i = 0; i < repeats * c.meta_batch; ++i) random_task(gg, ways, shots, queries, dev);
    double gen = t1.seconds();
    std::printf("%-8s %s: %.4f s per meta-iteration (meta-batch %ld; %.4f s of it generating random tasks)\n",
                m.c_str(), dev.str().c_str(), tot / R, c.meta_batch, gen / R);
    out[m] = (tot - gen) / R;
  }
  return out;
}

int main(int argc, char** argv) {
  int64_t shots = argc > 1 ? atoi(argv[1]) : 1, queries = argc > 2 ? atoi(argv[2]) : 15;
  int64_t meta_batch = argc > 3 ? atoi(argv[3]) : 8, repeats = argc > 4 ? atoi(argv[4]) : 3;
  if (argc > 5 && atoi(argv[5]) > 0) omp_set_num_threads(atoi(argv[5]));
  const Device dev = argc > 6 ? parse_device(argv[6]) : Device::cpu();
  const int64_t ways = 5;
  std::printf("5-way %ld-shot, %ld queries/class, meta-batch %ld, %d threads, device %s\n", shots, queries,
              meta_batch, omp_get_max_threads(), dev.str().c_str());
  Generator g(0);
  Backbone net(BackboneConfig::conv4_for(1, 28, 28, ways));
  ParamList p = net.init(g, dev);
  for (auto& t : p.tensors) t.set_requires_grad(true);
  Task task = random_task(g, ways, shots, queries, dev);

  // Phases of one second-order MAML task (1 inner step, lr 0.4).
  double t_fwd_s = 0, t_inner = 0, t_fwd_q = 0, t_outer = 0, t_fo_inner = 0, t_fo_outer = 0;
  for (int64_t r = 0; r < repeats; ++r) {
    DeviceTimer t(dev);
    Tensor ls = cross_entropy(net.forward(task.support_x, p), task.support_y);
    t_fwd_s += t.seconds();
    t.restart();
    auto gs = grad({ls}, p.tensors, {}, true);
    ParamList fast = p;
    for (size_t i = 0; i < p.size(); ++i) fast[i] = sub(p[i], mul(gs[i], 0.4));
    t_inner += t.seconds();
    t.restart();
    Tensor lq = cross_entropy(net.forward(task.query_x, fast), task.query_y);
    t_fwd_q += t.seconds();
    t.restart();
    auto gm = grad({lq}, p.tensors);
    t_outer += t.seconds();
    // first-order
    Tensor ls2 = cross_entropy(net.forward(task.support_x, p), task.support_y);
    t.restart();
    auto g2 = grad({ls2}, p.tensors);
    ParamList fast2 = p;
    for (size_t i = 0; i < p.size(); ++i) fast2[i] = sub(p[i], mul(g2[i].detach(), 0.4));
    t_fo_inner += t.seconds();
    Tensor lq2 = cross_entropy(net.forward(task.query_x, fast2), task.query_y);
    t.restart();
    auto gm2 = grad({lq2}, p.tensors);
    t_fo_outer += t.seconds();
  }
  double R = static_cast<double>(repeats);
  std::printf("one task, ms: support fwd %.1f | inner grad (create_graph) %.1f | query fwd %.1f | outer grad "
              "(second-order) %.1f | total %.1f\n",
              1e3 * t_fwd_s / R, 1e3 * t_inner / R, 1e3 * t_fwd_q / R, 1e3 * t_outer / R,
              1e3 * (t_fwd_s + t_inner + t_fwd_q + t_outer) / R);
  std::printf("first-order: inner grad %.1f ms, outer grad %.1f ms\n", 1e3 * t_fo_inner / R, 1e3 * t_fo_outer / R);

  auto here = meta_iterations(dev, ways, shots, queries, meta_batch, repeats);
  if (dev.is_cuda()) {
    auto cpu = meta_iterations(Device::cpu(), ways, shots, queries, meta_batch, repeats);
    for (const auto& [m, s] : here)
      std::printf("RESULT %s_%ldshot_meta_iteration_vs_cpu ours_ms=%.4f ref_ms=%.4f ratio=%.3f\n", m.c_str(), shots,
                  1e3 * s, 1e3 * cpu[m], cpu[m] / s);
  }
  return 0;
}
