#!/bin/bash
# A Slurm allocation across a controller's crash (mc_proto.md §4
# "Launchers", §8 "After a crash"), on a real Slurm (tests/deploy/hosts.sh):
# `ipclusterd -n 2 --engines slurm` is killed with SIGKILL and started again
# on the same profile; the new controller takes up the job from the store
# (no second sbatch), lists it with its job id and its engines, cancels it
# on `engines stop --job a1`, numbers a new allocation a2, and after a
# second crash cancels a2's job at a clean shutdown; a job whose controller
# died while sbatch ran (a3) is found by its name and cancelled too, and so
# is a PBS job (a4, through Slurm's PBS wrappers) taken up after a third
# crash; a start that fails after taking up a job (a Slurm option it
# refuses) leaves that job queued and stored as it was; a job cancelled by
# hand while no controller ran is ended at the first poll, and -n made up
# by a new job; one still submitting at a clean stop stays in the store.
# Skips (77) unless root with Slurm and munge.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/hosts.sh"
. "$(dirname "$0")/launch.sh"
hosts_init munge munged slurmctld slurmd sbatch srun squeue scancel scontrol
HOSTS_TEARDOWN_HOOKS=(cleanup)
HOSTS_CPUS=2
hosts_up 2
hosts_slurm
LOG=$MCCLUSTER_DIR/ipclusterd.out
OPTS=(--ip "$HOSTS_GW" --engines slurm --launcher-opt partition=debug --launcher-opt time=5 --set launcher_poll_ms=300)
queue_jobs () { timeout 5 squeue -h -o %i 2>/dev/null | sort | paste -sd' '; }
job_gone () { local s; s=$(job_state "$1"); [ -z "$s" ] || [ "$s" == CANCELLED ]; }
field () { mcj allocations | python3 -c "import json,sys
a=[x for x in json.load(sys.stdin) if x['id']=='$1']
print(a[0]['$2'] if a else 'none')"; }
field_is () { [ "$(field "$1" "$2")" == "$3" ]; }
# The allocation of the highest id ("none" when there is none).
newest () { mcj allocations | python3 -c "import json,sys
a=json.load(sys.stdin)
print(max(a, key=lambda x: int(x['id'][1:]))['id'] if a else 'none')"; }
crash () { kill -KILL "$CTRL_PID"; wait "$CTRL_PID" 2>/dev/null; }

# 1. Two Slurm engines (job JOB, allocation a1); the controller dies.
start_cluster 2 "${OPTS[@]}"
launch_started "slurm resume" "$(now_ms)" 2
JOB=$(field a1 job)
[[ "$JOB" =~ ^[0-9]+$ ]] && pass "a1 is Slurm job $JOB" || fail "no job id: $(mcj allocations)"
crash
expect "the job outlives its controller" "$(job_state "$JOB")" RUNNING

# 2. The new controller takes it up: no second job, the same allocation,
#    its engines counted for it.
start_cluster 2 "${OPTS[@]}"
grep -q "2 engines of the last controller's allocations are still queued or running: starting 0 more" "$LOG" \
    && pass "its 2 engines count towards -n 2" || fail "ipclusterd said: $(grep -v '^$' "$LOG" | head -5)"
expect "no second job was submitted" "$(queue_jobs)" "$JOB"
expect "allocations shows a1 with its job id" "$(field a1 job)" "$JOB"
expect "as a Slurm allocation of 2 engines" "$(field a1 kind) $(field a1 engines)" "slurm 2"
wait_for 20 field_is a1 registered 2 && pass "its 2 engines are counted for it" || fail "a1: $(mcj allocations)"
wait_for 10 field_is a1 state running && pass "polled: running" || fail "a1: $(mcj allocations)"

# 3. A new allocation gets a fresh id (a2), its own job and engines.
expect_match "engines add 1 is allocation a2" "$(mc engines add 1)" "^allocation a2:"
wait_for 10 bash -c "[ -n \"\$(\"$BIN/mcclient\" --json allocations | grep -o '\"id\":\"a2\"[^}]*\"job\":\"[0-9]')\" ]" \
    || fail "a2 has no job: $(mcj allocations)"
JOB2=$(field a2 job)
[ "$JOB2" != "$JOB" ] && pass "a2 is a job of its own ($JOB2)" || fail "a2's job: $JOB2"
wait_for 30 field_is a2 registered 1 && pass "a2's engine registered under a2" || fail "a2: $(mcj allocations)"
expect "a1 still counts its own 2" "$(field a1 registered)" 2

# 4. engines stop --job a1 cancels the job taken up: squeue no longer has it.
mc engines stop --job a1 > /dev/null || fail "engines stop --job a1"
wait_for 15 job_gone "$JOB" && pass "engines stop --job a1 cancelled Slurm job $JOB" \
    || fail "job $JOB: $(job_state "$JOB")"
expect "a1 is cancelled" "$(field a1 state)" cancelled
wait_for 10 field_is a1 registered 0 && pass "and its engines are gone" || fail "a1: $(mcj allocations)"
expect "a2 runs on" "$(field a2 state)" running

# 5. A second crash: a2 is taken up, a1 (over) is not listed again. This
#    controller's sbatch waits (a wrapper first in its PATH) until the
#    test lets it go, so that the controller dies while a3 is submitted.
crash
expect "a2's job outlives its controller" "$(job_state "$JOB2")" RUNNING
SLOW=$HOSTS_DIR/slow-sbatch
mkdir -p "$SLOW"
rm -f "$SLOW/go"
printf '#!/bin/sh\nwhile [ ! -e %s/go ]; do sleep 0.05; done\nexec %s "$@"\n' "$SLOW" "$(command -v sbatch)" > "$SLOW/sbatch"
chmod +x "$SLOW/sbatch"
PATH="$SLOW:$PATH" start_cluster 1 "${OPTS[@]}"
expect "a1 is forgotten" "$(field a1 state)" none
expect "a2 is listed with its job" "$(field a2 job)" "$JOB2"
wait_for 20 field_is a2 registered 1 && pass "a2's engine came back" || fail "a2: $(mcj allocations)"
expect "nothing new was submitted" "$(queue_jobs)" "$JOB2"

# 6. The controller dies while sbatch runs for a3 (before its job id came
#    back): the next one finds the job by its name and profile directory.
expect_match "engines add 1 is allocation a3" "$(mc engines add 1)" "^allocation a3:"
expect "a3 is submitting" "$(field a3 state)" submitting
PIDS+=($(ps -o pid= --ppid "$CTRL_PID"))        # the waiting sbatch, stopped by PID at exit
crash
touch "$SLOW/go"                                # now it submits a3's job, with no controller
named_a3 () { timeout 5 squeue -h --name mccluster-a3 -o %i | grep -q .; }
wait_for 20 named_a3 && pass "a3's job was queued after its controller died" || fail "no job for a3: $(queue_jobs)"
JOB3=$(timeout 5 squeue -h --name mccluster-a3 -o %i)
start_cluster 1 "${OPTS[@]}"
expect "a3 was found: Slurm job $JOB3" "$(field a3 job)" "$JOB3"
expect_match "and taken up" "$(field a3 state)" "^(pending|running)$"
grep -q "allocation a3: the controller died while it was submitted: its job $JOB3 found" "$LOG" \
    && pass "the log says so" || fail "log: $(grep a3 "$LOG")"

# 7. A PBS array job (through Slurm's PBS wrappers, when installed) is
#    taken up the same way: qstat and qdel by its job id.
JOBS=("$JOB2" "$JOB3")
if command -v qsub > /dev/null && command -v qdel > /dev/null; then
    expect_match "engines add 1 --engines pbs is allocation a4" \
        "$(mc engines add 1 --engines pbs --launcher-opt queue=debug)" "^allocation a4:"
    has_job () { [[ "$(field a4 job)" =~ ^[0-9] ]]; }
    wait_for 15 has_job || fail "a4 has no job: $(mcj allocations)"
    JOB4=$(field a4 job)
    wait_for 30 field_is a4 registered 1 && pass "a4 is PBS job $JOB4, its engine registered" || fail "a4: $(mcj allocations)"
    crash
    start_cluster 1 "${OPTS[@]}"
    expect "a4 is taken up with its job" "$(field a4 kind) $(field a4 job)" "pbs $JOB4"
    wait_for 20 field_is a4 registered 1 && pass "a4's engine came back" || fail "a4: $(mcj allocations)"
    wait_for 10 field_is a4 state running && pass "a4 polled with qstat: running" || fail "a4: $(mcj allocations)"
    JOBS+=("$JOB4")
else
    echo "skip: the PBS part (no qsub or qdel)"
fi

# 8. A clean shutdown cancels every job taken up, and stops their engines.
launch_stopped "slurm resume"
wait_for 15 queue_empty && pass "a clean shutdown after the restart cancelled jobs ${JOBS[*]}" \
    || fail "squeue: $(timeout 5 squeue -h)"

# 9. A start that fails after taking up a job (hosts= is no Slurm option:
#    refused once the job is taken up, when -n 2 is made up) leaves the
#    job queued and its stored state as it was. Then jobs cancelled by
#    hand while no controller ran are over at their first poll after the
#    restart: -n is made up by a new job, once.
start_cluster 1 "${OPTS[@]}"
A5=$(newest)
JOB5=$(field "$A5" job)
[[ "$JOB5" =~ ^[0-9]+$ ]] && pass "$A5 is Slurm job $JOB5" || fail "no job id: $(mcj allocations)"
crash
timeout 60 "$BIN/ipclusterd" -n 2 "${OPTS[@]}" --launcher-opt hosts=h1:2 > "$LOG" 2>&1
expect "a start with a refused option fails" "$?" 1
grep -q "allocation $A5 (slurm job $JOB5): the start failed: left " "$LOG" \
    && pass "and says it leaves $A5 for the next controller" || fail "log: $(grep -v '^$' "$LOG" | tail -5)"
expect_match "job $JOB5 was not cancelled" "$(job_state "$JOB5")" "^(PENDING|RUNNING)$"
timeout 10 scancel "$JOB5"
wait_for 15 queue_empty || fail "job $JOB5 still queued: $(timeout 5 squeue -h)"
start_cluster 1 "${OPTS[@]}"
wait_for 10 field_is "$A5" state ended && pass "$A5, cancelled by hand meanwhile, is ended at its first poll" \
    || fail "$A5: $(mcj allocations)"
expect "and says why" "$(field "$A5" reason)" "the job has left Slurm's queue"
made_up () { A6=$(newest); [ "$A6" != "$A5" ] && field_is "$A6" registered 1; }
wait_for 20 made_up && pass "a new job, $A6 ($(field "$A6" job)), makes up -n 1" || fail "allocations: $(mcj allocations)"
grep -q "jobs taken up from the store for 1 engines were over at their first poll: starting 1 more" "$LOG" \
    && pass "the log says so" || fail "log: $(grep -i 'taken up' "$LOG")"
launch_stopped "slurm resume, made up"
wait_for 15 queue_empty && pass "nothing left in squeue" || fail "squeue: $(timeout 5 squeue -h)"

# 10. A clean stop while sbatch still runs (it waits for the test, past the
#     controller's 10 s) cancels nothing it could not: the allocation stays
#     submitting in the store, and the next controller looks for its job
#     (none: the waiting sbatch was killed), so it is failed, not forgotten.
rm -f "$SLOW/go"
PATH="$SLOW:$PATH" start_cluster 0 "${OPTS[@]}"
ADD=$(mc engines add 1)
A7=${ADD#allocation }; A7=${A7%%:*}
expect "$A7 is submitting" "$(field "$A7" state)" submitting
mc shutdown > /dev/null 2>&1
wait_for 30 launch_dead "$CTRL_PID" && pass "the controller stopped" || fail "the controller still runs after shutdown"
grep -q "allocation $A7 (slurm): its job id had not come back when the controller stopped: left submitting" "$LOG" \
    && pass "and says it left $A7 submitting" || fail "log: $(grep -v '^$' "$LOG" | tail -5)"
start_cluster 0 "${OPTS[@]}"
expect "the next controller looked for its job, found none: failed" "$(field "$A7" state)" failed
launch_stopped "slurm resume, submitting at stop"
finish
