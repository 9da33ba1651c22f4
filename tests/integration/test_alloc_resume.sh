#!/bin/bash
# Local allocations across a controller's crash (mc_proto.md §4 "Launchers",
# §8 "After a crash"): the allocation whose engines were the dead
# controller's children is shown ended, with the reason; its engines that
# outlived it come back under its tag, serve, and stop with `engines stop
# --job` or with the cluster; a new allocation gets a fresh id; and
# orphans whose controller never comes back exit by themselves after
# engine_grace_ms, saying so. Every engine process is stopped by PID.
. "$(dirname "$0")/lib.sh"

LOG=$MCCLUSTER_DIR/ipclusterd.out
# Alive and not a zombie (an orphan is reaped by whoever adopted it, maybe late).
alive () { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }
all_dead () { local p; for p in "$@"; do alive "$p" && return 1; done; return 0; }
allocs () { mcj allocations; }
# The allocation's field as JSON text: field a1 registered -> 2
field () { mcj allocations | python3 -c "import json,sys
a=[x for x in json.load(sys.stdin) if x['id']=='$1']
print(json.dumps(a[0]['$2']) if a else 'none')"; }
registered_is () { [ "$(field "$1" registered)" == "$2" ]; }
crash () { kill -KILL "$CTRL_PID"; wait "$CTRL_PID" 2>/dev/null; }
# engines add N: the new allocation's number (K of aK). (Engines that
# outlived a crash and are slow to come back, as under the sanitizers, are
# replaced by an allocation of ipclusterd's own: K is not known in advance.)
add () { mc engines add "$1" | sed -n 's/^allocation a\([0-9]*\):.*/\1/p'; }

# 1. Two local engines, a1; the controller is killed; a new one on the
#    same profile finds their allocation in the store.
start_cluster 2
expect "a1 runs before the crash" "$(field a1 state)" '"running"'
read -ra orphans < <(engine_pids | tr '\n' ' ')
PIDS+=("${orphans[@]}")
expect "two engine processes" "${#orphans[@]}" 2
crash
start_cluster 2
grep -q "2 engines of the last controller are still running: starting 0 more" "$LOG" \
    && pass "the engines that outlived the crash count towards -n" || fail "survivors: $(cat "$LOG")"
expect "a1 is shown ended after the restart" "$(field a1 state)" '"ended"'
expect_match "with the reason" "$(field a1 reason)" "its controller died: its engines, that controller's children, were left alone"
wait_for 10 registered_is a1 2 && pass "its 2 engines came back under its tag a1" || fail "a1: $(allocs)"
expect "a1 still stands for 2 engines" "$(field a1 engines)" 2

# 2. A new allocation is not a1 again: its engines are not mistaken for
#    the orphans.
k=$(add 1)
[ -n "$k" ] && [ "$k" -ge 2 ] && pass "engines add gives a fresh id (a$k)" || fail "engines add: a$k"
A2=a$k
wait_for 10 registered_is $A2 1 && pass "$A2's engine registered under $A2" || fail "$A2: $(allocs)"
expect "a1 still counts its own 2 engines" "$(field a1 registered)" 2
read -ra now < <(engine_pids | tr '\n' ' ')
PIDS+=("${now[@]}")

# 3. engines stop --job a1 stops the orphans: their processes exit.
mc engines stop --job a1 > /dev/null || fail "engines stop --job a1"
wait_for 10 all_dead "${orphans[@]}" && pass "engines stop --job a1 stopped its orphaned engines (pids ${orphans[*]})" \
    || fail "orphans still running: ${orphans[*]}"
wait_for 10 registered_is a1 0 && pass "a1 has no engine left" || fail "a1: $(allocs)"
expect "$A2 keeps its engine" "$(field $A2 registered)" 1

# 4. A second crash: the engines of this controller's allocations are the
#    orphans now; a1 (over) is forgotten by the store, $A2 is ended, and a
#    clean shutdown stops the orphans.
read -ra orphans < <(engine_pids | tr '\n' ' ')
crash
start_cluster 0
expect "a1, over before the crash, is not listed again" "$(field a1 state)" none
expect "$A2 is ended" "$(field $A2 state)" '"ended"'
wait_for 10 registered_is $A2 1 && pass "$A2's orphan came back" || fail "$A2: $(allocs)"
n=$(add 1)
[ -n "$n" ] && [ "$n" -gt "$k" ] && pass "the next allocation is a$n, after a$k" || fail "engines add: a$n after a$k"
wait_for 10 registered_is a$n 1 || fail "a$n: $(allocs)"
# Every orphan still alive is back before the shutdown, which stops the
# engines it knows (on a loaded machine the last controller may have made
# one more allocation of its own, whose engine is slower to come back).
live_orphans () { local p c=0; for p in "${orphans[@]}"; do alive "$p" && c=$((c + 1)); done; echo "$c"; }
orphans_back () { [ "$(mcj ids | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -ge $(($(live_orphans) + 1)) ]; }
wait_for 15 orphans_back || fail "orphans not back: $(allocs)"
read -ra now < <(engine_pids | tr '\n' ' ')
PIDS+=("${now[@]}")
mc shutdown > /dev/null
wait_for 10 bash -c "! kill -0 $CTRL_PID" || fail "the controller did not stop"
wait_for 10 all_dead "${orphans[@]}" && pass "a clean shutdown stopped the orphaned engines too (${orphans[*]})" \
    || fail "orphans outlived the cluster: ${orphans[*]}"

# 5. Orphans whose controller never comes back give up after
#    engine_grace_ms, and say so (here into the dead controller's output).
start_cluster 2 --set engine_grace_ms=2000
read -ra orphans < <(engine_pids | tr '\n' ' ')
PIDS+=("${orphans[@]}")
crash
wait_for 15 all_dead "${orphans[@]}" && pass "orphans without a controller exit after engine_grace_ms" \
    || fail "orphans still running: ${orphans[*]}"
expect "each says it gave up" "$(grep -c 'giving up' "$LOG")" 2
finish
