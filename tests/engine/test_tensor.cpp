// Tensor storage, views, copies, dtypes, random init and the typed errors of bad input.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/ops.h"

using namespace fewshot;

TEST_CASE("factories, shapes and values") {
  Tensor t = Tensor::from_vector({1, 2, 3, 4, 5, 6}, Shape{2, 3});
  CHECK(t.shape() == Shape{2, 3});
  CHECK(t.numel() == 6);
  CHECK(t.dtype() == DType::Float32);
  CHECK(t.device() == Device::cpu());
  CHECK(t.to_vector() == std::vector<double>{1, 2, 3, 4, 5, 6});
  CHECK(Tensor::zeros(Shape{3}, DType::Float64).to_vector() == std::vector<double>{0, 0, 0});
  CHECK(Tensor::full(Shape{2}, 2.5).to_vector() == std::vector<double>{2.5, 2.5});
  CHECK(Tensor::scalar(3.0).item() == 3.0);
  CHECK(Tensor::scalar(3.0).shape().dim() == 0);
  CHECK(Tensor::arange(4, DType::Int64).to_indices() == std::vector<int64_t>{0, 1, 2, 3});
  CHECK(t.str() == "Tensor(float32 cpu (2, 3))");
}

TEST_CASE("views share storage; copies do not") {
  Tensor t = Tensor::from_vector({1, 2, 3, 4, 5, 6}, Shape{3, 2});
  Tensor r = t.reshape(Shape{2, 3});
  Tensor n = t.narrow(0, 1, 2);  // leading dim: a view
  Tensor n1 = t.narrow(1, 1, 1);  // inner dim: a copy
  CHECK(r.raw_data() == t.raw_data());
  CHECK(n.raw_data() == static_cast<char*>(t.raw_data()) + 2 * sizeof(float));
  CHECK(n.to_vector() == std::vector<double>{3, 4, 5, 6});
  CHECK(n1.to_vector() == std::vector<double>{2, 4, 6});
  Tensor c = t.clone();
  CHECK(c.raw_data() != t.raw_data());
  {
    NoGradGuard ng;
    t.fill_(7.0);
  }
  CHECK(r.to_vector()[0] == 7.0);  // the view sees the write
  CHECK(c.to_vector()[0] == 1.0);  // the copy does not
  CHECK(flatten(Tensor::zeros(Shape{2, 3, 4}), 1).shape() == Shape{2, 12});
}

TEST_CASE("dtype conversion and copy_") {
  Tensor a = Tensor::from_vector({1.5, -2.25}, Shape{2}, DType::Float64);
  Tensor b = a.to(DType::Float32);
  CHECK(b.dtype() == DType::Float32);
  CHECK(b.to_vector() == std::vector<double>{1.5, -2.25});
  Tensor c = Tensor::zeros(Shape{2}, DType::Float64);
  c.copy_(b);
  CHECK(c.to_vector() == std::vector<double>{1.5, -2.25});
  uint64_t v = c.version();
  c.fill_(0);
  CHECK(c.version() == v + 1);
}

TEST_CASE("deterministic random init") {
  Generator g1(5), g2(5), g3(6);
  auto a = randn(Shape{100}, g1).to_vector(), b = randn(Shape{100}, g2).to_vector(), c = randn(Shape{100}, g3).to_vector();
  CHECK(a == b);
  CHECK(a != c);
  double mean = 0, var = 0;
  Generator g(9);
  auto v = randn(Shape{20000}, g, DType::Float64).to_vector();
  for (double x : v) mean += x / v.size();
  for (double x : v) var += (x - mean) * (x - mean) / v.size();
  CHECK(std::abs(mean) < 0.03);
  CHECK(std::abs(var - 1.0) < 0.05);
  // Kaiming uniform bound sqrt(6 / fan_in) for a (64, 32, 3, 3) conv weight: fan_in 288.
  Generator gk(1);
  auto w = kaiming_uniform(Shape{64, 32, 3, 3}, gk).to_vector();
  double bound = std::sqrt(6.0 / 288.0), maxabs = 0;
  for (double x : w) maxabs = std::max(maxabs, std::abs(x));
  CHECK(maxabs <= bound);
  CHECK(maxabs > 0.95 * bound);
  Generator gx(1);
  auto x = xavier_uniform(Shape{10, 20}, gx).to_vector();
  for (double e : x) CHECK(std::abs(e) <= std::sqrt(6.0 / 30.0));
  // Fixed first values: the generator is ours, so these hold on every machine.
  Generator gf(0);
  CHECK(gf.next_u64() == 0x99ec5f36cb75f2b4ULL);
}

