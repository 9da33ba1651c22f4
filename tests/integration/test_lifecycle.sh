#!/bin/bash
# Start, stop, daemon mode, and "no cluster": nothing left behind, never a hang.
. "$(dirname "$0")/lib.sh"

gone () { ! kill -0 "$1" 2>/dev/null; }
# fake_client HOST PID: a client.json (v2, an --insecure controller's, mode
# 0600) for a controller that is not there.
fake_client () {
    (umask 077; printf '{"version":2,"role":"client","cluster_id":"00112233aabbccdd","host":"%s","pid":%s,"url":"tcp://127.0.0.1:9","security":"none"}\n' \
        "$1" "$2" > "$MCCLUSTER_DIR/client.json")
}
all_gone () { local p; for p in "$@"; do gone "$p" || return 1; done; }

# No cluster: a clear message naming the profile, at once.
err=$("$BIN/mcclient" ids 2>&1); rc=$?
expect "no cluster exit status" "$rc" "1"
expect_match "no cluster names the profile" "$err" "$MCCLUSTER_DIR"
# A stale connection file (dead pid) is reported at once too.
fake_client "$(hostname)" 999999
err=$("$BIN/mcclient" ids 2>&1); rc=$?
expect_match "stale connection file" "$err" "no controller running for profile $MCCLUSTER_DIR"
# A live-looking file whose controller does not answer: bounded, configurable wait.
fake_client elsewhere 1
start=$SECONDS
err=$("$BIN/mcclient" --connect-timeout 0.5 ids 2>&1); rc=$?
expect "unanswered controller exit status" "$rc" "1"
expect_match "unanswered controller message" "$err" "no controller answers at tcp://127.0.0.1:9 within 500 ms \(profile $MCCLUSTER_DIR\)"
[ $((SECONDS - start)) -le 3 ] && pass "bounded wait" || fail "waited $((SECONDS - start)) s"
rm -f "$MCCLUSTER_DIR/client.json"

# SIGTERM stops the controller and every engine, exit 0.
start_cluster 3
expect_match "engine.json is private" "$(stat -c %a "$MCCLUSTER_DIR/engine.json")" "^600$"
expect_match "client.json is private" "$(stat -c %a "$MCCLUSTER_DIR/client.json")" "^600$"
pids=$(engine_pids)
expect "three engine pids" "$(echo "$pids" | wc -l)" "3"
# A second controller on the same profile is refused.
err=$("$BIN/ipclusterd" 2>&1); rc=$?
expect "second controller refused" "$rc" "1"
expect_match "second controller message" "$err" "already running"
kill -TERM "$CTRL_PID"
wait "$CTRL_PID"; rc=$?
expect "SIGTERM exit status" "$rc" "0"
wait_for 5 all_gone $pids && pass "engines gone after SIGTERM" || fail "engines left after SIGTERM: $pids"
[ ! -e "$MCCLUSTER_DIR/engine.json" ] && pass "engine.json removed" || fail "engine.json left"
[ ! -e "$MCCLUSTER_DIR/client.json" ] && pass "client.json removed" || fail "client.json left"

# SIGINT does the same.
start_cluster 2
pids=$(engine_pids)
kill -INT "$CTRL_PID"; wait "$CTRL_PID"; rc=$?
expect "SIGINT exit status" "$rc" "0"
wait_for 5 all_gone $pids && pass "engines gone after SIGINT" || fail "engines left after SIGINT"

# mcclient shutdown, with a job still running.
start_cluster 2
pids=$(engine_pids)
mc apply --async --targets all sleep 60000 >/dev/null
expect "shutdown" "$(mcj shutdown)" "{}"
wait_for 10 gone "$CTRL_PID" && pass "controller gone after shutdown" || fail "controller left after shutdown"
wait "$CTRL_PID"; rc=$?
expect "shutdown exit status" "$rc" "0"
wait_for 5 all_gone $pids && pass "engines gone after shutdown" || fail "engines left after shutdown"

# --daemon: returns once ready; the cluster serves; shutdown stops all.
out=$("$BIN/ipclusterd" -n 2 --daemon); rc=$?
expect "daemon exit status" "$rc" "0"
daemon_pid=$(echo "$out" | grep -o 'pid [0-9]*' | cut -d' ' -f2)
PIDS+=("$daemon_pid")
expect "daemon serves at once" "$(mcj ids)" "[0,1]"
pids=$(engine_pids)
mc shutdown >/dev/null
wait_for 10 all_gone "$daemon_pid" $pids && pass "daemon and engines gone" || fail "daemon or engines left"

# A controller killed with SIGKILL: its local engines wait engine_grace_ms
# for a restart (test_crash.sh), then exit rather than stay orphans.
start_cluster 2 --set engine_grace_ms=1500
pids=$(engine_pids)
kill -KILL "$CTRL_PID"; wait "$CTRL_PID" 2>/dev/null
sleep 0.5
all_gone $pids && fail "local engines died with the controller" || pass "local engines outlive a killed controller"
wait_for 8 all_gone $pids && pass "and exit after their grace time" || fail "orphan engines: $pids"
rm -f "$MCCLUSTER_DIR/engine.json" "$MCCLUSTER_DIR/client.json"

# Bad options: usage errors, exit 2.
"$BIN/ipclusterd" -n x >/dev/null 2>&1; expect "ipclusterd bad -n" "$?" "2"
"$BIN/ipclusterd" --set nosuch=1 >/dev/null 2>&1; expect "ipclusterd bad --set" "$?" "2"
"$BIN/mcengine" --bogus >/dev/null 2>&1; expect "mcengine bad option" "$?" "2"
"$BIN/mcclient" --help | grep -q "usage: mcclient" && pass "mcclient --help" || fail "mcclient --help"
"$BIN/ipclusterd" --help | grep -q "usage: ipclusterd" && pass "ipclusterd --help" || fail "ipclusterd --help"
"$BIN/mcengine" --help | grep -q "usage: mcengine" && pass "mcengine --help" || fail "mcengine --help"
finish
