// conv2d throughput (GFLOP/s) on the conv-net shapes, batch 80: forward, input grad, weight grad,
// plus the naive 7-loop forward at 64->64 28x28 for the speed-up ratio. Each shape is checked
// against the naive references (on a 4-image batch) before it is timed.
// Run: OMP_NUM_THREADS=2 build/bench/bench_conv2d --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "kernels/cpu/conv2d.h"
#include "tests/kernels/conv_reference.h"

namespace cpu = fewshot::cpu;
namespace ref = fewshot::cpu::reference;

namespace {

std::vector<float> random_vec(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

enum Op { kForward = 0, kInputGrad = 1, kWeightGrad = 2, kNaiveForward = 3 };

struct Buffers {
  std::vector<float> x, w, y, gy, gx, gw;
  explicit Buffers(const cpu::Conv2dGeometry& g)
      : x(random_vec(g.N * g.C * g.H * g.W, 1)),
        w(random_vec(g.OC * (g.C / g.groups) * g.KH * g.KW, 2)),
        y(g.N * g.OC * g.OH * g.OW),
        gy(random_vec(g.N * g.OC * g.OH * g.OW, 3)),
        gx(x.size()),
        gw(w.size()) {}
};

void run(Op op, const cpu::Conv2dGeometry& g, Buffers& b) {
  switch (op) {
    case kForward: cpu::conv2d_forward(g, b.x.data(), b.w.data(), b.y.data()); break;
    case kInputGrad: cpu::conv2d_input_grad(g, b.gy.data(), b.w.data(), b.gx.data()); break;
    case kWeightGrad: cpu::conv2d_weight_grad(g, b.x.data(), b.gy.data(), b.gw.data()); break;
    case kNaiveForward:
      ref::conv2d_forward_naive<float, float>(g, b.x.data(), b.w.data(), b.y.data());
      break;
  }
}

// Ours against the double-accumulated references on a 4-image batch of the same layer.
void check(Op op, cpu::Conv2dGeometry g) {
  g.N = 4;
  Buffers b(g), r(g);
  run(op, g, b);
  const std::vector<float>* got = &b.y;
  std::vector<float>* want = &r.y;
  if (op == kForward || op == kNaiveForward) {
    ref::conv2d_forward_naive(g, r.x.data(), r.w.data(), r.y.data());
  } else if (op == kInputGrad) {
    ref::conv2d_input_grad_naive(g, r.gy.data(), r.w.data(), r.gx.data());
    got = &b.gx, want = &r.gx;
  } else {
    ref::conv2d_weight_grad_naive(g, r.x.data(), r.gy.data(), r.gw.data());
    got = &b.gw, want = &r.gw;
  }
  for (std::size_t i = 0; i < got->size(); ++i) {
    const double a = (*got)[i], e = (*want)[i];
    if (!(std::abs(a - e) <= 1e-4 * (1 + std::abs(e)))) {
      std::fprintf(stderr, "conv2d op %d mismatch at %zu: got %g expected %g\n", int(op), i, a, e);
      std::abort();
    }
  }
}

void BM_conv2d(benchmark::State& state) {
  const Op op = static_cast<Op>(state.range(0));
  const int64_t C = state.range(1), OC = state.range(2), HW = state.range(3),
                stride = state.range(4);
  const auto g = cpu::conv2d_geometry(80, C, HW, HW, OC, 3, 3, stride, stride, 1, 1, 1);
  check(op, g);
  Buffers b(g);
  for (auto _ : state) {
    run(op, g, b);
    benchmark::ClobberMemory();
  }
  // One multiply-add per (image, output channel, output pixel, input channel, tap), all three ops.
  const double flops = 2.0 * g.N * g.OC * g.OH * g.OW * (g.C / g.groups) * g.KH * g.KW;
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}

void layers(benchmark::internal::Benchmark* b) {
  b->ArgNames({"op", "C", "OC", "HW", "stride"});
  for (int64_t op : {kForward, kInputGrad, kWeightGrad}) {
    b->Args({op, 1, 64, 28, 1});
    b->Args({op, 64, 64, 28, 1});
    b->Args({op, 64, 64, 14, 1});
    b->Args({op, 64, 64, 7, 1});
    b->Args({op, 3, 32, 32, 1});
    b->Args({op, 32, 32, 32, 1});
    b->Args({op, 64, 64, 28, 2});
  }
  b->Args({kNaiveForward, 64, 64, 28, 1});  // the baseline for the forward speed-up
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

BENCHMARK(BM_conv2d)->Name("conv2d")->Apply(layers);

}  // namespace

BENCHMARK_MAIN();
