#!/bin/bash
# CPU time per item of the side-by-side row "LB map of no-op, chunksize 100"
# (`mcclient map --chunksize 100 noop 0:1000000`) on `ipclusterd -n 2`, for
# the engines, the controller and the client apart: CPU time, not wall
# clock, so that it holds on a shared machine. Each process's CPU is the
# sum of its threads' schedstat (ns); the client's is /usr/bin/time's user
# + system. Prints each run, then the medians in ns per item.
#
# Usage: tests/bench/bench_items_cpu.sh [BUILD_DIR [RUNS [ITEMS]]]
set -euo pipefail
BIN=$(cd "${1:-build}" && pwd)
RUNS=${2:-5}
ITEMS=${3:-1000000}
export MCCLUSTER_DIR=$(mktemp -d /tmp/mc-items-cpu.XXXXXX)
"$BIN/ipclusterd" -n 2 --kernel-path "$BIN/kernels" > "$MCCLUSTER_DIR/out" 2>&1 &
ctrl=$!
trap 'kill -TERM $ctrl 2>/dev/null || true; wait $ctrl 2>/dev/null || true; rm -rf "$MCCLUSTER_DIR"' EXIT
for _ in $(seq 400); do grep -q ready "$MCCLUSTER_DIR/out" && break; sleep 0.05; done
grep -q ready "$MCCLUSTER_DIR/out" || { cat "$MCCLUSTER_DIR/out" >&2; exit 1; }
"$BIN/mcclient" map --chunksize 100 noop 0:1000 > /dev/null      # engines registered and warm

# The CPU ns of all threads of the given pids (mawk's %d stops at 2^31).
cpu_ns () { for p in "$@"; do cat /proc/"$p"/task/*/schedstat 2>/dev/null; done | awk '{s += $1} END {printf "%.0f\n", s}'; }
engines=$(pgrep -P "$ctrl" | tr '\n' ' ')
[ "$(echo $engines | wc -w)" = 2 ] || { echo "expected 2 engines, got: $engines" >&2; exit 1; }
median () { sort -g | awk '{a[NR]=$1} END {printf "%.1f\n", (NR%2? a[(NR+1)/2]: (a[NR/2]+a[NR/2+1])/2)}'; }
e_all=() c_all=() k_all=()
for run in $(seq "$RUNS"); do
    e0=$(cpu_ns $engines) c0=$(cpu_ns "$ctrl")
    /usr/bin/time -f "%U %S" -o "$MCCLUSTER_DIR/time" "$BIN/mcclient" map --chunksize 100 noop "0:$ITEMS" > /dev/null
    e1=$(cpu_ns $engines) c1=$(cpu_ns "$ctrl")
    e=$(awk -v a="$e0" -v b="$e1" -v n="$ITEMS" 'BEGIN {printf "%.1f", (b - a) / n}')
    c=$(awk -v a="$c0" -v b="$c1" -v n="$ITEMS" 'BEGIN {printf "%.1f", (b - a) / n}')
    k=$(awk -v n="$ITEMS" '{printf "%.1f", ($1 + $2) * 1e9 / n}' "$MCCLUSTER_DIR/time")
    echo "run $run: engines $e ns/item, controller $c ns/item, client $k ns/item"
    e_all+=("$e") c_all+=("$c") k_all+=("$k")
done
echo "median: engines $(printf '%s\n' "${e_all[@]}" | median) controller $(printf '%s\n' "${c_all[@]}" | median)" \
     "client $(printf '%s\n' "${k_all[@]}" | median) ns/item"
