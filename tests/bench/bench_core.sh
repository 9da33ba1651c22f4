#!/bin/bash
# Core throughput and latency of mccluster, written as JSON (median of
# several runs; this machine is shared and noisy, so read ratios, not
# single figures). Usage: tests/bench/bench_core.sh [BUILD_DIR] [OUT.json]
DEFAULT_OUT=bench-core.json
. "$(dirname "$0")/lib.sh"

pct () { sort -n | awk -v p="$1" '{a[NR]=$1} END {i=int(NR*p/100+0.999); if(i<1)i=1; print a[i]}'; }

# 1. Load-balanced map of 100,000 no-op tasks, chunksize 1, end to end.
rates=()
for _ in 1 2 3 4 5; do
    t0=$(now_ns); "$BIN/mcclient" map noop 0:100000 > /dev/null; t1=$(now_ns)
    rates+=("$(( 100000 * 1000000000 / (t1 - t0) ))")
done
lb_rate=$(printf '%s\n' "${rates[@]}" | median)

# 2. Chunksize 100: items per second over 1,000,000 items.
rates=()
for _ in 1 2 3; do
    t0=$(now_ns); "$BIN/mcclient" map --chunksize 100 noop 0:1000000 > /dev/null; t1=$(now_ns)
    rates+=("$(( 1000000 * 1000000000 / (t1 - t0) ))")
done
chunk_rate=$(printf '%s\n' "${rates[@]}" | median)

# 3. Cold apply: `mcclient apply noop` from process start to exit.
times=()
for _ in $(seq 50); do
    t0=$(now_ns); "$BIN/mcclient" apply noop > /dev/null; t1=$(now_ns)
    times+=("$(( (t1 - t0) / 1000 ))")
done
cold_median=$(printf '%s\n' "${times[@]}" | median)
cold_p90=$(printf '%s\n' "${times[@]}" | pct 90)

# 4. Controller memory after all of the above.
rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$ctrl/status)

cat > "$OUT" <<JSON
{
  "machine": "$(nproc) cores, $(uname -m), $(. /etc/os-release && echo "$PRETTY_NAME")",
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "engines": 2,
  "lb_noop_map_chunksize1_tasks_per_s_median": $lb_rate,
  "lb_noop_map_chunksize100_items_per_s_median": $chunk_rate,
  "cold_apply_noop_us_median": $cold_median,
  "cold_apply_noop_us_p90": $cold_p90,
  "controller_rss_kb_after_1_2M_tasks": $rss_kb
}
JSON
cat "$OUT"
