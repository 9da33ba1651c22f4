#!/bin/bash
# The ssh launcher end to end (issue 15): `ipclusterd --engines ssh --hosts
# h1:2,h2:2` on two "hosts" (tests/deploy/hosts.sh) with the controller on
# the bridge (so CURVE applies), pi and walker bit-identical to a local run,
# a host killed mid-job, `engines stop --job`/`engines add`, a dropped ssh
# session taking its engines along, nothing left after shutdown, and the
# engines gone with a controller killed with SIGKILL (its allocation shown
# ended by the next one). Skips (77) unless root with sshd.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/hosts.sh"
. "$(dirname "$0")/launch.sh"
hosts_init sshd ssh ssh-keygen
HOSTS_TEARDOWN_HOOKS=(cleanup)
hosts_up 2
hosts_sshd
launch_reference

SSH_OPTS="ssh_opts=-F $HOSTS_SSH_CONFIG"
T0=$(now_ms)
start_cluster 0 --ip "$HOSTS_GW" --engines ssh --hosts h1:2,h2:2 --launcher-opt "$SSH_OPTS"
launch_started "ssh" "$T0" 4
expect "ssh: two engines on each host" "$(launch_hosts)" "h1=2 h2=2"
expect "ssh: the engines carry their allocation" "$(mcj engines | grep -o '"launch":"[^"]*"' | sort -u)" '"launch":"a1"'
launch_secret_safe "ssh"
launch_workloads "ssh"

# Grow and shrink: one more engine on h1, then that allocation stopped.
mc engines add 1 --hosts h1:1 --launcher-opt "$SSH_OPTS" > /dev/null || fail "ssh: engines add"
wait_for 20 launch_have 5 && pass "ssh: engines add 1 on h1 registered" || fail "ssh: engines add: $(mc engines 2>&1)"
expect "ssh: allocation a2 running" "$(mcj allocations | grep -o '"id":"a2"[^}]*"state":"[a-z]*"' | grep -o '"state":"[a-z]*"')" '"state":"running"'
mc engines stop --job a2 > /dev/null || fail "ssh: engines stop --job a2"
wait_for 10 launch_count_is 4 && pass "ssh: engines stop --job a2 left 4 engines" || fail "ssh: after stop: $(mc engines 2>&1)"

# A dropped session: the ssh client of h2 is killed; its engines stop (their
# lifeline ends) and the controller forgets them at once.
SESSION=$(pgrep -f "^ssh -T .* h2 read -r MCCLUSTER_ENGINE" | head -1)
if [ -n "$SESSION" ]; then
    t0=$(now_ms)
    kill -KILL "$SESSION"
    wait_for 10 launch_host_gone 2 && pass "ssh: h2's session dropped; its engines forgotten in $(($(now_ms) - t0)) ms" \
        || fail "ssh: h2's engines still listed after its session dropped"
    h2_engines () { local pid; for pid in $(hosts_pids 2); do [ "$(cat /proc/$pid/comm 2>/dev/null)" == mcengine ] && echo $pid; done; }
    no_h2_engines () { [ -z "$(h2_engines)" ]; }
    wait_for 10 no_h2_engines && pass "ssh: h2's engines stopped with their session" || fail "ssh: engines left on h2: $(h2_engines)"
else
    fail "ssh: no ssh session to h2 found"
fi
# h2 comes back through the launcher, and then dies whole mid-job.
mc engines add 2 --hosts h2:2 --launcher-opt "$SSH_OPTS" > /dev/null || fail "ssh: engines add on h2"
wait_for 20 launch_have 4 || fail "ssh: h2's engines did not come back: $(mc engines 2>&1)"
launch_kill_host "ssh" 2
launch_stopped "ssh" INT

# The controller killed (SIGKILL), with engines on h1 (h2 is dead): its ssh
# sessions' lifelines close, so the engines stop; the next controller (any
# kind: here local, -n 0) shows the allocation ended, with the reason
# (mc_proto.md §4 "Launchers", "After a crash").
start_cluster 0 --ip "$HOSTS_GW" --engines ssh --hosts h1:2 --launcher-opt "$SSH_OPTS"
wait_for 20 launch_have 2 || fail "ssh crash: engines did not register: $(mc engines 2>&1)"
K=$(mcj allocations | grep -o '"id":"a[0-9]*","kind":"ssh"[^}]*"state":"running"' | cut -d'"' -f4)
[ -n "$K" ] && pass "ssh crash: allocation $K runs" || fail "ssh crash: $(mcj allocations)"
kill -KILL "$CTRL_PID"; wait "$CTRL_PID" 2>/dev/null
wait_for 15 launch_no_host_engines && pass "ssh crash: the engines stopped with their controller" \
    || fail "ssh crash: engines left on the hosts: $(launch_host_engines)"
start_cluster 0 --ip "$HOSTS_GW"
expect_match "ssh crash: $K is ended after the restart, with the reason" \
    "$(mcj allocations | grep -o "\"id\":\"$K\"[^}]*")" '"state":"ended","reason":"its controller died, and with it the lifelines'
expect "ssh crash: none of its engines came back" "$(mcj ids)" "[]"
launch_stopped "ssh crash"
finish
