// The CPU backend: adapts Tensors to the raw-pointer kernels in kernels/cpu.
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "engine/core/backend.h"
#include "engine/core/dtype_dispatch.h"
#include "engine/core/error.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/index.h"
#include "kernels/cpu/nn.h"
#include "kernels/cpu/optim.h"
#include "kernels/cpu/pool.h"
#include "kernels/cpu/reduce.h"

namespace fewshot {

namespace {

class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t bytes) override {
    // 64-byte alignment: one cache line, one AVX-512 vector.
    void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) throw std::bad_alloc();
    return p;
  }
  void deallocate(void* ptr, size_t) override { std::free(ptr); }
};

cpu::Dims dims_of(const Shape& s) {
  cpu::Dims d{};
  d.n = s.dim();
  for (int i = 0; i < s.dim(); ++i) d.d[i] = s[i];
  return d;
}

cpu::Conv2dGeometry geometry(const ConvParams& p) {
  return {p.N, p.C, p.H, p.W, p.OC, p.KH, p.KW, p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.groups, p.OH, p.OW};
}

cpu::PoolGeometry pool_geometry(const ConvParams& p) {
  return {p.N * p.C, p.H, p.W, p.KH, p.stride_h, p.pad_h, p.OH, p.OW};
}

// Kernels report bad indices with std::out_of_range; the engine's callers expect ValueError.
template <typename F> void guarded(F&& f) {
  try {
    f();
  } catch (const std::out_of_range& e) {
    throw ValueError(e.what());
  } catch (const std::invalid_argument& e) {
    throw ValueError(e.what());
  }
}

template <typename Fn> void on_floating(const Tensor& t, Fn&& fn) { dispatch::on_floating("cpu", t, fn); }
using dispatch::on_any;
template <typename T> T* ptr(const Tensor& t) { return dispatch::optional_ptr<T>(t); }

class CpuBackend final : public Backend {
 public:
  std::string name() const override { return "cpu"; }
  Allocator& allocator() override { return allocator_; }

  void fill(const Tensor& out, double value) override {
    on_any(out, [&](auto z) {
      using T = decltype(z);
      cpu::fill<T>(out.data<T>(), out.numel(), static_cast<T>(value));
    });
  }

  void copy(const Tensor& src, const Tensor& dst) override {
    if (src.dtype() == dst.dtype()) {
      std::memcpy(dst.raw_data(), src.raw_data(), src.numel() * dtype_size(src.dtype()));
      return;
    }
    on_any(src, [&](auto s) {
      using S = decltype(s);
      on_any(dst, [&](auto d) {
        using D = decltype(d);
        if constexpr (!std::is_same_v<S, D>) cpu::cast<S, D>(src.data<S>(), dst.data<D>(), src.numel());
      });
    });
  }

  void copy_from_host(const void* src, const Tensor& dst) override {
    std::memcpy(dst.raw_data(), src, dst.numel() * dtype_size(dst.dtype()));
  }
  void copy_to_host(const Tensor& src, void* dst) override {
    std::memcpy(dst, src.raw_data(), src.numel() * dtype_size(src.dtype()));
  }

  void copy_blocks(const Tensor& src, int64_t so, int64_t sld, const Tensor& dst, int64_t dof, int64_t dld,
                   int64_t rows, int64_t cols) override {
    on_any(src, [&](auto z) {
      using T = decltype(z);
      cpu::copy_blocks<T>(src.data<T>() + so, sld, dst.data<T>() + dof, dld, rows, cols);
    });
  }

  void unary(UnaryOp op, const Tensor& x, const Tensor& out, double a, double b) override {
    on_floating(x, [&](auto z) {
      using T = decltype(z);
      cpu::unary<T>(static_cast<cpu::Unary>(op), x.data<T>(), out.data<T>(), x.numel(), a, b);
    });
  }

