#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job: the default `fewshot compare` (MNIST,
# 5-way, 1 and 5 shots, MAML against a CNN trained from scratch; about 10 minutes on 2 cores),
# writing results/compare/report.html. Extra arguments go to `fewshot compare`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export FEWSHOT_DATA_MIRROR="${FEWSHOT_DATA_MIRROR:-$(cd .. && pwd)/shared/data}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target fewshot
scripts/fetch-data.sh mnist
exec build/experiments/fewshot compare "$@"
