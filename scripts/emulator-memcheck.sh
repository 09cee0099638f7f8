#!/usr/bin/env bash
# Memcheck for the CUDA kernels without a GPU: the CUDA tests (tests/cuda, tests/cuda_emulator) on
# the CUDA emulator, built with AddressSanitizer, with the caching allocator off
# (FEWSHOT_CUDA_NO_CACHE=1: every tensor its own exact-size allocation). A kernel that reads or
# writes outside a tensor, or outside a __shared__ array, stops the run with ASan's report naming
# the kernel and line. The CPU counterpart of gpu-check.sh's compute-sanitizer step; CI runs it.
#   scripts/emulator-memcheck.sh [doctest options, e.g. -tc="CUDA forward*"]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=build-asan
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFEWSHOT_CUDA=OFF -DFEWSHOT_BENCH=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=address -fno-omit-frame-pointer" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address" >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target test_cuda_emulated
# Leak checking is off: backends and their caches are process-lifetime singletons by design.
export FEWSHOT_CUDA_NO_CACHE=1 ASAN_OPTIONS=detect_leaks=0:abort_on_error=0
"$BUILD/tests/test_cuda_emulated" "$@"
# The GEMM core's pipelined main loop (kernels/cuda/gemm.cuh) on the GEMM and convolution cases.
if [ $# -eq 0 ]; then
  FEWSHOT_CUDA_GEMM_PIPELINE=1 "$BUILD/tests/test_cuda_emulated" -tc="CUDA forward*,CUDA GEMM*,MAML*"
fi
echo "emulator-memcheck: clean (AddressSanitizer, FEWSHOT_CUDA_NO_CACHE=1)"