  void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) override {
    on_floating(a, [&](auto z) {
      using T = decltype(z);
      cpu::binary<T>(static_cast<cpu::Binary>(op), a.data<T>(), dims_of(a.shape()), b.data<T>(), dims_of(b.shape()),
                     out.data<T>(), dims_of(out.shape()));
    });
  }

  void expand(const Tensor& x, const Tensor& out) override {
    on_any(x, [&](auto z) {
      using T = decltype(z);
      cpu::expand<T>(x.data<T>(), dims_of(x.shape()), out.data<T>(), dims_of(out.shape()));
    });
  }

  void sum_dim(const Tensor& x, const Tensor& out, int64_t outer, int64_t R, int64_t inner) override {
    on_floating(x, [&](auto z) {
      using T = decltype(z);
      cpu::sum_dim<T>(x.data<T>(), out.data<T>(), outer, R, inner);
    });
  }

  void max_dim(const Tensor& x, const Tensor& values, const Tensor& indices, int64_t outer, int64_t R,
               int64_t inner) override {
    on_floating(x, [&](auto z) {
      using T = decltype(z);
      cpu::max_dim<T>(x.data<T>(), values.data<T>(), indices.data<int64_t>(), outer, R, inner);
    });
  }

  int64_t count_nonfinite(const Tensor& x) override {
    int64_t n = 0;
    on_floating(x, [&](auto z) {
      using T = decltype(z);
      n = cpu::count_nonfinite<T>(x.data<T>(), x.numel());
    });
    return n;
  }

  void gemm(bool ta, bool tb, int64_t batch, int64_t M, int64_t N, int64_t K, double alpha, const Tensor& A,
            int64_t sa, const Tensor& B, int64_t sb, double beta, const Tensor& C, int64_t sc) override {
    on_floating(A, [&](auto z) {
      using T = decltype(z);
      int64_t lda = ta ? M : K, ldb = tb ? K : N;
      cpu::gemm_batched<T>(batch, ta, tb, M, N, K, static_cast<T>(alpha), A.data<T>(), lda, sa, B.data<T>(), ldb, sb,
                           static_cast<T>(beta), C.data<T>(), N, sc);
    });
  }

  void transpose_last2(const Tensor& x, const Tensor& out, int64_t batch, int64_t R, int64_t C) override {
    on_any(x, [&](auto z) {
      using T = decltype(z);
      cpu::transpose_last2<T>(x.data<T>(), out.data<T>(), batch, R, C);
    });
  }

  void conv2d_forward(const ConvParams& p, const Tensor& x, const Tensor& w, const Tensor& y) override {
    on_floating(x, [&](auto z) {
      using T = decltype(z);
      cpu::conv2d_forward<T>(geometry(p), x.data<T>(), w.data<T>(), y.data<T>());
    });
  }
  void conv2d_input_grad(const ConvParams& p, const Tensor& gy, const Tensor& w, const Tensor& gx) override {
    on_floating(gy, [&](auto z) {
      using T = decltype(z);
      cpu::conv2d_input_grad<T>(geometry(p), gy.data<T>(), w.data<T>(), gx.data<T>());
    });
  }
  void conv2d_weight_grad(const ConvParams& p, const Tensor& x, const Tensor& gy, const Tensor& gw) override {
    on_floating(x, [&](auto z) {
      using T = decltype(z);
      cpu::conv2d_weight_grad<T>(geometry(p), x.data<T>(), gy.data<T>(), gw.data<T>());
    });
  }

  void max_pool2d(const ConvParams& p, const Tensor& x, const Tensor& y, const Tensor& indices) override {
    on_floating(x, [&](auto z) {
      using T = decltype(z);
      cpu::max_pool2d<T>(pool_geometry(p), x.data<T>(), y.data<T>(), indices.data<int64_t>());
    });
  }
  void avg_pool2d(const ConvParams& p, const Tensor& x, const Tensor& y) override {
    on_floating(x, [&](auto z) {
      using T = decltype(z);
      cpu::avg_pool2d<T>(pool_geometry(p), x.data<T>(), y.data<T>());
    });
  }
  void avg_pool2d_backward(const ConvParams& p, const Tensor& gy, const Tensor& gx) override {
    on_floating(gy, [&](auto z) {
      using T = decltype(z);
      cpu::avg_pool2d_backward<T>(pool_geometry(p), gy.data<T>(), gx.data<T>());
    });
  }

  void gather_dim(const Tensor& src, const Tensor& idx, const Tensor& out, int64_t outer, int64_t L, int64_t M,
                  int64_t inner) override {
    on_floating(src, [&](auto z) {
      using T = decltype(z);
      guarded([&] { cpu::gather_dim<T>(src.data<T>(), idx.data<int64_t>(), out.data<T>(), outer, L, M, inner); });
    });
  }
  void scatter_add_dim(const Tensor& src, const Tensor& idx, const Tensor& out, int64_t outer, int64_t L, int64_t M,
                       int64_t inner) override {
    on_floating(src, [&](auto z) {
      using T = decltype(z);
      guarded([&] { cpu::scatter_add_dim<T>(src.data<T>(), idx.data<int64_t>(), out.data<T>(), outer, L, M, inner); });
    });
  }
  void index_select(const Tensor& x, const Tensor& idx, const Tensor& out, int64_t outer, int64_t D, int64_t inner,
                    int64_t n) override {
    on_any(x, [&](auto z) {
      using T = decltype(z);
      guarded([&] { cpu::index_select<T>(x.data<T>(), idx.data<int64_t>(), out.data<T>(), outer, D, inner, n); });
    });
  }
  void index_add(const Tensor& src, const Tensor& idx, const Tensor& out, int64_t outer, int64_t D, int64_t inner,
                 int64_t n) override {
    on_floating(src, [&](auto z) {
      using T = decltype(z);
      guarded([&] { cpu::index_add<T>(src.data<T>(), idx.data<int64_t>(), out.data<T>(), outer, D, inner, n); });
    });
  }
  void one_hot(const Tensor& targets, const Tensor& out, int64_t rows, int64_t C) override {
    on_floating(out, [&](auto z) {
      using T = decltype(z);
      guarded([&] { cpu::one_hot<T>(targets.data<int64_t>(), out.data<T>(), rows, C); });
    });
  }

  void batch_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& y,
                          const Tensor& mean, const Tensor& invstd, int64_t N, int64_t C, int64_t S,
                          double eps) override {
    on_floating(x, [&](auto z) {
      using T = decltype(z);
      cpu::batch_norm_forward<T>(x.data<T>(), gamma.data<T>(), beta.data<T>(), y.data<T>(), mean.data<T>(),
                                 invstd.data<T>(), N, C, S, eps);
    });
  }
  void batch_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                           const Tensor& invstd, const Tensor& gx, const Tensor& ggamma, const Tensor& gbeta,
                           int64_t N, int64_t C, int64_t S) override {
    on_floating(x, [&](auto z) {
      using T = decltype(z);
      cpu::batch_norm_backward<T>(gy.data<T>(), x.data<T>(), gamma.data<T>(), mean.data<T>(), invstd.data<T>(),
                                  ptr<T>(gx), ptr<T>(ggamma), ptr<T>(gbeta), N, C, S);
    });
  }
  void log_softmax(const Tensor& x, const Tensor& out, int64_t outer, int64_t C, int64_t inner) override {
    on_floating(x, [&](auto z) {
      using T = decltype(z);
      cpu::log_softmax<T>(x.data<T>(), out.data<T>(), outer, C, inner);
    });
  }
  void cross_entropy(const Tensor& logits, const Tensor& targets, const Tensor& loss, int64_t rows,
                     int64_t C) override {
    on_floating(logits, [&](auto z) {
      using T = decltype(z);
      guarded([&] { *loss.data<T>() = cpu::cross_entropy<T>(logits.data<T>(), targets.data<int64_t>(), rows, C); });
    });
  }
  void sqdist(const Tensor& a, const Tensor& b, const Tensor& out, int64_t n, int64_t m, int64_t d) override {
    on_floating(a, [&](auto z) {
      using T = decltype(z);
      cpu::sqdist<T>(a.data<T>(), b.data<T>(), out.data<T>(), n, m, d);
    });
  }

  void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& buf, double lr, double momentum, double wd,
                bool first_step) override {
    on_floating(param, [&](auto z) {
      using T = decltype(z);
      cpu::sgd_step<T>(param.data<T>(), grad.data<T>(), ptr<T>(buf), param.numel(), lr, momentum, wd, first_step);
    });
  }
  void adam_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, double lr, double b1,
                 double b2, double eps, double wd, int64_t step) override {
    on_floating(param, [&](auto z) {
      using T = decltype(z);
      cpu::adam_step<T>(param.data<T>(), grad.data<T>(), m.data<T>(), v.data<T>(), param.numel(), lr, b1, b2, eps, wd,
                        step);
    });
  }

 private:
  CpuAllocator allocator_;
};

}  // namespace

Backend* make_cpu_backend() { return new CpuBackend(); }

const char* unary_name(UnaryOp op) {
  static const char* names[] = {"neg", "exp", "log", "sqrt", "relu", "tanh", "sigmoid", "affine", "pow", "gt", "abs"};
  return names[static_cast<int>(op)];
}
const char* binary_name(BinaryOp op) {
  static const char* names[] = {"add", "sub", "mul", "div", "pow", "eq"};
  return names[static_cast<int>(op)];
}

}  // namespace fewshot
