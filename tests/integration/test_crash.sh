#!/bin/bash
# Nothing lost when the controller dies: a mixed workload (pi, walkers, a
# chunked map, a direct map over every engine) is submitted, the controller is killed with SIGKILL at a
# random moment and restarted on the same profile, 20 times in a row; after
# each restart every job must finish with results bit-identical to a clean
# run (the store keeps what was committed, the rest runs again with the
# same per-task seeds).
. "$(dirname "$0")/lib.sh"
#  Under the sanitizers fewer rounds: there the point is the memory checks.
ROUNDS=20
[ "${MC_SANITIZE:-OFF}" = ON ] && ROUNDS=4     # ASan triples each round; the 180 s limit stays far

#  The direct map's samples per item: about 0.9 s of work per engine, so
#  that some crashes catch it running; under the sanitizers (where pi is
#  about 5 times slower) a third of that, to keep within the time limit.
SAMPLES=1e8
[ "${MC_SANITIZE:-OFF}" = ON ] && SAMPLES=4e6

submit () {
    #  A direct map, first. After a restart its tasks wait for their own
    #  engines.
    mc map --async --seed 15 --targets all pi --tasks 6 samples=$SAMPLES
    mc map --async --seed 11 pi --tasks 1000 samples=1e6
    mc map --async --seed 12 walker --tasks 12 steps=1e4
    mc map --async --seed 13 --chunksize 7 square 0:3000
    mc map --async sleep "[$(printf '5,%.0s' $(seq 199))5]"
}
# The tasks with a result in the store for a job (read-only, beside the
# controller; a row holds a run of tasks: mc_proto.md §8).
stored () {
    python3 -c 'import sqlite3,sys; print(sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True).execute(
        "SELECT COALESCE(SUM(tasks), 0) FROM results WHERE job = ?", (int(sys.argv[2]),)).fetchone()[0])' "$MCCLUSTER_DIR/store.db" "$1"
}
# The sha256 of each job's results, in order.
digests () { local j; for j in "$@"; do mcj get "$j" | sha256sum | cut -c1-16; done; }

# The reference, from a clean run.
start_cluster 2
read -ra jobs < <(submit | tr '\n' ' ')
for j in "${jobs[@]}"; do mc wait "$j" --timeout 60 > /dev/null || fail "clean run: $j did not finish"; done
reference=$(digests "${jobs[@]}")
mc shutdown > /dev/null
wait_for 10 bash -c "! kill -0 $CTRL_PID" || fail "controller did not stop"

resumed=0 lost=0 direct=0 t_back=()
for round in $(seq "$ROUNDS"); do
    start_cluster 2
    read -ra jobs < <(submit | tr '\n' ' ')
    [ ${#jobs[@]} -eq 5 ] || { fail "round $round: submit"; continue; }
    #  A client waiting through the crash keeps waiting, and is answered
    #  (given time to connect first: one that starts while the controller
    #  is dead is told so at once, by design).
    mc wait "${jobs[0]}" --timeout 60 > /dev/null 2>&1 &
    waiter=$!
    sleep 0.4
    #  A random moment of the run (which takes about a second here).
    ms=$((RANDOM % 1200))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    kill -KILL "$CTRL_PID"
    wait "$CTRL_PID" 2>/dev/null
    [ "$(stored "${jobs[0]#j}")" -lt 2 ] && direct=$((direct + 1))
    t0=$(date +%s%N)
    start_cluster 2
    t_back+=($(( ($(date +%s%N) - t0) / 1000000 )))
    #  The engines that outlived the crash came back: none was started anew.
    grep -q "2 engines of the last controller are still running: starting 0 more" "$MCCLUSTER_DIR/ipclusterd.out" \
        || fail "round $round: the engines did not outlive the crash"
    grep -q "resumed" "$MCCLUSTER_DIR/ipclusterd.out" && resumed=$((resumed + 1))
    for j in "${jobs[@]}"; do mc wait "$j" --timeout 60 > /dev/null || fail "round $round: $j did not finish"; done
    wait "$waiter" || fail "round $round: a client waiting through the crash got no answer"
    got=$(digests "${jobs[@]}")
    if [ "$got" == "$reference" ]; then pass "round $round: results bit-identical after the crash"
    else fail "round $round: results differ from the clean run"; lost=$((lost + 1)); fi
    mc shutdown > /dev/null
    wait_for 10 bash -c "! kill -0 $CTRL_PID" || fail "round $round: controller did not stop"
done
echo "restarts with unfinished jobs resumed: $resumed of $ROUNDS (the direct map unfinished: $direct);" \
     "restart to all engines back (ms): ${t_back[*]}"
[ $resumed -gt 0 ] && pass "some crashes left jobs to resume" || fail "no crash caught a job unfinished: the test tests nothing"

# An engine that outlived the crash but exits without coming back (here:
# stopped, then killed a second after the restart) is replaced by one new
# engine, and the cluster is ready with -n.
start_cluster 2
read -ra orphans < <(engine_pids | tr '\n' ' ')
PIDS+=("${orphans[@]}")
kill -KILL "$CTRL_PID"; wait "$CTRL_PID" 2>/dev/null
kill -STOP "${orphans[0]}"
(sleep 1; kill -KILL "${orphans[0]}") &
killer=$!
start_cluster 2
wait "$killer"
grep -q "1 engine of the last controller exited without coming back: starting 1 in its place" \
    "$MCCLUSTER_DIR/ipclusterd.out" && pass "an engine that did not come back is replaced" \
    || fail "no replacement: $(tail -5 "$MCCLUSTER_DIR/ipclusterd.out")"
ids=$(mcj ids)
expect "two engines: the survivor and the replacement" "$(echo "$ids" | tr ',' '\n' | grep -c '[0-9]')" 2
read -ra now < <(engine_pids | tr '\n' ' ')
PIDS+=("${now[@]}")
[[ " ${now[*]} " == *" ${orphans[1]} "* ]] && pass "the survivor that came back is kept" || fail "engines: ${now[*]}"
mc shutdown > /dev/null
wait_for 10 bash -c "! kill -0 $CTRL_PID" || fail "controller did not stop"
finish
