#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job (the README's first command).
# Extra arguments go to the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export FEWSHOT_DATA_MIRROR="${FEWSHOT_DATA_MIRROR:-$(cd .. && pwd)/shared/data}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target fewshot
exec build/experiments/fewshot demo "$@"
