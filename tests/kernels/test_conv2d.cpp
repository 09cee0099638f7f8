// conv2d forward / input grad / weight grad against the naive 7-loop references (double
// accumulation), an adjoint identity, determinism, and geometry validation.
#include <doctest/doctest.h>

#include <omp.h>

#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "tests/kernels/random_values.h"
#include "kernels/cpu/conv2d.h"
#include "tests/kernels/conv_reference.h"

namespace cpu = fewshot::cpu;
namespace ref = fewshot::cpu::reference;

namespace {

using fewshot::cpu::testing::random_vec;

struct Case {
  int64_t N, C, H, W, OC, KH, KW, sh, sw, ph, pw, groups;
};

// stride 1/2, padding 0/1/2, groups 1/2/4 and depthwise, odd H/W, 1x1 / 3x3 / 5x3 kernels.
// Small planes put several images in one GEMM (the last group partial when N is not a multiple).
const Case kCases[] = {
    {2, 3, 7, 9, 4, 3, 3, 1, 1, 1, 1, 1},    {2, 4, 7, 9, 6, 3, 3, 2, 2, 1, 1, 2},
    {3, 8, 8, 8, 8, 3, 3, 1, 1, 2, 2, 4},    {2, 3, 7, 9, 5, 3, 3, 1, 1, 0, 0, 1},
    {2, 4, 7, 9, 4, 3, 3, 1, 1, 1, 1, 4},    {2, 4, 7, 9, 8, 3, 3, 2, 1, 1, 0, 4},
    {2, 6, 5, 7, 4, 1, 1, 1, 1, 0, 0, 1},    {2, 6, 5, 7, 4, 1, 1, 1, 1, 0, 0, 2},
    {3, 4, 7, 9, 5, 1, 1, 2, 2, 0, 0, 1},    {2, 4, 5, 5, 3, 1, 1, 1, 1, 1, 1, 1},
    {2, 3, 9, 7, 4, 5, 3, 1, 2, 2, 1, 1},    {1, 2, 7, 9, 3, 5, 3, 2, 2, 0, 2, 1},
    {2, 4, 7, 9, 4, 5, 3, 1, 1, 2, 1, 2},    {9, 16, 12, 12, 32, 3, 3, 1, 1, 1, 1, 1},
    {1, 32, 14, 14, 64, 3, 3, 1, 1, 1, 1, 1}, {10, 8, 11, 13, 16, 3, 3, 2, 2, 1, 1, 2},
    {4, 64, 6, 6, 64, 1, 1, 1, 1, 0, 0, 1},  {3, 2, 1, 1, 3, 1, 1, 1, 1, 0, 0, 1},
    // planes of >= 512 outputs: one image per GEMM, and the 1x1 case skips im2col entirely
    {2, 8, 24, 23, 16, 1, 1, 1, 1, 0, 0, 1}, {3, 8, 23, 24, 6, 1, 1, 1, 1, 0, 0, 2},
    {2, 4, 25, 23, 8, 3, 3, 1, 1, 1, 1, 2},
    // fewer taps than output channels (CK < OCg): the weight grad computes gw^T
    {3, 1, 12, 11, 16, 3, 3, 1, 1, 1, 1, 1}, {4, 2, 9, 9, 24, 3, 3, 2, 2, 1, 1, 2},
};

template <typename T>
double rel_tol(int64_t terms) {
  const double eps = std::is_same_v<T, float> ? 1e-6 : 1e-14;
  return 8 * eps * std::sqrt(double(terms) + 1);
}

template <typename T>
void expect_close(const std::vector<T>& got, const std::vector<T>& want, double tol,
                  const char* what) {
  REQUIRE(got.size() == want.size());
  int bad = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double g = got[i], w = want[i];
    if (!(std::abs(g - w) <= tol * (1 + std::abs(w))) && bad++ < 5)
      FAIL_CHECK(what << "[" << i << "] = " << g << " expected " << w);
  }
  CHECK(bad == 0);
}

