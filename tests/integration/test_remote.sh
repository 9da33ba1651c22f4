#!/bin/bash
# Engines and clients on other hosts, simulated on one machine: network
# namespaces on a bridge (shared/recipes/remote-hosts-e2e.sh). The controller
# binds 10.77.0.1 in the root namespace; "hosts" h1 (10.77.0.2) and h2
# (10.77.0.3) are each a network namespace plus their own UTS namespace (host
# name h1, h2: so a peer picks the TCP endpoint of its file, as on a real
# other host, not the Unix socket) and their own mount namespace with a
# tmpfs over the profile directory (no shared profile: all a peer has is
# what its environment carries).
#
# 1. an engine joins from h1 with only MCCLUSTER_ENGINE (base64), over TCP
#    with CURVE, and runs tasks;
# 2. the traffic on the bridge is encrypted: a marker pushed to and pulled
#    from the remote engine is absent from a capture, and present in the
#    same capture against an --insecure controller (needs tcpdump);
# 3. a per-host engine key (trust add --engine) joins from h2, a client in
#    h1 runs a job with the owner's client.json in MCCLUSTER_CLIENT, and
#    trust revoke drops that engine at once (it exits with status 3);
# 4. clients in h1 and h2 with the wrong role, no credentials, an engine's
#    keys or no CURVE are refused in one line, and the controller logs the
#    remote address.
#
# Needs root and `ip netns`; prints "skip: ..." and passes without them.
. "$(dirname "$0")/lib.sh"

