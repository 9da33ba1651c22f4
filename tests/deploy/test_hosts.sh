#!/bin/bash
# The ground the launcher tests stand on (issue 15): two "hosts" (network
# namespaces, tests/deploy/hosts.sh) with sshd and a real Slurm, a controller
# bound to the bridge with no engines of its own, and engines joined BY HAND
# on both hosts in each way a launcher will start them:
#   a. ssh, the credentials on the remote command's stdin (two ways);
#   b. sbatch of a script running `srun mcengine`, MCCLUSTER_ENGINE exported;
#   c. mpiexec of Open MPI (-x) and of MPICH (-genvlist) across the hosts;
#   d. the PBS wrappers of slurm-wlm-torque: qsub -J array, qstat, qdel.
# Each runs the pi kernel on engines of both hosts (same bits every time),
# stops the engines the way its launcher will, and checks that nothing is
# left (no engine process, nothing in squeue). Prints the time from submit
# to all engines registered. Skips (77) unless root with the packages.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/hosts.sh"
hosts_init sshd ssh ssh-keygen munge munged slurmctld slurmd sbatch srun squeue scancel \
           qsub qstat qdel mpiexec.openmpi mpiexec.mpich
HOSTS_TEARDOWN_HOOKS=(cleanup)
T_START=$SECONDS

hosts_up 2
hosts_sshd
hosts_slurm
pass "hosts h1 ${HOSTS_ADDR[1]}, h2 ${HOSTS_ADDR[2]} on $HOSTS_BR; sshd and Slurm up in $((SECONDS - T_START)) s"
SSH=(ssh -F "$HOSTS_SSH_CONFIG")
W=$HOSTS_DIR/work
mkdir -p "$W"

start_cluster 0 --ip "$HOSTS_GW"
ENGINE_FILE=$MCCLUSTER_DIR/engine.json
B64=$(base64 -w0 "$ENGINE_FILE")
#  The profile is on a file system the hosts share: a job must not find
#  engine.json there, only in what its launcher passed.
NOPROFILE=$W/no-such-profile
MCENGINE="$BIN/mcengine --give-up 20"

now_ms () { echo $(($(date +%s%N) / 1000000)); }
# engines_on_both: the controller lists engines on h1 and on h2, and no others.
engines_on_both () {
    local hosts
    hosts=$(mcj engines | grep -o '"host":"[^"]*"' | sort | uniq -c | awk '{print $2}' | tr '\n' ' ')
    [ "$hosts" == '"host":"h1" "host":"h2" ' ] && [ "$(mcj ids | tr ',' '\n' | wc -l)" -eq 2 ]
}
no_engines () { [ "$(mcj ids)" == "[]" ]; }
# engine processes on the hosts (zombies aside)
host_engines () {
    local i pid
    for i in 1 2; do
        for pid in $(hosts_pids $i); do
            [ "$(cat /proc/$pid/comm 2>/dev/null)" == mcengine ] && echo "h$i:$pid"
        done
    done
}
no_host_engines () { [ -z "$(host_engines)" ]; }
queue_empty () { [ -z "$(timeout 5 squeue -h 2>&1)" ]; }

PI_REF=
# joined NAME T0_MS: engines of both hosts registered (timed from T0_MS), pi on both.
joined () {
    local name=$1 t0=$2
    if ! wait_for 30 engines_on_both; then
        fail "$name: engines on h1 and h2 did not register: $(mcj engines)"
        return 1
    fi
    pass "$name: engines on h1 and h2 registered $(($(now_ms) - t0)) ms after submit"
    local pi
    pi=$(timeout 30 "$BIN/mcclient" --json map pi --tasks 8 --seed 7 samples=200000 2>&1)
    if [ -z "$PI_REF" ]; then
        PI_REF=$pi
        expect_match "$name: pi on both hosts" "$pi" '^\[\{"hits":[0-9]+,"samples":200000\}'
    else
        expect "$name: pi, bit-identical to the first run" "$pi" "$PI_REF"
    fi
    local done_on
    done_on=$(mcj engines | grep -o '"done":[0-9]*' | grep -vc '"done":0$')
    [ "$done_on" -eq 2 ] && pass "$name: both engines ran tasks" || fail "$name: tasks ran on $done_on engine(s): $(mcj engines)"
}
# gone NAME: the engines left the controller and the hosts, Slurm's queue is empty.
gone () {
    local t0; t0=$(now_ms)
    wait_for 15 no_host_engines && pass "$1: no engine process left on the hosts ($(($(now_ms) - t0)) ms)" \
        || fail "$1: engine processes left: $(host_engines)"
    wait_for 15 no_engines && pass "$1: the controller lists no engines ($(($(now_ms) - t0)) ms)" \
        || fail "$1: engines still listed: $(mcj ids)"
    wait_for 15 queue_empty && pass "$1: squeue empty" || fail "$1: squeue: $(timeout 5 squeue -h)"
}

