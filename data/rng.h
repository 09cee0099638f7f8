#pragma once
// A small, fully specified random generator, so that a seed gives the same classes, images and
// sinusoid tasks on every machine and standard library. std::*_distribution is deliberately not
// used: libstdc++, libc++ and MSVC produce different sequences from the same engine.
//
// Generator: SplitMix64 (Steele, Lea, Flood 2014; the seeding generator of xoshiro). It passes
// BigCrush, has a 2^64 period and its whole state is one uint64_t.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace fewshot::data {

// Mixes one 64-bit value into a well-spread one (the SplitMix64 finalizer). Used to derive
// independent streams, e.g. the seed of test episode i is mix64(seed ^ mix64(i + 1)).
constexpr uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : state_(seed) {}

  uint64_t next_u64() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return mix64(state_);
  }

  // Uniform integer in [0, n), n > 0, without modulo bias: draws below 2^64 mod n are rejected
  // (at most one rejection in 2^63 draws for the small n used here).
  uint64_t uniform_int(uint64_t n) {
    const uint64_t threshold = (0 - n) % n;  // == 2^64 mod n
    for (;;) {
      const uint64_t r = next_u64();
      if (r >= threshold) return r % n;
    }
  }

  // Uniform double in [0, 1) with 53 random bits.
  double uniform01() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  // Uniform double in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform01(); }

  // Fisher-Yates shuffle (Knuth's Algorithm P), element i swapped with one in [0, i].
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) {
      const std::size_t j = static_cast<std::size_t>(uniform_int(i));
      std::swap(v[i - 1], v[j]);
    }
  }

  // k distinct values of [0, n) in random order (partial Fisher-Yates). Requires k <= n.
  std::vector<int64_t> sample_without_replacement(int64_t n, int64_t k) {
    std::vector<int64_t> idx(static_cast<std::size_t>(n));
    for (int64_t i = 0; i < n; ++i) idx[static_cast<std::size_t>(i)] = i;
    for (int64_t i = 0; i < k; ++i) {
      const int64_t j = i + static_cast<int64_t>(uniform_int(static_cast<uint64_t>(n - i)));
      std::swap(idx[static_cast<std::size_t>(i)], idx[static_cast<std::size_t>(j)]);
    }
    idx.resize(static_cast<std::size_t>(k));
    return idx;
  }

  uint64_t state() const { return state_; }

 private:
  uint64_t state_;
};

}  // namespace fewshot::data
