#pragma once
// Element types the engine knows. float32 is the training type; float64 exists for gradient
// checks and teaching; int64 holds indices and labels (never differentiable).
#include <cstdint>
#include <string_view>

namespace fewshot {

enum class DType : uint8_t { Float32, Float64, Int64 };

constexpr std::string_view dtype_name(DType d) {
  switch (d) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
  }
  return "?";
}

constexpr int64_t dtype_size(DType d) { return d == DType::Float32 ? 4 : 8; }
constexpr bool is_floating(DType d) { return d != DType::Int64; }

template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::Float32; }
template <> constexpr DType dtype_of<double>() { return DType::Float64; }
template <> constexpr DType dtype_of<int64_t>() { return DType::Int64; }

// Calls fn with a value of the matching C++ floating type (float or double); kernels use it to
// instantiate one template per dtype.
template <typename Fn> decltype(auto) dispatch_floating(DType d, Fn&& fn) {
  if (d == DType::Float64) return fn(double{});
  return fn(float{});
}

}  // namespace fewshot