# ===== a. ssh: the connection file on the remote command's stdin
# a1: mcengine --file /dev/stdin (over ssh, stdin is a pipe of mode 0600,
#     which mcengine's private-file check accepts);
# a2: the base64 read into MCCLUSTER_ENGINE by the remote shell, the engine
#     in the background and stdin held open: when the ssh session drops,
#     `cat` sees EOF and the engine is stopped (mcengine does not watch its
#     stdin by itself).
T0=$(now_ms)
"${SSH[@]}" h1 "exec $MCENGINE --file /dev/stdin" < "$ENGINE_FILE" > "$W/ssh-h1.log" 2>&1 &
SSH1=$!; PIDS+=($SSH1)
mkfifo "$W/ssh-h2.in"
"${SSH[@]}" h2 "read -r MCCLUSTER_ENGINE && export MCCLUSTER_ENGINE && { $MCENGINE < /dev/null & e=\$!; cat > /dev/null; kill \$e; wait \$e; }" \
    < "$W/ssh-h2.in" > "$W/ssh-h2.log" 2>&1 &
SSH2=$!; PIDS+=($SSH2)
exec {SSH2_IN}> "$W/ssh-h2.in"
echo "$B64" >&$SSH2_IN
joined "ssh" "$T0" || { cat "$W"/ssh-h*.log >&2; }
# The ssh session drops (the client is killed): which engines follow?
kill -KILL $SSH1 $SSH2; wait $SSH1 $SSH2 2>/dev/null
exec {SSH2_IN}>&-
engine_gone_from_h2 () { [[ "$(host_engines)" != *h2:* ]]; }
wait_for 5 engine_gone_from_h2 && pass "ssh: a2's engine on h2 stopped when its ssh session dropped" \
    || fail "ssh: a2's engine on h2 outlived its ssh session"
left=$(host_engines)
if [[ "$left" == *h1:* ]]; then
    echo "note: ssh: a1's engine on h1 (mcengine --file /dev/stdin) outlives a dropped ssh session (no pty, no SIGHUP)"
    for p in $left; do kill -TERM "${p#*:}" 2>/dev/null; done
fi
gone "ssh"

# ===== b. Slurm: sbatch of `srun mcengine`, MCCLUSTER_ENGINE in the
# submitting environment (sbatch's default --export=ALL carries it to srun's tasks)
cat > "$W/engines.sbatch" <<EOF
#!/bin/sh
#SBATCH --job-name=mcengines
exec srun $MCENGINE
EOF
T0=$(now_ms)
JOB=$(env MCCLUSTER_DIR="$NOPROFILE" MCCLUSTER_ENGINE="$B64" \
      timeout 10 sbatch --parsable -N2 -n2 -o "$W/slurm-%j.out" "$W/engines.sbatch" 2>&1)
expect_match "sbatch prints the job id alone (--parsable)" "$JOB" '^[0-9]+$'
echo "squeue -h -j $JOB -o '%i %T %r %N' right after submit: $(timeout 5 squeue -h -j "$JOB" -o '%i %T %r %N')"
joined "sbatch" "$T0" || cat "$W/slurm-$JOB.out" >&2
expect "squeue state while the engines run" "$(timeout 5 squeue -h -j "$JOB" -o '%T %N')" "RUNNING h[1-2]"
timeout 10 scancel "$JOB" && pass "scancel $JOB" || fail "scancel $JOB"
gone "sbatch"
echo "after scancel: scontrol: $(timeout 5 scontrol show job "$JOB" 2>&1 | grep -o 'JobState=[A-Z]* Reason=[^ ]*' || true)"

# ===== c. MPI: mpiexec across the hosts, the variable propagated by name
# (its value never on a command line). MPICH 4.0's -genvlist lost
# MCCLUSTER_ENGINE in some runs (alone, or first in a list) and passed it in
# others: -genvall (Hydra's default) always did.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
NET=${HOSTS_GW%.1}.0/24
# mpi NAME COMMAND...: engines on both hosts by mpiexec, then mpiexec killed (SIGTERM).
mpi () {
    local name=$1; shift
    local t0 pid
    t0=$(now_ms)
    env MCCLUSTER_DIR="$NOPROFILE" MCCLUSTER_ENGINE="$B64" timeout 60 "$@" > "$W/$name.log" 2>&1 &
    pid=$!; PIDS+=($pid)
    joined "$name" "$t0" || cat "$W/$name.log" >&2
    local leak=0 p
    for p in $(hosts_pids 1) $(hosts_pids 2); do
        grep -qF "${B64:0:40}" "/proc/$p/cmdline" 2>/dev/null && leak=1
    done
    [ $leak -eq 0 ] && pass "$name: the credentials are on no command line on the hosts" \
        || fail "$name: the credentials show in ps on a host"
    kill -TERM $pid
    wait_for 10 bash -c "! kill -0 $pid 2>/dev/null" || kill -KILL $pid
    wait $pid 2>/dev/null
    gone "$name"
}
mpi openmpi mpiexec.openmpi --mca plm_rsh_args "-F $HOSTS_SSH_CONFIG" \
    --mca oob_tcp_if_include "$NET" --mca btl_tcp_if_include "$NET" \
    --host h1:1,h2:1 -n 2 -x MCCLUSTER_ENGINE -x MCCLUSTER_DIR $MCENGINE
