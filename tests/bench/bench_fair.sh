#!/bin/bash
# Fair share's cost (issue 20): the controller's CPU per task while 1, 100
# and 10,000 load-balanced jobs are active at once, as JSON on stdout
# (progress on stderr). Choosing the next task must not grow with the
# number of jobs (mc_proto.md §5, "Fair share").
#
# For each count J of JOBS: a controller with no engine takes J jobs of
# `map noop` (TASKS tasks in all, TASKS / J each; bench_submit, one
# connection), then ENGINES simulated engines (mc_swarm, results at once)
# join and drain them. Once they have registered, the controller's CPU
# (utime + stime, /proc) and the load-balanced queue are read twice,
# WINDOW_S apart, while every job still has tasks waiting (the jobs take
# turns, so they drain together):
#   cpu_us_per_task_J   controller CPU per task sent and answered
#   tasks_per_s_J       tasks done in the window per second
#   submit_s_J          time to submit the J jobs
# Environment: JOBS ("1 100 10000"), TASKS (2000000), ENGINES (100),
# WINDOW_S (5), MC_BIN (build directory). Smoke run:
#   JOBS="1 10" TASKS=2000 ENGINES=2 WINDOW_S=0.3 tests/bench/bench_fair.sh
set -u
BIN=${MC_BIN:-$(cd "$(dirname "$0")/../../build" && pwd)}
JOBS=${JOBS:-1 100 10000}; TASKS=${TASKS:-2000000}; ENGINES=${ENGINES:-100}; WINDOW_S=${WINDOW_S:-5}
export MCCLUSTER_DIR=$(mktemp -d /tmp/mc-fair.XXXXXX)
PIDS=()
cleanup () {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.5
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$MCCLUSTER_DIR"
}
trap cleanup EXIT
log () { echo "bench_fair: $*" >&2; }
now () { date +%s.%N; }
count_ids () { "$BIN/mcclient" --json ids 2>/dev/null | tr ',' '\n' | grep -c '[0-9]'; }
ctrl_pid () { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['pid'])" "$MCCLUSTER_DIR/client.json"; }
cpu_ticks () { awk '{print $14 + $15}' "/proc/$1/stat"; }
queued () { "$BIN/mcclient" --json queue | python3 -c "import json, sys; print(json.load(sys.stdin)['queued'])"; }
HZ=$(getconf CLK_TCK)
declare -A R

for j in $JOBS; do
    rm -f "$MCCLUSTER_DIR/ipclusterd.out" "$MCCLUSTER_DIR/store.db"*
    "$BIN/ipclusterd" -n 0 > "$MCCLUSTER_DIR/ipclusterd.out" 2>&1 &
    CTRL=$!; PIDS+=("$CTRL")
    for _ in $(seq 600); do grep -q ready "$MCCLUSTER_DIR/ipclusterd.out" 2>/dev/null && break; sleep 0.1; done
    CP=$(ctrl_pid)
    per=$(( (TASKS + j - 1) / j ))
    t0=$(now)
    "$BIN/tests/bench_submit" "$j" "$per" > /dev/null || { log "submitting $j jobs failed"; exit 1; }
    R[submit_s_$j]=$(python3 -c "print(round($(now) - $t0, 3))")
    log "$j jobs of $per tasks submitted in ${R[submit_s_$j]} s"
    "$BIN/tests/mc_swarm" -n "$ENGINES" > "$MCCLUSTER_DIR/swarm.out" 2>&1 & S=$!; PIDS+=("$S")
    while [ "$(count_ids)" -lt "$ENGINES" ]; do sleep 0.05; done
    q1=$(queued); c1=$(cpu_ticks "$CP"); w1=$(now)
    sleep "$WINDOW_S"
    q2=$(queued); c2=$(cpu_ticks "$CP"); w2=$(now)
    done_tasks=$((q1 - q2))
    #  A window that reached the end of the jobs measured fewer active jobs.
    [ "$q2" -ge "$j" ] || log "warning: the jobs ran dry in the window (raise TASKS or lower WINDOW_S)"
    R[cpu_us_per_task_$j]=$(python3 -c "print(round(1e6 * ($c2 - $c1) / $HZ / max($done_tasks, 1), 2))")
    R[tasks_per_s_$j]=$(python3 -c "print(round($done_tasks / ($w2 - $w1)))")
    log "$j active jobs: ${R[cpu_us_per_task_$j]} us of controller CPU per task, ${R[tasks_per_s_$j]} tasks/s"
    kill -TERM "$S"; wait "$S" 2>/dev/null
    "$BIN/mcclient" shutdown > /dev/null 2>&1
    for _ in $(seq 100); do kill -0 "$CTRL" 2>/dev/null || break; sleep 0.1; done
    wait "$CTRL" 2>/dev/null
done

R[engines]=$ENGINES; R[tasks]=$TASKS; R[window_s]=$WINDOW_S; R[hz]=$HZ
{
    echo "{"
    first=1
    for k in $(printf '%s\n' "${!R[@]}" | sort); do
        [ $first = 1 ] || echo ","
        printf '  "%s": %s' "$k" "${R[$k]}"
        first=0
    done
    echo
    echo "}"
}
