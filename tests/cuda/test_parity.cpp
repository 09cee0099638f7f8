// CUDA vs CPU parity for every op of tests/engine/op_cases: forward, backward (vector-Jacobian
// product with a random grad_output) and double backward (gradient of <grad, w> for random w), all
// in float32 on both devices from the same inputs. The CPU backend is the reference; CUDA is never
// compared with itself. Tolerance per case: 1e-3 for GEMM and convolution (different summation
// order over long K), 1e-4 for everything else, relative to the largest CPU value of the tensor.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <sstream>
#include <string>

#include "engine/ops.h"
#include "tests/engine/op_cases.h"

using namespace fewshot;
using namespace fewshot::testing;

namespace {

constexpr DType f32 = DType::Float32;

double tolerance_for(const std::string& name) {
  for (const char* heavy : {"matmul", "bmm", "linear", "conv2d", "sqdist"})
    if (name.find(heavy) != std::string::npos) return 1e-3;
  return 1e-4;
}

// max |gpu - cpu| / max(max |cpu|, 1e-6); describes the worst element in *where.
double rel_error(const Tensor& cpu, const Tensor& gpu, std::string* where) {
  REQUIRE(cpu.shape() == gpu.shape());
  REQUIRE(gpu.device().is_cuda());
  auto c = cpu.to_vector(), g = gpu.to_vector();
  double scale = 1e-6, worst = 0;
  size_t at = 0;
  for (double v : c) scale = std::max(scale, std::abs(v));
  for (size_t i = 0; i < c.size(); ++i) {
    double e = std::abs(c[i] - g[i]);
    if (std::isnan(c[i]) != std::isnan(g[i])) e = INFINITY;
    if (e > worst) worst = e, at = i;
  }
  std::ostringstream os;
  if (!c.empty()) os << "element " << at << ": cpu " << c[at] << " cuda " << g[at] << " (scale " << scale << ")";
  *where = os.str();
  return worst / scale;
}

Tensor random_like(const Tensor& t, Generator& g) { return randn(t.shape(), g, f32); }

struct Inputs {
  std::vector<Tensor> cpu, gpu;
  std::vector<size_t> wrt;  // positions of the inputs that require grad
};

Inputs make_inputs(const OpCase& c, uint64_t seed) {
  Generator gen(seed);
  auto x64 = c.make_inputs(gen);
  Inputs in;
  for (size_t i = 0; i < x64.size(); ++i) {
    bool req = x64[i].requires_grad();
    Tensor cpu = x64[i].dtype() == DType::Float64 ? x64[i].detach().to(f32) : x64[i].detach();
    Tensor gpu = cpu.to(Device::cuda(0)).detach();
    if (req) {
      cpu.set_requires_grad(true);
      gpu.set_requires_grad(true);
      in.wrt.push_back(i);
    }
    in.cpu.push_back(cpu);
    in.gpu.push_back(gpu);
  }
  return in;
}

std::vector<Tensor> pick(const std::vector<Tensor>& all, const std::vector<size_t>& idx) {
  std::vector<Tensor> out;
  for (size_t i : idx) out.push_back(all[i]);
  return out;
}

}  // namespace

