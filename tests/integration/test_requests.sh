#!/bin/bash
# Every request gets its answer, at once when it is refused: a request the
# controller cannot decode is answered to its own id (and a client takes an
# error to id 0 as its answer), and a submit past a named limit is refused
# before the controller makes any task of it. The controller keeps serving.
. "$(dirname "$0")/lib.sh"
# Small byte limits, so that a command line can pass them; the defaults
# of the item limit stand (issue 14's commands must be refused with them).
start_cluster 2 --set max_task_bytes=100000 --set max_job_bytes=1000000

# refused DESCRIPTION REGEX ARGS...: mcclient ARGS fails within 10 s
# (never hangs), with exactly one line that matches.
refused () {
    local desc=$1 regex=$2; shift 2
    local out rc start=$SECONDS
    out=$(timeout 10 "$BIN/mcclient" "$@" 2>&1); rc=$?
    if [ $rc -eq 124 ]; then fail "$desc: no answer within 10 s"; return; fi
    if [ $rc -eq 0 ]; then fail "$desc: succeeded: $out"; return; fi
    expect "$desc: one line" "$(printf '%s\n' "$out" | wc -l)" "1"
    expect_match "$desc: says why" "$out" "$regex"
    [ $((SECONDS - start)) -le 5 ] && pass "$desc: within 5 s" || fail "$desc: took $((SECONDS - start)) s"
}

# Nested 64 deep, inside args (and the body's map): past the 64 levels a
# request may nest, so the controller cannot decode it.
deep=$(printf '[%.0s' $(seq 64))$(printf ']%.0s' $(seq 64))
refused "apply of a value nested too deep" "malformed request" apply echo "$deep"
refused "apply --async of it" "malformed request" apply --async echo "$deep"
refused "push of it" "malformed request" push "x=$deep"

# Limits at submit: named, with their values; nothing is split or packed.
refused "chunks of 4294967295 items" "max_items_per_task=10000000" \
    map --chunksize 4294967295 noop 0:4294967295
refused "chunks of 100000000 items" "max_items_per_task=10000000" \
    map --chunksize 100000000 noop 0:100000000
refused "a task past max_task_bytes" "max_task_bytes=100000" map --chunksize 40000 noop 0:40000
refused "a direct block past max_items_per_task" "max_items_per_task=10000000.*more engines" \
    map --targets 0 noop 0:20000000
arg=$(head -c 100000 /dev/zero | tr '\0' a)
refused "a request past max_job_bytes" "max_job_bytes=1000000" \
    apply noop "$arg" "$arg" "$arg" "$arg" "$arg" "$arg" "$arg" "$arg" "$arg" "$arg" "$arg"
refused "more tasks than max_queued_tasks" "max_queued_tasks" map noop 0:20000000
refused "a range of 2^64-1 items" "max_queued_tasks" \
    map --chunksize 1000 noop -9223372036854775808:9223372036854775807
# Just under the limits passes.
expect "a task just under the limits" "$(mcj map --chunksize 20000 noop 0:20000 | head -c 12)" "[null,null,n"

# Raw requests that do not decode: the error comes back to their own id.
R=$BIN/tests/mc_rawpeer
for what in nested truncated; do
    out=$("$R" --keys "$MCCLUSTER_DIR/client.json" --send $what 2>"$MCCLUSTER_DIR/raw.err")
    expect "raw $what request refused as MALFORMED" "$out" "ok REPLY 1"
    expect "raw $what request: the reply carries its id" "$(grep -o 'reply req: [0-9]*' "$MCCLUSTER_DIR/raw.err")" \
        "reply req: 4242"
done
out=$("$R" --keys "$MCCLUSTER_DIR/client.json" --send nested --count 3 2>"$MCCLUSTER_DIR/raw.err")
expect "three at once: each to its own id" "$(grep -o 'reply req: [0-9]*' "$MCCLUSTER_DIR/raw.err" | sort | tr '\n' ' ')" \
    "reply req: 4242 reply req: 4243 reply req: 4244 "

# Still serving, and none of it made the controller grow.
kill -0 "$CTRL_PID" && pass "controller alive" || fail "controller died"
expect "still serving" "$(mcj map square 0:4)" "[0,1,4,9]"
rss=$(awk '/VmRSS/ { print $2 }' "/proc/$CTRL_PID/status")
[ "$rss" -lt 500000 ] && pass "controller RSS ${rss} kB" || fail "controller RSS ${rss} kB"
finish