mpi mpich mpiexec.mpich -iface "$HOSTS_BR" -launcher ssh -launcher-exec "$HOSTS_SSH_WRAP" \
    -hosts h1,h2 -n 2 -genvall $MCENGINE

# ===== d. PBS (Slurm's torque wrappers): qsub -J 1-2 -V, one engine per array element
cat > "$W/engines.pbs" <<EOF
#!/bin/sh
#PBS -N mcengines
exec $MCENGINE
EOF
T0=$(now_ms)
QJOB=$(cd "$W" && env MCCLUSTER_DIR="$NOPROFILE" MCCLUSTER_ENGINE="$B64" \
       timeout 10 qsub -V -J 1-2 -l nodes=1 -j oe -o "$W/pbs.out" "$W/engines.pbs" 2>&1)
expect_match "qsub prints the job id alone" "$QJOB" '^[0-9]+$'
joined "qsub" "$T0"
echo "qstat $QJOB while running:"; timeout 5 qstat "$QJOB" | sed 's/^/  /'
expect_match "qstat state column: R" "$(timeout 5 qstat "$QJOB" | tail -n +3)" "^$QJOB +.* R [a-z]+ *$"
timeout 10 qdel "$QJOB" && pass "qdel $QJOB" || fail "qdel $QJOB"
gone "qsub"
echo "qstat $QJOB after qdel: $(timeout 5 qstat "$QJOB" 2>&1 | tail -n +3)"

# ===== a host dies mid-job: its slurmd and everything in it (hosts_kill)
T1=$SECONDS
T0=$(now_ms)
JOB=$(env MCCLUSTER_DIR="$NOPROFILE" MCCLUSTER_ENGINE="$B64" \
      timeout 10 sbatch --parsable -N2 -n2 -o "$W/slurm-%j.out" "$W/engines.sbatch" 2>&1)
joined "kill" "$T0"
RUN=$(mcj map pi --tasks 30 --seed 7 samples=30000000 --async 2>&1)
RUN=$(echo "$RUN" | tr -d '"')
wait_for 10 bash -c "[ \"\$(\"$BIN/mcclient\" --json engines | grep -o '\"done\":[0-9]*' | grep -vc '\"done\":0\$')\" -eq 2 ]" \
    || fail "kill: the job did not start on both engines"
t0=$(now_ms)
hosts_kill 2
[ -z "$(hosts_pids 2)" ] && pass "hosts_kill 2: nothing runs in h2" || fail "hosts_kill 2: left $(hosts_pids 2)"
one_engine () { [ "$(mcj ids | tr ',' '\n' | wc -l)" -eq 1 ]; }
wait_for 20 one_engine && pass "kill: the controller dropped h2's engine $(($(now_ms) - t0)) ms after the kill" \
    || fail "kill: h2's engine still listed: $(mcj engines)"
timeout 60 "$BIN/mcclient" wait "$RUN" --timeout 50 > /dev/null 2>&1 || fail "kill: wait $RUN failed"
expect "kill: the job finishes with all 30 results" "$(mcj get "$RUN" 2>&1 | grep -o '"hits"' | wc -l)" 30
echo "kill: squeue -o '%i %T %r %N' after the kill: $(timeout 5 squeue -h -j "$JOB" -o '%i %T %r %N'); sinfo: $(timeout 5 sinfo -h -N -o '%N=%t' | tr '\n' ' ')"
#  Slurm thinks h2 alive until SlurmdTimeout (10 s here): the job stays
#  RUNNING, and after scancel COMPLETING on h2, until the node is set down.
timeout 10 scancel "$JOB"
echo "kill: after scancel: $(timeout 5 squeue -h -j "$JOB" -o '%i %T %r %N')"
timeout 5 scontrol update nodename=h2 state=down reason=killed
wait_for 15 queue_empty && pass "kill: squeue empty after scancel" || fail "kill: squeue: $(timeout 5 squeue -h)"
pass "kill case took $((SECONDS - T1)) s"

mc shutdown > /dev/null 2>&1
wait_for 5 bash -c "! kill -0 $CTRL_PID 2>/dev/null" || fail "controller still running after shutdown"
pass "whole test: $((SECONDS - T_START)) s"
finish
