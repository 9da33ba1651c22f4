#!/bin/bash
# The mpi launcher end to end (issue 15): `ipclusterd --engines mpi` across
# three netns "hosts" (tests/deploy/hosts.sh, sshd in each), once with Open
# MPI and once with MPICH, the flavour told by `mpiexec --version`:
#   - engines on both hosts registered (timed from the command);
#   - pi and walker bit-identical to a local cluster's with the same seed;
#   - the credential on no command line on the hosts;
#   - a host killed mid-job (hosts_kill): mpiexec takes the whole MPI job
#     down, the allocation ends at once and its engines are dropped (timed);
#     an `mcclient engines add --engines mpi` on the surviving host then
#     finishes the job with every result, bit-identical to a local run;
#   - shutdown leaves no mpiexec, no MPI daemon and no engine behind.
# Skips (77) unless root with the packages.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/hosts.sh"
hosts_init sshd ssh ssh-keygen mpiexec.openmpi mpiexec.mpich
HOSTS_TEARDOWN_HOOKS=(cleanup)
T_START=$SECONDS

hosts_up 3
hosts_sshd
pass "hosts h1..h3 on $HOSTS_BR with sshd, up in $((SECONDS - T_START)) s"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
NET=${HOSTS_GW%.1}.0/24
now_ms () { echo $(($(date +%s%N) / 1000000)); }

PI=(map pi --tasks 8 --seed 7 samples=200000)
WALK=(map walker --tasks 4 steps=3000 thin=3 --seed 3)
#  Long enough to be running when a host dies; the sanitizers make pi ~5x slower.
LONG_SAMPLES=100000000
[ "${MC_SANITIZE:-OFF}" = ON ] && LONG_SAMPLES=20000000
LONG=(map pi --tasks 16 --seed 11 samples=$LONG_SAMPLES)

# ===== the reference: the same jobs on a local cluster
start_cluster 2
PI_REF=$(mcj "${PI[@]}")
WALK_REF=$(mcj "${WALK[@]}" | md5sum)
LONG_REF=$(mcj "${LONG[@]}")
expect_match "local reference: pi" "$PI_REF" '^\[\{"hits":[0-9]+,"samples":200000\}'
expect_match "local reference: the long job" "$LONG_REF" "^\\[\\{\"hits\":[0-9]+,\"samples\":$LONG_SAMPLES\\}"
mc shutdown > /dev/null 2>&1
wait_for 10 bash -c "! kill -0 $CTRL_PID 2>/dev/null" || fail "the local cluster did not stop"

# engines_on A B: the controller lists one engine on host A and one on B, no others.
engines_on () {
    local hosts
    hosts=$(mcj engines | grep -o '"host":"[^"]*"' | sort | tr '\n' ' ')
    [ "$hosts" == "\"host\":\"$1\" \"host\":\"$2\" " ] && [ "$(mcj ids | tr ',' '\n' | wc -l)" -eq 2 ]
}
no_engines () { [ "$(mcj ids)" == "[]" ]; }
# MPI's processes left on the hosts: engines, orted, hydra_pmi_proxy (sshd aside)
mpi_left () {
    local i pid comm
    for i in 1 2 3; do
        for pid in $(hosts_pids $i); do
            comm=$(cat /proc/$pid/comm 2>/dev/null)
            case "$comm" in sshd|"") ;; *) echo "h$i:$pid:$comm" ;; esac
        done
    done
}
nothing_left () { [ -z "$(mpi_left)" ]; }
alloc_field () { mcj allocations | grep -o "\"$1\":\"[^\"]*\"" | sed -n "${2:-1}p" | cut -d'"' -f4; }
alloc_over () { [[ "$(alloc_field state)" =~ ^(ended|failed)$ ]]; }

