#!/bin/bash
# Heartbeats and failures: long kernels keep their engine, a lost engine's
# load-balanced tasks are requeued, and an engine that loses the controller
# reconnects and keeps its id.
. "$(dirname "$0")/lib.sh"

# Heartbeat 100 ms x 3: an engine silent for 0.3 s is expired.
start_cluster 2 --set heartbeat_ms=100 --set heartbeat_liveness=3
# A kernel running 20x the expiry window must not get its engine expired.
expect "long kernel" "$(mcj apply --targets 0 sleep 6000)" "[null]"
expect "engine kept through a long kernel" "$(mcj ids)" "[0,1]"

# An engine killed with work in flight: its load-balanced tasks run elsewhere.
victim=$(mcj engines | grep -o '"id":1,"host":"[^"]*","pid":[0-9]*' | grep -o '[0-9]*$')
job=$(mcj map --async sleep '[400,400,400,400,400,400]'); job=${job//\"/}
sleep 0.2
kill -KILL "$victim"
mc wait "$job" --timeout 30 >/dev/null; rc=$?
expect "job completes after losing an engine" "$rc" "0"
expect "results complete" "$(mcj get "$job")" "[null,null,null,null,null,null]"
# Forgotten when ipclusterd reaped it, and started again under its id
# (test_deaths.sh times it).
restarted () { [ "$(mcj ids)" == "[0,1]" ] && ! mcj engines | grep -q "\"pid\":$victim,"; }
wait_for 10 restarted && pass "dead engine replaced under its id" || fail "engines after a death: $(mcj engines)"
# A direct task to a lost engine fails, it does not hang.
victim=$(mcj engines | grep -o '"id":0,"host":"[^"]*","pid":[0-9]*' | grep -o '[0-9]*$')
job=$(mcj apply --async --targets 0 sleep 5000); job=${job//\"/}
sleep 0.2
kill -KILL "$victim"
mc wait "$job" --timeout 10 >/dev/null 2>&1; rc=$?
expect "direct task on a lost engine fails" "$rc" "1"
expect_match "lost engine error" "$(mc get "$job" 2>&1)" "engine 0 was lost"
kill -TERM "$CTRL_PID"; wait "$CTRL_PID"

# An engine started by hand over TCP and CURVE (--tcp, its own copy of
# engine.json) against a controller bound to all interfaces; it reconnects
# after the controller stalls, keeping its id.
start_cluster 0 --ip 0.0.0.0 --set heartbeat_ms=100 --set heartbeat_liveness=3
url=$(grep -o '"url": "[^"]*"' "$MCCLUSTER_DIR/engine.json" | cut -d'"' -f4)
expect_match "wildcard bind advertises the host name" "$url" "^tcp://$(hostname):[0-9]+$"
# Connect by address, so that the test does not depend on name resolution.
(umask 077; sed "s|\"url\": \"[^\"]*\"|\"url\": \"tcp://127.0.0.1:${url##*:}\"|" "$MCCLUSTER_DIR/engine.json" \
    > "$MCCLUSTER_DIR/engine-by-address.json")
"$BIN/mcengine" --tcp --file "$MCCLUSTER_DIR/engine-by-address.json" > "$MCCLUSTER_DIR/engine.log" 2>&1 &
PIDS+=($!)
engine=$!
wait_for 10 ids_are "[0]" && pass "hand-started engine registered" || fail "hand-started engine missing"
expect "hand-started engine works" "$(mcj apply --targets 0 square 4)" "[16]"
kill -STOP "$CTRL_PID"; sleep 1.5; kill -CONT "$CTRL_PID"
wait_for 10 ids_are "[0]" && pass "engine back with the same id" || fail "ids after stall: $(mcj ids)"
expect "reconnected engine works" "$(mcj apply --targets 0 square 5)" "[25]"
expect "and its done counter went on from before the stall" "$(mcj engines | grep -o '"done":[0-9]*')" '"done":2'
expect "reconnected engine is the same process" "$(mcj engines | grep -o '"pid":[0-9]*' | cut -d: -f2)" "$engine"
kill -TERM "$CTRL_PID"; wait "$CTRL_PID"
wait_for 5 bash -c "! kill -0 $engine 2>/dev/null" && pass "hand-started engine stopped by the controller" \
    || fail "hand-started engine still running"

# --url is for an --insecure controller: no keys, no file.
start_cluster 0 --insecure
url=$(grep -o '"url": "[^"]*"' "$MCCLUSTER_DIR/engine.json" | cut -d'"' -f4)
"$BIN/mcengine" --url "$url" > "$MCCLUSTER_DIR/engine.log" 2>&1 &
PIDS+=($!)
wait_for 10 ids_are "[0]" && pass "--url engine registered with an insecure controller" || fail "--url engine missing"
expect "--url engine works" "$(mcj apply --targets 0 square 6)" "[36]"
kill -TERM "$CTRL_PID"; wait "$CTRL_PID"
finish
