#pragma once
// The backend interface: every kernel an op (forward or derivative formula) may launch.
// Op code (engine/ops) allocates outputs and calls backend_for(device).<kernel>(...); it never
// touches raw memory. A new device implements this interface and registers itself; no op changes.
// Convention: all tensors are contiguous; outputs are preallocated with the right shape/dtype/device;
// "writes" means the kernel overwrites its output, "accumulates" that it adds into it.
#include <cstdint>
#include <string>

#include "engine/core/tensor.h"

namespace fewshot {

enum class UnaryOp : uint8_t {
  Neg, Exp, Log, Sqrt, Relu, Tanh, Sigmoid,
  Affine,     // a * x + b            (scalar ops: x + s, x * s, s - x, x / s)
  PowScalar,  // x ^ a
  StepGt,     // x > a ? 1 : 0        (masks for relu and friends; not differentiable)
  Abs,
};
const char* unary_name(UnaryOp op);

enum class BinaryOp : uint8_t { Add, Sub, Mul, Div, Pow, Eq };
const char* binary_name(BinaryOp op);

// Shapes of a 2-D convolution, shared by the three conv kernels and by pooling.
struct ConvParams {
  int64_t N, C, H, W;        // input (N, C, H, W)
  int64_t OC, KH, KW;        // weight (OC, C / groups, KH, KW); for pooling OC == C
  int64_t stride_h, stride_w, pad_h, pad_w, groups;
  int64_t OH, OW;            // output (N, OC, OH, OW)
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual Allocator& allocator() = 0;

  // ---- work queues ----
  // A thread can send this backend's kernels to a queue of its own (a CUDA stream), so methods
  // training side by side do not wait on each other. The CPU runs kernels synchronously: no-ops.
  virtual void* create_queue() { return nullptr; }
  virtual void destroy_queue(void* /*queue*/) {}
  virtual void set_thread_queue(void* /*queue*/) {}  // nullptr: the backend's default queue
  virtual void synchronize() {}                      // waits for the calling thread's queue

  // ---- memory ----
  virtual void fill(const Tensor& out, double value) = 0;                                    // writes
  virtual void copy(const Tensor& src, const Tensor& dst) = 0;                               // same device, any dtypes (casts)
  virtual void copy_from_host(const void* src, const Tensor& dst) = 0;                       // src has dst's dtype
  virtual void copy_to_host(const Tensor& src, void* dst) = 0;
  // dst[r * dst_ld + dst_off + c] = src[r * src_ld + src_off + c] for r < rows, c < cols (elements).
  virtual void copy_blocks(const Tensor& src, int64_t src_off, int64_t src_ld, const Tensor& dst, int64_t dst_off,
                           int64_t dst_ld, int64_t rows, int64_t cols) = 0;

  // ---- elementwise ----
  virtual void unary(UnaryOp op, const Tensor& x, const Tensor& out, double a, double b) = 0;
  // a and b broadcast to out's shape (NumPy rules, already checked by the op).
  virtual void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) = 0;
  // out = x broadcast to out's shape.
  virtual void expand(const Tensor& x, const Tensor& out) = 0;

  // ---- reductions over the middle dim of (outer, R, inner) ----
  virtual void sum_dim(const Tensor& x, const Tensor& out, int64_t outer, int64_t R, int64_t inner) = 0;
  // values and int64 indices (first maximum wins, deterministic).
  virtual void max_dim(const Tensor& x, const Tensor& values, const Tensor& indices, int64_t outer, int64_t R,
                       int64_t inner) = 0;
  virtual int64_t count_nonfinite(const Tensor& x) = 0;

  // ---- dense linear algebra ----
  // C[b] = alpha op(A[b]) op(B[b]) + beta C[b]; strides in elements (0 broadcasts a matrix).
  virtual void gemm(bool trans_a, bool trans_b, int64_t batch, int64_t M, int64_t N, int64_t K, double alpha,
                    const Tensor& A, int64_t stride_a, const Tensor& B, int64_t stride_b, double beta, const Tensor& C,
                    int64_t stride_c) = 0;
  // (batch, R, C) -> (batch, C, R)
  virtual void transpose_last2(const Tensor& x, const Tensor& out, int64_t batch, int64_t R, int64_t C) = 0;

