#!/bin/bash
# Poison tasks and retries (mc_proto.md §5, "Retries"): a load-balanced task
# whose kernel kills its engine runs again on the next engine, up to
# max_task_deaths (3) deaths, and then fails with ENGINE_LOST naming the
# kernel, its items and the engines; the rest of its job and the cluster
# carry on. A kernel error is retried only when the submit asks (--retries),
# with only the last outcome stored. A retry goes to an engine the task has
# not failed on while there is one. The kernels are tests/kernels'.
. "$(dirname "$0")/lib.sh"

KERNELS=$BIN/test-kernels
[ -f "$KERNELS/mc_test_kernels.so" ] || { fail "no $KERNELS/mc_test_kernels.so: build the mc_test_kernels target"; finish; }
start_cluster 2 -v --kernel-path "$KERNELS"
LOG=$MCCLUSTER_DIR/ipclusterd.out
logged () { grep -q "$1" "$LOG"; }
job_of () { mcj jobs --limit 1 | grep -o '"job":"j[0-9]*"' | head -1 | cut -d'"' -f4; }

# Items 0..11, item 7 kills whichever engine runs it; the engines are
# restarted after each death (engine_restarts_per_min, 10 by default).
out=$(mcj map crash 0:12 poison=7 2>"$MCCLUSTER_DIR/err"); rc=$?
job=$(job_of)
expect "a job with a poison task fails" "$rc" "1"
# A failed job's `get` reports its errors only: its results are read from
# the store, a line per task, as msgpack [item] (0x91 then the item). A row
# of the store holds a run of tasks that succeeded, their items as one array
# (mc_proto.md §8): here one small integer (one byte) each.
rows () {
    python3 - "$MCCLUSTER_DIR/store.db" "${1#j}" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
for task, status, data, error, tasks in db.execute(
        "SELECT task, status, data, error, tasks FROM results WHERE job = ? ORDER BY task", (int(sys.argv[2]),)):
    data = data or b""
    head = 1 if data[:1] and data[0] & 0xF0 == 0x90 else 3
    for k in range(tasks):
        one = "91" + data[head + k:head + k + 1].hex() if tasks > 1 else data.hex()
        print(task + k, status, one, error or "")
PY
}
expected=$(for i in 0 1 2 3 4 5 6 8 9 10 11; do echo "$i 0 91$(printf %02x $i)"; done)
expect "every other item's result is right" "$(rows "$job" | grep -v '^7 ' | cut -d' ' -f1-3)" "$expected"
expect_match "the poison task's row: ENGINE_LOST (11), no data" "$(rows "$job" | grep '^7 ')" "^7 11  task 7 "
expect "one line per task: its last outcome" "$(rows "$job" | wc -l)" "12"
status=$(mcj status "$job")
expect_match "the job finished, one item failed" "$status" '"state":"failed".*"done":11,"failed":1'
# Each death sends it to the other engine (mc_proto.md §5, "Elsewhere"):
# with two engines and three deaths one repeats, never twice in a row.
expect_match "the poison task's error names kernel, item and 3 deaths, on engines in turn" "$out" \
    "\"error\":\"task 7 \\(items 7..7\\) of kernel 'crash' killed 3 engines \\(engines (0, 1, 0|1, 0, 1); SIGKILL\\): not retried\""
expect_match "as ENGINE_LOST, with the count" "$out" '"count":1,"engines":\[[01]\],"tasks":\[7\]'
wait_for 5 logged "job [0-9]* task 7 (items 7..7) of kernel 'crash' killed 3 engines" \
    && pass "the poison task is logged" || fail "no log line for the poison task: $(tail -5 "$LOG")"
# Three deaths, each restarted: both engines back, and the cluster serves.
wait_for 20 ids_are "[0,1]" && pass "both engines are back" || fail "engines after the deaths: $(mcj ids)"
# Its first death may be one with other tasks in flight, which blames none
# of them (mc_proto.md §5): 3 deaths, or 4.
restarts=$(( $(mcj engines | grep -o '"restarts":[0-9]*' | cut -d: -f2 | paste -sd+) ))
[ "$restarts" -ge 3 ] && [ "$restarts" -le 4 ] && pass "3 engines died running it ($restarts deaths), restarted" \
    || fail "engines restarted: $restarts, expected 3 or 4"
expect "the cluster still serves" "$(mcj map square '[1,2,3]')" "[1,4,9]"
expect "a map without the poison item is whole" "$(mcj map crash 0:6 poison=7)" "[0,1,2,3,4,5]"

# A kernel error is retried on another engine: flaky fails every call in
# engine 0's process only, so with --retries 1 a task that failed there
# passes only if its retry goes to engine 1, which `get --meta` shows.
pid0=$(mcj engines | grep -o '"id":0,"host":"[^"]*","pid":[0-9]*' | grep -o '[0-9]*$')
expect "retried elsewhere, every task passes" "$(mcj map --retries 1 flaky 0:8 fails=1000 pid="$pid0")" \
    "[0,1,2,3,4,5,6,7]"
