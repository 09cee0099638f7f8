#pragma once
// Elementwise CUDA kernels over contiguous row-major buffers (all write their output).
#include <cstdint>

#include <cuda_runtime.h>

namespace fewshot::cuda {

// Same order as fewshot::UnaryOp / BinaryOp (the backend casts).
enum class Unary : uint8_t { Neg, Exp, Log, Sqrt, Relu, Tanh, Sigmoid, Affine, PowScalar, StepGt, Abs };
enum class Binary : uint8_t { Add, Sub, Mul, Div, Pow, Eq };

// Up to 5 dims, as fewshot::Shape.
struct Dims {
  int64_t d[5];
  int n;
};

template <typename T> void unary(Unary op, const T* x, T* out, int64_t n, double a, double b, cudaStream_t s);
// out = a (op) b with NumPy broadcasting of a_dims and b_dims to out_dims.
template <typename T>
void binary(Binary op, const T* a, const Dims& a_dims, const T* b, const Dims& b_dims, T* out, const Dims& out_dims,
            cudaStream_t s);
template <typename T> void expand(const T* x, const Dims& x_dims, T* out, const Dims& out_dims, cudaStream_t s);
template <typename T> void fill(T* out, int64_t n, T value, cudaStream_t s);
template <typename S, typename D> void cast(const S* src, D* dst, int64_t n, cudaStream_t s);
// dst[r * dst_ld + c] = src[r * src_ld + c]
template <typename T>
void copy_blocks(const T* src, int64_t src_ld, T* dst, int64_t dst_ld, int64_t rows, int64_t cols, cudaStream_t s);
// (batch, R, C) -> (batch, C, R) through 32x32 shared-memory tiles (both sides coalesced).
template <typename T> void transpose_last2(const T* x, T* out, int64_t batch, int64_t R, int64_t C, cudaStream_t s);

}  // namespace fewshot::cuda
