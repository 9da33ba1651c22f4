#!/bin/bash
# The pbs launcher end to end (issue 15), through Slurm's PBS wrappers
# (slurm-wlm-torque: qsub, qstat, qdel over sbatch, squeue, scancel) on two
# netns "hosts" with a real Slurm (tests/deploy/hosts.sh). No PBS server is
# packaged for Debian: this checks our command lines, the built-in template
# (deploy/pbs.qsub, whose #PBS lines sbatch reads) and the parsing of qsub's
# and qstat's output as the wrappers print them, not a real PBS Pro or Torque.
#   - `ipclusterd -n 2 --engines pbs`: a qsub -V -J 1-2 array, one engine per
#     element on h1 and h2 (timed from the command); pi and walker
#     bit-identical to a local run with the same seed;
#   - the job script is 0600 in the profile and holds no credential; the
#     credential is on no command line;
#   - `engines add` while the nodes are busy: pending, with its job id, in
#     `mcclient engines --json` and `allocations --json`; `engines stop --job
#     JOBID` cancels it (qdel) and it leaves squeue;
#   - a host killed mid-job: its element's engine is dropped (heartbeats) and
#     the job finishes on the other element with every result;
#   - `engines stop --job` of the running array; shutdown with an array
#     running leaves nothing in squeue and no engine process.
# Skips (77) unless root with the packages.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/hosts.sh"
. "$(dirname "$0")/launch.sh"
hosts_init munge munged slurmctld slurmd sbatch squeue scancel scontrol qsub qstat qdel
HOSTS_TEARDOWN_HOOKS=(cleanup)
T_START=$SECONDS

hosts_up 2
hosts_slurm
pass "hosts h1 ${HOSTS_ADDR[1]}, h2 ${HOSTS_ADDR[2]} with Slurm up in $((SECONDS - T_START)) s"

PI=(map pi --tasks 8 --seed 7 samples=200000)
WALK=(map walker --tasks 4 steps=3000 thin=3 --seed 3)
#  Long enough to be running when a host dies; the sanitizers make pi ~5x slower.
LONG_SAMPLES=100000000
[ "${MC_SANITIZE:-OFF}" = ON ] && LONG_SAMPLES=20000000
LONG=(map pi --tasks 16 --seed 11 samples=$LONG_SAMPLES)

# ===== the reference: the same jobs on a local cluster, in a profile of its
# own (allocation ids are never reused in a profile: the PBS ones are a1...)
PBS_PROFILE=$MCCLUSTER_DIR
export MCCLUSTER_DIR=$MCCLUSTER_DIR/reference
mkdir -p "$MCCLUSTER_DIR"
start_cluster 2
PI_REF=$(mcj "${PI[@]}")
WALK_REF=$(mcj "${WALK[@]}" | md5sum)
LONG_REF=$(mcj "${LONG[@]}")
expect_match "local reference: the long job" "$LONG_REF" "^\\[\\{\"hits\":[0-9]+,\"samples\":$LONG_SAMPLES\\}"
mc shutdown > /dev/null 2>&1
wait_for 10 bash -c "! kill -0 $CTRL_PID 2>/dev/null" || fail "the local cluster did not stop"
export MCCLUSTER_DIR=$PBS_PROFILE

