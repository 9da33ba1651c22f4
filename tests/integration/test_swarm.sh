#!/bin/bash
# Scale (issue 16), with 2,000 simulated engines (mc_swarm: one process of
# DEALER sessions speaking MCP/3) over the Unix socket: all register from
# one burst, a map runs across all of them, a silenced tenth holding tasks
# expires and its tasks are requeued so that the job completes, and the
# shutdown is clean. The heartbeat interval grows past
# heartbeat_pings_per_s (mc_proto.md §4): 250 ms asked, 2 s given to 2,000.
. "$(dirname "$0")/lib.sh"
N=2000
count () { mcj ids | tr ',' '\n' | grep -c '[0-9]'; }
count_is () { [ "$(count)" -eq "$1" ]; }

start_cluster 0 -v --set heartbeat_ms=250
"$BIN/tests/mc_swarm" -n $N --task-ms 50 --silence $((N / 10)) > "$MCCLUSTER_DIR/swarm.out" 2>&1 &
SWARM=$!
PIDS+=("$SWARM")
wait_for 30 count_is $N && pass "$N simulated engines registered" || fail "registered: $(count) of $N"
expect "the controller answers meanwhile" "$(mc ping)" "controller answers"
wait_for 10 grep -q "heartbeat 2000 ms" "$MCCLUSTER_DIR/swarm.out" \
    && pass "heartbeat grown to 2000 ms for $N engines" || fail "heartbeat: $(tail -2 "$MCCLUSTER_DIR/swarm.out")"

# A map across all of them: 2 tasks of 50 ms each, pipelined one at a time.
out=$(timeout 60 "$BIN/mcclient" --json map noop 0:$((2 * N)))
expect "map of $((2 * N)) on $N engines: every result" "$(echo "$out" | tr ',' '\n' | grep -c null)" $((2 * N))
busy=$(mcj engines | grep -o '"done":[0-9]*' | grep -vc '"done":0')
expect "every engine ran a task" "$busy" $N

# A tenth go silent while they hold tasks: expired, their tasks requeued.
JOB=$(mcj map noop 0:$((4 * N)) --async | tr -d '"')
kill -USR1 "$SWARM"
wait_for 30 count_is $((N - N / 10)) && pass "the silenced tenth expired" || fail "after silence: $(count) engines"
timeout 60 "$BIN/mcclient" wait "$JOB" --timeout 50 > /dev/null || fail "wait $JOB"
expect "the job completed with every result" "$(mcj get "$JOB" | tr ',' '\n' | grep -c null)" $((4 * N))
expect "and none failed" "$(mcj status "$JOB" | grep -o '"failed":[0-9]*')" '"failed":0'
held=$(grep -c 'expired (no heartbeat); [1-9][0-9]* tasks in flight' "$MCCLUSTER_DIR/ipclusterd.out")
[ "$held" -gt 0 ] && pass "$held of the expired engines held tasks, requeued" || fail "no expired engine held a task"

# Clean shutdown: every live engine says goodbye.
mc shutdown > /dev/null
wait_for 15 bash -c "! kill -0 $CTRL_PID 2>/dev/null" && pass "controller stopped" || fail "controller still running"
wait "$CTRL_PID"; expect "controller exit status" "$?" 0
if grep -q "did not say goodbye" "$MCCLUSTER_DIR/ipclusterd.out"; then fail "$(grep goodbye "$MCCLUSTER_DIR/ipclusterd.out")"
else pass "every live engine said goodbye"; fi
kill -TERM "$SWARM"; wait "$SWARM"; expect "swarm exit status" "$?" 0
finish
