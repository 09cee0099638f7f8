#!/usr/bin/env bash
# Builds everything and runs the whole test suite (the README's second command).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export FEWSHOT_DATA_MIRROR="${FEWSHOT_DATA_MIRROR:-$(cd .. && pwd)/shared/data}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j1 "$@"