# alloc ID FIELD: a field of allocation ID (a1, a2...) in `allocations --json`.
alloc () { mcj allocations | grep -o "{[^{}]*\"id\":\"$1\"[^{}]*}" | grep -o "\"$2\":\"\\?[^\",}]*" | cut -d: -f2- | tr -d '"'; }
alloc_is () { [ "$(alloc "$1" state)" == "$2" ]; }
hosts_are () { [ "$(mcj engines | grep -o '"host":"[^"]*"' | sort | tr '\n' ' ')" == "$1" ]; }
engine_count () { mcj ids | tr -d '[]' | tr ',' '\n' | grep -c .; }
in_squeue () { timeout 5 squeue -h -o %A | grep -qx "$1" || timeout 5 squeue -h -o %F | grep -qx "$1"; }
not_in_squeue () { ! in_squeue "$1"; }
host_engines () {
    local i pid
    for i in 1 2; do
        for pid in $(hosts_pids $i); do
            [ "$(cat /proc/$pid/comm 2>/dev/null)" == mcengine ] && echo "h$i:$pid"
        done
    done
}
no_host_engines () { [ -z "$(host_engines)" ]; }

# ===== two engines as a PBS array job
T0=$(now_ms)
start_cluster 2 --ip "$HOSTS_GW" --engines pbs --set launcher_poll_ms=300 --set register_timeout_ms=20000 \
    --launcher-opt queue=debug --launcher-opt walltime=00:10:00
if wait_for 30 hosts_are '"host":"h1" "host":"h2" '; then
    pass "pbs: command → engines on h1 and h2 registered in $(($(now_ms) - T0)) ms"
else
    fail "pbs: engines did not register on h1 and h2: $(mcj engines) $(mcj allocations)"
    cat "$MCCLUSTER_DIR/ipclusterd.out" "$MCCLUSTER_DIR"/pbs-a1.out >&2
    exit 1
fi
JOB1=$(alloc a1 job)
expect_match "pbs: qsub's job id recorded" "$JOB1" '^[0-9]+$'
wait_for 5 alloc_is a1 running && pass "pbs: a1 running (qstat)" || fail "pbs: a1 is $(alloc a1 state)"
expect "pbs: squeue: the array's elements, name and queue from the template's #PBS lines" \
    "$(timeout 5 squeue -h -j "$JOB1" -o '%j %P %T %l' | sort -u)" "mccluster-a1 debug RUNNING 10:00"
SCRIPT=$MCCLUSTER_DIR/pbs-a1.sh
expect "pbs: the job script is the owner's only" "$(stat -c %a "$SCRIPT")" 600
SECRET=$(grep -o '"secret_key": *"[^"]*"' "$MCCLUSTER_DIR/engine.json" | cut -d'"' -f4)
grep -qaF -e "$SECRET" -e MCCLUSTER_ENGINE= "$SCRIPT" && fail "pbs: the credential is in the job script" \
    || pass "pbs: no credential in the job script"
expect_match "pbs: the script runs the engine" "$(grep '^exec ' "$SCRIPT")" "^exec .*mcengine --give-up"
leak=0
for p in $(hosts_pids 1) $(hosts_pids 2); do
    grep -qaF -e "$SECRET" -e "MCCLUSTER_ENGINE=" "/proc/$p/cmdline" 2>/dev/null && leak=1
done
[ $leak -eq 0 ] && pass "pbs: the credential is on no command line on the hosts" || fail "pbs: the credential shows in ps"
expect "pbs: pi, bit-identical to a local run" "$(mcj "${PI[@]}")" "$PI_REF"
expect "pbs: walker, bit-identical to a local run" "$(mcj "${WALK[@]}" | md5sum)" "$WALK_REF"
done_on=$(mcj engines | grep -o '"done":[0-9]*' | grep -vc '"done":0$')
[ "$done_on" -eq 2 ] && pass "pbs: both engines ran tasks" || fail "pbs: tasks ran on $done_on engine(s)"

# ===== more engines while the nodes are busy: pending, then stopped by job id
mc engines add 2 --engines pbs > /dev/null || fail "pbs: engines add 2 failed"
a2_polled () { alloc_is a2 pending && [[ "$(alloc a2 reason)" == PBS* ]]; }
wait_for 10 a2_polled && pass "pbs: a2 pending ($(alloc a2 reason))" \
    || fail "pbs: a2 is '$(alloc a2 state)': $(mcj allocations)"
JOB2=$(alloc a2 job)
waiting=$(mcj engines | grep -o '{[^{}]*"launch":"a2"[^{}]*}')
expect_match "pbs: engines --json shows a2's 2 engines pending with job $JOB2" "$waiting" \
    "\"state\":\"pending\".*\"count\":2.*\"job\":\"$JOB2\".*\"batch_state\":\"pending\""
in_squeue "$JOB2" && pass "pbs: $JOB2 in squeue ($(timeout 5 squeue -h -j "$JOB2" -o '%T %r' | sort -u | tr '\n' ' '))" \
    || fail "pbs: $JOB2 not in squeue"
mc engines stop --job "$JOB2" > /dev/null || fail "pbs: engines stop --job $JOB2 failed"
wait_for 5 alloc_is a2 cancelled && pass "pbs: a2 cancelled" || fail "pbs: a2 is $(alloc a2 state)"
wait_for 10 not_in_squeue "$JOB2" && pass "pbs: $JOB2 left squeue (qdel)" || fail "pbs: $JOB2 still in squeue"
expect "pbs: a1's engines untouched" "$(engine_count)" 2

# ===== a host dies mid-job: only its element's engine is lost
RUN=$(mcj "${LONG[@]}" --async | tr -d '"')
both_busy () { [ "$(mcj engines | grep -o '"inflight":[0-9]*' | grep -vc '"inflight":0$')" -eq 2 ]; }
wait_for 10 both_busy || fail "pbs: the long job did not start on both engines"
T1=$(now_ms)
hosts_kill 2
one_engine () { [ "$(engine_count)" -eq 1 ]; }
wait_for 20 one_engine && pass "pbs: h2 killed: its engine dropped $(($(now_ms) - T1)) ms after (heartbeats)" \
    || fail "pbs: h2's engine still listed: $(mcj engines)"
#  Slurm would set h2 down itself after SlurmdTimeout (10 s here): now, so
#  that its element can leave the queue when the job is cancelled.
timeout 5 scontrol update nodename=h2 state=down reason=killed
timeout 60 "$BIN/mcclient" wait "$RUN" --timeout 50 > /dev/null 2>&1 || fail "pbs: wait $RUN failed"
expect "pbs: the job finishes with all 16 results on h1, bit-identical to a local run" "$(mcj get "$RUN" 2>&1)" "$LONG_REF"
#  qstat of the array: the wrapper shows one element's record, which Slurm
#  requeues when its node goes down (Q); PBS shows the array as a whole (B).
expect_match "pbs: a1 not over (its h1 element runs): qstat says" "$(alloc a1 state) $(alloc a1 reason)" \
    '^(running|pending)'
expect "pbs: a1's engine on h1 still there" "$(mcj engines | grep -o '"host":"[^"]*"')" '"host":"h1"'

# ===== engines stop --job of the running array
mc engines stop --job "$JOB1" > /dev/null || fail "pbs: engines stop --job $JOB1 failed"
wait_for 10 alloc_is a1 cancelled && pass "pbs: a1 cancelled" || fail "pbs: a1 is $(alloc a1 state)"
no_engines () { [ "$(mcj ids)" == "[]" ]; }
wait_for 10 no_engines && pass "pbs: its engines left" || fail "pbs: engines still listed: $(mcj ids)"
wait_for 15 not_in_squeue "$JOB1" && pass "pbs: $JOB1 left squeue" || fail "pbs: $JOB1 still in squeue: $(timeout 5 squeue -h)"

# ===== shutdown with an array running
T1=$(now_ms)
mc engines add 1 --engines pbs > /dev/null || fail "pbs: engines add 1 failed"
wait_for 20 hosts_are '"host":"h1" ' && pass "pbs: engines add 1: registered on h1 in $(($(now_ms) - T1)) ms" \
    || fail "pbs: engines add 1 did not register: $(mcj engines) $(mcj allocations)"
JOB3=$(alloc a3 job)
mc shutdown > /dev/null 2>&1
wait_for 15 bash -c "! kill -0 $CTRL_PID 2>/dev/null" && pass "pbs: the controller stopped" \
    || fail "pbs: the controller still runs after shutdown"
#  Its engine, told to stop first, may end the array before qdel comes: a
#  qdel that finds it over is no failure.
grep -q "qdel $JOB3 failed" "$MCCLUSTER_DIR/ipclusterd.out" && fail "pbs: qdel of $JOB3 failed at shutdown: $(tail -3 "$MCCLUSTER_DIR/ipclusterd.out")" \
    || pass "pbs: shutdown: no failed qdel of $JOB3"
wait_for 15 queue_empty && pass "pbs: squeue empty after shutdown" || fail "pbs: squeue: $(timeout 5 squeue -h)"
wait_for 10 no_host_engines && pass "pbs: no engine process left" || fail "pbs: engines left: $(host_engines)"

pass "whole test: $((SECONDS - T_START)) s"
finish
