// The CUDA backend: adapts Tensors to the raw-pointer launchers in kernels/cuda/*.cu, on the
// calling thread's current stream of the tensor's device. Host code only (compiled by the host
// compiler with the project's warnings; all device code lives in the .cu files).
#include <array>
#include <cstdlib>
#include <mutex>
#include <vector>

#include <cuda_runtime.h>

#include "engine/core/backend.h"
#include "engine/core/error.h"
#include "kernels/cuda/caching_allocator.cuh"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/conv2d.cuh"
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/elementwise.cuh"
#include "kernels/cuda/gemm.cuh"
#include "kernels/cuda/index.cuh"
#include "kernels/cuda/nn.cuh"
#include "kernels/cuda/optim.cuh"
#include "kernels/cuda/pool.cuh"
#include "kernels/cuda/reduce.cuh"

namespace fewshot {

namespace {

constexpr int kMaxDevices = 64;

// Per device: the backend's default stream; per thread: an optional override.
std::array<cudaStream_t, kMaxDevices> g_default_streams{};
thread_local std::array<cudaStream_t, kMaxDevices> t_streams{};

cudaStream_t stream_for(int device) {
  cudaStream_t s = t_streams[device];
  return s ? s : g_default_streams[device];
}

void check_device_index(int device) {
  check<DeviceError>(device >= 0 && device < kMaxDevices && device < cuda_device_count(),
                     "cuda: device {} does not exist ({} CUDA device(s) found)", device, cuda_device_count());
}

// Makes the backend's device current for the call (a thread may drive several GPUs).
struct DeviceScope {
  explicit DeviceScope(int device) {
    int now = -1;
    FEWSHOT_CUDA_CHECK("cudaGetDevice", cudaGetDevice(&now));
    if (now != device) FEWSHOT_CUDA_CHECK("cudaSetDevice", cudaSetDevice(device));
  }
};

// Device scratch from the caching allocator, returned at scope exit (stream-ordered reuse
// makes that safe even while kernels using it are still queued).
class Scratch {
 public:
  Scratch(Allocator& a, int64_t bytes) : a_(a), bytes_(static_cast<size_t>(bytes > 0 ? bytes : 0)) {
    p_ = bytes_ ? a_.allocate(bytes_) : nullptr;
  }
  ~Scratch() {
    if (p_) a_.deallocate(p_, bytes_);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  void* get() const { return p_; }

 private:
  Allocator& a_;
  size_t bytes_;
  void* p_;
};

cuda::Dims dims_of(const Shape& s) {
  cuda::Dims d{};
  d.n = s.dim();
  for (int i = 0; i < s.dim(); ++i) d.d[i] = s[i];
  return d;
}

cuda::ConvGeometry geometry(const ConvParams& p) {
  return {p.N, p.C, p.H, p.W, p.OC, p.KH, p.KW, p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.groups, p.OH, p.OW};
}

cuda::PoolGeometry pool_geometry(const ConvParams& p) {
  return {p.N * p.C, p.H, p.W, p.KH, p.stride_h, p.pad_h, p.OH, p.OW};
}

template <typename Fn> void on_floating(const Tensor& t, Fn&& fn) {
  if (t.dtype() == DType::Float64) fn(double{});
  else if (t.dtype() == DType::Float32) fn(float{});
  else fail<DTypeError>("cuda kernel: expected a floating tensor, got {} {}", dtype_name(t.dtype()), t.shape().str());
}

template <typename Fn> void on_any(const Tensor& t, Fn&& fn) {
  if (t.dtype() == DType::Float64) fn(double{});
  else if (t.dtype() == DType::Float32) fn(float{});
  else fn(int64_t{});
}

template <typename T> T* ptr(const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; }

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int index) : index_(index), allocator_(index, &stream_for) {
    DeviceScope scope(index_);
    FEWSHOT_CUDA_CHECK("cuda init", cudaFree(nullptr));  // create the context now, not inside an op
    if (!g_default_streams[index_])
      FEWSHOT_CUDA_CHECK("cudaStreamCreate", cudaStreamCreateWithFlags(&g_default_streams[index_], cudaStreamNonBlocking));
  }

