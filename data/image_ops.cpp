#include "data/image_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "data/error.h"

namespace fewshot::data {
namespace {

// Output pixel o of an axis reads inputs [first, first + count) with these weights (sum 1).
struct Taps {
  std::vector<int64_t> first, count;
  std::vector<float> weights;  // concatenated, offset[o] = sum of previous counts
  std::vector<int64_t> offset;
};

Taps make_taps(int64_t in, int64_t out) {
  Taps t;
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  for (int64_t o = 0; o < out; ++o) {
    t.offset.push_back(static_cast<int64_t>(t.weights.size()));
    if (scale >= 1.0) {
      // Box: output pixel covers input interval [o*scale, (o+1)*scale).
      const double lo = o * scale, hi = (o + 1) * scale;
      const int64_t a = static_cast<int64_t>(std::floor(lo));
      const int64_t b = std::min<int64_t>(in, static_cast<int64_t>(std::ceil(hi)));
      t.first.push_back(a);
      t.count.push_back(b - a);
      for (int64_t i = a; i < b; ++i) {
        const double cover = std::min<double>(hi, i + 1) - std::max<double>(lo, i);
        t.weights.push_back(static_cast<float>(cover / scale));
      }
    } else {
      // Linear between centres (half-pixel convention), clamped at the borders.
      const double x = std::clamp((o + 0.5) * scale - 0.5, 0.0, static_cast<double>(in - 1));
      const int64_t a = static_cast<int64_t>(std::floor(x));
      const int64_t b = std::min<int64_t>(a + 1, in - 1);
      const float f = static_cast<float>(x - a);
      t.first.push_back(a);
      t.count.push_back(b > a ? 2 : 1);
      if (b > a) {
        t.weights.push_back(1.0f - f);
        t.weights.push_back(f);
      } else {
        t.weights.push_back(1.0f);
      }
    }
  }
  return t;
}

}  // namespace

void resize_area(const float* src, int64_t channels, int64_t h, int64_t w, float* dst, int64_t oh,
                 int64_t ow) {
  if (h == oh && w == ow) {
    std::memcpy(dst, src, sizeof(float) * channels * h * w);
    return;
  }
  const Taps tx = make_taps(w, ow), ty = make_taps(h, oh);
  std::vector<float> rows(static_cast<size_t>(h * ow));  // horizontal pass, one channel: h x ow
  for (int64_t c = 0; c < channels; ++c) {
    const float* s = src + c * h * w;
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < ow; ++x) {
        const float* wt = tx.weights.data() + tx.offset[x];
        const float* p = s + y * w + tx.first[x];
        float acc = 0;
        for (int64_t k = 0; k < tx.count[x]; ++k) acc += wt[k] * p[k];
        rows[y * ow + x] = acc;
      }
    float* d = dst + c * oh * ow;
    for (int64_t y = 0; y < oh; ++y) {
      const float* wt = ty.weights.data() + ty.offset[y];
      for (int64_t x = 0; x < ow; ++x) {
        float acc = 0;
        for (int64_t k = 0; k < ty.count[y]; ++k) acc += wt[k] * rows[(ty.first[y] + k) * ow + x];
        d[y * ow + x] = acc;
      }
    }
  }
}

void rotate_square(const float* src, int64_t channels, int64_t n, int degrees, float* dst) {
  const int quarter = ((degrees % 360) + 360) % 360;
  if (quarter % 90 != 0) throw DataError("rotate_square: rotation must be a multiple of 90 degrees, got " + std::to_string(degrees));
  for (int64_t c = 0; c < channels; ++c) {
    const float* s = src + c * n * n;
    float* d = dst + c * n * n;
    for (int64_t y = 0; y < n; ++y)
      for (int64_t x = 0; x < n; ++x) {
        // Counter-clockwise: output (y, x) reads input at the position that rotates onto it.
        float v;
        switch (quarter) {
          case 0: v = s[y * n + x]; break;
          case 90: v = s[x * n + (n - 1 - y)]; break;
          case 180: v = s[(n - 1 - y) * n + (n - 1 - x)]; break;
          default: v = s[(n - 1 - x) * n + y]; break;
        }
        d[y * n + x] = v;
      }
  }
}

}  // namespace fewshot::data
