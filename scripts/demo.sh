#!/bin/bash
# Install, build, start a local cluster of 4 engines, run the demo work,
# show the results, and stop the cluster (also if something fails).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
export MCCLUSTER_DIR=$(mktemp -d /tmp/mccluster-demo.XXXXXX)
bin=$PWD/build
build/ipclusterd -n 4 > "$MCCLUSTER_DIR/ipclusterd.out" 2>&1 &
ctrl=$!
trap 'kill -TERM $ctrl 2>/dev/null; wait $ctrl 2>/dev/null; rm -rf "$MCCLUSTER_DIR"' EXIT
for _ in $(seq 200); do grep -q ready "$MCCLUSTER_DIR/ipclusterd.out" && break; sleep 0.05; done
mc () { echo "\$ mcclient $*"; "$bin/mcclient" "$@"; echo; }
mc engines
mc map square 0:16
out=$("$bin/mcclient" map --chunksize 1000 square 0:100000)
echo "\$ mcclient map --chunksize 1000 square 0:100000"; echo "${out:0:70} ... ${out: -30}"; echo
mc apply --targets all echo hello
job=$("$bin/mcclient" map --async sleep 0:40)
echo "\$ mcclient map --async sleep 0:40   ->  $job"
mc wait "$job"
mc status "$job"
start=$(date +%s%N)
"$bin/mcclient" map noop 0:100000 > /dev/null
end=$(date +%s%N)
echo "100,000 load-balanced no-op tasks (chunksize 1) on 4 engines: $(( (end - start) / 1000000 )) ms," \
     "$(( 100000 * 1000000000 / (end - start) )) tasks/s"
echo
mc apply --targets all fail "a kernel error, reported once" || true
mc jobs --limit 5
mc shutdown
wait $ctrl
echo "cluster stopped"
