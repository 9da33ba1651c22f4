# "Hosts" on this machine for the launcher tests: network namespaces on a
# bridge, sshd in each, munge + slurmctld + one slurmd per host. Source it,
# then call hosts_init, hosts_up N, and hosts_sshd / hosts_slurm as needed;
# teardown runs on every exit. Based on shared/recipes/remote-hosts-e2e.sh.
#
# Only the network is isolated: files and PIDs are shared, so a host runs the
# build directory's programs and sees /tmp. Everything is named per run
# (mch<PID>...), on a /24 of 10.78.K.0 reserved with a lock file, with its own
# munged socket and slurmctld port, so that two tests may run at once under
# ctest -j2 and beside test_remote.sh (10.77.0.0/24, names mcr<PID>...).
#
# After hosts_up N:
#   HOSTS_N            number of hosts; they are h1..hN (ssh and Slurm names)
#   HOSTS_BR, HOSTS_GW the bridge and its address in the root namespace (the
#                      controller's --ip)
#   HOSTS_NS[i]        host i's namespace (for nsenter --net=/run/netns/...)
#   HOSTS_ADDR[i]      host i's address
#   HOSTS_DIR          this run's directory (keys, configs, logs), removed at exit
# After hosts_sshd: HOSTS_SSH_CONFIG (ssh -F "$HOSTS_SSH_CONFIG" h1 ...) and
#   HOSTS_SSH_WRAP (an executable "ssh -F config", for MPICH's -launcher-exec).
# After hosts_slurm: SLURM_CONF is exported (sbatch, srun, squeue, qsub... use it),
#   partition "debug" = all hosts, one CPU each unless HOSTS_CPUS says otherwise.
#
# Functions a test may call:
#   hosts_init               skip (exit 77) unless root with every tool; set traps
#   hosts_up N               bridge + N namespaces
#   hosts_sshd               sshd in every host
#   hosts_slurm              munged, slurmctld, one slurmd per host; waits until idle
#   hosts_on I CMD...        run CMD in host I's network namespace
#   hosts_kill I             kill host I: its slurmd and every process in its namespace
#   hosts_cut I / hosts_mend I   unplug / replug host I's cable (processes live on)
#   hosts_spawn VAR CMD...   start CMD in the background, stopped by PID at teardown
#   hosts_wait SECONDS CMD...  poll CMD until it succeeds (0) or the time is up (1)
#   hosts_teardown           (the EXIT trap) stop all, delete namespaces and bridge
#
# Exit status 77 means "skipped" (ctest: SKIP_RETURN_CODE 77).

HOSTS_PIDS=()          # background daemons of ours, stopped by PID at teardown
HOSTS_SLURMD=()        # HOSTS_SLURMD[i]: host i's slurmd
HOSTS_NS=()
HOSTS_ADDR=()
HOSTS_N=0
HOSTS_LOCK_FD=
HOSTS_TEARDOWN_HOOKS=()  # functions run first at teardown (the test's own cleanup)
HOSTS_CPUS=${HOSTS_CPUS:-1}

hosts_skip () { echo "skip: $*"; exit 77; }
hosts_log () { echo "hosts: $*" >&2; }

# hosts_wait SECONDS COMMAND...: poll (every 0.1 s) until COMMAND succeeds.
hosts_wait () {
    local limit=$1; shift
    local deadline=$(($(date +%s%N) + limit * 1000000000))
    until "$@" > /dev/null 2>&1; do
        [ "$(date +%s%N)" -ge $deadline ] && return 1
        sleep 0.1
    done
}

# hosts_spawn VAR COMMAND...: COMMAND in the background (a program, or
# hosts_on I PROGRAM...: both exec); its PID in VAR and in the list that
# teardown stops. The lock's descriptor is not inherited.
hosts_spawn () {
    local var=$1; shift
    #  A function in the background runs in a forked shell: its PID is not
    #  the program's. hosts_on is therefore expanded here.
    if [ "$1" == hosts_on ]; then
        s_hosts_on_argv "$2"; shift 2
        set -- "${HOSTS_ON[@]}" "$@"
    fi
    if [ -n "$HOSTS_LOCK_FD" ]; then
        "$@" {HOSTS_LOCK_FD}>&- &
    else
        "$@" &
    fi
    printf -v "$var" %s $!
    HOSTS_PIDS+=($!)
}