TEST_CASE("CUDA forward, backward and double backward agree with the CPU on every op") {
  for (const auto& c : op_cases()) {
    SUBCASE(c.name.c_str()) {
      const double tol = tolerance_for(c.name);
      Inputs in = make_inputs(c, 11);
      std::string where;

      // forward
      Tensor yc = c.fn(in.cpu), yg = c.fn(in.gpu);
      CHECK(yg.device() == Device::cuda(0));
      double e = rel_error(yc, yg, &where);
      INFO(c.name << " forward " << where);
      CHECK(e < tol);
      if (in.wrt.empty()) continue;

      // backward with a random grad_output, keeping the graph for double backward
      Generator g(99);
      Tensor vc = random_like(yc, g), vg = vc.to(Device::cuda(0));
      auto gc = grad({yc}, pick(in.cpu, in.wrt), {vc}, /*create_graph=*/true, /*allow_unused=*/true);
      auto gg = grad({yg}, pick(in.gpu, in.wrt), {vg}, true, true);
      REQUIRE(gc.size() == gg.size());
      std::vector<Tensor> terms_c, terms_g;
      for (size_t k = 0; k < gc.size(); ++k) {
        CAPTURE(k);
        REQUIRE(gc[k].defined() == gg[k].defined());
        if (!gc[k].defined()) continue;
        double eb = rel_error(gc[k], gg[k], &where);
        INFO(c.name << " backward, input " << in.wrt[k] << ": " << where);
        CHECK(eb < tol);
        // <grad_k, w_k> for the double backward, only through gradients that have history
        CHECK(gc[k].requires_grad() == gg[k].requires_grad());
        if (gc[k].requires_grad() && gg[k].requires_grad()) {
          Tensor wc = random_like(gc[k], g), wg = wc.to(Device::cuda(0));
          terms_c.push_back(sum(mul(gc[k], wc)));
          terms_g.push_back(sum(mul(gg[k], wg)));
        }
      }
      if (terms_c.empty()) continue;  // linear op: its backward does not depend on the inputs

      // double backward
      Tensor sc = terms_c[0], sg = terms_g[0];
      for (size_t k = 1; k < terms_c.size(); ++k) sc = add(sc, terms_c[k]), sg = add(sg, terms_g[k]);
      auto hc = grad({sc}, pick(in.cpu, in.wrt), {}, false, true);
      auto hg = grad({sg}, pick(in.gpu, in.wrt), {}, false, true);
      for (size_t k = 0; k < hc.size(); ++k) {
        CAPTURE(k);
        REQUIRE(hc[k].defined() == hg[k].defined());
        if (!hc[k].defined()) continue;
        double ed = rel_error(hc[k], hg[k], &where);
        INFO(c.name << " double backward, input " << in.wrt[k] << ": " << where);
        CHECK(ed < tol);
      }
    }
  }
}

TEST_CASE("CUDA reductions are bit-identical run to run (no float atomics)") {
  Generator g(5);
  Device dev = Device::cuda(0);
  Tensor x = randn(Shape{64, 3000, 3}, g, f32, dev);   // long columns: the chunked sum path
  Tensor big = randn(Shape{80, 64, 28, 28}, g, f32, dev);
  auto once = [&] {
    std::vector<double> out = sum(x, {1}).to_vector();
    auto s2 = sum(big, {0, 2, 3}).to_vector();
    out.insert(out.end(), s2.begin(), s2.end());
    Tensor gamma = Tensor::ones(Shape{64}, f32, dev), beta = Tensor::zeros(Shape{64}, f32, dev);
    auto bn = batch_norm(big, gamma, beta).to_vector();
    out.insert(out.end(), bn.begin(), bn.begin() + 1000);
    ConvParams p = conv2d_params(big.shape(), Shape{64, 64, 3, 3}, {1, 1, 1});
    auto gw = conv2d_weight_grad(big, big, p).to_vector();  // split-K path
    out.insert(out.end(), gw.begin(), gw.end());
    return out;
  };
  auto a = once(), b = once();
  REQUIRE(a.size() == b.size());
  CHECK(std::equal(a.begin(), a.end(), b.begin()));
}

TEST_CASE("CUDA GEMM and convolution agree with the CPU on larger, unaligned shapes") {
  Generator g(8);
  Device dev = Device::cuda(0);
  std::string where;
  for (auto [M, N, K] : std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {129, 67, 33}, {200, 130, 515}, {64, 64, 64}}) {
    CAPTURE(M);
    CAPTURE(N);
    CAPTURE(K);
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        Tensor a = randn(ta ? Shape{K, M} : Shape{M, K}, g), b = randn(tb ? Shape{N, K} : Shape{K, N}, g);
        Tensor c = matmul_t(a, b, ta, tb), d = matmul_t(a.to(dev), b.to(dev), ta, tb);
        double e = rel_error(c, d, &where);
        INFO("ta " << ta << " tb " << tb << ": " << where);
        CHECK(e < 1e-3);
      }
  }
  // The conv-net layer: 64 -> 64 channels, 3x3, pad 1, on a small batch of 28x28 images.
  Tensor x = randn(Shape{4, 64, 28, 28}, g), w = randn(Shape{64, 64, 3, 3}, g);
  Tensor xg = x.to(dev), wg = w.to(dev);
  ConvParams p = conv2d_params(x.shape(), w.shape(), {1, 1, 1});
  Tensor y = conv2d(x, w, Tensor(), {1, 1, 1}), yg = conv2d(xg, wg, Tensor(), {1, 1, 1});
  CHECK(rel_error(y, yg, &where) < 1e-3);
  CHECK(rel_error(conv2d_input_grad(y, w, p), conv2d_input_grad(yg, wg, p), &where) < 1e-3);
  CHECK(rel_error(conv2d_weight_grad(x, y, p), conv2d_weight_grad(xg, yg, p), &where) < 1e-3);
}