  // ---- convolution and pooling (writes) ----
  virtual void conv2d_forward(const ConvParams& p, const Tensor& x, const Tensor& w, const Tensor& y) = 0;
  virtual void conv2d_input_grad(const ConvParams& p, const Tensor& gy, const Tensor& w, const Tensor& gx) = 0;
  virtual void conv2d_weight_grad(const ConvParams& p, const Tensor& x, const Tensor& gy, const Tensor& gw) = 0;
  // indices are positions within each (n, c) input plane, as in PyTorch.
  virtual void max_pool2d(const ConvParams& p, const Tensor& x, const Tensor& y, const Tensor& indices) = 0;
  virtual void avg_pool2d(const ConvParams& p, const Tensor& x, const Tensor& y) = 0;
  virtual void avg_pool2d_backward(const ConvParams& p, const Tensor& gy, const Tensor& gx) = 0;

  // ---- indexing along the middle dim of (outer, L, inner); idx and out are (outer, M, inner) ----
  // out[o, m, i] = src[o, idx[o, m, i], i]   (torch.gather)
  virtual void gather_dim(const Tensor& src, const Tensor& idx, const Tensor& out, int64_t outer, int64_t L,
                          int64_t M, int64_t inner) = 0;
  // out (outer, L, inner) = 0; out[o, idx[o, m, i], i] += src[o, m, i]   (deterministic order)
  virtual void scatter_add_dim(const Tensor& src, const Tensor& idx, const Tensor& out, int64_t outer, int64_t L,
                               int64_t M, int64_t inner) = 0;
  // x (outer, D, inner) -> out (outer, n, inner): out[o, i, :] = x[o, idx[i], :]
  virtual void index_select(const Tensor& x, const Tensor& idx, const Tensor& out, int64_t outer, int64_t D,
                            int64_t inner, int64_t n) = 0;
  // out (outer, D, inner) = 0; out[o, idx[i], :] += src[o, i, :]   (deterministic order)
  virtual void index_add(const Tensor& src, const Tensor& idx, const Tensor& out, int64_t outer, int64_t D,
                         int64_t inner, int64_t n) = 0;
  // out (rows, C) = one-hot of int64 targets (rows,), in out's dtype.
  virtual void one_hot(const Tensor& targets, const Tensor& out, int64_t rows, int64_t C) = 0;

  // ---- fused neural-network kernels ----
  // x (N, C, S): y = (x - mean) * invstd * gamma + beta; mean and invstd (C,) are written too.
  virtual void batch_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& y,
                                  const Tensor& mean, const Tensor& invstd, int64_t N, int64_t C, int64_t S,
                                  double eps) = 0;
  // The first-order backward of batch_norm_forward (used when create_graph is false). Writes gx,
  // ggamma, gbeta; any of them may be undefined (not needed).
  virtual void batch_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                   const Tensor& invstd, const Tensor& gx, const Tensor& ggamma, const Tensor& gbeta,
                                   int64_t N, int64_t C, int64_t S) = 0;
  // log-softmax over the middle dim of (outer, C, inner)
  virtual void log_softmax(const Tensor& x, const Tensor& out, int64_t outer, int64_t C, int64_t inner) = 0;
  // Mean over rows of -log_softmax(logits)[r, target[r]]; logits (rows, C). Writes a 1-element loss.
  virtual void cross_entropy(const Tensor& logits, const Tensor& targets, const Tensor& loss, int64_t rows,
                             int64_t C) = 0;
  // out[i, j] = sum_k (a[i, k] - b[j, k])^2 for a (n, d), b (m, d)
  virtual void sqdist(const Tensor& a, const Tensor& b, const Tensor& out, int64_t n, int64_t m, int64_t d) = 0;

  // ---- optimizers (in place on leaves, under no-grad) ----
  // param -= lr * (grad + weight_decay * param), with optional momentum buffer (PyTorch semantics).
  virtual void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buf, double lr,
                        double momentum, double weight_decay, bool first_step) = 0;
  // Adam (Kingma & Ba) with bias correction; step counts from 1.
  virtual void adam_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, double lr,
                         double beta1, double beta2, double eps, double weight_decay, int64_t step) = 0;
};

// The backend of a device. Throws DeviceError when that device has no backend in this build
// (e.g. CUDA requested in a CPU-only build) or no such device exists.
Backend& backend_for(Device device);
inline Backend& backend_for(const Tensor& t) { return backend_for(t.device()); }
// A backend registers itself (the CUDA library does so at load time).
void register_backend(DeviceType type, Backend* (*factory)(int index), int (*device_count)());
int device_count(DeviceType type);

}  // namespace fewshot
