#!/bin/bash
# Fair share (mc_proto.md §5, "Fair share"): jobs share the engines instead
# of queueing one behind the other. On 2 engines with `sleep` tasks of 50 ms
# (long enough for the order to hold on a loaded machine): a short job
# behind a long one starts at once; two equal jobs end together; a higher
# priority overtakes, and renice moves a job while it runs; two users with
# weights 2:1 (share.NAME) get 2:1 of the tasks. The order of each job's
# results is unchanged (retries and resume have their own tests).
. "$(dirname "$0")/lib.sh"

# The users' weights, read at start; then alice's and bob's keys.
printf 'share.alice = 2\nshare.bob = 1   # the default, said\n' > "$MCCLUSTER_DIR/mccluster.conf"
start_cluster 2
mc trust add --client --name alice -o "$MCCLUSTER_DIR/alice.json" > /dev/null || fail "trust add alice"
mc trust add --client --name bob -o "$MCCLUSTER_DIR/bob.json" > /dev/null || fail "trust add bob"
as () { local who=$1; shift; MCCLUSTER_CLIENT="$(cat "$MCCLUSTER_DIR/$who.json")" "$BIN/mcclient" "$@"; }

# A JSON list of n times ms.
list () { python3 -c "import sys; print([int(sys.argv[2])] * int(sys.argv[1]))" "$1" "$2"; }
job_id () { grep -o 'j[0-9]*' | head -1; }
field () { mcj status "$1" | python3 -c "import json, sys; print(json.load(sys.stdin)['$2'])"; }
now () { date +%s.%N; }
elapsed () { python3 -c "import sys; print('%.3f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
# less A B: true when A < B (floats).
less () { python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)" "$1" "$2"; }
finished () { [ "$(field "$1" state)" != running ] && [ "$(field "$1" state)" != queued ]; }

# --- 1. apply behind a 200 x 50 ms map: it used to wait for the whole map
# (4.8 s); now it starts at the next free engine.
long=$(mc map --async sleep "$(list 200 50)" | job_id)
wait_for 10 bash -c "[ \"\$('$BIN/mcclient' --json status $long | grep -o '\"done\":[0-9]*' | cut -d: -f2)\" -ge 4 ]" \
    || fail "the long job did not start"
t0=$(now)
out=$(mc apply square 2)
t=$(elapsed "$t0" "$(now)")
expect "apply behind a long job: its answer" "$out" "4"
echo "apply square 2 behind 200 x 50 ms on 2 engines: $t s"
less "$t" 1.5 && pass "apply behind a long job took $t s (the long job needs 5 s)" \
    || fail "apply behind a long job took $t s"
expect_match "the long job is still running" "$(field "$long" state)" "running"
mc abort "$long" > /dev/null
wait_for 20 finished "$long" || fail "the long job did not end after abort"

# --- 2. Two equal jobs submitted together end within about 10% of each
# other, each with its results in order.
t0=$(now)
a=$(mc map --async sleep "$(list 40 50)" | job_id)
b=$(mc map --async sleep "$(list 40 50)" | job_id)
wait_for 60 finished "$a" && wait_for 60 finished "$b" || fail "the equal jobs did not finish"
da=$(elapsed "$t0" "$(field "$a" finished)")
db=$(elapsed "$t0" "$(field "$b" finished)")
# "Together" is as together as two client processes can submit: job a has
# the engines alone until b arrives (seconds apart under the sanitizers), and
# may end that much earlier.
gap=$(elapsed "$(field "$a" submitted)" "$(field "$b" submitted)")
python3 -c "import sys; a, b, gap = map(float, sys.argv[1:]); sys.exit(0 if abs(a - b) <= 0.1 * max(a, b) + 0.1 + gap else 1)" \
    "$da" "$db" "$gap" && pass "equal jobs end together ($da s, $db s; b submitted $gap s after a)" \
    || fail "equal jobs end at $da s and $db s (b submitted $gap s after a)"
expect_match "the first job's items all done" "$(mcj status "$a")" '"done":40,"failed":0'

# --- 3. A higher priority overtakes: its tasks go before the long job's.
# Counted in the store, from the tasks' start times: how many of the long
# job's tasks started while another job's tasks were starting.
between () {
    python3 - "$MCCLUSTER_DIR/store.db" "${1#j}" "${2#j}" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
starts = lambda job: [r[0] for r in db.execute("SELECT started_us FROM results WHERE job = ?", (int(job),))]
other = starts(sys.argv[3])
print(sum(1 for t in starts(sys.argv[2]) if min(other) < t < max(other)) if other else -1)
PY
}
long=$(mc map --async sleep "$(list 300 50)" | job_id)
wait_for 10 bash -c "[ \"\$('$BIN/mcclient' --json status $long | grep -o '\"done\":[0-9]*' | cut -d: -f2)\" -ge 2 ]" \
    || fail "the long job did not start"
high=$(mc map --async --priority 5 sleep "$(list 10 50)" | job_id)
wait_for 20 finished "$high" || fail "the high-priority job did not finish"
expect "the high-priority job's status shows its priority" "$(field "$high" priority)" "5"
n=$(between "$long" "$high")
[ "$n" -ge 0 ] && [ "$n" -le 1 ] && pass "priority 5 overtook (the long job started $n tasks meanwhile)" \
    || fail "the long job started $n tasks while the high-priority one ran"
# A job sharing the engines with the long one keeps its results' order.
expect "results in order beside a long job" "$(mcj map square 0:30 | tr -d ' ')" \
    "$(python3 -c 'print([i * i for i in range(30)])' | tr -d ' ')"

# --- 4. renice: a job at priority -5 waits behind the long one, and
# overtakes it once reniced to 5.
low=$(mc map --async --priority -5 sleep "$(list 10 50)" | job_id)
sleep 0.5
expect "a lower priority waits" "$(field "$low" done)" "0"
expect_match "renice" "$(mc renice "$low" 5)" "priority 5 \\(was -5\\)"
wait_for 20 finished "$low" || fail "the reniced job did not finish"
n=$(between "$long" "$low")
[ "$n" -ge 0 ] && [ "$n" -le 1 ] && pass "renice to 5 overtook (the long job started $n tasks meanwhile)" \
    || fail "the long job started $n tasks while the reniced one ran"
expect "renice of a finished job" "$(mc renice "$low" 1 2>&1)" "mcclient: job $low has finished: nothing to renice"
expect_match "queue shows the long job" "$(mc queue)" "user owner \\(weight 1\\): [0-9]+ queued, [0-9]+ running.*$long +priority 0 "
mc abort "$long" > /dev/null
wait_for 20 finished "$long" || fail "the long job did not end after abort"

# --- 5. Users by weight: alice (2) and bob (1) each run a long job; while
# both have tasks waiting, alice gets about twice bob's tasks.
ja=$(as alice map --async sleep "$(list 150 50)" | job_id)
jb=$(as bob map --async sleep "$(list 150 50)" | job_id)
expect "the job's user is its key's name" "$(field "$jb" user)" "bob"
expect "bob may not renice alice's job" "$(as bob renice "$ja" 9 2>&1)" \
    "mcclient: job $ja is alice's: only its owner or the cluster's owner may renice it"
counts () { echo "$(field "$ja" done) $(field "$jb" done)"; }
# Counted from when bob's job runs too: alice's had the engines alone until
# it arrived (a client process later; longer under the sanitizers).
bob_runs () { read -r x0 y0 < <(counts); [ "$y0" -ge 1 ]; }
wait_for 30 bob_runs || fail "bob's job did not start"
read -r x0 y0 < <(counts)
enough () { read -r x y < <(counts); [ $((x + y - x0 - y0)) -ge 75 ]; }
wait_for 60 enough || fail "the users' jobs did not run"
read -r x y < <(counts)
x=$((x - x0)) y=$((y - y0))
queue=$(mc queue)
python3 -c "import sys; x, y = int(sys.argv[1]), int(sys.argv[2]); sys.exit(0 if y > 0 and 1.6 <= x / y <= 2.5 else 1)" "$x" "$y" \
    && pass "weights 2:1 gave alice $x tasks and bob $y" || fail "weights 2:1 gave alice $x tasks and bob $y"
expect_match "queue shows the users and weights" "$queue" "user alice \\(weight 2\\): [0-9]+ queued, [0-9]+ running"
expect_match "queue shows bob's job" "$queue" "user bob \\(weight 1\\).*$jb +priority 0 "
mc abort "$ja" > /dev/null
mc abort "$jb" > /dev/null
wait_for 20 finished "$ja" && wait_for 20 finished "$jb" || fail "the users' jobs did not end after abort"
finish