job=$(job_of)
wait_for 5 logged "job ${job#j} task [0-9]* failed on engine 0 (flaky: call 1 of 1000 for [0-7] fails): retry 1 of 1" \
    && pass "engine 0 failed a task" || fail "no failure on engine 0 in the log: $(tail -5 "$LOG")"
expect "each task's result came from engine 1" "$(mcj get --meta "$job" | grep -o '"engine":[0-9]*' | sort -u)" \
    '"engine":1'

# A direct task is not retried: its engine's death fails it at once.
out=$(mcj apply --targets 0 crash 5 poison=5 2>&1); rc=$?
expect "a direct task that kills its engine fails" "$rc" "1"
expect_match "with ENGINE_LOST, after one death" "$out" '"error":"engine 0 was lost before the task finished"'
wait_for 20 ids_are "[0,1]" && pass "engine 0 is back" || fail "engine 0 not back: $(mcj ids)"
kill -TERM "$CTRL_PID"; wait "$CTRL_PID"

# Three engines: a poison task's three deaths are on three engines, though
# each engine it killed is back (restarted under its id) before the next.
start_cluster 3 -v --kernel-path "$KERNELS"
LOG=$MCCLUSTER_DIR/ipclusterd.out
out=$(mcj map crash 0:6 poison=3 2>&1)
engines=$(echo "$out" | grep -o "killed 3 engines (engines [0-9, ]*;" | grep -o '[0-9], [0-9], [0-9]')
expect "three deaths, three distinct engines" "$(echo "$engines" | tr -d ' ' | tr , '\n' | sort -u | paste -sd,)" "0,1,2"
wait_for 20 ids_are "[0,1,2]" && pass "the three engines are back" || fail "engines after the deaths: $(mcj ids)"
kill -TERM "$CTRL_PID"; wait "$CTRL_PID"

# max_task_deaths is a limit with a name; --show-config lists it.
expect_match "--show-config lists max_task_deaths" "$("$BIN/ipclusterd" --show-config --set max_task_deaths=2)" \
    "max_task_deaths +2 "

# Kernel errors, on one engine so that its counts are the only ones: flaky
# fails its first `fails` calls for n in an engine process.
start_cluster 1 -v --kernel-path "$KERNELS" --set max_task_deaths=1
LOG=$MCCLUSTER_DIR/ipclusterd.out
out=$(mcj apply flaky 1 fails=1 2>&1); rc=$?
expect "without --retries a kernel error is not retried" "$rc" "1"
expect_match "its error is the kernel's" "$out" '"error":"flaky: call 1 of 1 for 1 fails"'
expect "the next call succeeds" "$(mcj apply flaky 1 fails=1)" "1"
expect "--retries 2 runs a task failing twice a third time" "$(mcj apply --retries 2 flaky 2 fails=2)" "2"
job=$(job_of)
wait_for 5 logged "job ${job#j} task 0 failed on engine 0 (flaky: call 2 of 2 for 2 fails): retry 2 of 2" \
    && pass "each retry is logged" || fail "no retry in the log: $(tail -5 "$LOG")"
expect_match "only the last outcome is stored" "$(mcj get --meta "$job")" '"ok":true'
expect_match "the job counts it once, done" "$(mcj status "$job")" '"done":1,"failed":0'
out=$(mcj map --retries 1 flaky '[3,4]' fails=3 2>&1); rc=$?
expect "past its retries a task fails" "$rc" "1"
expect_match "with its last error and the tries" "$out" \
    '"error":"flaky: call 2 of 3 for 3 fails \(failed 2 times: retries=1\)","count":1'
expect_match "each task counts its own" "$out" '"error":"flaky: call 2 of 3 for 4 fails \(failed 2 times: retries=1\)"'
expect "reruns use the job's seed: same bits" "$(mcj map --seed 5 pi 0:2 samples=1000)" \
    "$(mcj map --seed 5 --retries 3 pi 0:2 samples=1000)"
out=$(mcj apply --retries 101 flaky 9 2>&1); rc=$?
expect_match "retries are bounded" "$out" "'retries' must be an integer from 0 to 100"
# max_task_deaths=1: the first death of a load-balanced task fails it.
out=$(mcj map crash '[1,2]' poison=2 2>&1)
expect_match "max_task_deaths=1: one death fails the task" "$out" \
    "task 1 \\(items 1..1\\) of kernel 'crash' killed 1 engine \\(engine 0; SIGKILL\\): not retried"
wait_for 20 ids_are "[0]" && pass "the engine is back" || fail "engine not back: $(mcj ids)"
expect "and serves" "$(mcj apply square 4)" "16"
kill -TERM "$CTRL_PID"; wait "$CTRL_PID"
finish
