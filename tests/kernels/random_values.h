#pragma once
// Random inputs for the kernel tests: uniform in [-1, 1], reproducible from a seed.
#include <cstddef>
#include <random>
#include <vector>

namespace fewshot::cpu::testing {

template <typename T>
std::vector<T> random_vec(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<T> v(n);
  for (auto& x : v) x = T(dist(rng));
  return v;
}

}  // namespace fewshot::cpu::testing