skip () { echo "skip: $* (test_remote needs root and network namespaces; nothing was checked)"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "not root"
for tool in ip nsenter unshare flock base64; do
    command -v $tool > /dev/null || skip "$tool not found"
done
ip netns list > /dev/null 2>&1 || skip "ip netns unavailable"

# Names unique to this run (a bridge name has at most 15 characters); the
# subnet 10.77.0.0/24 is shared, so runs take a lock for it.
TAG=mcr$$
BR=${TAG}b
NS1=${TAG}h1
NS2=${TAG}h2
W=$(mktemp -d /tmp/mc-remote.XXXXXX)
NETNS_UP=false

teardown () {
    if $NETNS_UP || ip link show "$BR" > /dev/null 2>&1; then
        ip netns del "$NS1" 2>/dev/null
        ip netns del "$NS2" 2>/dev/null
        ip link del "$BR" 2>/dev/null
        ip link show "$BR" > /dev/null 2>&1 && echo "teardown: bridge $BR still there" >&2
    fi
    rm -rf "$W"
}
trap 'cleanup; teardown' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

LOCK=/run/lock/mccluster-test-remote.lock
[ -d /run/lock ] || LOCK=/tmp/mccluster-test-remote.lock
exec 9> "$LOCK"
flock -w 60 9 || { fail "another run holds $LOCK for more than 60 s"; exit 1; }
# (Long-lived children are started with 9>&-, so that the lock is the run's
# alone and dies with it.)

# Leftovers of runs killed before their EXIT trap ran: every live run holds
# the lock, so a bridge or namespace named mcrPID* now is stale. Its
# processes (ours, from that run) are stopped by PID.
for ns in $(ip netns list | awk '{print $1}' | grep -E '^mcr[0-9]+h[12]$'); do
    echo "removing namespace $ns left by an earlier run"
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
done
for link in $(ip -o link show type bridge | awk -F': ' '{print $2}' | grep -E '^mcr[0-9]+b$'); do
    echo "removing bridge $link left by an earlier run"
    ip link del "$link" 2>/dev/null
done
taken=$(ip -o addr show | awk '$4 ~ /^10\.77\.0\./ {print $2; exit}')
[ -z "$taken" ] || { fail "10.77.0.0/24 is already in use on $taken (remove it: ip link del $taken)"; exit 1; }

# --- the hosts: a bridge in the root namespace (10.77.0.1), h1 and h2 on it.
if ! ip netns add "$NS1" 2>"$W/netns.err"; then
    skip "cannot create a network namespace: $(head -1 "$W/netns.err")"
fi
NETNS_UP=true
ip netns add "$NS2" \
&& ip link add "$BR" type bridge && ip addr add 10.77.0.1/24 dev "$BR" && ip link set "$BR" up \
|| { fail "cannot set up the bridge"; exit 1; }
i=1
for ns in "$NS1" "$NS2"; do
    ip link add "${TAG}v$i" type veth peer name eth0 netns "$ns" \
    && ip link set "${TAG}v$i" master "$BR" up \
    && ip -n "$ns" addr add 10.77.0.$((i + 1))/24 dev eth0 \
    && ip -n "$ns" link set eth0 up && ip -n "$ns" link set lo up \
    || { fail "cannot set up host h$i"; exit 1; }
    i=$((i + 1))
done
pass "hosts h1 (10.77.0.2) and h2 (10.77.0.3) on bridge $BR"

# on HOST COMMAND...: run COMMAND on host h1 or h2, with that host's network
# and name, and tmpfs hiding the profile and work directories. ON_CMD is the
# prefix, for a background command whose PID must be the command's own
# (every step execs).
on_prefix () {
    local ns=$NS1; [ "$1" == h2 ] && ns=$NS2
    ON_CMD=(nsenter --net="/run/netns/$ns" unshare --uts --mount --propagation private
        env HIDE1="$MCCLUSTER_DIR" HIDE2="$W"
        sh -c 'echo "$0" > /proc/sys/kernel/hostname && mount -t tmpfs none "$HIDE1" \
               && mount -t tmpfs none "$HIDE2" && exec env -u HIDE1 -u HIDE2 "$@"' "$1")
}
on () { on_prefix "$1"; shift; "${ON_CMD[@]}" "$@"; }
# What a remote peer may have: its connection file in the environment, and
# a profile directory that does not exist.
NOPROFILE=$W/no-such-profile
[ "$(on h1 cat /proc/sys/kernel/hostname)" == h1 ] && [ -z "$(on h1 ls -A "$MCCLUSTER_DIR")" ] \
    && on h1 ip -4 -o addr show dev eth0 | grep -q 10.77.0.2 \
    && pass "h1 has its own name and network and no profile" || { fail "cannot run on h1"; exit 1; }

# wait_exit SECONDS PID: true once PID has exited.
wait_exit () { wait_for "$1" bash -c "! kill -0 $2 2>/dev/null"; }

# start_remote_engine HOST LOG ENV...: mcengine on HOST with ENV and nothing
# else in its environment; sets EPID.
start_remote_engine () {
    local host=$1 log=$2; shift 2
    on_prefix "$host"
    "${ON_CMD[@]}" env -i PATH="$PATH" MCCLUSTER_DIR="$NOPROFILE" "$@" "$BIN/mcengine" > "$log" 2>&1 9>&- &
    EPID=$!
    PIDS+=("$EPID")
}

T0=$SECONDS
# ===== 1. an engine on h1 joins with MCCLUSTER_ENGINE alone
start_cluster 1 --ip 10.77.0.1 9>&-
engine_file=$MCCLUSTER_DIR/engine.json
client_file=$MCCLUSTER_DIR/client.json
expect_match "engine.json names the bridge address" "$(cat "$engine_file")" '"url": "tcp://10\.77\.0\.1:[0-9]+"'
start_remote_engine h1 "$W/e-h1.log" MCCLUSTER_ENGINE="$(base64 -w0 "$engine_file")"
e_h1=$EPID
wait_for 10 ids_are "[0,1]" && pass "engine on h1 registered: ids [0,1]" \
    || fail "engine on h1 missing: ids $(mcj ids); its log: $(cat "$W/e-h1.log")"
engines=$(mcj engines)
expect_match "engine 1 runs on host h1, with the pid we started" "$engines" \
    "\"id\":1,\"host\":\"h1\",\"pid\":$e_h1,"
expect_match "engine 0 is local" "$engines" "\"id\":0,\"host\":\"$(hostname)\","
expect "apply on both engines" "$(mcj apply --targets all square 7)" "[49,49]"
expect "apply on the remote engine" "$(mcj apply --targets 1 square 12)" "[144]"
expect "map over both" "$(mcj map square 0:10)" "[0,1,4,9,16,25,36,49,64,81]"
# Over TCP: the engine's connection comes from 10.77.0.2.
conns=$(ss -Htn state established "( src 10.77.0.1 and dst 10.77.0.2 )" 2>/dev/null | wc -l)
[ "$conns" -ge 1 ] && pass "engine on h1 is connected over TCP from 10.77.0.2" \
    || fail "no TCP connection from 10.77.0.2 to the controller"
pass "case 1 took $((SECONDS - T0)) s"

# ===== 2. encryption on the wire
T0=$SECONDS
MARKER=MARKER_$$_$RANDOM
# capture NAME COMMAND...: COMMAND with tcpdump on the bridge into $W/NAME.pcap.
capture () {
    local name=$1; shift
    tcpdump -i "$BR" --immediate-mode -U -n -s 0 -w - tcp > "$W/$name.pcap" 2> "$W/$name.tcpdump" 9>&- &
    local tpid=$!
    PIDS+=("$tpid")
    wait_for 5 grep -q 'listening on' "$W/$name.tcpdump" || { fail "tcpdump did not start: $(cat "$W/$name.tcpdump")"; }
    "$@"
    sleep 0.2
    kill -INT "$tpid" 2>/dev/null
    wait_exit 5 "$tpid" || kill -KILL "$tpid" 2>/dev/null
}
# push_pull ENGINE_ID: push the marker to every engine and pull it back from ENGINE_ID.
push_pull () {
    mcj push x="\"$MARKER\"" > /dev/null 2>&1 || fail "push of the marker failed"
    PULLED=$(mcj pull --targets "$1" x 2>&1)
}
if ! command -v tcpdump > /dev/null; then
    echo "skip: tcpdump not found, encryption on the wire not checked (apt-get install tcpdump to check it)"
else
    capture curve push_pull 1
    expect "pull from h1, curve" "$PULLED" "[\"$MARKER\"]"
    packets=$(tcpdump -r "$W/curve.pcap" -n 2>/dev/null | wc -l)
    [ "$packets" -ge 4 ] && pass "captured $packets packets on $BR" || fail "captured $packets packets only"
    grep -aq "$MARKER" "$W/curve.pcap" && fail "the marker is in clear on the wire under CURVE" \
        || pass "the marker is not on the wire under CURVE"

    # The control: a second cluster, --insecure, with its own profile.
    (
        export MCCLUSTER_DIR=$W/insecure
        mkdir -m 700 "$MCCLUSTER_DIR"
        PIDS=()
        trap 'cleanup' EXIT
        start_cluster 1 --ip 10.77.0.1 --insecure 9>&-
        start_remote_engine h1 "$W/e-h1-insecure.log" MCCLUSTER_ENGINE="$(base64 -w0 "$MCCLUSTER_DIR/engine.json")"
        wait_for 10 ids_are "[0,1]" || fail "insecure: engine on h1 missing: $(mcj ids) $(cat "$W/e-h1-insecure.log")"
        capture plain push_pull 1
        expect "pull from h1, insecure" "$PULLED" "[\"$MARKER\"]"
        grep -aq "$MARKER" "$W/plain.pcap" && pass "control: the marker is on the wire under --insecure" \
            || fail "control: the marker is not in the --insecure capture (the capture sees nothing?)"
        mc shutdown > /dev/null 2>&1
        wait_exit 5 "$CTRL_PID" || fail "insecure controller did not stop"
        exit $FAILURES
    ) || FAILURES=$((FAILURES + $?))
fi
pass "case 2 took $((SECONDS - T0)) s"

# ===== 3. a per-host engine key, a remote client, revocation
T0=$SECONDS
added=$(mcj trust add --engine --name h2 -o "$W/h2.json")
expect_match "trust add --engine --name h2" "$added" '"name":"h2"'
expect "h2.json is private" "$(stat -c %a "$W/h2.json")" "600"
start_remote_engine h2 "$W/e-h2.log" MCCLUSTER_ENGINE="$(base64 -w0 "$W/h2.json")"
e_h2=$EPID
wait_for 10 ids_are "[0,1,2]" && pass "engine on h2 registered with its own key" \
    || fail "engine on h2 missing: ids $(mcj ids); its log: $(cat "$W/e-h2.log")"
expect_match "engine 2 runs on host h2" "$(mcj engines)" '"id":2,"host":"h2",'
expect_match "trust list: h2 has a session" "$(mcj trust list)" '^\[\{"name":"h2",.*"sessions":1\}\]$'
# The owner's client.json on h1, in the environment only.
on_client () {
    local host=$1; shift
    on "$host" env -u MCCLUSTER_ENGINE -u MCCLUSTER_TRANSPORT MCCLUSTER_DIR="$NOPROFILE" \
        MCCLUSTER_CLIENT="$(cat "$client_file")" timeout 10 "$BIN/mcclient" --json "$@"
}
expect "client on h1: apply on all three" "$(on_client h1 apply --targets all square 5 2>&1)" "[25,25,25]"
expect "client on h1: map" "$(on_client h1 map square 0:6 2>&1)" "[0,1,4,9,16,25]"
expect "client on h1: the engine on h2" "$(on_client h1 apply --targets 2 square 9 2>&1)" "[81]"
t0=$(date +%s%N)
expect_match "trust revoke h2" "$(mcj trust revoke h2)" '"dropped":1'
wait_for 3 ids_are "[0,1]"
ms=$((($(date +%s%N) - t0) / 1000000))
ids_are "[0,1]" && [ $ms -le 1500 ] && pass "revoked engine dropped ($ms ms)" \
    || fail "after revoke: ids $(mcj ids) after $ms ms"
if wait_exit 5 "$e_h2"; then
    wait "$e_h2"; rc=$?
    expect "revoked engine on h2 exits with status 3" "$rc" "3"
    expect_match "and says why" "$(cat "$W/e-h2.log")" \
        'mcengine: the controller at tcp://10\.77\.0\.1:[0-9]+ refused the credentials in \$MCCLUSTER_ENGINE \(key not trusted, or revoked\)'
else
    fail "revoked engine on h2 still running"
fi
expect "h1 still serves" "$(mcj apply --targets 1 square 3)" "[9]"
pass "case 3 took $((SECONDS - T0)) s"

# ===== 4. refusals of remote clients
T0=$SECONDS
# refused DESCRIPTION REGEX HOST ENV...: mcclient ids on HOST with ENV exits
# non-zero within 3 s, with one line on stderr matching REGEX.
refused () {
    local desc=$1 pattern=$2 host=$3; shift 3
    local err rc t0 ms
    t0=$(date +%s%N)
    err=$(on "$host" env -u MCCLUSTER_ENGINE -u MCCLUSTER_CLIENT -u MCCLUSTER_TRANSPORT \
          MCCLUSTER_DIR="$NOPROFILE" "$@" timeout 10 "$BIN/mcclient" ids 2>&1 >/dev/null); rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    { [ $rc -ne 0 ] && [ $rc -ne 124 ]; } || { fail "$desc: exit status $rc"; return; }
    [ "$(echo "$err" | wc -l)" -eq 1 ] || { fail "$desc: not one line: '$err'"; return; }
    [[ "$err" =~ $pattern ]] || { fail "$desc: '$err' does not match /$pattern/"; return; }
    [ $ms -le 3000 ] || { fail "$desc: took $ms ms"; return; }
    pass "$desc ($ms ms): $err"
}
field () { grep -o "\"$2\": \"[^\"]*\"" "$1" | cut -d'"' -f4; }
refused "h1: engine.json as a client's file" 'MCCLUSTER_CLIENT: a connection file for engines, not for clients' \
    h1 MCCLUSTER_CLIENT="$(base64 -w0 "$engine_file")"
refused "h1: no credentials" "no connection file $NOPROFILE/client.json" h1
# A client file of the right role holding the engine's keypair: the controller decides.
text=$(cat "$client_file")
text=${text/"$(field "$client_file" public_key)"/"$(field "$engine_file" public_key)"}
text=${text/"$(field "$client_file" secret_key)"/"$(field "$engine_file" secret_key)"}
refused "h1: the engine's keys on the client endpoint" \
    'refused the credentials in \$MCCLUSTER_CLIENT: key not trusted, or revoked' h1 MCCLUSTER_CLIENT="$text"
# No CURVE at all against the secure controller.
url=$(field "$client_file" url)
plain=$(printf '{"version":2,"role":"client","cluster_id":"%s","host":"elsewhere","pid":1,"url":"%s","security":"none"}' \
    "$(field "$client_file" cluster_id)" "$url")
refused "h2: no CURVE" "security mismatch with the controller at $url" h2 MCCLUSTER_CLIENT="$plain"
log=$MCCLUSTER_DIR/ipclusterd.out
wait_for 2 grep -q 'refused 10\.77\.0\.2 on the client endpoint' "$log"
expect_match "log: h1 refused with its address" "$(grep 'refused 10\.77\.0\.2 on the client endpoint' "$log")" \
    'refused 10\.77\.0\.2 on the client endpoint: key .* is an engine key'
#  Refused in the handshake: the monitor's news may come after the
#  connection is closed, too late to ask for its address.
h2_line='refused (10\.77\.0\.3|\(unknown\)) on the client endpoint: (another security mechanism|the handshake broke off)'
wait_for 2 grep -qE "$h2_line" "$log"
expect_match "log: h2 refused (with its address when known)" "$(grep -E "$h2_line" "$log")" "$h2_line"
expect_match "log: the revoked engine's reconnection from h2 refused" \
    "$(grep 'refused 10\.77\.0\.3 on the engine endpoint' "$log")" \
    'refused 10\.77\.0\.3 on the engine endpoint: key .* is not trusted'
grep 'refused 10\.77\.0\.' "$log" | sed 's/^/  controller log: /'
expect "still serving after the refusals" "$(mcj apply --targets all square 4)" "[16,16]"
pass "case 4 took $((SECONDS - T0)) s"

# The remote engine stops with the cluster.
mc shutdown > /dev/null 2>&1
wait_exit 5 "$e_h1" && pass "engine on h1 stopped with the cluster" || fail "engine on h1 still running after shutdown"
wait_exit 5 "$CTRL_PID" || fail "controller still running after shutdown"
finish
