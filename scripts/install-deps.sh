#!/usr/bin/env bash
# Installs every Debian package fewshot needs to build, test, benchmark and chart.
# Idempotent: packages already present are skipped, so it is cheap to run on every CI start.
set -euo pipefail
packages=(
  build-essential cmake ccache pkg-config
  doctest-dev           # tests
  libcli11-dev          # command line
  nlohmann-json3-dev    # results.json, checkpoints' JSON header
  libtomlplusplus-dev   # --config FILE
  libfmt-dev            # formatting
  libstb-dev            # PNG/JPEG decoding (Omniglot, image folders)
  zlib1g-dev            # gzip-compressed IDX files
  libzip-dev            # Omniglot's official zip archives
  unzip curl ca-certificates  # scripts/fetch-data.sh: archive listing/extraction, downloads
  libgnuplot-iostream-dev libboost-iostreams-dev libboost-filesystem-dev gnuplot-nox  # charts (experiments/report links Boost.Iostreams + Filesystem)
  libbenchmark-dev      # bench/
  libopenblas-dev       # reference sgemm in bench/ (never linked into the engine)
  libboost-context-dev  # tests/cuda_emulator: runs the CUDA kernels on the CPU as fibers
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all ${#packages[@]} packages present"
fi
