#!/bin/bash
# The Slurm launcher end to end (issue 15), on a real Slurm (slurmctld, one
# slurmd per netns "host": tests/deploy/hosts.sh): `ipclusterd -n 4
# --engines slurm --launcher-opt partition=debug` with the controller on the
# bridge; pi and walker bit-identical to a local run; engines waiting in the
# queue shown with their job and its state; `engines stop --job` and a
# scancel by hand; a host killed mid-job; nothing queued or running after
# shutdown. Skips (77) unless root with Slurm and munge.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/hosts.sh"
. "$(dirname "$0")/launch.sh"
hosts_init munge munged slurmctld slurmd sbatch srun squeue scancel scontrol
HOSTS_TEARDOWN_HOOKS=(cleanup)
HOSTS_CPUS=2
hosts_up 2
hosts_slurm
launch_reference

T0=$(now_ms)
#  Launcher options come from the command line and from mccluster.conf.
echo "launcher.time = 10   # minutes" > "$MCCLUSTER_DIR/mccluster.conf"
start_cluster 4 --ip "$HOSTS_GW" --engines slurm --launcher-opt partition=debug --set launcher_poll_ms=300
launch_started "slurm" "$T0" 4
expect "slurm: two engines on each node" "$(launch_hosts)" "h1=2 h2=2"
JOB=$(mcj allocations | grep -o '"job":"[0-9]*"' | head -1 | cut -d'"' -f4)
[ -n "$JOB" ] && pass "slurm: allocation a1 is Slurm job $JOB" || fail "slurm: no job id: $(mcj allocations)"
expect "slurm: the job runs" "$(job_state "$JOB")" RUNNING
expect "slurm: its time limit from mccluster.conf's launcher.time" "$(timeout 5 squeue -h -j "$JOB" -o %l)" "10:00"
launch_secret_safe "slurm"
launch_workloads "slurm"

# Every CPU is taken: two more engines wait in the queue, and say so.
mc engines add 2 > /dev/null || fail "slurm: engines add 2"
waiting () { mcj engines | grep -q '"id":null,"state":"pending","count":2,"launch":"a2","launcher":"slurm","job":"[0-9]'; }
wait_for 10 waiting && pass "slurm: the 2 queued engines are listed as pending, with their job" \
    || fail "slurm: pending engines not shown: $(mcj engines)"
reason () { mcj allocations | grep -q '"id":"a2".*"state":"pending","reason":"Slurm: PENDING, Resources"'; }
wait_for 10 reason && pass "slurm: and Slurm's reason (Resources)" || fail "slurm: no reason: $(mcj allocations)"
mc engines | grep -q "2 engines pending: a2 slurm job" && pass "slurm: mcclient engines says so" \
    || fail "slurm: mcclient engines: $(mc engines)"
said () { grep -q "^ipclusterd: 4 of 6 engines registered; waiting: a2 slurm job [0-9]* pending (Slurm: PENDING" \
              "$MCCLUSTER_DIR/ipclusterd.out"; }
wait_for 5 said && pass "slurm: ipclusterd says how many registered and what the rest waits for" \
    || fail "slurm: ipclusterd said: $(grep '^ipclusterd:' "$MCCLUSTER_DIR/ipclusterd.out")"
JOB2=$(mcj allocations | grep -o '"id":"a2","kind":"slurm","engines":2,"registered":0,"job":"[0-9]*"' | grep -o '[0-9]*"$' | tr -d '"')
mc engines stop --job "$JOB2" > /dev/null || fail "slurm: engines stop --job $JOB2"
gone2 () { [ -z "$(job_state "$JOB2")" ] || [ "$(job_state "$JOB2")" == CANCELLED ]; }
wait_for 10 gone2 && pass "slurm: engines stop --job $JOB2 cancelled it" || fail "slurm: job $JOB2: $(job_state "$JOB2")"

# A host dies mid-job: Slurm itself notices only after SlurmdTimeout; the
# controller's heartbeats do it sooner, and the job finishes on h1.
launch_kill_host "slurm" 2
#  Slurm keeps the job RUNNING on the dead node until SlurmdTimeout; an
#  administrator (or the timeout) marks it down, so that the job can end.
timeout 5 scontrol update nodename=h2 state=down reason=killed

# The allocation cancelled by hand: its engines go at once, not after heartbeats.
t0=$(now_ms)
timeout 10 scancel "$JOB"
wait_for 15 launch_count_is 0 && pass "slurm: scancel $JOB by hand: its engines forgotten in $(($(now_ms) - t0)) ms" \
    || fail "slurm: after scancel: $(mc engines)"
ended () { mcj allocations | grep -q '"id":"a1".*"state":"ended"'; }
wait_for 10 ended && pass "slurm: allocation a1 shown as ended" || fail "slurm: a1: $(mcj allocations)"

# SIGTERM cancels what is left: a job waiting in the queue included.
timeout 5 scontrol update nodename=h2 state=resume > /dev/null 2>&1
mc engines add 8 > /dev/null || fail "slurm: engines add 8"
wait_for 10 bash -c "timeout 5 squeue -h | grep -q ." || fail "slurm: the last job never reached the queue"
launch_stopped "slurm" TERM
wait_for 15 queue_empty && pass "slurm: nothing left in squeue after SIGTERM" || fail "slurm: squeue: $(timeout 5 squeue -h)"

# --autoscale 0:2 through Slurm (h1 is left: 2 CPUs): a job of Slurm
# engines while tasks wait, every result, the engines given back when idle
# and their job gone from the queue.
start_cluster 0 --ip "$HOSTS_GW" --engines slurm --autoscale 0:2 --set autoscale_idle_s=1 --set launcher_poll_ms=300
JOB=$(mcj map sleep 200:240 --async | tr -d '"')
wait_for 30 launch_count_is 2 && pass "slurm autoscale: 2 engines while tasks waited" || fail "slurm autoscale: $(mc engines)"
timeout 60 "$BIN/mcclient" wait "$JOB" --timeout 50 > /dev/null || fail "slurm autoscale: wait $JOB"
expect "slurm autoscale: every result" "$(mcj get "$JOB" | tr ',' '\n' | grep -c null)" 40
wait_for 15 launch_count_is 0 && pass "slurm autoscale: idle engines given back" || fail "slurm autoscale: $(mc engines)"
wait_for 15 queue_empty && pass "slurm autoscale: their job left the queue" || fail "slurm autoscale: squeue: $(timeout 5 squeue -h)"
launch_stopped "slurm autoscale"
finish