  std::string name() const override {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, index_) == cudaSuccess) return fmt::format("{} (cuda:{})", prop.name, index_);
    return "cuda:" + std::to_string(index_);
  }
  Allocator& allocator() override { return allocator_; }

  void* create_queue() override {
    DeviceScope d(index_);
    cudaStream_t stream = nullptr;
    FEWSHOT_CUDA_CHECK("cudaStreamCreate", cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    return stream;
  }
  void destroy_queue(void* queue) override {
    if (!queue) return;
    DeviceScope d(index_);
    FEWSHOT_CUDA_CHECK("cudaStreamSynchronize", cudaStreamSynchronize(static_cast<cudaStream_t>(queue)));
    FEWSHOT_CUDA_CHECK("cudaStreamDestroy", cudaStreamDestroy(static_cast<cudaStream_t>(queue)));
  }
  void set_thread_queue(void* queue) override { t_streams[index_] = static_cast<cudaStream_t>(queue); }
  void synchronize() override {
    DeviceScope d(index_);
    FEWSHOT_CUDA_CHECK("synchronize", cudaStreamSynchronize(s()));
  }
  cuda::CachingAllocator& caching_allocator() { return allocator_; }

  void fill(const Tensor& out, double value) override {
    DeviceScope d(index_);
    on_any(out, [&](auto z) {
      using T = decltype(z);
      cuda::fill<T>(out.data<T>(), out.numel(), static_cast<T>(value), s());
    });
  }

  void copy(const Tensor& src, const Tensor& dst) override {
    DeviceScope d(index_);
    if (src.dtype() == dst.dtype()) {
      FEWSHOT_CUDA_CHECK("copy", cudaMemcpyAsync(dst.raw_data(), src.raw_data(), src.numel() * dtype_size(src.dtype()),
                                                 cudaMemcpyDeviceToDevice, s()));
      return;
    }
    on_any(src, [&](auto sv) {
      using S = decltype(sv);
      on_any(dst, [&](auto dv) {
        using D = decltype(dv);
        if constexpr (!std::is_same_v<S, D>) cuda::cast<S, D>(src.data<S>(), dst.data<D>(), src.numel(), s());
      });
    });
  }

  // The host buffer may be a temporary (pageable): wait for the copy before returning.
  void copy_from_host(const void* src, const Tensor& dst) override {
    DeviceScope d(index_);
    FEWSHOT_CUDA_CHECK("copy_from_host", cudaMemcpyAsync(dst.raw_data(), src, dst.numel() * dtype_size(dst.dtype()),
                                                         cudaMemcpyHostToDevice, s()));
    FEWSHOT_CUDA_CHECK("copy_from_host", cudaStreamSynchronize(s()));
  }
  void copy_to_host(const Tensor& src, void* dst) override {
    DeviceScope d(index_);
    FEWSHOT_CUDA_CHECK("copy_to_host", cudaMemcpyAsync(dst, src.raw_data(), src.numel() * dtype_size(src.dtype()),
                                                       cudaMemcpyDeviceToHost, s()));
    FEWSHOT_CUDA_CHECK("copy_to_host", cudaStreamSynchronize(s()));
  }

  void copy_blocks(const Tensor& src, int64_t so, int64_t sld, const Tensor& dst, int64_t dof, int64_t dld,
                   int64_t rows, int64_t cols) override {
    DeviceScope d(index_);
    on_any(src, [&](auto z) {
      using T = decltype(z);
      cuda::copy_blocks<T>(src.data<T>() + so, sld, dst.data<T>() + dof, dld, rows, cols, s());
    });
  }

  void unary(UnaryOp op, const Tensor& x, const Tensor& out, double a, double b) override {
    DeviceScope d(index_);
    on_floating(x, [&](auto z) {
      using T = decltype(z);
      cuda::unary<T>(static_cast<cuda::Unary>(op), x.data<T>(), out.data<T>(), x.numel(), a, b, s());
    });
  }

  void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) override {
    DeviceScope d(index_);
    on_floating(a, [&](auto z) {
      using T = decltype(z);
      cuda::binary<T>(static_cast<cuda::Binary>(op), a.data<T>(), dims_of(a.shape()), b.data<T>(), dims_of(b.shape()),
                      out.data<T>(), dims_of(out.shape()), s());
    });
  }

  void expand(const Tensor& x, const Tensor& out) override {
    DeviceScope d(index_);
    on_any(x, [&](auto z) {
      using T = decltype(z);
      cuda::expand<T>(x.data<T>(), dims_of(x.shape()), out.data<T>(), dims_of(out.shape()), s());
    });
  }

  void sum_dim(const Tensor& x, const Tensor& out, int64_t outer, int64_t R, int64_t inner) override {
    DeviceScope d(index_);
    Scratch ws(allocator_, cuda::sum_dim_workspace_bytes(outer, R, inner));
    on_floating(x, [&](auto z) {
      using T = decltype(z);
      cuda::sum_dim<T>(x.data<T>(), out.data<T>(), outer, R, inner, ws.get(), s());
    });
  }

  void max_dim(const Tensor& x, const Tensor& values, const Tensor& indices, int64_t outer, int64_t R,
               int64_t inner) override {
    DeviceScope d(index_);
    on_floating(x, [&](auto z) {
      using T = decltype(z);
      cuda::max_dim<T>(x.data<T>(), values.data<T>(), indices.data<int64_t>(), outer, R, inner, s());
    });
  }

  int64_t count_nonfinite(const Tensor& x) override {
    DeviceScope d(index_);
    Scratch count(allocator_, sizeof(unsigned long long));
    auto* dev = static_cast<unsigned long long*>(count.get());
    on_floating(x, [&](auto z) {
      using T = decltype(z);
      cuda::count_nonfinite<T>(x.data<T>(), x.numel(), dev, s());
    });
    unsigned long long host = 0;
    FEWSHOT_CUDA_CHECK("count_nonfinite", cudaMemcpyAsync(&host, dev, sizeof host, cudaMemcpyDeviceToHost, s()));
    FEWSHOT_CUDA_CHECK("count_nonfinite", cudaStreamSynchronize(s()));
    return static_cast<int64_t>(host);
  }

  void gemm(bool ta, bool tb, int64_t batch, int64_t M, int64_t N, int64_t K, double alpha, const Tensor& A,
            int64_t sa, const Tensor& B, int64_t sb, double beta, const Tensor& C, int64_t sc) override {
    DeviceScope d(index_);
    on_floating(A, [&](auto z) {
      using T = decltype(z);
      int64_t lda = ta ? M : K, ldb = tb ? K : N;
      cuda::gemm_batched<T>(batch, ta, tb, M, N, K, static_cast<T>(alpha), A.data<T>(), lda, sa, B.data<T>(), ldb, sb,
                            static_cast<T>(beta), C.data<T>(), N, sc, s());
    });
  }

  void transpose_last2(const Tensor& x, const Tensor& out, int64_t batch, int64_t R, int64_t C) override {
    DeviceScope d(index_);
    on_any(x, [&](auto z) {
      using T = decltype(z);
      cuda::transpose_last2<T>(x.data<T>(), out.data<T>(), batch, R, C, s());
    });
  }

  void conv2d_forward(const ConvParams& p, const Tensor& x, const Tensor& w, const Tensor& y) override {
    DeviceScope d(index_);
    on_floating(x, [&](auto z) {
      using T = decltype(z);
      cuda::conv2d_forward<T>(geometry(p), x.data<T>(), w.data<T>(), y.data<T>(), s());
    });
  }
  void conv2d_input_grad(const ConvParams& p, const Tensor& gy, const Tensor& w, const Tensor& gx) override {
    DeviceScope d(index_);
    on_floating(gy, [&](auto z) {
      using T = decltype(z);
      cuda::conv2d_input_grad<T>(geometry(p), gy.data<T>(), w.data<T>(), gx.data<T>(), s());
    });
  }
  void conv2d_weight_grad(const ConvParams& p, const Tensor& x, const Tensor& gy, const Tensor& gw) override {
    DeviceScope d(index_);
    Scratch ws(allocator_, cuda::conv2d_weight_grad_workspace_bytes(geometry(p), dtype_size(x.dtype())));
    on_floating(x, [&](auto z) {
      using T = decltype(z);
      cuda::conv2d_weight_grad<T>(geometry(p), x.data<T>(), gy.data<T>(), gw.data<T>(), ws.get(), s());
    });
  }

  void max_pool2d(const ConvParams& p, const Tensor& x, const Tensor& y, const Tensor& indices) override {
    DeviceScope d(index_);
    on_floating(x, [&](auto z) {
      using T = decltype(z);
      cuda::max_pool2d<T>(pool_geometry(p), x.data<T>(), y.data<T>(), indices.data<int64_t>(), s());
    });
  }
  void avg_pool2d(const ConvParams& p, const Tensor& x, const Tensor& y) override {
    DeviceScope d(index_);
    on_floating(x, [&](auto z) {
      using T = decltype(z);
      cuda::avg_pool2d<T>(pool_geometry(p), x.data<T>(), y.data<T>(), s());
    });
  }
  void avg_pool2d_backward(const ConvParams& p, const Tensor& gy, const Tensor& gx) override {
    DeviceScope d(index_);
    on_floating(gy, [&](auto z) {
      using T = decltype(z);
      cuda::avg_pool2d_backward<T>(pool_geometry(p), gy.data<T>(), gx.data<T>(), s());
    });
  }

  void gather_dim(const Tensor& src, const Tensor& idx, const Tensor& out, int64_t outer, int64_t L, int64_t M,
                  int64_t inner) override {
    DeviceScope d(index_);
    check_indices("gather", idx, outer * M * inner, L);
    on_floating(src, [&](auto z) {
      using T = decltype(z);
      cuda::gather_dim<T>(src.data<T>(), idx.data<int64_t>(), out.data<T>(), outer, L, M, inner, s());
    });
  }
  void scatter_add_dim(const Tensor& src, const Tensor& idx, const Tensor& out, int64_t outer, int64_t L, int64_t M,
                       int64_t inner) override {
    DeviceScope d(index_);
    check_indices("scatter_add", idx, outer * M * inner, L);
    on_floating(src, [&](auto z) {
      using T = decltype(z);
      cuda::scatter_add_dim<T>(src.data<T>(), idx.data<int64_t>(), out.data<T>(), outer, L, M, inner, s());
    });
  }
  void index_select(const Tensor& x, const Tensor& idx, const Tensor& out, int64_t outer, int64_t D, int64_t inner,
                    int64_t n) override {
    DeviceScope d(index_);
    check_indices("index_select", idx, n, D);
    on_any(x, [&](auto z) {
      using T = decltype(z);
      cuda::index_select<T>(x.data<T>(), idx.data<int64_t>(), out.data<T>(), outer, D, inner, n, s());
    });
  }
  void index_add(const Tensor& src, const Tensor& idx, const Tensor& out, int64_t outer, int64_t D, int64_t inner,
                 int64_t n) override {
    DeviceScope d(index_);
    check_indices("index_add", idx, n, D);
    on_floating(src, [&](auto z) {
      using T = decltype(z);
      cuda::index_add<T>(src.data<T>(), idx.data<int64_t>(), out.data<T>(), outer, D, inner, n, s());
    });
  }
  void one_hot(const Tensor& targets, const Tensor& out, int64_t rows, int64_t C) override {
    DeviceScope d(index_);
    check_indices("one_hot", targets, rows, C);
    on_floating(out, [&](auto z) {
      using T = decltype(z);
      cuda::one_hot<T>(targets.data<int64_t>(), out.data<T>(), rows, C, s());
    });
  }

  void batch_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& y,
                          const Tensor& mean, const Tensor& invstd, int64_t N, int64_t C, int64_t S,
                          double eps) override {
    DeviceScope d(index_);
    Scratch ws(allocator_, cuda::batch_norm_workspace_bytes(N, C, S));
    on_floating(x, [&](auto z) {
      using T = decltype(z);
      cuda::batch_norm_forward<T>(x.data<T>(), gamma.data<T>(), beta.data<T>(), y.data<T>(), mean.data<T>(),
                                  invstd.data<T>(), N, C, S, eps, ws.get(), s());
    });
  }
  void batch_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                           const Tensor& invstd, const Tensor& gx, const Tensor& ggamma, const Tensor& gbeta,
                           int64_t N, int64_t C, int64_t S) override {
    DeviceScope d(index_);
    Scratch ws(allocator_, cuda::batch_norm_workspace_bytes(N, C, S));
    on_floating(x, [&](auto z) {
      using T = decltype(z);
      cuda::batch_norm_backward<T>(gy.data<T>(), x.data<T>(), gamma.data<T>(), mean.data<T>(), invstd.data<T>(),
                                   ptr<T>(gx), ptr<T>(ggamma), ptr<T>(gbeta), N, C, S, ws.get(), s());
    });
  }
  void log_softmax(const Tensor& x, const Tensor& out, int64_t outer, int64_t C, int64_t inner) override {
    DeviceScope d(index_);
    on_floating(x, [&](auto z) {
      using T = decltype(z);
      cuda::log_softmax<T>(x.data<T>(), out.data<T>(), outer, C, inner, s());
    });
  }
  void cross_entropy(const Tensor& logits, const Tensor& targets, const Tensor& loss, int64_t rows,
                     int64_t C) override {
    DeviceScope d(index_);
    int64_t bad = find_bad(targets, rows, C);
    if (bad >= 0)
      fail<ValueError>("cross_entropy: target {} of row {} is out of range [0, {})", read_index(targets, bad), bad, C);
    on_floating(logits, [&](auto z) {
      using T = decltype(z);
      cuda::cross_entropy<T>(logits.data<T>(), targets.data<int64_t>(), loss.data<T>(), rows, C, s());
    });
  }
  void sqdist(const Tensor& a, const Tensor& b, const Tensor& out, int64_t n, int64_t m, int64_t d) override {
    DeviceScope dev(index_);
    on_floating(a, [&](auto z) {
      using T = decltype(z);
      cuda::sqdist<T>(a.data<T>(), b.data<T>(), out.data<T>(), n, m, d, s());
    });
  }

  void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& buf, double lr, double momentum, double wd,
                bool first_step) override {
    DeviceScope d(index_);
    on_floating(param, [&](auto z) {
      using T = decltype(z);
      cuda::sgd_step<T>(param.data<T>(), grad.data<T>(), ptr<T>(buf), param.numel(), lr, momentum, wd, first_step,
                        s());
    });
  }
  void adam_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, double lr, double b1,
                 double b2, double eps, double wd, int64_t step) override {
    DeviceScope d(index_);
    on_floating(param, [&](auto z) {
      using T = decltype(z);
      cuda::adam_step<T>(param.data<T>(), grad.data<T>(), m.data<T>(), v.data<T>(), param.numel(), lr, b1, b2, eps, wd,
                         step, s());
    });
  }

 private:
  cudaStream_t s() const { return stream_for(index_); }

  // Position of the first index outside [0, bound), or -1. One small device-to-host copy (and
  // stream sync) per indexing op: the price of reporting bad indices before anything is written.
  int64_t find_bad(const Tensor& idx, int64_t n, int64_t bound) {
    if (n <= 0) return -1;
    Scratch slot(allocator_, sizeof(unsigned long long));
    auto* dev = static_cast<unsigned long long*>(slot.get());
    cuda::find_bad_index(idx.data<int64_t>(), n, bound, dev, s());
    unsigned long long host = 0;
    FEWSHOT_CUDA_CHECK("index check", cudaMemcpyAsync(&host, dev, sizeof host, cudaMemcpyDeviceToHost, s()));
    FEWSHOT_CUDA_CHECK("index check", cudaStreamSynchronize(s()));
    return host == cuda::kNoBadIndex ? -1 : static_cast<int64_t>(host);
  }
  int64_t read_index(const Tensor& idx, int64_t pos) {
    int64_t v = 0;
    FEWSHOT_CUDA_CHECK("index check", cudaMemcpyAsync(&v, idx.data<int64_t>() + pos, sizeof v, cudaMemcpyDeviceToHost, s()));
    FEWSHOT_CUDA_CHECK("index check", cudaStreamSynchronize(s()));
    return v;
  }
  // Same message as the CPU kernels: "OP: index V at position P is out of range [0, BOUND)".
  void check_indices(const char* op, const Tensor& idx, int64_t n, int64_t bound) {
    int64_t bad = find_bad(idx, n, bound);
    if (bad >= 0)
      fail<ValueError>("{}: index {} at position {} is out of range [0, {})", op, read_index(idx, bad), bad, bound);
  }

  int index_;
  cuda::CachingAllocator allocator_;
};

