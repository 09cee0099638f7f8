#pragma once
// Elementwise CPU kernels (contiguous, row-major). Shapes are passed as dims arrays of up to 5.
#include <cstdint>

namespace fewshot::cpu {

enum class Unary : uint8_t { Neg, Exp, Log, Sqrt, Relu, Tanh, Sigmoid, Affine, PowScalar, StepGt, Abs };
enum class Binary : uint8_t { Add, Sub, Mul, Div, Pow, Eq };

// out[i] = f(x[i]) with parameters a, b (Affine: a*x+b, PowScalar: x^a, StepGt: x > a).
template <typename T> void unary(Unary op, const T* x, T* out, int64_t n, double a, double b);

struct Dims {
  int64_t d[5];
  int n;
  int64_t numel() const;
};
// out = a (op) b with NumPy broadcasting of a_dims and b_dims to out_dims.
template <typename T>
void binary(Binary op, const T* a, const Dims& a_dims, const T* b, const Dims& b_dims, T* out, const Dims& out_dims);
// out = x broadcast to out_dims (any element size: float, double, int64).
template <typename T> void expand(const T* x, const Dims& x_dims, T* out, const Dims& out_dims);

template <typename T> void fill(T* out, int64_t n, T value);
// dst[r * dst_ld + c] = src[r * src_ld + c]
template <typename T> void copy_blocks(const T* src, int64_t src_ld, T* dst, int64_t dst_ld, int64_t rows, int64_t cols);
template <typename S, typename D> void cast(const S* src, D* dst, int64_t n);
// (batch, R, C) -> (batch, C, R), cache-blocked.
template <typename T> void transpose_last2(const T* x, T* out, int64_t batch, int64_t R, int64_t C);

}  // namespace fewshot::cpu
