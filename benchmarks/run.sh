#!/usr/bin/env bash
# Builds the benchmarks (Release) and runs every benchmarks/run.d/*.sh in order;
# each prints its figures beside their targets (docs/OPERATIONS.md, "Benchmarks").
set -euo pipefail
cd "$(dirname "$0")/.."
export HB_BUILD_DIR="${HB_BUILD_DIR:-build-bench}"
HB_BUILD_TYPE=Release scripts/build.sh -DHB_BUILD_BENCHMARKS=ON -DHB_BUILD_TESTS=OFF
export HB_BENCH_DIR="$PWD/$HB_BUILD_DIR/benchmarks"
for part in benchmarks/run.d/*.sh; do
  [ -e "$part" ] || continue
  echo "== $(basename "$part" .sh)"
  bash "$part" || echo "!! $(basename "$part") failed"
done
