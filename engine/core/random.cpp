#include "engine/core/random.h"

#include <cmath>
#include <numbers>

#include "engine/core/error.h"

namespace fewshot {

namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

void Generator::reseed(uint64_t seed) {
  for (auto& s : s_) s = splitmix64(seed);
}

uint64_t Generator::next_u64() {
  uint64_t result = rotl(s_[1] * 5, 7) * 9;
  uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Generator::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double Generator::normal() {
  double u1 = uniform(), u2 = uniform();
  if (u1 < 1e-300) u1 = 1e-300;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

uint64_t Generator::below(uint64_t n) {
  check<ValueError>(n > 0, "Generator::below(0)");
  // Lemire's rejection: exact uniformity without division in the common case.
  uint64_t threshold = (0 - n) % n;
  while (true) {
    uint64_t r = next_u64();
    if (r >= threshold) return r % n;
  }
}

Generator Generator::fork() { return Generator(next_u64()); }

Tensor rand_uniform(const Shape& shape, double lo, double hi, Generator& gen, DType dtype, Device device) {
  std::vector<double> v(shape.numel());
  for (auto& x : v) x = gen.uniform(lo, hi);
  return Tensor::from_vector(v, shape, dtype, device);
}

Tensor randn(const Shape& shape, Generator& gen, DType dtype, Device device) {
  std::vector<double> v(shape.numel());
  for (auto& x : v) x = gen.normal();
  return Tensor::from_vector(v, shape, dtype, device);
}

Fans compute_fans(const Shape& s) {
  check<ShapeError>(s.dim() >= 2, "weight init: needs a weight of at least 2 dims, got {}", s.str());
  int64_t receptive = s.prod(2, s.dim());
  return {s[1] * receptive, s[0] * receptive};
}

Tensor xavier_uniform(const Shape& shape, Generator& gen, double gain, DType dtype, Device device) {
  Fans f = compute_fans(shape);
  double a = gain * std::sqrt(6.0 / static_cast<double>(f.in + f.out));
  return rand_uniform(shape, -a, a, gen, dtype, device);
}

Tensor kaiming_uniform(const Shape& shape, Generator& gen, DType dtype, Device device) {
  Fans f = compute_fans(shape);
  double a = std::sqrt(6.0 / static_cast<double>(f.in));
  return rand_uniform(shape, -a, a, gen, dtype, device);
}

}  // namespace fewshot
