#pragma once
// Argument checks shared by the ops: each throws a typed error naming the op and the shapes.
#include <vector>

#include "engine/core/error.h"
#include "engine/core/tensor.h"

namespace fewshot::detail {

inline void check_defined(const char* op, const Tensor& t, const char* what = "input") {
  check<ValueError>(t.defined(), "{}: {} is an undefined tensor", op, what);
}

inline void check_floating(const char* op, const Tensor& t) {
  check_defined(op, t);
  check<DTypeError>(is_floating(t.dtype()), "{}: expected a float32 or float64 tensor, got {} {}", op,
                    dtype_name(t.dtype()), t.shape().str());
}

// Same dtype and device for a pair of operands.
inline void check_same(const char* op, const Tensor& a, const Tensor& b) {
  check_defined(op, a);
  check_defined(op, b);
  check<DTypeError>(a.dtype() == b.dtype(), "{}: dtype mismatch: {} {} vs {} {}", op, dtype_name(a.dtype()),
                    a.shape().str(), dtype_name(b.dtype()), b.shape().str());
  check<DeviceError>(a.device() == b.device(), "{}: device mismatch: {} on {} vs {} on {}", op, a.shape().str(),
                     a.device().str(), b.shape().str(), b.device().str());
}

inline void check_dims(const char* op, const Tensor& t, int ndim, const char* what = "input") {
  check<ShapeError>(t.dim() == ndim, "{}: {} must be {}-D, got shape {}", op, what, ndim, t.shape().str());
}

inline void check_index(const char* op, const Tensor& idx) {
  check_defined(op, idx, "index");
  check<DTypeError>(idx.dtype() == DType::Int64, "{}: indices must be int64, got {} {}", op, dtype_name(idx.dtype()),
                    idx.shape().str());
}

// (outer, R, inner) view of shape s around dim d.
struct DimSplit {
  int64_t outer, R, inner;
};
inline DimSplit split_at(const Shape& s, int d) { return {s.prod(0, d), s[d], s.prod(d + 1, s.dim())}; }

}  // namespace fewshot::detail
