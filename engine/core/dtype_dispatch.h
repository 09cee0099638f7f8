#pragma once
// Helpers for backends: call a generic lambda with the C++ type of a tensor's dtype, so each
// kernel is written once as a template and instantiated per dtype.
#include "engine/core/error.h"
#include "engine/core/tensor.h"

namespace fewshot::dispatch {

// fn(float{}) or fn(double{}); a non-floating tensor is a DTypeError naming the backend.
template <typename Fn> void on_floating(const char* backend, const Tensor& t, Fn&& fn) {
  if (t.dtype() == DType::Float64) fn(double{});
  else if (t.dtype() == DType::Float32) fn(float{});
  else fail<DTypeError>("{} kernel: expected a floating tensor, got {} {}", backend, dtype_name(t.dtype()),
                        t.shape().str());
}

// fn(float{}), fn(double{}) or fn(int64_t{}).
template <typename Fn> void on_any(const Tensor& t, Fn&& fn) {
  if (t.dtype() == DType::Float64) fn(double{});
  else if (t.dtype() == DType::Float32) fn(float{});
  else fn(int64_t{});
}

// The element pointer of an optional tensor (null when undefined).
template <typename T> T* optional_ptr(const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; }

}  // namespace fewshot::dispatch
