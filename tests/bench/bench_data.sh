#!/bin/bash
# Scatter and gather of 10 million float64 values (80 MB) across 2 local
# engines: in process through libmcclient (bench_data, median of 7 rounds,
# bytes checked), and end to end with the CLI from and to raw files.
# Usage: tests/bench/bench_data.sh [BUILD_DIR] [OUT.json]
set -euo pipefail
BIN=$(cd "${1:-build}" && pwd)
OUT=${2:-bench-data.json}
export MCCLUSTER_DIR=$(mktemp -d /tmp/mc-bench.XXXXXX)
"$BIN/ipclusterd" -n 2 > "$MCCLUSTER_DIR/out" 2>&1 &
ctrl=$!
trap 'kill -TERM $ctrl 2>/dev/null; wait $ctrl 2>/dev/null; rm -rf "$MCCLUSTER_DIR"' EXIT
for _ in $(seq 200); do grep -q ready "$MCCLUSTER_DIR/out" && break; sleep 0.05; done

lib=$("$BIN/tests/bench_data" 10000000 7)

now_ns () { date +%s%N; }
median () { sort -n | awk '{a[NR]=$1} END {print (NR%2? a[(NR+1)/2]: (a[NR/2]+a[NR/2+1])/2)}'; }
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