# hosts_init [TOOL...]: root, network namespaces and every tool needed (the
# defaults plus TOOL...), else skip; then the traps.
hosts_init () {
    [ "$(id -u)" -eq 0 ] || hosts_skip "not root (the hosts are network namespaces)"
    local tool
    for tool in ip nsenter setpriv flock base64 timeout ss "$@"; do
        command -v "$tool" > /dev/null || hosts_skip "$tool not found (scripts/test.sh installs it)"
    done
    ip netns list > /dev/null 2>&1 || hosts_skip "ip netns unavailable"
    HOSTS_TAG=mch$$
    HOSTS_DIR=$(mktemp -d /tmp/mc-hosts.XXXXXX)
    chmod 755 "$HOSTS_DIR"     # munged and slurm read parts of it under their own users
    trap hosts_teardown EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    s_hosts_sweep
}

# Namespaces and bridges of runs that died before their teardown: named
# mch<PID>..., stale when that PID is gone.
s_hosts_sweep () {
    local ns link pid
    for ns in $(ip netns list | awk '{print $1}' | grep -E '^mch[0-9]+h[0-9]+$'); do
        pid=${ns#mch}; pid=${pid%h*}
        kill -0 "$pid" 2>/dev/null && continue
        hosts_log "removing namespace $ns left by run $pid"
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    done
    for link in $(ip -o link show type bridge | awk -F': ' '{print $2}' | grep -E '^mch[0-9]+b$'); do
        pid=${link#mch}; pid=${pid%b}
        kill -0 "$pid" 2>/dev/null && continue
        hosts_log "removing bridge $link left by run $pid"
        ip link del "$link" 2>/dev/null
    done
}

# Reserve a free 10.78.K.0/24 for this run: a lock per K, held until we exit.
s_hosts_subnet () {
    local lockdir=/run/lock start k i
    [ -d $lockdir ] || lockdir=/tmp
    start=$(($$ % 200))
    for i in $(seq 0 199); do
        k=$(((start + i) % 200 + 1))
        exec {HOSTS_LOCK_FD}> "$lockdir/mccluster-hosts-10.78.$k.lock"
        if flock -n "$HOSTS_LOCK_FD"; then
            if ! ip -o addr show | grep -q " 10\.78\.$k\."; then
                HOSTS_K=$k
                return 0
            fi
        fi
        exec {HOSTS_LOCK_FD}>&-
        HOSTS_LOCK_FD=
    done
    return 1
}

# hosts_up N: the bridge (10.78.K.1) and N hosts h1..hN (10.78.K.(i+1)).
hosts_up () {
    HOSTS_N=$1
    s_hosts_subnet || { hosts_log "no free subnet 10.78.*.0/24"; exit 1; }
    local net=10.78.$HOSTS_K i ns
    HOSTS_BR=${HOSTS_TAG}b
    HOSTS_GW=$net.1
    if ! ip link add "$HOSTS_BR" type bridge 2> "$HOSTS_DIR/br.err"; then
        hosts_skip "cannot create a bridge: $(head -1 "$HOSTS_DIR/br.err")"
    fi
    ip addr add "$HOSTS_GW/24" dev "$HOSTS_BR" && ip link set "$HOSTS_BR" up \
        || { hosts_log "cannot set up bridge $HOSTS_BR"; exit 1; }
    for i in $(seq 1 "$HOSTS_N"); do
        ns=${HOSTS_TAG}h$i
        HOSTS_NS[$i]=$ns
        HOSTS_ADDR[$i]=$net.$((i + 1))
        ip netns add "$ns" \
        && ip link add "${HOSTS_TAG}v$i" type veth peer name eth0 netns "$ns" \
        && ip link set "${HOSTS_TAG}v$i" master "$HOSTS_BR" up \
        && ip -n "$ns" addr add "${HOSTS_ADDR[$i]}/24" dev eth0 \
        && ip -n "$ns" link set eth0 up && ip -n "$ns" link set lo up \
        || { hosts_log "cannot set up host h$i ($ns)"; exit 1; }
    done
}

# hosts_on I COMMAND...: COMMAND in host I's network namespace (nsenter, not
# `ip netns exec`, which remounts /sys and hides the cgroups slurmd needs).
# Each command also gets a UTS namespace named hI, so that a program there
# sees itself on another host (mcengine then takes the TCP endpoint of its
# connection file, not the controller's Unix socket). Every step execs: the
# PID of a background hosts_on is the command's own.
hosts_on () {
    s_hosts_on_argv "$1"; shift
    "${HOSTS_ON[@]}" "$@"
}
s_hosts_on_argv () {
    HOSTS_ON=(nsenter --net="/run/netns/${HOSTS_NS[$1]}" unshare --uts
              sh -c 'echo "$0" > /proc/sys/kernel/hostname && exec "$@"' "h$1")
}

# hosts_sshd: sshd on port 2222 of every host, root by key only; ssh_config
# names the hosts h1..hN.
hosts_sshd () {
    local d=$HOSTS_DIR/ssh i pid
    mkdir -p "$d" /run/sshd
    ssh-keygen -q -t ed25519 -N '' -f "$d/hostkey" && ssh-keygen -q -t ed25519 -N '' -f "$d/id" \
        || { hosts_log "ssh-keygen failed"; exit 1; }
    cp "$d/id.pub" "$d/authorized_keys"
    #  StrictModes no: the keys live under /tmp. PidFile none: we stop it by PID.
    cat > "$d/sshd_config" <<EOF
Port 2222
HostKey $d/hostkey
AuthorizedKeysFile $d/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
EOF
    : > "$d/ssh_config"
    for i in $(seq 1 "$HOSTS_N"); do
        printf 'Host h%d\n HostName %s\n' "$i" "${HOSTS_ADDR[$i]}" >> "$d/ssh_config"
    done
    printf 'Host *\n Port 2222\n User root\n IdentityFile %s/id\n BatchMode yes\n StrictHostKeyChecking no\n UserKnownHostsFile /dev/null\n LogLevel ERROR\n ConnectTimeout 5\n' \
        "$d" >> "$d/ssh_config"
    HOSTS_SSH_CONFIG=$d/ssh_config
    HOSTS_SSH_WRAP=$d/ssh-wrap
    printf '#!/bin/sh\nexec ssh -F %s "$@"\n' "$HOSTS_SSH_CONFIG" > "$HOSTS_SSH_WRAP"
    chmod +x "$HOSTS_SSH_WRAP"
    for i in $(seq 1 "$HOSTS_N"); do
        hosts_spawn pid hosts_on "$i" /usr/sbin/sshd -D -e -f "$d/sshd_config" 2> "$d/sshd-h$i.log"
    done
    for i in $(seq 1 "$HOSTS_N"); do
        hosts_wait 10 ssh -F "$HOSTS_SSH_CONFIG" "h$i" true \
            || { hosts_log "sshd on h$i does not answer: $(tail -3 "$d/sshd-h$i.log")"; exit 1; }
    done
}

# hosts_slurm: munged (our own socket), slurmctld in the root namespace on a
# port of our own, slurmd h1..hN in the hosts; returns once every node is idle.
hosts_slurm () {
    local d=$HOSTS_DIR/slurm m=$HOSTS_DIR/munge i pid port=$((20000 + HOSTS_K))
    mkdir -p "$d/state" "$m"
    ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && { hosts_log "port $port is taken"; exit 1; }
    #  munged as its own user with its own socket: another run's munged, or the
    #  system's, is left alone. /etc/munge/munge.key comes with the package.
    chown munge: "$m"; chmod 755 "$m"     # munged wants its socket directory searchable
    hosts_spawn pid setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged -F --socket="$m/munge.sock" \
        --pid-file="$m/munged.pid" --seed-file="$m/seed" --log-file="$m/munged.log" --key-file=/etc/munge/munge.key 2> "$m/munged.stderr"
    HOSTS_MUNGED=$pid
    hosts_wait 10 munge -S "$m/munge.sock" -n \
        || { hosts_log "munged did not start: $(tail -3 "$m/munged.stderr" 2>&1)"; exit 1; }
    for i in $(seq 1 "$HOSTS_N"); do mkdir -p "$d/spool-h$i"; done
    cat > "$d/slurm.conf" <<EOF
ClusterName=$HOSTS_TAG
SlurmctldHost=$(hostname -s)($HOSTS_GW)
SlurmctldPort=$port
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$m/munge.sock
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool-%n
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd-%n.pid
SlurmctldLogFile=$d/slurmctld.log
SlurmdLogFile=$d/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SlurmdTimeout=10
MinJobAge=2
KillWait=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
EOF
    for i in $(seq 1 "$HOSTS_N"); do
        echo "NodeName=h$i NodeAddr=${HOSTS_ADDR[$i]} CPUs=$HOSTS_CPUS State=UNKNOWN" >> "$d/slurm.conf"
    done
    echo "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP" >> "$d/slurm.conf"
    export SLURM_CONF=$d/slurm.conf
    hosts_spawn HOSTS_SLURMCTLD /usr/sbin/slurmctld -D -i 2> "$d/slurmctld.stderr"
    for i in $(seq 1 "$HOSTS_N"); do
        hosts_spawn pid hosts_on "$i" /usr/sbin/slurmd -D -N "h$i" 2> "$d/slurmd-h$i.stderr"
        HOSTS_SLURMD[$i]=$pid
    done
    hosts_wait 30 s_hosts_slurm_idle \
        || { hosts_log "Slurm nodes not idle: $(timeout 5 sinfo -h -N -o '%N=%t' | tr '\n' ' '); $(tail -3 "$d/slurmctld.log")"; exit 1; }
}
s_hosts_slurm_idle () {
    [ "$(timeout 3 sinfo -h -N -o %t 2>/dev/null | sort -u)" == idle ] \
    && [ "$(timeout 3 sinfo -h -N -o %N 2>/dev/null | wc -l)" -eq "$HOSTS_N" ]
}

# hosts_pids I: the live processes of host I's namespace (zombies, left for
# a slow reaper, are not counted).
hosts_pids () {
    local pid state
    for pid in $(ip netns pids "${HOSTS_NS[$1]}" 2>/dev/null); do
        state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)
        [ -n "$state" ] && [ "$state" != Z ] && echo "$pid"
    done
}

# hosts_kill I: host I dies: its slurmd, and every process in its namespace
# (sshd, slurmstepd, the engines...), with SIGKILL.
hosts_kill () {
    local i=$1 pid
    [ -n "${HOSTS_SLURMD[$i]:-}" ] && kill -KILL "${HOSTS_SLURMD[$i]}" 2>/dev/null
    for _ in 1 2 3; do     # a process may fork while we kill
        for pid in $(hosts_pids "$i"); do kill -KILL "$pid" 2>/dev/null; done
        [ -z "$(hosts_pids "$i")" ] && break
        sleep 0.1
    done
    hosts_wait 5 s_hosts_empty "$i" || hosts_log "h$i still has processes: $(hosts_pids "$i" | tr '\n' ' ')"
}
s_hosts_empty () { [ -z "$(hosts_pids "$1")" ]; }

# hosts_cut I / hosts_mend I: host I's cable out and back: its processes live
# on but nothing reaches them (a host that hangs, not one that closes its sockets).
hosts_cut () { ip link set "${HOSTS_TAG}v$1" down; }
hosts_mend () { ip link set "${HOSTS_TAG}v$1" up; }

# s_hosts_stop SECONDS PID...: SIGTERM, then SIGKILL for those alive after
# SECONDS (slurmd may ignore SIGTERM while it registers), and reap.
s_hosts_stop () {
    local grace=$1; shift
    local pid
    [ $# -eq 0 ] && return
    for pid in "$@"; do kill -TERM "$pid" 2>/dev/null; done
    hosts_wait "$grace" s_hosts_all_dead "$@"
    for pid in "$@"; do kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
}
s_hosts_all_dead () { local p; for p in "$@"; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }

# hosts_teardown: the test's hooks, then jobs, processes in the hosts,
# slurmd, slurmctld, munged, sshd; namespaces and bridge; the directory.
hosts_teardown () {
    local rc=$? i hook pid
    trap - EXIT
    for hook in "${HOSTS_TEARDOWN_HOOKS[@]}"; do "$hook"; done
    if [ -n "${SLURM_CONF:-}" ] && [ -n "${HOSTS_SLURMCTLD:-}" ] && kill -0 "$HOSTS_SLURMCTLD" 2>/dev/null; then
        timeout 5 scancel -u "$(id -un)" > /dev/null 2>&1
    fi
    s_hosts_stop 2 "${HOSTS_PIDS[@]}"
    for i in $(seq 1 "$HOSTS_N"); do
        [ -n "${HOSTS_NS[$i]:-}" ] || continue
        for pid in $(hosts_pids "$i"); do
            hosts_log "teardown: pid $pid still in ${HOSTS_NS[$i]}: $(tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null)"
            kill -KILL "$pid" 2>/dev/null
        done
        ip netns del "${HOSTS_NS[$i]}" 2>/dev/null
    done
    [ -n "${HOSTS_BR:-}" ] && ip link del "$HOSTS_BR" 2>/dev/null
    [ -n "${HOSTS_BR:-}" ] && ip link show "$HOSTS_BR" > /dev/null 2>&1 && hosts_log "teardown: bridge $HOSTS_BR still there"
    [ -n "${HOSTS_DIR:-}" ] && [ -z "${HOSTS_KEEP:-}" ] && rm -rf "$HOSTS_DIR"
    exit $rc
}