# flavour NAME HOST_A HOST_B MPIEXEC [--launcher-opt ...]: a cluster of two
# engines by mpiexec on A and B; the workloads; B killed mid-job; one engine
# more by `engines add` on A; shutdown.
flavour () {
    local name=$1 a=$2 b=$3 mpiexec=$4; shift 4
    local opts=(--launcher-opt "mpiexec=$mpiexec" "$@")
    local t0 t1 pid job
    t0=$(now_ms)
    start_cluster 2 --ip "$HOSTS_GW" --engines mpi --launcher-opt "hosts=$a:1,$b:1" "${opts[@]}"
    if wait_for 30 engines_on "$a" "$b"; then
        pass "$name: command → engines on $a and $b registered in $(($(now_ms) - t0)) ms"
    else
        fail "$name: engines did not register on $a and $b: $(mcj engines) $(mcj allocations)"
        cat "$MCCLUSTER_DIR/ipclusterd.out" >&2
        return 1
    fi
    expect "$name: the allocation" "$(alloc_field kind) $(alloc_field state) $(alloc_field reason)" \
        "mpi running $([ "$name" == openmpi ] && echo "Open MPI" || echo MPICH)"
    job=$(alloc_field job)
    pid=$job
    expect_match "$name: its job is mpiexec's pid" "$(tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null)" "^$mpiexec "
    expect "$name: pi, bit-identical to a local run" "$(mcj "${PI[@]}")" "$PI_REF"
    expect "$name: walker, bit-identical to a local run" "$(mcj "${WALK[@]}" | md5sum)" "$WALK_REF"
    local done_on leak=0 p
    done_on=$(mcj engines | grep -o '"done":[0-9]*' | grep -vc '"done":0$')
    [ "$done_on" -eq 2 ] && pass "$name: both engines ran tasks" || fail "$name: tasks ran on $done_on engine(s)"
    #  The credential as mpiexec got it (its environment), and the secret key in it.
    local b64 secret
    b64=$(tr '\0' '\n' < /proc/$pid/environ | sed -n 's/^MCCLUSTER_ENGINE=//p' | head -c 40)
    secret=$(grep -o '"secret_key": *"[^"]*"' "$MCCLUSTER_DIR/engine.json" | cut -d'"' -f4)
    [ -n "$b64" ] && [ -n "$secret" ] || fail "$name: mpiexec has no MCCLUSTER_ENGINE, or engine.json no secret key"
    for p in $(hosts_pids 1) $(hosts_pids 2) $(hosts_pids 3) $pid; do
        grep -qaF -e "$b64" -e "$secret" -e "MCCLUSTER_ENGINE=" "/proc/$p/cmdline" 2>/dev/null && leak=1
    done
    [ $leak -eq 0 ] && pass "$name: the credential is on no command line" || fail "$name: the credential shows in ps"

    # --- host b dies mid-job
    local run
    run=$(mcj "${LONG[@]}" --async | tr -d '"')
    both_busy () { [ "$(mcj engines | grep -o '"inflight":[0-9]*' | grep -vc '"inflight":0$')" -eq 2 ]; }
    wait_for 10 both_busy || fail "$name: the long job did not start on both engines"
    t1=$(now_ms)
    hosts_kill "${b#h}"
    if wait_for 20 alloc_over; then
        pass "$name: host $b killed: allocation $(alloc_field state) $(($(now_ms) - t1)) ms after ($(alloc_field reason))"
    else
        fail "$name: the allocation is still $(alloc_field state) after $b was killed"
    fi
    wait_for 10 no_engines && pass "$name: its engines dropped $(($(now_ms) - t1)) ms after the kill" \
        || fail "$name: engines still listed: $(mcj engines)"
    kill -0 "$pid" 2>/dev/null && fail "$name: mpiexec $pid still runs" || pass "$name: mpiexec exited with its job"
    # MPI does not survive a lost host: engines from a new mpiexec on the one left
    t1=$(now_ms)
    mc engines add 1 --engines mpi --launcher-opt "hosts=$a:1" "${opts[@]}" > /dev/null \
        || fail "$name: engines add on $a failed"
    one_on_a () { [ "$(mcj engines | grep -o '"host":"[^"]*"' | sort -u)" == "\"host\":\"$a\"" ]; }
    wait_for 20 one_on_a && pass "$name: engines add 1 --engines mpi on $a: registered in $(($(now_ms) - t1)) ms" \
        || fail "$name: no engine on $a after engines add: $(mcj engines)"
    timeout 60 "$BIN/mcclient" wait "$run" --timeout 50 > /dev/null 2>&1 || fail "$name: wait $run failed"
    expect "$name: the job finishes with all 16 results, bit-identical to a local run" "$(mcj get "$run" 2>&1)" "$LONG_REF"

    # --- openmpi: engines stop --job of the new mpiexec, then shutdown;
    #     mpich: shutdown with it running. Both leave nothing.
    local pid2
    pid2=$(alloc_field job 2)
    if [ "$name" == openmpi ]; then
        t1=$(now_ms)
        mc engines stop --job "$pid2" > /dev/null || fail "$name: engines stop --job $pid2 failed"
        wait_for 10 no_engines && pass "$name: engines stop --job $pid2: no engines $(($(now_ms) - t1)) ms after" \
            || fail "$name: engines still listed after stop --job: $(mcj engines)"
        expect "$name: a2 cancelled" "$(alloc_field state 2)" cancelled
        wait_for 10 bash -c "! kill -0 $pid2 2>/dev/null" && pass "$name: mpiexec $pid2 ended" \
            || fail "$name: mpiexec $pid2 still runs after stop --job"
    fi
    t1=$(now_ms)
    mc shutdown > /dev/null 2>&1
    wait_for 15 bash -c "! kill -0 $CTRL_PID 2>/dev/null" && pass "$name: the controller stopped in $(($(now_ms) - t1)) ms" \
        || fail "$name: the controller still runs after shutdown"
    wait_for 10 nothing_left && pass "$name: no engine or MPI process left on the hosts" \
        || fail "$name: left on the hosts: $(mpi_left)"
    [ -n "$pid2" ] && kill -0 "$pid2" 2>/dev/null && fail "$name: the second mpiexec ($pid2) still runs" \
        || pass "$name: no mpiexec left"
}

flavour openmpi h1 h2 mpiexec.openmpi \
    --launcher-opt "mpi_args=--mca plm_rsh_args '-F $HOSTS_SSH_CONFIG' --mca oob_tcp_if_include $NET --mca btl_tcp_if_include $NET"
flavour mpich h1 h3 mpiexec.mpich \
    --launcher-opt "mpi_args=-iface $HOSTS_BR -launcher ssh -launcher-exec $HOSTS_SSH_WRAP"

# The controller killed (SIGKILL): mpiexec, its child, is no longer
# watched, and its engine waits for a controller up to engine_grace_ms. The
# next controller (any kind: local, -n 0) shows the allocation ended with
# the reason; the engine comes back under its tag, and a clean shutdown
# stops it, and mpiexec with it (mc_proto.md §4 "Launchers", "After a crash").
alive () { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }
start_cluster 1 --ip "$HOSTS_GW" --engines mpi --launcher-opt hosts=h1:1 --launcher-opt mpiexec=mpiexec.mpich \
    --launcher-opt "mpi_args=-iface $HOSTS_BR -launcher ssh -launcher-exec $HOSTS_SSH_WRAP"
K=$(mcj allocations | grep -o '"id":"a[0-9]*","kind":"mpi"[^}]*"state":"running"' | cut -d'"' -f4)
MPIEXEC=$(mcj allocations | grep -o "\"id\":\"$K\"[^}]*" | grep -o '"job":"[0-9]*' | cut -d'"' -f4)
[ -n "$K" ] && [ -n "$MPIEXEC" ] && pass "mpi crash: allocation $K, mpiexec $MPIEXEC" || fail "mpi crash: $(mcj allocations)"
PIDS+=("$MPIEXEC")                  # stopped by PID at exit, whatever happens
kill -KILL "$CTRL_PID"; wait "$CTRL_PID" 2>/dev/null
alive "$MPIEXEC" && pass "mpi crash: mpiexec outlives its controller" || fail "mpi crash: mpiexec $MPIEXEC is gone"
start_cluster 0 --ip "$HOSTS_GW"
expect_match "mpi crash: $K is ended after the restart, with the reason" \
    "$(mcj allocations | grep -o "\"id\":\"$K\"[^}]*")" '"state":"ended","reason":"its controller died: mpiexec, that controller.s child, is no longer watched'
wait_for 20 bash -c "[ \$(\"$BIN/mcclient\" --json engines | grep -c '\"launch\":\"$K\"') -eq 1 ]" \
    && pass "mpi crash: its engine came back under $K" || fail "mpi crash: engines: $(mcj engines)"
mc shutdown > /dev/null 2>&1
wait_for 15 bash -c "! kill -0 $CTRL_PID 2>/dev/null" || fail "mpi crash: the controller still runs after shutdown"
wait_for 15 nothing_left && pass "mpi crash: shutdown stopped the engine; nothing left on the hosts" \
    || fail "mpi crash: left on the hosts: $(mpi_left)"
wait_for 15 bash -c "! { [ -r /proc/$MPIEXEC/stat ] && ! grep -q ' Z ' /proc/$MPIEXEC/stat; }" \
    && pass "mpi crash: and mpiexec ended with it" || fail "mpi crash: mpiexec $MPIEXEC still runs"

pass "whole test: $((SECONDS - T_START)) s"
finish
