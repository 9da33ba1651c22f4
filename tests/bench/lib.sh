# Shared by the benchmark scripts: a 2-engine cluster in a temporary profile,
# stopped (by pid) and removed on exit, and the helpers to time and summarise.
# Sets BIN (the build directory, $1) and OUT (the JSON file, $2 or $DEFAULT_OUT).
set -euo pipefail
BIN=$(cd "${1:-build}" && pwd)
OUT=${2:-$DEFAULT_OUT}
export MCCLUSTER_DIR=$(mktemp -d /tmp/mc-bench.XXXXXX)
"$BIN/ipclusterd" -n 2 > "$MCCLUSTER_DIR/out" 2>&1 &
ctrl=$!
# Under set -e a failing kill or wait in the trap would become the exit status.
trap 'kill -TERM $ctrl 2>/dev/null || true; wait $ctrl 2>/dev/null || true; rm -rf "$MCCLUSTER_DIR"' EXIT
for _ in $(seq 200); do grep -q ready "$MCCLUSTER_DIR/out" && break; sleep 0.05; done

now_ns () { date +%s%N; }
median () { sort -n | awk '{a[NR]=$1} END {print (NR%2? a[(NR+1)/2]: (a[NR/2]+a[NR/2+1])/2)}'; }
