#!/bin/bash
# Never trust the wire: 20,000 random and mutated messages on both
# endpoints cost the controller nothing; it keeps serving everyone else.
. "$(dirname "$0")/lib.sh"
start_cluster 2
before=$(mcj engines | grep -o '"uuid":"[^"]*"')
job=$(mcj map --async sleep '[300,300,300,300]'); job=${job//\"/}
"$BIN/tests/mc_garbage" "$MCCLUSTER_DIR"; rc=$?
expect "garbage sender ran" "$rc" "0"
kill -0 "$CTRL_PID" && pass "controller alive" || fail "controller died"
# (Garbage may register extra engines: anyone who can connect may, until
# CurveZMQ authentication. The real ones must all still be there.)
after=$(mcj engines)
for uuid in $before; do
    [[ "$after" == *"$uuid"* ]] && pass "engine $uuid kept" || fail "engine $uuid lost"
done
mc wait "$job" --timeout 20 >/dev/null; expect "job submitted before the garbage completes" "$?" "0"
expect "still serving" "$(mcj map square 0:4)" "[0,1,4,9]"
finish
