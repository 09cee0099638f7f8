#!/usr/bin/env bash
# Omniglot 5-way 1-shot and 5-shot accuracy of maml, fomaml, protonet, scratch, baseline and
# baseline++ on 600 fixed test episodes each (issue 4). Results: one JSON line per (shots, method)
# in $OUT/accuracy.jsonl, a table on stdout and logs in $OUT/*.log.
#
#   bench/accuracy_omniglot.sh                 # CPU: the two shot settings in parallel, 1 thread each
#   bench/accuracy_omniglot.sh --device cuda   # the paper's protocol: 60,000 iterations, meta-batch 32,
#                                              # no time limit (needs a CUDA build of the engine)
# Extra arguments are passed to bench_accuracy (see bench/accuracy.cpp), e.g. --episodes 100.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
OUT=${OUT:-$ROOT/results/accuracy-omniglot}
export FEWSHOT_DATA_DIR=${FEWSHOT_DATA_DIR:-$ROOT/data-cache}
mkdir -p "$OUT"
if [[ ! -d "$FEWSHOT_DATA_DIR/omniglot" ]]; then
  "$ROOT/scripts/fetch-data.sh" omniglot
fi
cmake --build "$BUILD" -j2 --target bench_accuracy >/dev/null
BIN=$BUILD/bench/bench_accuracy

DEVICE=cpu
ARGS=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --device) DEVICE=$2; shift 2 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done

if [[ $DEVICE == cpu ]]; then
  # CPU budget (under 45 minutes in all with the two settings side by side on 2 cores): at most
  # 10 minutes of MAML meta-training per setting, 5 for first-order MAML, 3 for ProtoNets and for
  # each pretraining baseline; the scratch CNN has no training phase.
  COMMON=(--device cpu --threads 1 --iterations 60000 --meta-batch 8 --train-queries 5
          --train-seconds maml=600,fomaml=300,protonet=180,baseline=180,baseline++=180 "${ARGS[@]}")
  for shots in 1 5; do
    OMP_NUM_THREADS=1 "$BIN" --shots $shots --out "$OUT/accuracy.jsonl" "${COMMON[@]}" \
      >"$OUT/shots$shots.txt" 2>"$OUT/shots$shots.log" &
  done
  wait
  cat "$OUT"/shots1.txt "$OUT"/shots5.txt
else
  # Finn et al. 2017, Omniglot: 60,000 iterations, meta-batch 32, K queries per class in training.
  "$BIN" --device "$DEVICE" --threads 0 --shots 1,5 --iterations 60000 --meta-batch 32 --train-queries shots \
    --train-seconds maml=0,fomaml=0,protonet=0,baseline=0,baseline++=0 --out "$OUT/accuracy.jsonl" "${ARGS[@]}" \
    | tee "$OUT/device.txt"
fi
