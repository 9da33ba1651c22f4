#!/bin/bash
# The store: its files are private; a damaged store is refused at start with
# how to move it aside; a full disk (a 2 MB tmpfs, needs root, else skipped)
# fails loudly, never reports a job done without its results, and recovers
# by itself when space returns.
. "$(dirname "$0")/lib.sh"

BASE=$MCCLUSTER_DIR
SMALL=$BASE/small
cleanup_store () {
    MCCLUSTER_DIR=$BASE/none cleanup    #  the processes; the files below
    if mountpoint -q "$SMALL" 2>/dev/null; then umount "$SMALL" || umount -l "$SMALL"; fi
    rm -rf "$BASE"
}
trap cleanup_store EXIT

gone () { ! kill -0 "$1" 2>/dev/null; }
# stop_cluster: shutdown, then wait for the controller to exit (it closes
# the store, which folds the WAL back into store.db).
stop_cluster () {
    mc shutdown >/dev/null 2>&1
    wait_for 20 gone "$CTRL_PID" || fail "the controller did not stop"
    wait "$CTRL_PID" 2>/dev/null
}

# (c) Every file of the store is private (ipclusterd's umask is 077 and
# mc_store creates them 0600 itself).
start_cluster 1
out=$(mcj map square 0:2000); rc=$?
expect "a job of 2000 items" "$rc" "0"
for f in store.db store.db-wal store.db-shm; do
    expect_match "$f is private" "$(stat -c %a "$MCCLUSTER_DIR/$f" 2>&1)" "^600$"
done
stop_cluster

# (b) A damaged store is refused, saying how to move it aside, exit 1; the
# store it was copied from still serves.
DAMAGED=$BASE/damaged
mkdir -m 700 "$DAMAGED"
cp "$MCCLUSTER_DIR/store.db" "$DAMAGED/store.db"
pages=$(( $(stat -c %s "$DAMAGED/store.db") / 4096 ))
[ "$pages" -ge 7 ] && pass "the store has $pages pages" || fail "the store has only $pages pages"
dd if=/dev/urandom of="$DAMAGED/store.db" bs=4096 seek=2 count=4 conv=notrunc status=none
err=$(timeout 20 "$BIN/ipclusterd" --profile-dir "$DAMAGED" 2>&1); rc=$?
expect "damaged store: exit status" "$rc" "1"
expect_match "damaged store: message" "$err" "store $DAMAGED/store.db is damaged"
expect_match "damaged store: how to move it aside" "$err" "mv $DAMAGED/store.db $DAMAGED/store.db.damaged"
start_cluster 1
out=$(mcj get j1); rc=$?
expect "the undamaged store still answers" "$rc" "0"
expect_match "with its results" "$out" '^\[0,1,4,9,'
stop_cluster

# (a) A full disk. Needs root for the tmpfs.
if [ "$(id -u)" != 0 ]; then
    echo "skip: the full-disk check needs root (mount -t tmpfs)"
    finish; exit 0
fi
mkdir -m 700 "$SMALL"
if ! mount -t tmpfs -o size=2m,mode=700 tmpfs "$SMALL" 2>/dev/null; then
    echo "skip: the full-disk check cannot mount a tmpfs here"
    finish; exit 0
fi
export MCCLUSTER_DIR=$SMALL
LOG=$BASE/small.out                     #  not on the full disk
"$BIN/ipclusterd" -n 1 --set store_fail_ms=3000 > "$LOG" 2>&1 &
CTRL_PID=$!
PIDS+=("$CTRL_PID")
wait_for 20 grep -q ready "$LOG" || { fail "cluster on the tmpfs did not start"; cat "$LOG" >&2; exit 1; }
out=$(mcj map square 0:10); rc=$?
expect "a job before the disk is full" "$rc" "0"

# j2 keeps the engine busy while j3, committed, waits behind it; the disk
# fills; then j3 and j4 (submitted with --wait, so not committed at once)
# run, and their results cannot all be stored.
j2=$(mc map --async sleep '[1500]')
j3=$(mc map --async --chunksize 1 echo 0:3000)
expect "two async jobs" "$j2 $j3" "j2 j3"
dd if=/dev/zero of="$SMALL/filler" bs=16k status=none 2>/dev/null
out=$(mcj map --chunksize 1 echo 0:3000 2>&1); rc=$?
if [ "$rc" = 0 ]; then
    # Reported done: then every result must be there.
    n=$(echo "$out" | python3 -c 'import json,sys; print(sum(v is not None for v in json.load(sys.stdin)["results"]))')
    expect "a job reported done has all its results" "$n" "3000"
    fail "the full disk did not fail the store (the test's disk was not full enough)"
else
    expect_match "a job on a full disk fails with the store's error" "$out" \
        "failed: results not stored: store (commit|write|begin) failed: .*\($SMALL/store.db\)"
fi
# Waiting for j3: the store's error when it fails, or its failed state
# when it already has.
err=$(mc wait j3 --timeout 30 2>&1); rc=$?
expect "waiting for a committed job on a full disk: exit status" "$rc" "1"
expect_match "waiting for a committed job on a full disk: failed" "$err" \
    "job j3 failed: results not stored: store (commit|write|begin) failed: .*\($SMALL/store.db\)|j3: failed \(0 done, 3000 failed of 3000\)"
if grep -qE "store: (commit|write|begin) failed" "$LOG"; then
    # The daemon keeps serving what does not need the store ...
    expect "ids while the store fails" "$(mcj ids)" "[0]"
    # ... and refuses, clearly, what does.
    err=$(mc map --async square 0:3 2>&1); rc=$?
    expect "async submit while the store fails: exit status" "$rc" "1"
    expect_match "async submit while the store fails: message" "$err" "store .*($SMALL/store.db)"
    err=$(mc get j1 2>&1); rc=$?
    expect "result while the store fails: exit status" "$rc" "1"
    expect_match "result while the store fails: message" "$err" "cannot read job j1: store"
    # Once per incident in the log, not every tick.
    said=$(grep -cE "store: (commit|write|begin) failed" "$LOG")
    expect "the failure is logged once" "$said" "1"
fi

# Space returns: the store recovers by itself, and later jobs work.
rm -f "$SMALL/filler"
if wait_for 10 grep -q "store: recovered after" "$LOG"; then pass "the store recovered"
else fail "the store did not recover"; tail -5 "$LOG" >&2; fi
out=$(mcj map square 0:10); rc=$?
expect "a job after recovery" "$rc" "0"
expect "with its results" "$out" '[0,1,4,9,16,25,36,49,64,81]'
job=$(mc map --async square 0:5); rc=$?
expect "async submit after recovery" "$rc" "0"
mc wait "$job" --timeout 20 >/dev/null
out=$(mcj get "$job")
expect "its results" "$out" '[0,1,4,9,16]'
# A committed job that failed for the store is failed there too, saying
# why; one whose submit was never committed either is unknown (its client
# was told it failed).
expect_match "the failed job is failed in the store" "$(mcj status j3)" '"state":"failed"'
expect_match "with the store's error" "$(mc get j3 2>&1)" "results not stored: store (commit|write|begin) failed"
out=$(mcj status j4 2>&1)
if [[ "$out" =~ "no job j4" ]]; then pass "the failed job, never committed, is unknown"
else expect_match "the failed job is failed in the store" "$out" '"state":"failed"'; fi
echo "the controller said:"; grep -E "store|j[0-9]" "$LOG" | sed 's/^/    /'
finish
