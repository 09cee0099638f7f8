// Error reporting for the CUDA kernels, compiled by the host compiler (fmt stays out of nvcc).
#include <cstdlib>
#include <cstring>

#include "engine/core/error.h"
#include "kernels/cuda/common.cuh"

namespace fewshot::cuda {

void fail(const char* op, cudaError_t err, const char* expr, const char* file, int line) {
  const char* base = std::strrchr(file, '/');
  throw DeviceError(fmt::format("cuda: {}: {} ({}) [{} at {}:{}]", op, cudaGetErrorName(err), cudaGetErrorString(err),
                                expr, base ? base + 1 : file, line));
}

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::strcmp(v, "0") != 0;
}

bool sync_after_launch() {
  static const bool on = env_flag("FEWSHOT_CUDA_SYNC");
  return on;
}

}  // namespace fewshot::cuda
