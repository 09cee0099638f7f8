#pragma once
// Elementwise ops with NumPy broadcasting. Derivatives: engine/ops/elementwise.cpp.
#include "engine/core/tensor.h"

namespace fewshot {

Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);  // a > 0 where b is not an integer

Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor pow(const Tensor& x, double exponent);
// a * x + b: the one op behind every tensor-scalar arithmetic below.
Tensor affine(const Tensor& x, double a, double b);

// Not differentiable (step functions): 1 where the condition holds, else 0, in x's dtype.
Tensor gt(const Tensor& x, double threshold);
Tensor eq(const Tensor& a, const Tensor& b);

inline Tensor add(const Tensor& x, double s) { return affine(x, 1.0, s); }
inline Tensor sub(const Tensor& x, double s) { return affine(x, 1.0, -s); }
inline Tensor mul(const Tensor& x, double s) { return affine(x, s, 0.0); }
inline Tensor div(const Tensor& x, double s) { return affine(x, 1.0 / s, 0.0); }

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& x) { return neg(x); }
inline Tensor operator+(const Tensor& x, double s) { return affine(x, 1.0, s); }
inline Tensor operator+(double s, const Tensor& x) { return affine(x, 1.0, s); }
inline Tensor operator-(const Tensor& x, double s) { return affine(x, 1.0, -s); }
inline Tensor operator-(double s, const Tensor& x) { return affine(x, -1.0, s); }
inline Tensor operator*(const Tensor& x, double s) { return affine(x, s, 0.0); }
inline Tensor operator*(double s, const Tensor& x) { return affine(x, s, 0.0); }
inline Tensor operator/(const Tensor& x, double s) { return affine(x, 1.0 / s, 0.0); }
inline Tensor operator/(double s, const Tensor& x) { return mul(pow(x, -1.0), s); }

}  // namespace fewshot
