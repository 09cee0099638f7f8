#pragma once
// Deterministic random numbers: the same seed gives the same values on every machine and device
// (values are drawn on the host with our own generator and distributions, never std:: ones,
// whose outputs differ between standard libraries).
#include <cstdint>

#include "engine/core/tensor.h"

namespace fewshot {

// xoshiro256** seeded through splitmix64.
class Generator {
 public:
  explicit Generator(uint64_t seed = 0) { reseed(seed); }
  void reseed(uint64_t seed);
  uint64_t next_u64();
  double uniform();                            // [0, 1), 53 random bits
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  double normal();                             // standard normal (Box-Muller)
  uint64_t below(uint64_t n);                  // uniform in [0, n), no modulo bias
  Generator fork();                            // an independent stream derived from this one

 private:
  uint64_t s_[4];
};

Tensor rand_uniform(const Shape& shape, double lo, double hi, Generator& gen, DType dtype = DType::Float32,
                    Device device = Device::cpu());
Tensor randn(const Shape& shape, Generator& gen, DType dtype = DType::Float32, Device device = Device::cpu());

// Fan-in/fan-out of a weight: linear (out, in); conv (OC, C/groups, KH, KW).
struct Fans {
  int64_t in, out;
};
Fans compute_fans(const Shape& weight_shape);
// Glorot & Bengio (2010): U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)).
Tensor xavier_uniform(const Shape& shape, Generator& gen, double gain = 1.0, DType dtype = DType::Float32,
                      Device device = Device::cpu());
// He et al. (2015) for ReLU nets: U(-a, a), a = sqrt(6 / fan_in) (PyTorch's kaiming_uniform_ with a=0).
Tensor kaiming_uniform(const Shape& shape, Generator& gen, DType dtype = DType::Float32,
                       Device device = Device::cpu());

}  // namespace fewshot
