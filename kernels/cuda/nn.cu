// Batch norm runs in three deterministic phases per statistic: P blocks per channel sum fixed
// contiguous parts of the channel's N*S values (thread-strided, then the fixed block tree), one
// thread per channel adds the P partials in order, and an elementwise kernel applies the result.
// P depends only on the shape, so the bits never change between runs.
#include "kernels/cuda/nn.cuh"

#include "kernels/cuda/common.cuh"

namespace fewshot::cuda {

namespace {

constexpr int kNnBlock = 256;

int64_t bn_parts(int64_t N, int64_t C, int64_t S) {
  int64_t per_channel = N * S;
  int64_t p = (1024 + C - 1) / C;                  // ~1024 blocks in all
  int64_t most = (per_channel + 4095) / 4096;      // at least 4096 values per part
  if (p > most) p = most;
  return p < 1 ? 1 : p;
}

// Element e of channel c in (N, C, S) layout.
__device__ inline int64_t bn_offset(int64_t e, int64_t c, int64_t C, int64_t S) {
  int64_t n = e / S, i = e - n * S;
  return (n * C + c) * S + i;
}

// partial[c * P + p] = sum over part p of channel c of f(c, offset).
template <typename F>
__global__ void bn_partial_kernel(int64_t N, int64_t C, int64_t S, int64_t P, double* __restrict__ partial, F f) {
  __shared__ double shared[kNnBlock];
  const int64_t total = N * S, chunk = (total + P - 1) / P;
  for (int64_t b = blockIdx.x; b < C * P; b += gridDim.x) {
    int64_t c = b / P, p = b % P;
    int64_t e0 = p * chunk, e1 = e0 + chunk < total ? e0 + chunk : total;
    double acc = 0;
    for (int64_t e = e0 + threadIdx.x; e < e1; e += blockDim.x) acc += f(c, bn_offset(e, c, C, S));
    double sum = block_sum(acc, shared);
    if (threadIdx.x == 0) partial[b] = sum;
  }
}

template <typename T> struct SumX {
  const T* x;
  __device__ double operator()(int64_t, int64_t off) const { return static_cast<double>(x[off]); }
};
template <typename T> struct SqDev {
  const T* x;
  const double* mu;
  __device__ double operator()(int64_t c, int64_t off) const {
    double d = static_cast<double>(x[off]) - mu[c];
    return d * d;
  }
};
template <typename T> struct SumG {
  const T* gy;
  __device__ double operator()(int64_t, int64_t off) const { return static_cast<double>(gy[off]); }
};
template <typename T> struct SumGXhat {
  const T* gy;
  const T* x;
  const T* mean;
  const T* invstd;
  __device__ double operator()(int64_t c, int64_t off) const {
    return static_cast<double>(gy[off]) * (static_cast<double>(x[off]) - static_cast<double>(mean[c])) *
           static_cast<double>(invstd[c]);
  }
};

// mu[c] = sum of partials / M; writes mean (T) too.
template <typename T>
__global__ void bn_mean_kernel(const double* __restrict__ partial, int64_t C, int64_t P, double M, double* __restrict__ mu,
                               T* __restrict__ mean) {
  FEWSHOT_CUDA_LOOP(c, C) {
    double s = 0;
    for (int64_t p = 0; p < P; ++p) s += partial[c * P + p];
    mu[c] = s / M;
    mean[c] = static_cast<T>(s / M);
  }
}

template <typename T>
__global__ void bn_invstd_kernel(const double* __restrict__ partial, int64_t C, int64_t P, double M, double eps,
                                 double* __restrict__ is, T* __restrict__ invstd) {
  FEWSHOT_CUDA_LOOP(c, C) {
    double ss = 0;
    for (int64_t p = 0; p < P; ++p) ss += partial[c * P + p];
    double v = 1.0 / sqrt(ss / M + eps);
    is[c] = v;
    invstd[c] = static_cast<T>(v);
  }
}

// y = x * scale + shift with scale and shift rounded to T first, as the CPU kernel does.
template <typename T>
__global__ void bn_apply_kernel(const T* __restrict__ x, const T* __restrict__ gamma, const T* __restrict__ beta,
                                const double* __restrict__ mu, const double* __restrict__ is, T* __restrict__ y,
                                int64_t N, int64_t C, int64_t S) {
  FEWSHOT_CUDA_LOOP(t, N * C * S) {
    int64_t c = (t / S) % C;
    const T scale = static_cast<T>(is[c] * gamma[c]), shift = static_cast<T>(beta[c] - mu[c] * is[c] * gamma[c]);
    y[t] = x[t] * scale + shift;
  }
}

// sums[c] = (sum g, sum g*xhat); writes gbeta/ggamma when wanted.
template <typename T>
__global__ void bn_backward_sums_kernel(const double* __restrict__ pg, const double* __restrict__ pgx, int64_t C,
                                        int64_t P, double* __restrict__ sums, T* __restrict__ ggamma,
                                        T* __restrict__ gbeta) {
  FEWSHOT_CUDA_LOOP(c, C) {
    double sg = 0, sgx = 0;
    for (int64_t p = 0; p < P; ++p) sg += pg[c * P + p], sgx += pgx[c * P + p];
    sums[2 * c] = sg;
    sums[2 * c + 1] = sgx;
    if (gbeta) gbeta[c] = static_cast<T>(sg);
    if (ggamma) ggamma[c] = static_cast<T>(sgx);
  }
}

// dx = gamma * invstd * (gy - mean(gy) - xhat * mean(gy * xhat))
template <typename T>
__global__ void bn_backward_gx_kernel(const T* __restrict__ gy, const T* __restrict__ x, const T* __restrict__ gamma,
                                      const T* __restrict__ mean, const T* __restrict__ invstd,
                                      const double* __restrict__ sums, T* __restrict__ gx, int64_t N, int64_t C,
                                      int64_t S) {
  const double M = static_cast<double>(N * S);
  FEWSHOT_CUDA_LOOP(t, N * C * S) {
    int64_t c = (t / S) % C;
    const double mu = mean[c], is = invstd[c], k = gamma[c] * is, mg = sums[2 * c] / M, mgx = sums[2 * c + 1] / M;
    gx[t] = static_cast<T>(k * (gy[t] - mg - (x[t] - mu) * is * mgx));
  }
}

template <typename T> __device__ inline T t_max(T a, T b) { return a < b ? b : a; }  // std::max semantics

template <typename T>
__global__ void log_softmax_kernel(const T* __restrict__ x, T* __restrict__ out, int64_t outer, int64_t C, int64_t inner) {
  FEWSHOT_CUDA_LOOP(k, outer * inner) {
    int64_t o = k / inner, i = k % inner;
    const T* p = x + o * C * inner + i;
    T* q = out + o * C * inner + i;
    T m = -INFINITY;
    for (int64_t c = 0; c < C; ++c) m = t_max(m, p[c * inner]);
    double s = 0;
    for (int64_t c = 0; c < C; ++c) s += exp(static_cast<double>(p[c * inner] - m));
    T lse = m + static_cast<T>(log(s));
    for (int64_t c = 0; c < C; ++c) q[c * inner] = p[c * inner] - lse;
  }
}

// One block: thread t takes rows t, t + 256, ...; the fixed tree adds the row losses.
template <typename T>
__global__ void cross_entropy_kernel(const T* __restrict__ logits, const int64_t* __restrict__ targets,
                                     T* __restrict__ loss, int64_t rows, int64_t C) {
  __shared__ double shared[kNnBlock];
  double acc = 0;
  for (int64_t r = threadIdx.x; r < rows; r += blockDim.x) {
    const T* p = logits + r * C;
    T m = p[0];
    for (int64_t c = 1; c < C; ++c) m = t_max(m, p[c]);
    double s = 0;
    for (int64_t c = 0; c < C; ++c) s += exp(static_cast<double>(p[c] - m));
    int64_t t = targets[r];
    double picked = t >= 0 && t < C ? static_cast<double>(p[t]) : 0.0;
    acc += static_cast<double>(m) + log(s) - picked;
  }
  double total = block_sum(acc, shared);
  if (threadIdx.x == 0) *loss = static_cast<T>(total / static_cast<double>(rows));
}

template <typename T>
__global__ void sqdist_kernel(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ out, int64_t n,
                              int64_t m, int64_t d) {
  FEWSHOT_CUDA_LOOP(k, n * m) {
    const T* ai = a + (k / m) * d;
    const T* bj = b + (k % m) * d;
    T acc = 0;
    for (int64_t t = 0; t < d; ++t) acc += (ai[t] - bj[t]) * (ai[t] - bj[t]);
    out[k] = acc;
  }
}

unsigned blocks_for(int64_t n) { return static_cast<unsigned>(n < 65535 * 4 ? n : 65535 * 4); }

}  // namespace

int64_t batch_norm_workspace_bytes(int64_t N, int64_t C, int64_t S) {
  // two partial arrays (C * P) + mu, invstd / two sums per channel
  return static_cast<int64_t>(sizeof(double)) * (2 * C * bn_parts(N, C, S) + 2 * C);
}

template <typename T>
void batch_norm_forward(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* invstd, int64_t N, int64_t C,
                        int64_t S, double eps, void* workspace, cudaStream_t s) {
  if (C <= 0) return;
  const int64_t P = bn_parts(N, C, S);
  const double M = static_cast<double>(N * S);
  double* partial = static_cast<double*>(workspace);
  double* mu = partial + 2 * C * P;
  double* is = mu + C;
  // Two passes (mean, then centred squares): stable where E[x^2] - E[x]^2 is not.
  launch("batch_norm_forward (sum)", bn_partial_kernel<SumX<T>>, blocks_for(C * P), kNnBlock, 0, s, N, C, S, P,
         partial, SumX<T>{x});
  launch("batch_norm_forward (mean)", bn_mean_kernel<T>, grid_for(C), kBlock, 0, s, partial, C, P, M, mu, mean);
  launch("batch_norm_forward (var)", bn_partial_kernel<SqDev<T>>, blocks_for(C * P), kNnBlock, 0, s, N, C, S, P,
         partial, SqDev<T>{x, mu});
  launch("batch_norm_forward (invstd)", bn_invstd_kernel<T>, grid_for(C), kBlock, 0, s, partial, C, P, M, eps, is,
         invstd);
  if (N * C * S > 0)
    launch("batch_norm_forward (apply)", bn_apply_kernel<T>, grid_for(N * C * S), kBlock, 0, s, x, gamma, beta, mu, is,
           y, N, C, S);
}

template <typename T>
void batch_norm_backward(const T* gy, const T* x, const T* gamma, const T* mean, const T* invstd, T* gx, T* ggamma,
                         T* gbeta, int64_t N, int64_t C, int64_t S, void* workspace, cudaStream_t s) {
  if (C <= 0) return;
  const int64_t P = bn_parts(N, C, S);
  double* pg = static_cast<double*>(workspace);
  double* pgx = pg + C * P;
  double* sums = pgx + C * P;
  launch("batch_norm_backward (sum g)", bn_partial_kernel<SumG<T>>, blocks_for(C * P), kNnBlock, 0, s, N, C, S, P, pg,
         SumG<T>{gy});
  launch("batch_norm_backward (sum g*xhat)", bn_partial_kernel<SumGXhat<T>>, blocks_for(C * P), kNnBlock, 0, s, N, C,
         S, P, pgx, SumGXhat<T>{gy, x, mean, invstd});
  launch("batch_norm_backward (sums)", bn_backward_sums_kernel<T>, grid_for(C), kBlock, 0, s, pg, pgx, C, P, sums,
         ggamma, gbeta);
  if (gx && N * C * S > 0)
    launch("batch_norm_backward (dx)", bn_backward_gx_kernel<T>, grid_for(N * C * S), kBlock, 0, s, gy, x, gamma, mean,
           invstd, sums, gx, N, C, S);
}

template <typename T> void log_softmax(const T* x, T* out, int64_t outer, int64_t C, int64_t inner, cudaStream_t s) {
  if (outer * inner <= 0 || C <= 0) return;
  launch("log_softmax", log_softmax_kernel<T>, grid_for(outer * inner), kBlock, 0, s, x, out, outer, C, inner);
}

template <typename T>
void cross_entropy(const T* logits, const int64_t* targets, T* loss, int64_t rows, int64_t C, cudaStream_t s) {
  if (rows <= 0 || C <= 0) return;
  launch("cross_entropy", cross_entropy_kernel<T>, 1, kNnBlock, 0, s, logits, targets, loss, rows, C);
}

template <typename T> void sqdist(const T* a, const T* b, T* out, int64_t n, int64_t m, int64_t d, cudaStream_t s) {
  if (n * m <= 0) return;
  launch("sqdist", sqdist_kernel<T>, grid_for(n * m), kBlock, 0, s, a, b, out, n, m, d);
}

#define FEWSHOT_CUDA_NN(T)                                                                                         \
  template void batch_norm_forward<T>(const T*, const T*, const T*, T*, T*, T*, int64_t, int64_t, int64_t, double,  \
                                      void*, cudaStream_t);                                                        \
  template void batch_norm_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, T*, int64_t,       \
                                       int64_t, int64_t, void*, cudaStream_t);                                     \
  template void log_softmax<T>(const T*, T*, int64_t, int64_t, int64_t, cudaStream_t);                             \
  template void cross_entropy<T>(const T*, const int64_t*, T*, int64_t, int64_t, cudaStream_t);                    \
  template void sqdist<T>(const T*, const T*, T*, int64_t, int64_t, int64_t, cudaStream_t);
FEWSHOT_CUDA_NN(float)
FEWSHOT_CUDA_NN(double)

}  // namespace fewshot::cuda