struct DeviceProbe {
  int count = 0;
  std::string reason;
};

const DeviceProbe& probe() {
  static const DeviceProbe p = [] {
    DeviceProbe r;
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
      r.reason = fmt::format("{}: {}", cudaGetErrorName(err), cudaGetErrorString(err));
      cudaGetLastError();  // do not leave the error for the next CUDA call to report
      n = 0;
    } else if (n == 0) {
      r.reason = "the driver reports 0 devices";
    }
    r.count = n < kMaxDevices ? n : kMaxDevices;
    return r;
  }();
  return p;
}

std::mutex g_backends_mutex;
std::array<CudaBackend*, kMaxDevices> g_backends{};

void release_caches_at_exit() {
  for (CudaBackend* b : g_backends) {
    if (!b) continue;
    try {
      b->caching_allocator().empty_cache();
    } catch (...) {
      // At exit the driver reclaims everything anyway.
    }
  }
}

CudaBackend& backend_of(int device) {
  check_device_index(device);
  Backend& b = backend_for(Device::cuda(device));  // creates it through the registry if needed
  return static_cast<CudaBackend&>(b);
}

}  // namespace

Backend* make_cuda_backend(int index) {
  check_device_index(index);
  std::lock_guard lock(g_backends_mutex);
  if (!g_backends[index]) {
    g_backends[index] = new CudaBackend(index);
    static const bool registered = [] { return std::atexit(release_caches_at_exit) == 0; }();
    (void)registered;
  }
  return g_backends[index];
}

int cuda_device_count() { return probe().count; }
std::string cuda_unavailable_reason() { return probe().reason; }

namespace cuda {

void* current_stream(int device) {
  check_device_index(device);
  backend_of(device);  // the default stream exists once the backend does
  return stream_for(device);
}

void set_current_stream(int device, void* stream) {
  check_device_index(device);
  t_streams[device] = static_cast<cudaStream_t>(stream);
}

void synchronize(int device) {
  check_device_index(device);
  DeviceScope d(device);
  FEWSHOT_CUDA_CHECK("synchronize", cudaStreamSynchronize(stream_for(device)));
}

CacheStats allocator_stats(int device) {
  AllocatorStats s = backend_of(device).caching_allocator().stats();
  return {s.cuda_mallocs, s.reuses, s.bytes_in_use, s.bytes_cached};
}

void empty_cache(int device) { backend_of(device).caching_allocator().empty_cache(); }

}  // namespace cuda
}  // namespace fewshot