template <typename T>
void check_case(const Case& c) {
  const auto g = cpu::conv2d_geometry(c.N, c.C, c.H, c.W, c.OC, c.KH, c.KW, c.sh, c.sw, c.ph,
                                      c.pw, c.groups);
  INFO("N=" << c.N << " C=" << c.C << " H=" << c.H << " W=" << c.W << " OC=" << c.OC
            << " K=" << c.KH << "x" << c.KW << " stride=" << c.sh << "," << c.sw
            << " pad=" << c.ph << "," << c.pw << " groups=" << c.groups);
  const std::size_t nx = g.N * g.C * g.H * g.W, ny = g.N * g.OC * g.OH * g.OW;
  const std::size_t nw = g.OC * (g.C / g.groups) * g.KH * g.KW;
  auto x = random_vec<T>(nx, 1), w = random_vec<T>(nw, 2), gy = random_vec<T>(ny, 3);
  const int64_t CK = (g.C / g.groups) * g.KH * g.KW;

  // Outputs start as NaN: every entry point must write, not accumulate.
  std::vector<T> y(ny, T(NAN)), y_ref(ny);
  cpu::conv2d_forward(g, x.data(), w.data(), y.data());
  ref::conv2d_forward_naive(g, x.data(), w.data(), y_ref.data());
  expect_close(y, y_ref, rel_tol<T>(CK), "y");

  std::vector<T> gx(nx, T(NAN)), gx_ref(nx);
  cpu::conv2d_input_grad(g, gy.data(), w.data(), gx.data());
  ref::conv2d_input_grad_naive(g, gy.data(), w.data(), gx_ref.data());
  expect_close(gx, gx_ref, rel_tol<T>(g.OC * g.KH * g.KW), "gx");

  std::vector<T> gw(nw, T(NAN)), gw_ref(nw);
  cpu::conv2d_weight_grad(g, x.data(), gy.data(), gw.data());
  ref::conv2d_weight_grad_naive(g, x.data(), gy.data(), gw_ref.data());
  expect_close(gw, gw_ref, rel_tol<T>(g.N * g.OH * g.OW), "gw");
}

}  // namespace

TEST_CASE("conv2d float matches the naive references") {
  for (const Case& c : kCases) check_case<float>(c);
}

TEST_CASE("conv2d double matches the naive references") {
  for (const Case& c : kCases) check_case<double>(c);
}

TEST_CASE("conv2d adjoint: <gy, conv(x, w)> = <x, input_grad(gy, w)> = <w, weight_grad(x, gy)>") {
  const Case cases[] = {{3, 4, 9, 7, 6, 3, 3, 2, 1, 1, 2, 2},
                        {2, 6, 8, 8, 6, 5, 3, 1, 1, 2, 1, 6},
                        {4, 16, 10, 10, 8, 3, 3, 1, 1, 1, 1, 1}};
  for (const Case& c : cases) {
    const auto g = cpu::conv2d_geometry(c.N, c.C, c.H, c.W, c.OC, c.KH, c.KW, c.sh, c.sw, c.ph,
                                        c.pw, c.groups);
    const std::size_t nx = g.N * g.C * g.H * g.W, ny = g.N * g.OC * g.OH * g.OW;
    const std::size_t nw = g.OC * (g.C / g.groups) * g.KH * g.KW;
    auto x = random_vec<double>(nx, 4), w = random_vec<double>(nw, 5);
    auto gy = random_vec<double>(ny, 6);
    std::vector<double> y(ny), gx(nx), gw(nw);
    cpu::conv2d_forward(g, x.data(), w.data(), y.data());
    cpu::conv2d_input_grad(g, gy.data(), w.data(), gx.data());
    cpu::conv2d_weight_grad(g, x.data(), gy.data(), gw.data());
    auto dot = [](const std::vector<double>& a, const std::vector<double>& b) {
      double s = 0;
      for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
      return s;
    };
    const double a = dot(gy, y), b = dot(x, gx), d = dot(w, gw);
    CHECK(b == doctest::Approx(a).epsilon(1e-11));
    CHECK(d == doctest::Approx(a).epsilon(1e-11));
  }
}