TEST_CASE("bad input throws typed errors that name the op and the shapes") {
  Tensor a = Tensor::zeros(Shape{2, 3}), b = Tensor::zeros(Shape{4, 5});
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THROWS_AS(add(a, b), ShapeError);
  CHECK(message([&] { add(a, b); }).find("add: shapes (2, 3) and (4, 5)") != std::string::npos);
  CHECK_THROWS_AS(matmul(a, b), ShapeError);
  CHECK(message([&] { matmul(a, b); }).find("(2, 3) @ (4, 5)") != std::string::npos);
  Tensor d = Tensor::zeros(Shape{2, 3}, DType::Float64);
  CHECK_THROWS_AS(add(a, d), DTypeError);
  CHECK(message([&] { mul(a, d); }).find("mul: dtype mismatch: float32 (2, 3) vs float64 (2, 3)") != std::string::npos);
  if (device_count(DeviceType::CUDA) == 0) {  // no GPU here (or a CPU-only build): a clear error with the fix
    CHECK_THROWS_AS(Tensor::zeros(Shape{2}, DType::Float32, Device::cuda(0)), DeviceError);
    std::string no_gpu = message([] { Tensor::zeros(Shape{2}, DType::Float32, Device::cuda(0)); });
    CHECK(no_gpu.find("cuda:0") != std::string::npos);
    CHECK(no_gpu.find("--device cpu") != std::string::npos);
    CHECK((no_gpu.find("no CUDA device found") != std::string::npos ||
           no_gpu.find("no CUDA backend") != std::string::npos));
  }
  CHECK_THROWS_AS(Tensor::zeros(Shape{2}, DType::Float32, Device::cuda(63)), DeviceError);
  CHECK_THROWS_AS(reshape(a, Shape{4, 2}), ShapeError);
  CHECK_THROWS_AS(Shape({1, 2, 3, 4, 5, 6}), ShapeError);
  CHECK_THROWS_AS(sum(a, {2}), ValueError);
  CHECK_THROWS_AS(narrow(a, 1, 2, 2), ValueError);
  Tensor x = Tensor::zeros(Shape{2, 3, 8, 8}), w = Tensor::zeros(Shape{4, 2, 3, 3});
  CHECK_THROWS_AS(conv2d(x, w), ShapeError);
  CHECK(message([&] { conv2d(x, w); }).find("input (2, 3, 8, 8) has 3") != std::string::npos);
  CHECK_THROWS_AS(conv2d(Tensor::zeros(Shape{1, 1, 2, 2}), Tensor::zeros(Shape{1, 1, 3, 3})), ShapeError);
  CHECK_THROWS_AS(index_select(a, 0, Tensor::from_indices({0, 2}, Shape{2})), ValueError);
  CHECK(message([&] { index_select(a, 0, Tensor::from_indices({0, 2}, Shape{2})); }).find("index 2") != std::string::npos);
  CHECK_THROWS_AS(cross_entropy(a, Tensor::from_indices({0, 3}, Shape{2})), ValueError);
  CHECK_THROWS_AS(cross_entropy(a, Tensor::from_indices({0}, Shape{1})), ShapeError);
  CHECK_THROWS_AS(cross_entropy(a, Tensor::zeros(Shape{2})), DTypeError);
  CHECK_THROWS_AS(gather(a, 1, Tensor::from_indices({0, 1, 2, 3, 4, 5}, Shape{2, 3})), ValueError);
  CHECK_THROWS_AS(batch_norm(Tensor::zeros(Shape{1, 3}), Tensor::ones(Shape{3}), Tensor::zeros(Shape{3})), ShapeError);
  CHECK_THROWS_AS(batch_norm(a, Tensor::ones(Shape{2}), Tensor::zeros(Shape{3})), ShapeError);
  CHECK_THROWS_AS(max_pool2d(Tensor::zeros(Shape{1, 1, 1, 1}), {2, 2, 0}), ShapeError);
  CHECK_THROWS_AS(cat({a, b}, 0), ShapeError);
  CHECK_THROWS_AS(Tensor().shape(), ValueError);
  CHECK_THROWS_AS(parse_device("gpu"), ValueError);
  CHECK(parse_device("cuda:1") == Device::cuda(1));
  // Nothing was lost: the inputs are unchanged after the failed calls.
  CHECK(a.to_vector() == std::vector<double>(6, 0.0));
}
