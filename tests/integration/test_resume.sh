#!/bin/bash
# What a restarted controller owes the work of the one that died (mc_proto.md
# §8, "After a crash"): a direct job's tasks without a result wait for their
# engines to come back and give the same bits as a clean run; a task for an
# engine that never comes back fails with ENGINE_LOST after engine_grace_ms;
# and a poison task's deaths are counted on across the restart, so that it
# fails after max_task_deaths deaths in all, not anew.
. "$(dirname "$0")/lib.sh"

KERNELS=$BIN/test-kernels
[ -f "$KERNELS/mc_test_kernels.so" ] || { fail "no $KERNELS/mc_test_kernels.so: build the mc_test_kernels target"; finish; }
LOG=$MCCLUSTER_DIR/ipclusterd.out
# About 1.3 s of work on each of 2 engines (more on a busy machine), one
# task each: long enough to be caught running. pi is about 5 times slower
# under the sanitizers.
SAMPLES=1e8
[ "${MC_SANITIZE:-OFF}" = ON ] && SAMPLES=2e7
direct () { mc map --async --seed 14 --targets all pi --tasks 8 samples=$SAMPLES; }
sql () { python3 -c 'import sqlite3,sys; db=sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
for row in db.execute(sys.argv[2]): print(*row)' "$MCCLUSTER_DIR/store.db" "$1"; }
pid_of () { mcj engines | python3 -c "import json,sys; print([e['pid'] for e in json.load(sys.stdin) if e['id']==$1][0])"; }
both_busy () { [ "$(mcj engines | grep -o '"inflight":1' | wc -l)" = 2 ]; }

# 1. The reference, from a clean run; then the same job, the controller
#    killed while both of its tasks run.
start_cluster 2 --set engine_grace_ms=6000
job=$(direct)
mc wait "$job" --timeout 60 > /dev/null || fail "clean run: $job did not finish"
reference=$(mcj get "$job")
job=$(direct)
wait_for 10 both_busy || fail "the direct job's tasks did not start: $(mcj engines)"
kill -KILL "$CTRL_PID"; wait "$CTRL_PID" 2>/dev/null
start_cluster 2 --set engine_grace_ms=6000
resumed () { grep -q "resumed 1 unfinished jobs.* 2 tasks queued again" "$LOG" && pass "the direct job is resumed, both tasks queued" \
    || fail "not resumed: $(grep -i resumed "$LOG")"; }
resumed
mc wait "$job" --timeout 60 > /dev/null || fail "the resumed direct job did not finish: $(mcj status "$job")"
expect "its results are bit-identical to a clean run's" "$(mcj get "$job")" "$reference"
expect "its tasks ran on their own engines" "$(mcj get --meta "$job" | python3 -c \
    'import json,sys; print(",".join(str(t["engine"]) for t in json.load(sys.stdin)))')" "0,1"

# 2. Engine 1 dies with the controller and never comes back: its task
#    fails with ENGINE_LOST once engine_grace_ms have passed since the
#    restart; engine 0's is done. The engine started in its place does not
#    take its id.
one=$(pid_of 1)
job=$(direct)
wait_for 10 both_busy || fail "the direct job's tasks did not start: $(mcj engines)"
kill -KILL "$CTRL_PID" "$one"; wait "$CTRL_PID" 2>/dev/null
t0=$SECONDS
start_cluster 2 --set engine_grace_ms=4000
resumed
wait_for 10 ids_are "[0,2]" && pass "a new engine took id 2, not the awaited 1" || fail "ids: $(mcj ids)"
out=$(mcj wait "$job" --timeout 60 2>&1)
waited=$((SECONDS - t0))
expect_match "the job finished failed" "$(mcj status "$job")" '"state":"failed"'
expect_match "engine 1's task: ENGINE_LOST after the bound" "$(mcj get "$job" 2>&1)" \
    "engine 1 did not come back within engine_grace_ms=4000 of the controller's restart"
[ $waited -ge 3 ] && pass "not before the bound (${waited} s)" || fail "failed after ${waited} s, before engine_grace_ms"
expect "engine 0's task is done" "$(sql "SELECT task, status FROM results WHERE job = ${job#j} ORDER BY task" | paste -sd,)" \
    "0 0,1 11"
mc shutdown > /dev/null; wait "$CTRL_PID" 2>/dev/null

# 3. A poison task kills the one engine twice (it is restarted once, then
#    no more), the controller dies; restarted, it counts the next death as
#    the third.
start_cluster 1 --kernel-path "$KERNELS" --set engine_restarts_per_min=1
job=$(mc map --async crash '[7]' poison=7)
wait_for 10 bash -c "[ \"\$(python3 -c 'import sqlite3,sys; print(*sqlite3.connect(sys.argv[1]).execute(\"SELECT engines FROM task_counts\").fetchone())' '$MCCLUSTER_DIR/store.db' 2>/dev/null)\" = '0,0' ]" \
    && pass "two deaths are in the store" || fail "deaths stored: $(sql 'SELECT * FROM task_counts')"
kill -KILL "$CTRL_PID"; wait "$CTRL_PID" 2>/dev/null
start_cluster 1 --kernel-path "$KERNELS"
out=$(mcj wait "$job" --timeout 30 2>&1)
expect_match "it fails after one more death" "$(mcj get "$job" 2>&1)" \
    "task 0 \\(items 0..0\\) of kernel 'crash' killed 3 engines \\(engines 0, 0, 0; SIGKILL\\): not retried"
restarts=$(( $(mcj engines | grep -o '"restarts":[0-9]*' | cut -d: -f2 | paste -sd+) ))
expect "one engine died after the restart" "$restarts" "1"
expect "its counts are gone with the job" "$(sql "SELECT COUNT(*) FROM task_counts WHERE job = ${job#j}")" "0"
mc shutdown > /dev/null; wait "$CTRL_PID" 2>/dev/null
finish
