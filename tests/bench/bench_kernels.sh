#!/bin/bash
# Sampler kernel speed on one core against naive scalar loops in the same
# run (bench_kernels). Usage: tests/bench/bench_kernels.sh [BUILD_DIR] [OUT.json]
set -euo pipefail
BIN=$(cd "${1:-build}" && pwd)
OUT=${2:-bench-kernels.json}
"$BIN/tests/bench_kernels" "$BIN/kernels" | tee "$OUT"
