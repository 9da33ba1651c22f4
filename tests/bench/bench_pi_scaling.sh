#!/bin/bash
# Parallel efficiency of pi: 2 x 10^10 samples as 2 tasks on 1 engine, then
# on 2 engines (same job, same seed, same bits). Efficiency = t1 / (2 t2).
# Usage: tests/bench/bench_pi_scaling.sh [BUILD_DIR] [OUT.json]
DEFAULT_OUT=bench-pi-scaling.json
. "$(dirname "$0")/lib.sh"
t0=$(now_ns); one=$("$BIN/mcclient" --json map --targets 0 pi 0:2 samples=1e10 --seed 7 --reduce sum); t1=$(now_ns)
two=$("$BIN/mcclient" --json map --targets 0,1 pi 0:2 samples=1e10 --seed 7 --reduce sum); t2=$(now_ns)
[ "$one" == "$two" ] || { echo "1 and 2 engines gave different results" >&2; exit 1; }
awk -v a="$t0" -v b="$t1" -v c="$t2" -v r="$two" 'BEGIN {
    printf "{ \"samples\": 20000000000, \"one_engine_s\": %.2f, \"two_engines_s\": %.2f, \"efficiency\": %.3f, \"result\": %s }\n",
           (b - a) / 1e9, (c - b) / 1e9, (b - a) / (2 * (c - b)), r }' > "$OUT"
cat "$OUT"
