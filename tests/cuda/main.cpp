// test_cuda's main: without a usable CUDA device the whole binary reports itself skipped (exit
// code 77, which ctest maps to "Skipped" through SKIP_RETURN_CODE) with the reason.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "engine/core/backend.h"
#ifdef FEWSHOT_WITH_CUDA
#include "kernels/cuda/cuda_backend.h"
#endif
#ifdef FEWSHOT_CUDA_EMULATOR
#include <cuda_runtime.h>  // tests/cuda_emulator's: fewshot::cuda_emulator::counters()
#endif

int main(int argc, char** argv) {
  bool listing = false;  // listing the tests needs no device
  for (int i = 1; i < argc; ++i) listing |= std::string(argv[i]).rfind("--list", 0) == 0 || std::string(argv[i]) == "-ltc";
  if (!listing && fewshot::device_count(fewshot::DeviceType::CUDA) == 0) {
#ifdef FEWSHOT_WITH_CUDA
    std::string reason = fewshot::cuda_unavailable_reason();
#else
    std::string reason = "this build has no CUDA backend (FEWSHOT_CUDA=OFF or no nvcc at configure time)";
#endif
    std::printf("SKIPPED: no CUDA device (%s)\n", reason.c_str());
    return 77;
  }
  doctest::Context context(argc, argv);
  int rc = context.run();
#ifdef FEWSHOT_CUDA_EMULATOR
  // Proof that the kernels really ran (on the CPU, through tests/cuda_emulator).
  auto n = fewshot::cuda_emulator::counters();
  std::printf("CUDA emulator: %lld kernel launches, %lld blocks, %lld threads, %lld block barriers\n",
              static_cast<long long>(n.launches), static_cast<long long>(n.blocks), static_cast<long long>(n.threads),
              static_cast<long long>(n.barriers));
#endif
  return rc;
}
