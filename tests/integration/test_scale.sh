#!/bin/bash
# Growing and shrinking a running cluster (issue 15): `mcclient engines add`
# and `engines stop` on local engines, with bad requests refused and
# nothing changed; an engine stopped mid-job loses no task; --autoscale
# grows the cluster while tasks wait and gives idle engines back, never
# below MIN, and the job still has every result.
. "$(dirname "$0")/lib.sh"
count () { mcj ids | tr ',' '\n' | grep -c '[0-9]'; }
count_is () { [ "$(count)" -eq "$1" ]; }

start_cluster 1
mc engines add 2 > /dev/null || fail "engines add 2"
wait_for 10 count_is 3 && pass "engines add 2: 3 engines" || fail "engines add 2: $(mc engines)"
expect "engines add: allocation a2, local, running" \
    "$(mcj allocations | grep -o '"id":"a2","kind":"local","engines":2,"registered":2,"job":"","state":"running"')" \
    '"id":"a2","kind":"local","engines":2,"registered":2,"job":"","state":"running"'
# Bad requests: refused, naming the bad part, and nothing changes.
out=$(mc engines add 0 2>&1); expect "engines add 0: usage" "$?" 2
out=$(mc engines add 1 --engines condor 2>&1)
expect_match "engines add --engines condor: refused" "$out" "unknown launcher 'condor'"
out=$(mc engines add 1 --launcher-opt partition=x 2>&1)
expect_match "engines add with an option local does not take: refused" "$out" "has no option 'partition'"
out=$(mc engines stop 0 99 2>&1)
expect_match "engines stop of an unknown id: refused" "$out" "engine 99 is not registered"
out=$(mc engines stop --job a99 2>&1)
expect_match "engines stop --job a99: refused" "$out" "no allocation or batch job 'a99'"
expect "nothing changed by the bad requests" "$(count)" 3

# An engine stopped while it runs tasks: they go back to the queue.
JOB=$(mcj map sleep 100:160 --async | tr -d '"')
busy () { mcj engines | grep -q '"id":2,[^}]*"inflight":[1-9]'; }
wait_for 10 busy || fail "engine 2 never got work"
mc engines stop 2 > /dev/null || fail "engines stop 2"
wait_for 10 count_is 2 && pass "engines stop 2: 2 engines left" || fail "engines stop 2: $(mc engines)"
timeout 60 "$BIN/mcclient" wait "$JOB" --timeout 50 > /dev/null || fail "wait $JOB"
expect "the job has all 60 results" "$(mcj get "$JOB" | tr ',' '\n' | grep -c null)" 60
expect "and none failed" "$(mcj status "$JOB" | grep -o '"failed":[0-9]*')" '"failed":0'
mc engines stop --job a2 > /dev/null || fail "engines stop --job a2"
wait_for 10 count_is 1 && pass "engines stop --job a2: its last engine stopped" || fail "stop --job a2: $(mc engines)"
expect "a2 is cancelled" "$(mcj allocations | grep -o '"id":"a2"[^}]*"state":"[a-z]*"' | grep -o '"state":"[a-z]*"')" \
    '"state":"cancelled"'
mc shutdown > /dev/null; wait_for 10 bash -c "! kill -0 $CTRL_PID 2>/dev/null"

# --autoscale 1:3: MIN at once, MAX while tasks wait, back to MIN when idle.
start_cluster 0 --autoscale 1:3 --set autoscale_idle_s=1
wait_for 10 count_is 1 && pass "autoscale 1:3: MIN (1 engine) started with no work" || fail "autoscale: $(mc engines)"
JOB=$(mcj map sleep 100:190 --async | tr -d '"')
wait_for 15 count_is 3 && pass "autoscale: grew to MAX (3) while tasks waited" || fail "autoscale grow: $(mc engines)"
timeout 60 "$BIN/mcclient" wait "$JOB" --timeout 50 > /dev/null || fail "wait $JOB"
expect "autoscale: the job has all 90 results" "$(mcj get "$JOB" | tr ',' '\n' | grep -c null)" 90
wait_for 15 count_is 1 && pass "autoscale: idle engines given back, down to MIN" || fail "autoscale shrink: $(mc engines)"
sleep 2
expect "autoscale: never below MIN" "$(count)" 1
finish
