#!/bin/bash
# Install, build, start a local cluster of 4 engines, run the demo work,
# show the results, and stop the cluster (also if something fails).
# Exit status 0 when all of it worked, non-zero at the first failure.
#
# MC_BIN=DIR uses the programs already built in DIR (no install, no build:
# the ctest demo_script runs it so), and MC_DEMO_OUT=DIR is where walk.png
# goes (default: the top of the repository).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${MC_BIN:-}" ]; then
    scripts/deps.sh build
    bin=$PWD/build
else
    bin=$(cd "$MC_BIN" && pwd)
fi
out=$(cd "${MC_DEMO_OUT:-.}" && pwd)
export MCCLUSTER_DIR=$(mktemp -d /tmp/mccluster-demo.XXXXXX)
"$bin/ipclusterd" -n 4 > "$MCCLUSTER_DIR/ipclusterd.out" 2>&1 &
ctrl=$!
# Under set -e a failing command in the trap would become the exit status:
# the controller is usually gone by then, so kill and wait may fail. The
# trap keeps the status the script was leaving with.
trap 'rc=$?; kill -TERM $ctrl 2>/dev/null || true; wait $ctrl 2>/dev/null || true; rm -rf "$MCCLUSTER_DIR"; exit $rc' EXIT
# Until the controller says it is ready (at most 60 s), or exits.
for _ in $(seq 1200); do
    grep -q ready "$MCCLUSTER_DIR/ipclusterd.out" && break
    if ! kill -0 $ctrl 2>/dev/null; then
        echo "demo: the controller did not start:" >&2
        cat "$MCCLUSTER_DIR/ipclusterd.out" >&2
        exit 1
    fi
    sleep 0.05
done
grep -q ready "$MCCLUSTER_DIR/ipclusterd.out" || { echo "demo: the controller is not ready after 60 s" >&2; exit 1; }
mc () { echo "\$ mcclient $*"; "$bin/mcclient" "$@"; echo; }
mc ids
# The seed notebook's two workloads: Monte Carlo pi in 100 chunks, summed at
# the controller; 10 random walkers over three Gaussians, binned on the
# engines and drawn as one picture.
mc map pi --tasks 100 samples=1e7 --seed 7 --png "$out/pi.png"
mc map walker --tasks 10 steps=10000 --seed 1 --reduce hist2d --bins 50x50 --range 0:1,0:1 --png "$out/walk.png" --show
echo "(the pictures, with axes and a colour bar, are $out/pi.png and $out/walk.png)"; echo
# Namespaces: scatter, square each engine's part in place, gather.
"$bin/mcclient" scatter a 0:16
mc apply --targets all square @a --out a
mc gather a
start=$(date +%s%N)
"$bin/mcclient" map noop 0:100000 > /dev/null
end=$(date +%s%N)
echo "100,000 load-balanced no-op tasks (chunksize 1) on 4 engines: $(( (end - start) / 1000000 )) ms," \
     "$(( 100000 * 1000000000 / (end - start) )) tasks/s"
echo
mc shutdown
wait $ctrl
echo "cluster stopped"