TEST_CASE("conv2d weight grad is bit-identical run to run and across thread counts") {
  const auto g = cpu::conv2d_geometry(20, 16, 14, 14, 32, 3, 3, 1, 1, 1, 1, 1);
  const std::size_t nx = g.N * g.C * g.H * g.W, ny = g.N * g.OC * g.OH * g.OW;
  const std::size_t nw = g.OC * g.C * g.KH * g.KW;
  auto x = random_vec<float>(nx, 7), gy = random_vec<float>(ny, 8);
  std::vector<float> a(nw), b(nw), c(nw);
  cpu::conv2d_weight_grad(g, x.data(), gy.data(), a.data());
  cpu::conv2d_weight_grad(g, x.data(), gy.data(), b.data());
  CHECK(std::memcmp(a.data(), b.data(), nw * sizeof(float)) == 0);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  cpu::conv2d_weight_grad(g, x.data(), gy.data(), c.data());
  omp_set_num_threads(saved);
  CHECK(std::memcmp(a.data(), c.data(), nw * sizeof(float)) == 0);
}

TEST_CASE("conv2d_geometry computes output size and rejects inconsistent shapes") {
  const auto g = cpu::conv2d_geometry(8, 3, 28, 28, 64, 3, 3, 2, 2, 1, 1, 1);
  CHECK(g.OH == 14);
  CHECK(g.OW == 14);
  const auto h = cpu::conv2d_geometry(1, 4, 7, 9, 8, 5, 3, 2, 1, 0, 2, 2);
  CHECK(h.OH == 2);  // (7 - 5) / 2 + 1
  CHECK(h.OW == 11);  // (9 + 4 - 3) / 1 + 1

  auto message = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "no exception";
  };
  const std::string c_groups =
      message([] { cpu::conv2d_geometry(1, 6, 8, 8, 8, 3, 3, 1, 1, 1, 1, 4); });
  CHECK(c_groups.find("C=6") != std::string::npos);
  CHECK(c_groups.find("groups=4") != std::string::npos);
  const std::string oc_groups =
      message([] { cpu::conv2d_geometry(1, 4, 8, 8, 6, 3, 3, 1, 1, 1, 1, 4); });
  CHECK(oc_groups.find("OC=6") != std::string::npos);
  const std::string too_small =
      message([] { cpu::conv2d_geometry(1, 4, 2, 8, 4, 5, 3, 1, 1, 1, 1, 1); });
  CHECK(too_small.find("H=2") != std::string::npos);
  CHECK(too_small.find("KH=5") != std::string::npos);
  CHECK_THROWS_AS(cpu::conv2d_geometry(1, 4, 8, 8, 4, 3, 3, 0, 1, 1, 1, 1), std::invalid_argument);
  CHECK_THROWS_AS(cpu::conv2d_geometry(1, 4, 8, 8, 4, 3, 3, 1, 1, -1, 1, 1), std::invalid_argument);
  CHECK_THROWS_AS(cpu::conv2d_geometry(1, 4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 0), std::invalid_argument);
  CHECK_THROWS_AS(cpu::conv2d_geometry(1, 0, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1), std::invalid_argument);
}

TEST_CASE("conv2d with an empty batch writes a zero weight gradient") {
  const auto g = cpu::conv2d_geometry(0, 4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1);
  std::vector<float> gw(4 * 4 * 9, NAN);
  cpu::conv2d_weight_grad<float>(g, nullptr, nullptr, gw.data());
  for (float v : gw) CHECK(v == 0.0f);
  cpu::conv2d_forward<float>(g, nullptr, gw.data(), nullptr);  // nothing to do, must not crash
}
