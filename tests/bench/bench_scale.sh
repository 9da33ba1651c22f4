#!/bin/bash
# Scale figures (issue 16) with simulated engines (mc_swarm, one process of
# DEALER sessions speaking MCP/3; not real mcengine processes), as JSON on
# stdout (progress on stderr):
#   register_s        N sessions started in one burst, until `ids` lists N
#   ping_max_s        the slowest `mcclient ping` while they registered
#   idle_cpu_pct      controller CPU (utime+stime, /proc) over IDLE_S idle seconds
#   rss_mb, rss_per_engine_kb   controller memory, and per engine (less its RSS with none)
#   ids_s, engines_s, apply_all_s   `--json ids`, `--json engines`, `apply --targets all noop`
#   map_rate          load-balanced `map noop 0:MAP_TASKS` tasks/s with N, and with 2 sessions
#   map_cpu_us_per_task   the controller's CPU time (all threads) per task of those maps
#   vanish_notice_s   VANISH sessions (a second swarm process) go silent at once while a
#                     job runs (SIGUSR1: they stop reading, so they hold what they were
#                     sent), then are killed (SIGKILL): until `ids` no longer lists them;
#                     vanish_job_s: until that job completed (their tasks requeued);
#                     vanish_requeued_tasks: the tasks they held (the controller's log)
#   engine_*          one real idle mcengine: threads, RSS and PSS (kB)
#   ready_s_N         `ipclusterd -n N` (real mcengine processes) until ready, per N of LOCAL_N
# Environment: N (10000), VANISH (1000), IDLE_S (30), MAP_TASKS (1000000; 0 skips),
# LOCAL_N ("" skips; e.g. "200 500 1000"), CTRL_ARGS (more ipclusterd options), TCP=1 (sessions over TCP with CURVE,
# else over the Unix socket without CURVE), MC_BIN (build directory).
set -u
BIN=${MC_BIN:-$(cd "$(dirname "$0")/../../build" && pwd)}
N=${N:-10000}; VANISH=${VANISH:-1000}; IDLE_S=${IDLE_S:-30}; MAP_TASKS=${MAP_TASKS:-1000000}
LOCAL_N=${LOCAL_N:-}; TCP=${TCP:-0}
SWARM_OPTS=(); [ "$TCP" = 1 ] && SWARM_OPTS=(--tcp)
export MCCLUSTER_DIR=$(mktemp -d /tmp/mc-scale.XXXXXX)
PIDS=()
cleanup () {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 1
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    [ -n "${KEEP:-}" ] && cp "$MCCLUSTER_DIR"/*.out /tmp/ 2>/dev/null; rm -rf "$MCCLUSTER_DIR"
}
trap cleanup EXIT
log () { echo "bench_scale: $*" >&2; }
now () { date +%s.%N; }
elapsed () { python3 -c "print(round($(now) - $1, 3))"; }
count_ids () { "$BIN/mcclient" --json ids 2>/dev/null | tr ',' '\n' | grep -c '[0-9]'; }
ctrl_pid () { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['pid'])" "$MCCLUSTER_DIR/client.json"; }
cpu_ticks () { awk '{print $14 + $15}' "/proc/$1/stat"; }
# All of a process's threads' CPU time in ns (finer than clock ticks).
cpu_ns () { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {print s}'; }
us_per_task () { awk "BEGIN {printf \"%.3f\", ($2 - $1) / 1e3 / $3}"; }
rss_kb () { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
timed () { local t=$(now); "$@" > /dev/null 2>&1; elapsed "$t"; }
declare -A R
R[engines]=$N; R[transport]=$([ "$TCP" = 1 ] && echo '"tcp+curve"' || echo '"ipc"')
R[load_start]="\"$(cut -d' ' -f1-3 /proc/loadavg)\""

start_controller () {
    rm -f "$MCCLUSTER_DIR/ipclusterd.out"
    "$BIN/ipclusterd" -n "${1:-0}" ${CTRL_ARGS:-} "${@:2}" > "$MCCLUSTER_DIR/ipclusterd.out" 2>&1 &
    CTRL=$!; PIDS+=("$CTRL")
    for _ in $(seq 600); do grep -q ready "$MCCLUSTER_DIR/ipclusterd.out" 2>/dev/null && return 0; sleep 0.1; done
    log "controller did not start"; cat "$MCCLUSTER_DIR/ipclusterd.out" >&2; exit 1
}
stop_controller () {
    "$BIN/mcclient" shutdown > /dev/null 2>&1
    for _ in $(seq 100); do kill -0 "$CTRL" 2>/dev/null || break; sleep 0.1; done
    wait "$CTRL" 2>/dev/null
}

# 1. A burst of N sessions: N - VANISH in one swarm, VANISH in a second one.
start_controller 0 -v
CP=$(ctrl_pid); RSS0=$(rss_kb "$CP")
log "controller $CP; starting $N sessions"
t0=$(now)
"$BIN/tests/mc_swarm" -n $((N - VANISH)) "${SWARM_OPTS[@]}" > "$MCCLUSTER_DIR/swarm1.out" 2>&1 & S1=$!; PIDS+=("$S1")
"$BIN/tests/mc_swarm" -n "$VANISH" --silence "$VANISH" "${SWARM_OPTS[@]}" > "$MCCLUSTER_DIR/swarm2.out" 2>&1 & S2=$!; PIDS+=("$S2")
pmax=0
while [ "$(count_ids)" -lt "$N" ]; do
    p=$(timed "$BIN/mcclient" ping)
    pmax=$(python3 -c "print(max($pmax, $p))")
    if python3 -c "import sys; sys.exit(0 if $(now) - $t0 < 120 else 1)"; then sleep 0.2; else log "not all registered"; break; fi
done
R[register_s]=$(elapsed "$t0"); R[ping_max_s]=$pmax
R[reregistered]=$(grep -ho 'reregistered [0-9]*' "$MCCLUSTER_DIR"/swarm*.out | awk '{s[FILENAME]=$2} END {t=0; for (k in s) t+=s[k]; print t+0}')
log "registered in ${R[register_s]} s (slowest ping ${pmax} s)"

# 2. Idle: once the heartbeat intervals settled.
sleep ${SETTLE_S:-20}
a=$(cpu_ticks "$CP"); sleep "$IDLE_S"; b=$(cpu_ticks "$CP")
HZ=$(getconf CLK_TCK)
R[idle_cpu_pct]=$(python3 -c "print(round(100.0 * ($b - $a) / $HZ / $IDLE_S, 2))")
R[load_idle]="\"$(cut -d' ' -f1-3 /proc/loadavg)\""
RSS=$(rss_kb "$CP")
R[rss_mb]=$(python3 -c "print(round($RSS / 1024.0, 1))")
R[rss_per_engine_kb]=$(python3 -c "print(round(($RSS - $RSS0) / $N, 1))")
R[heartbeat_ms]=$(grep -ho 'heartbeat [0-9]* ms' "$MCCLUSTER_DIR/swarm1.out" | tail -1 | awk '{print $2}')
log "idle: ${R[idle_cpu_pct]}% CPU, ${R[rss_mb]} MB (heartbeat ${R[heartbeat_ms]} ms)"

# 3. Answers with N engines.
R[ids_s]=$(timed "$BIN/mcclient" --json ids)
R[engines_s]=$(timed "$BIN/mcclient" --json engines)
R[apply_all_s]=$(timed "$BIN/mcclient" apply --targets all noop)
log "ids ${R[ids_s]} s, engines ${R[engines_s]} s, apply all ${R[apply_all_s]} s"

# 4. VANISH sessions die at once while they hold tasks of a job.
JOB=$("$BIN/mcclient" --json map noop 0:$((10 * N)) --async | tr -d '"')
# They stop reading first (so that what the controller sends them meanwhile
# stays in flight on them), then their process is killed.
kill -USR1 "$S2"; t0=$(now)
sleep 0.5
kill -KILL "$S2"
R[vanish_job_done_before]=$("$BIN/mcclient" --json status "$JOB" | grep -o '"done":[0-9]*' | cut -d: -f2)
R[vanish_job_s]=null
while [ "$(count_ids)" -gt $((N - VANISH)) ]; do
    [ "${R[vanish_job_s]}" = null ] && [ "$("$BIN/mcclient" --json ready "$JOB")" = true ] && R[vanish_job_s]=$(elapsed "$t0")
    python3 -c "import sys; sys.exit(0 if $(now) - $t0 < 300 else 1)" || break; sleep 0.2
done
R[vanish_notice_s]=$(elapsed "$t0")
"$BIN/mcclient" wait "$JOB" --timeout 300 > /dev/null 2>&1
[ "${R[vanish_job_s]}" = null ] && R[vanish_job_s]=$(elapsed "$t0")
log "vanished: noticed in ${R[vanish_notice_s]} s, job done in ${R[vanish_job_s]} s"
[ -n "${KEEP:-}" ] && cp "$MCCLUSTER_DIR/ipclusterd.out" /tmp/scale-phase1.out
R[vanish_requeued_tasks]=$(grep -o 'expired (no heartbeat); [0-9]* tasks in flight' "$MCCLUSTER_DIR/ipclusterd.out" | awk '{s += $4} END {print s + 0}')
R[vanish_job_failed]=$("$BIN/mcclient" --json status "$JOB" | grep -o '"failed":[0-9]*' | cut -d: -f2)

# 5. Load-balanced no-op map with N - VANISH sessions.
if [ "$MAP_TASKS" -gt 0 ]; then
    c0=$(cpu_ns "$(ctrl_pid)")
    t=$(timed "$BIN/mcclient" map noop 0:"$MAP_TASKS")
    R[map_cpu_us_per_task_many]=$(us_per_task "$c0" "$(cpu_ns "$(ctrl_pid)")" "$MAP_TASKS")
    R[map_rate_many]=$(python3 -c "print(round($MAP_TASKS / $t))")
    R[load_map_many]="\"$(cut -d' ' -f1-3 /proc/loadavg)\""
    log "map of $MAP_TASKS on $((N - VANISH)): ${R[map_rate_many]} tasks/s, ${R[map_cpu_us_per_task_many]} us of controller CPU per task"
fi
kill -TERM "$S1"; wait "$S1" 2>/dev/null
stop_controller

# 6. The same map on 2 sessions.
if [ "$MAP_TASKS" -gt 0 ]; then
    start_controller 0
    "$BIN/tests/mc_swarm" -n 2 "${SWARM_OPTS[@]}" > "$MCCLUSTER_DIR/swarm3.out" 2>&1 & S3=$!; PIDS+=("$S3")
    while [ "$(count_ids)" -lt 2 ]; do sleep 0.1; done
    c0=$(cpu_ns "$(ctrl_pid)")
    t=$(timed "$BIN/mcclient" map noop 0:"$MAP_TASKS")
    R[map_cpu_us_per_task_2]=$(us_per_task "$c0" "$(cpu_ns "$(ctrl_pid)")" "$MAP_TASKS")
    R[map_rate_2]=$(python3 -c "print(round($MAP_TASKS / $t))")
    R[load_map_2]="\"$(cut -d' ' -f1-3 /proc/loadavg)\""
    log "map of $MAP_TASKS on 2: ${R[map_rate_2]} tasks/s, ${R[map_cpu_us_per_task_2]} us of controller CPU per task"
    kill -TERM "$S3"; wait "$S3" 2>/dev/null
    stop_controller
fi

# 7. One real engine, idle; and ipclusterd -n N with real engines.
start_controller 1
EP=$("$BIN/mcclient" --json engines | grep -o '"pid":[0-9]*' | head -1 | cut -d: -f2)
sleep 2
R[engine_threads]=$(awk '/^Threads/ {print $2}' "/proc/$EP/status")
R[engine_rss_kb]=$(rss_kb "$EP")
R[engine_pss_kb]=$(awk '/^Pss:/ {print $2}' "/proc/$EP/smaps_rollup")
stop_controller
for n in $LOCAL_N; do
    t=$(now); start_controller "$n"; R[ready_s_$n]=$(elapsed "$t")
    log "ipclusterd -n $n ready in ${R[ready_s_$n]} s"
    stop_controller
done
R[load_end]="\"$(cut -d' ' -f1-3 /proc/loadavg)\""
{
    echo "{"
    first=1
    for k in $(printf '%s\n' "${!R[@]}" | sort); do
        [ $first = 1 ] || echo ","
        printf '  "%s": %s' "$k" "${R[$k]:-null}"
        first=0
    done
    echo; echo "}"
}
