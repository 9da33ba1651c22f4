#!/bin/bash
# Deaths noticed at once where the system tells us (mc_proto.md §4): a local
# engine killed with work in flight is forgotten when ipclusterd reaps it,
# not heartbeats later; its load-balanced tasks run elsewhere; it is started
# again under its id, and `engines` counts the restarts, up to
# engine_restarts_per_min, past which it stays dead with a line in the log.
. "$(dirname "$0")/lib.sh"

# Heartbeats at their defaults (1 s x 3): expiry would take 3 s or more.
start_cluster 2 -v --set engine_restarts_per_min=2
LOG=$MCCLUSTER_DIR/ipclusterd.out
# Under the sanitizers every program is slower, mcclient included.
LIMIT_MS=200
[ "${MC_SANITIZE:-OFF}" == "ON" ] && LIMIT_MS=600

# The pid of engine $1, as `engines` reports it ("" when it is not listed).
pid_of () { mcj engines | grep -o "\"id\":$1,\"host\":\"[^\"]*\",\"pid\":[0-9]*" | grep -o '[0-9]*$'; }
# The restarts of engine $1.
restarts_of () { mcj engines | grep -o "{\"id\":$1,[^}]*}" | grep -o '"restarts":[0-9]*' | cut -d: -f2; }
listed () { mcj engines | grep -q "\"pid\":$1,"; }
busy () { mcj engines | grep -o "{\"id\":$1,[^}]*}" | grep -q '"inflight":[1-9]'; }
logged () { grep -q "$1" "$LOG"; }
now_ms () { echo $(( $(date +%s%N) / 1000000 )); }
# Milliseconds since midnight of a log line's "HH:MM:SS.mmm", or of now.
day_ms () { local t=${1:-$(date +%H:%M:%S.%3N)}; echo $(( ((10#${t:0:2} * 60 + 10#${t:3:2}) * 60 + 10#${t:6:2}) * 1000 + 10#${t:9:3} )); }

# Six tasks of 1.5 s on two engines: each engine runs one at a time.
job=$(mcj map --async sleep '[1500,1500,1500,1500,1500,1500]'); job=${job//\"/}
wait_for 10 busy 1 || fail "engine 1 never got a task"
victim=$(pid_of 1)
killed_at=$(day_ms)
kill -KILL "$victim"
start=$(now_ms)
# Poll without pausing (each mcclient call takes a few ms), for at most 5 s.
while listed "$victim" && [ $(( $(now_ms) - start )) -lt 5000 ]; do :; done
gone_ms=$(( $(now_ms) - start ))
echo "death to requeue, seen by a client: $gone_ms ms"
if [ "$gone_ms" -le "$LIMIT_MS" ]; then pass "dead engine forgotten within $LIMIT_MS ms ($gone_ms ms)"
else fail "dead engine forgotten after $gone_ms ms (limit $LIMIT_MS)"; fi
wait_for 5 logged "engine 1 (.* pid $victim) died (killed by signal 9); 1 tasks in flight" \
    && pass "its task in flight requeued at its death" || fail "no death with a task in flight in the log"
died_at=$(grep -m1 "pid $victim) died" "$LOG" | cut -c1-12)
[ -n "$died_at" ] && echo "death to requeue, in the controller's log: $(( $(day_ms "$died_at") - killed_at )) ms"
mc wait "$job" --timeout 30 >/dev/null; rc=$?
expect "job completes after losing an engine" "$rc" "0"
expect "results complete" "$(mcj get "$job")" "[null,null,null,null,null,null]"
expect_match "no task failed" "$(mcj status "$job")" '"done":6,"failed":0'

# Restarted under its id: direct targets stay valid.
wait_for 10 bash -c "[ -n \"\$(\"$BIN/mcclient\" --json engines | grep -o '\"id\":1,\"host\":\"[^\"]*\",\"pid\":[0-9]*')\" ]" \
    && pass "engine 1 is back" || fail "engine 1 not restarted: $(mcj engines)"
second=$(pid_of 1)
[ -n "$second" ] && [ "$second" != "$victim" ] && pass "engine 1 is a new process" \
    || fail "engine 1: pid '$second' after '$victim'"
expect "ids after the restart" "$(mcj ids)" "[0,1]"
expect "restarts counted" "$(restarts_of 1)" "1"
expect "the other engine has none" "$(restarts_of 0)" "0"
expect "the restarted engine takes direct tasks" "$(mcj apply --targets 1 square 7)" "[49]"
expect_match "engines shows restarts" "$(mc engines | head -1)" "restarts"

# A second death: restarted again (2 of 2 in this minute).
kill -KILL "$second"
wait_for 10 bash -c "p=\$(\"$BIN/mcclient\" --json engines | grep -o '\"id\":1,\"host\":\"[^\"]*\",\"pid\":[0-9]*' | grep -o '[0-9]*\$'); [ -n \"\$p\" ] && [ \"\$p\" != $second ]" \
    && pass "engine 1 back again" || fail "engine 1 not restarted twice: $(mcj engines)"
expect "restarts counted again" "$(restarts_of 1)" "2"
third=$(pid_of 1)

# A third death within the minute passes the limit: no restart, a log line.
kill -KILL "$third"
wait_for 5 logged "engines are dying too fast: 2 restarts within a minute reach engine_restarts_per_min=2" \
    && pass "restarts stop past the limit, logged" || fail "no log line for the limit: $(tail -5 "$LOG")"
# The restart would have come with the death: once the line is there, it never will.
expect "engine 1 stays dead" "$(mcj ids)" "[0]"
expect "the cluster still works" "$(mcj map square '[1,2,3]')" "[1,4,9]"

# Engine 0 dies as well: not restarted either (the limit is for good).
zero=$(pid_of 0)
kill -KILL "$zero"
wait_for 5 bash -c "! \"$BIN/mcclient\" --json engines | grep -q '\"pid\":$zero,'" \
    && pass "engine 0 forgotten at once" || fail "engine 0 still listed"
expect "no engine left" "$(mcj ids)" "[]"
kill -TERM "$CTRL_PID"; wait "$CTRL_PID"; rc=$?
expect "controller stops cleanly" "$rc" "0"

# An engine the controller did not start is no child of its: its death is
# seen by heartbeats (100 ms x 3 here), and nobody restarts it.
start_cluster 0 -v --set heartbeat_ms=100 --set heartbeat_liveness=3
LOG=$MCCLUSTER_DIR/ipclusterd.out
"$BIN/mcengine" > "$MCCLUSTER_DIR/engine.log" 2>&1 &
hand=$!
PIDS+=("$hand")
wait_for 10 ids_are "[0]" && pass "hand-started engine registered" || fail "hand-started engine missing"
{ kill -KILL "$hand"; wait "$hand"; } 2>/dev/null
wait_for 5 ids_are "[]" && pass "hand-started engine expired" || fail "hand-started engine still listed"
wait_for 5 logged "engine 0 (.* pid $hand) expired (no heartbeat)" \
    && pass "by heartbeats" || fail "not by heartbeats: $(tail -3 "$LOG")"
expect "and not restarted" "$(mcj ids)" "[]"
kill -TERM "$CTRL_PID"; wait "$CTRL_PID"
finish
