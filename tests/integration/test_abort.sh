#!/bin/bash
# Abort and retention (issue 14, point 7): an abort cancels a job's queued
# tasks at once, stops its running ones through their kernels' cancel flag
# (or, past abort_grace_ms, by restarting their engines), and answers its
# waiters; the job ends as `aborted` with its tasks' errors; purge removes finished jobs and shrinks store.db, and
# refuses a job that has not finished.
. "$(dirname "$0")/lib.sh"

state_of () { mcj status "$1" | grep -o '"state":"[a-z]*"' | cut -d'"' -f4; }
is_running () { [ "$(state_of "$1")" == running ]; }
store_bytes () { cat "$MCCLUSTER_DIR"/store.db "$MCCLUSTER_DIR"/store.db-wal 2>/dev/null | wc -c; }

start_cluster 2

# --- abort: 40 tasks of 2 s on 2 engines would take 40 s; the running
# ones are long enough to be running still when the CANCEL comes, on a
# loaded machine and under the sanitizers too.
SEQ="[$(printf '2000,%.0s' $(seq 39))2000]"
job=$(mcj map --async sleep "$SEQ"); job=${job//\"/}
expect_match "a job of 40 sleeps" "$job" '^j[0-9]+$'
wait_for 10 is_running "$job" || fail "$job never started"
mcj wait "$job" > "$MCCLUSTER_DIR/waiter.out" 2>&1 &
WAITER=$!
started=$SECONDS
out=$(mcj abort "$job"); rc=$?
expect "abort: exit status" "$rc" "0"
expect_match "abort: counts" "$out" "^\{\"job\":\"$job\",\"cancelled\":3[0-9],\"running\":[0-9]+,\"finished\":[0-9]+,\"grace_ms\":5000,\"status\":\{.*\"state\":\"aborted\""
cancelled=$(grep -o '"cancelled":[0-9]*' <<< "$out" | cut -d: -f2)
status=$(mcj wait --timeout 10 "$job"); rc=$?
expect_match "the aborted job ends as aborted" "$status" '"state":"aborted"'
[ $((SECONDS - started)) -le 5 ] && pass "and ends within 5 s" || fail "the abort took $((SECONDS - started)) s"
expect_match "its failed items are the cancelled tasks at least" "$(grep -o '"failed":[0-9]*' <<< "$status")" \
             "^\"failed\":[0-9]+$"
failed=$(grep -o '"failed":[0-9]*' <<< "$status" | cut -d: -f2)
[ "$failed" -ge "$cancelled" ] && pass "failed ($failed) >= cancelled ($cancelled)" \
                               || fail "failed $failed < cancelled $cancelled"
wait_for 10 bash -c "! kill -0 $WAITER" || fail "the parked waiter was not answered"
wait "$WAITER" 2>/dev/null
expect_match "the parked waiter is answered with aborted" "$(cat "$MCCLUSTER_DIR/waiter.out")" '"state":"aborted"'
out=$(mc get "$job" 2>&1); rc=$?
expect "get of an aborted job: exit status" "$rc" "1"
expect_match "get names the abort" "$out" "aborted by a client"
expect_match "the sleeps that ran returned at their cancel flag" "$out" "aborted by a client while running \(the kernel returned"
out=$(mc abort "$job" 2>&1); rc=$?
expect "abort of a finished job: exit status" "$rc" "1"
expect_match "abort of a finished job: message" "$out" "has finished"
out=$(mc abort j9999 2>&1); rc=$?
expect "abort of an unknown job: exit status" "$rc" "1"
expect_match "abort of an unknown job: message" "$out" "no job j9999"
expect "the engines are still there" "$(mcj ids)" "[0,1]"
expect "and serve" "$(mcj map square 0:3)" "[0,1,4]"

# --- purge.
big=$(mcj map --async --chunksize 1000 square 0:300000); big=${big//\"/}
mcj wait --timeout 60 "$big" > /dev/null || fail "$big did not finish"
long=$(mcj map --async sleep "$SEQ"); long=${long//\"/}
out=$(mc purge "$long" 2>&1); rc=$?
expect "purge of an unfinished job: exit status" "$rc" "1"
expect_match "purge of an unfinished job: message" "$out" "has not finished"
expect_match "and the job is still there" "$(mcj status "$long")" "\"job\":\"$long\""
before=$(store_bytes)
out=$(mcj purge "$big"); rc=$?
after=$(store_bytes)
expect "purge of a finished job: exit status" "$rc" "0"
expect_match "purge counts" "$out" '^\{"jobs":1,"results":300,"bytes":[0-9]+,"skipped":0\}$'
[ "$after" -lt $((before - 1000000)) ] && pass "store.db shrank from $before to $after bytes" \
                                       || fail "store.db went from $before to $after bytes"
out=$(mc get "$big" 2>&1); rc=$?
expect "get of a purged job: exit status" "$rc" "1"
expect_match "get of a purged job: unknown" "$out" "no job $big"
out=$(mc purge "$big" 2>&1); rc=$?
expect_match "purge of a purged job: unknown" "$out" "no job $big"
mcj abort "$long" > /dev/null
mcj wait --timeout 10 "$long" > /dev/null
out=$(mcj purge --finished); rc=$?
expect "purge --finished: exit status" "$rc" "0"
expect_match "purge --finished takes the rest" "$out" '^\{"jobs":3,'
expect "no job is left" "$(mcj jobs)" "[]"
out=$(mc purge 2>&1); rc=$?
expect "purge without what: usage" "$rc" "2"
out=$(mc purge --before nonsense 2>&1); rc=$?
expect "purge --before nonsense: usage" "$rc" "2"
mc shutdown > /dev/null
wait_for 20 bash -c "! kill -0 $CTRL_PID" || fail "the controller did not stop"

# --- automatic bounds: result_ttl_s purges finished jobs on the tick, but
# never one that has not finished; store_max_bytes the oldest finished ones.
gone_job () { mc status "$1" 2>&1 | grep -q "no job $1"; }
start_cluster 1 --set result_ttl_s=1
done_job=$(mcj map --async square 0:10); done_job=${done_job//\"/}
slow=$(mcj apply --async sleep 4000); slow=${slow//\"/}
wait_for 10 gone_job "$done_job" && pass "result_ttl_s purged a finished job" || fail "$done_job was kept"
expect_match "but not the unfinished one" "$(mcj status "$slow")" '"state":"(queued|running)"'
out=$(mcj wait --timeout 10 "$slow"); rc=$?
expect_match "which finishes" "$out" '"state":"done"'
wait_for 10 gone_job "$slow" && pass "and then goes too" || fail "$slow was kept"
mc shutdown > /dev/null
wait_for 20 bash -c "! kill -0 $CTRL_PID" || fail "the controller did not stop"
start_cluster 1 --set store_max_bytes=1000000
first=$(mcj map --async --chunksize 1000 square 0:300000); first=${first//\"/}
mcj wait --timeout 60 "$first" > /dev/null
second=$(mcj map --async --chunksize 1000 square 0:300000); second=${second//\"/}
mcj wait --timeout 60 "$second" > /dev/null
wait_for 10 gone_job "$first" && pass "store_max_bytes purged the oldest finished job" || fail "$first was kept"
mc shutdown > /dev/null
wait_for 20 bash -c "! kill -0 $CTRL_PID" || fail "the controller did not stop"

# --- abort of kernels that ignore their cancel flag: 20 s each on both
# engines. Past abort_grace_ms the engines restart themselves (same pid,
# same id, namespace lost), the job ends aborted, and the engines serve
# the next job.
start_cluster 2 --kernel-path "$BIN/test-kernels" --set abort_grace_ms=1000
pids_before=$(engine_pids | sort | tr '\n' ' ')
mcj push a=1 > /dev/null
expect "a value pushed before" "$(mcj pull a)" "[1,1]"
stuck=$(mcj map --async stubborn '[20000,20000,20000,20000,20000,20000]'); stuck=${stuck//\"/}
# Engines running a task (the engines' rows, not the users' and jobs').
running_two () { [ "$(mcj queue | grep -o '"id":[0-9]*,"queued":[0-9]*,"running":[1-9]' | wc -l)" == 2 ]; }
wait_for 10 running_two || fail "the stubborn tasks did not start: $(mcj queue)"
started=$(date +%s%N)
out=$(mc abort "$stuck"); rc=$?
took_ms=$((($(date +%s%N) - started) / 1000000))
expect "abort of stubborn kernels: exit status" "$rc" "0"
expect_match "abort reports what it cancelled and told to stop" "$out" \
             "^$stuck aborted: 4 tasks cancelled, 2 running told to stop \(within 1000 ms"
expect_match "and how the job ended" "$out" "$stuck ended aborted: 0 items done, 6 failed of 6"
[ "$took_ms" -le 4000 ] && pass "abort returned in $took_ms ms (grace 1000 ms)" \
                        || fail "abort took $took_ms ms (grace 1000 ms)"
out=$(mc get "$stuck" 2>&1)
expect_match "get tells the stopped tasks from the cancelled ones" "$out" "while running \(its engine restarted"
expect "the same engines are back" "$(mcj ids)" "[0,1]"
expect "as the same processes" "$(engine_pids | sort | tr '\n' ' ')" "$pids_before"
expect "which serve the next job" "$(mcj map square 0:4)" "[0,1,4,9]"
out=$(mc pull a 2>&1); rc=$?
expect_match "their namespaces are gone" "$out" "name 'a' is not defined"
expect_match "the engines' log says why" "$(cat "$MCCLUSTER_DIR/ipclusterd.out")" \
             "ignored its cancel flag: restarting this engine"

# A kernel that honours its flag returns at once: no restart, namespace kept.
mcj push b=2 > /dev/null
slow=$(mcj map --async sleep '[20000,20000,20000,20000]'); slow=${slow//\"/}
wait_for 10 running_two || fail "the sleeps did not start: $(mcj queue)"
started=$(date +%s%N)
out=$(mcj abort "$slow"); rc=$?
took_ms=$((($(date +%s%N) - started) / 1000000))
expect_match "abort of honouring kernels" "$out" '"cancelled":2,"running":2,.*"state":"aborted"'
[ "$took_ms" -le 900 ] && pass "returned in $took_ms ms, within the grace" || fail "abort took $took_ms ms"
expect "the namespaces are kept" "$(mcj pull b)" "[2,2]"
mc shutdown > /dev/null
wait_for 20 bash -c "! kill -0 $CTRL_PID" || fail "the controller did not stop"

# --- an abort survives a controller crash: kernels that ignore their flag
# (grace 3 s), the controller SIGKILLed once the abort is committed, and
# restarted. The job ends aborted at once; none of its tasks runs again, and
# the engines, which outlived the crash, restart themselves at the grace.
start_cluster 2 --kernel-path "$BIN/test-kernels" --set abort_grace_ms=3000
crashed=$(mcj map --async stubborn '[20000,20000,20000,20000,20000,20000]'); crashed=${crashed//\"/}
wait_for 10 running_two || fail "the stubborn tasks did not start: $(mcj queue)"
mc abort "$crashed" > "$MCCLUSTER_DIR/abort.out" 2>&1 &
PIDS+=($!)
wait_for 10 grep -q "aborted:" "$MCCLUSTER_DIR/abort.out" || fail "no answer to the abort"
sleep 0.2                           # past store_flush_ms: the abort is committed
kill -KILL "$CTRL_PID"; wait "$CTRL_PID" 2>/dev/null
start_cluster 2 --kernel-path "$BIN/test-kernels" --set abort_grace_ms=3000
out=$(mcj wait --timeout 5 "$crashed")
expect_match "the aborted job ends aborted after the restart" "$out" '"state":"aborted".*"failed":6'
out=$(mc get "$crashed" 2>&1)
expect_match "its running tasks were not run again" "$out" "the controller restarted before the task finished\) \(2 tasks\)"
expect "and the engines serve" "$(mcj map square 0:3)" "[0,1,4]"

finish
