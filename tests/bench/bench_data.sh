#!/bin/bash
# Scatter and gather of 10 million float64 values (80 MB) across 2 local
# engines: in process through libmcclient (bench_data, median of 7 rounds,
# bytes checked), and end to end with the CLI from and to raw files.
# Usage: tests/bench/bench_data.sh [BUILD_DIR] [OUT.json]
DEFAULT_OUT=bench-data.json
. "$(dirname "$0")/lib.sh"

lib=$("$BIN/tests/bench_data" 10000000 7)

head -c 80000000 /dev/urandom > "$MCCLUSTER_DIR/x.f64"
s=(); g=()
for _ in 1 2 3 4 5; do
    t0=$(now_ns); "$BIN/mcclient" scatter --type f64 x @"$MCCLUSTER_DIR/x.f64"; t1=$(now_ns)
    "$BIN/mcclient" gather x -o "$MCCLUSTER_DIR/back.f64" --raw; t2=$(now_ns)
    cmp -s "$MCCLUSTER_DIR/x.f64" "$MCCLUSTER_DIR/back.f64" || { echo "gather returned other bytes" >&2; exit 1; }
    rm -f "$MCCLUSTER_DIR/back.f64"
    s+=("$(( 80000000 * 1000 / (t1 - t0) ))"); g+=("$(( 80000000 * 1000 / (t2 - t1) ))")
done
cli_s=$(printf '%s\n' "${s[@]}" | median); cli_g=$(printf '%s\n' "${g[@]}" | median)

cat > "$OUT" <<JSON
{
  "machine": "$(nproc) cores, $(uname -m), $(. /etc/os-release && echo "$PRETTY_NAME")",
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "library": $lib,
  "cli_scatter_file_mb_per_s_median": $cli_s,
  "cli_gather_raw_file_mb_per_s_median": $cli_g
}
JSON
cat "$OUT"
