# What every launcher test checks, on a cluster whose engines a launcher put
# on the hosts of tests/deploy/hosts.sh. Source after lib.sh and hosts.sh.
#
#   launch_reference           pi and walker results of a local cluster (same seeds)
#   launch_started NAME T0     the engines registered; prints the time since T0 (ms)
#   launch_workloads NAME      pi and walker on the hosts, bit-identical to the reference
#   launch_kill_host NAME I    a host dies mid-job: the job finishes with all results
#   launch_stopped NAME [SIG]  shutdown (or SIGTERM/SIGINT) leaves no engine on the hosts
#   queue_empty, job_state J   the batch queue (Slurm's, also behind its PBS wrappers)

LAUNCH_PI=(map pi --tasks 16 samples=200000 --seed 7)
LAUNCH_WALK=(map walker --tasks 8 steps=2000 --seed 1 --reduce hist2d --bins 20x20 --range 0:1,0:1)

now_ms () { echo $(($(date +%s%N) / 1000000)); }
queue_empty () { [ -z "$(timeout 5 squeue -h 2>&1)" ]; }
job_state () { timeout 5 squeue -h -j "$1" -o %T 2>/dev/null; }

# launch_reference: the workloads on a local cluster of 2 engines, in a
# profile of their own (LAUNCH_REF_PI, LAUNCH_REF_WALK).
launch_reference () {
    local dir=$MCCLUSTER_DIR
    export MCCLUSTER_DIR=$HOSTS_DIR/reference
    mkdir -p "$MCCLUSTER_DIR"
    start_cluster 2
    LAUNCH_REF_PI=$(timeout 60 "$BIN/mcclient" --json "${LAUNCH_PI[@]}" 2>&1)
    LAUNCH_REF_WALK=$(timeout 60 "$BIN/mcclient" --json "${LAUNCH_WALK[@]}" 2>&1)
    "$BIN/mcclient" shutdown > /dev/null 2>&1
    wait_for 10 launch_dead "$CTRL_PID"
    export MCCLUSTER_DIR=$dir
    expect_match "reference pi on local engines" "$LAUNCH_REF_PI" '^\[\{"hits":'
}

# The engines of each host, from the controller: "h1=2 h2=2".
launch_hosts () {
    mcj engines | grep -o '"host":"[^"]*"' | cut -d'"' -f4 | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}' | sed 's/ $//'
}

launch_count () { mcj ids | tr ',' '\n' | grep -c '[0-9]'; }
launch_have () { [ "$(launch_count)" -ge "$1" ]; }
launch_busy () { [ "$(mcj engines | grep -o '"inflight":[1-9]' | wc -l)" -ge "$1" ]; }
launch_host_gone () { ! mcj engines | grep -q "\"host\":\"h$1\""; }
launch_no_host_engines () { [ -z "$(launch_host_engines)" ]; }
launch_dead () { ! kill -0 "$1" 2>/dev/null; }

# launch_started NAME T0 WANT: WANT engines registered (the time since T0, in ms).
launch_started () {
    local name=$1 t0=$2 want=$3
    if wait_for 60 launch_have "$want"; then
        pass "$name: $want engines registered $(($(now_ms) - t0)) ms after the command ($(launch_hosts))"
    else
        fail "$name: engines did not register: $(mc engines 2>&1)"
    fi
}

launch_workloads () {
    local name=$1
    expect "$name: pi bit-identical to the local run" "$(timeout 60 "$BIN/mcclient" --json "${LAUNCH_PI[@]}" 2>&1)" "$LAUNCH_REF_PI"
    expect "$name: walker histogram bit-identical to the local run" \
        "$(timeout 60 "$BIN/mcclient" --json "${LAUNCH_WALK[@]}" 2>&1)" "$LAUNCH_REF_WALK"
    local busy
    busy=$(mcj engines | grep -o '"done":[0-9]*' | grep -vc '"done":0$')
    [ "$busy" -ge 2 ] && pass "$name: the work ran on $busy engines" || fail "$name: the work ran on $busy engines"
}

# launch_kill_host NAME I: a job of 40 tasks of 0.3 s runs on every engine;
# host I dies; the controller forgets its engines (prints how soon), and
# the job ends with all 40 results on the engines left.
launch_kill_host () {
    local name=$1 host=$2 job t0
    job=$(mcj map sleep 300:340 --async 2>&1 | tr -d '"')
    wait_for 15 launch_busy 2 || fail "$name: the job did not start on the engines"
    t0=$(now_ms)
    hosts_kill "$host"
    if wait_for 30 launch_host_gone "$host"; then
        pass "$name: h$host's engines forgotten $(($(now_ms) - t0)) ms after the host died"
    else
        fail "$name: h$host's engines still listed: $(mc engines 2>&1)"
    fi
    timeout 90 "$BIN/mcclient" wait "$job" --timeout 80 > /dev/null 2>&1 || fail "$name: wait $job"
    expect "$name: the job ends with all 40 results" "$(mcj get "$job" 2>&1 | tr ',' '\n' | grep -c null)" 40
    expect "$name: and none failed" "$(mcj status "$job" | grep -o '"failed":[0-9]*')" '"failed":0'
}

# launch_secret_safe NAME: the engines' secret key is on no command line,
# neither as it is nor inside a connection file in base64 (which starts
# with the same bytes as engine.json's).
launch_secret_safe () {
    local secret b64 f found=
    secret=$(grep -o '"secret_key": *"[^"]*"' "$MCCLUSTER_DIR/engine.json" | cut -d'"' -f4)
    b64=$(base64 -w0 "$MCCLUSTER_DIR/engine.json" | cut -c1-24)
    for f in /proc/[0-9]*/cmdline; do
        { tr '\0' ' ' < "$f"; } 2>/dev/null | grep -qF -e "$secret" -e "$b64" && found="$found $f"
    done
    [ -n "$secret" ] && [ -z "$found" ] && pass "$1: the engines' secret is on no command line" \
        || fail "$1: the secret is on the command line of$found"
}

# Engine processes on the hosts (zombies aside).
launch_host_engines () {
    local i pid
    for i in $(seq "$HOSTS_N"); do
        for pid in $(hosts_pids "$i"); do
            [ "$(cat /proc/$pid/comm 2>/dev/null)" == mcengine ] && echo "h$i:$pid"
        done
    done
}

# launch_stopped NAME [SIGNAL]: `mcclient shutdown`, or the signal to the
# controller (TERM, INT), stops it and leaves no engine on the hosts.
launch_stopped () {
    local name=$1
    if [ -n "${2:-}" ]; then kill -"$2" "$CTRL_PID"; else mc shutdown > /dev/null 2>&1; fi
    wait_for 20 launch_dead "$CTRL_PID" && pass "$name: the controller stopped" \
        || fail "$name: the controller still runs after shutdown"
    wait_for 15 launch_no_host_engines && pass "$name: no engine left on the hosts" \
        || fail "$name: engines left: $(launch_host_engines)"
}
launch_count_is () { [ "$(launch_count)" -eq "$1" ]; }
