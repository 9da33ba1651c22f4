#!/bin/bash
# The CLI of issue 2, exactly, on a 4-engine cluster.
. "$(dirname "$0")/lib.sh"
start_cluster 4

expect "ids" "$(mcj ids)" "[0,1,2,3]"
expect_match "engines" "$(mcj engines)" '^\[\{"id":0,"host":"[^"]+","pid":[0-9]+,"state":"idle","done":0,'
squares="[$(seq 0 99 | awk '{printf "%s%d", (NR>1?",":""), $1*$1}')]"
expect "map" "$(mcj map square 0:100)" "$squares"
expect "map chunksize" "$(mcj map --chunksize 10 square 0:100)" "$squares"
expect "map chunksize 7" "$(mcj map --chunksize 7 square 0:100)" "$squares"
expect "map json array" "$(mcj map square '[1,2.5,-3]')" "[1,6.25,9]"
expect "map step" "$(mcj map square 10:0:-3)" "[100,49,16,1]"
expect "map empty" "$(mcj map square 5:5)" "[]"
expect "apply" "$(mcj apply square 2)" "4"
expect "apply float" "$(mcj apply square 1.5)" "2.25"
expect "apply echo list" "$(mcj apply echo '[1,"a",true]')" '[1,"a",true]'
expect "apply all" "$(mcj apply --targets all square 2)" "[4,4,4,4]"
expect "apply 0,2" "$(mcj apply --targets 0,2 square 2)" "[4,4]"
expect "apply 1:3" "$(mcj apply --targets 1:3 square 2)" "[4,4]"
expect "direct map" "$(mcj map --targets all square 0:8)" "[0,1,4,9,16,25,36,49]"
expect "direct map, fewer items than engines" "$(mcj map --targets all square 0:2)" "[0,1]"

job=$(mcj map --async sleep 0:20)
expect_match "async prints a job id at once" "$job" '^"j[0-9]+"$'
job=${job//\"/}
expect "ready while running" "$(mcj ready "$job")" "false"
mc wait "$job" --timeout 30 >/dev/null; rc=$?
expect "wait exit status" "$rc" "0"
expect "ready after wait" "$(mcj ready "$job")" "true"
expect "get" "$(mcj get "$job")" "[$(seq 20 | awk '{printf "%snull", (NR>1?",":"")}')]"
expect_match "status" "$(mcj status "$job")" "^\{\"job\":\"$job\",\"kind\":\"map\",\"kernel\":\"sleep\",\"state\":\"done\",\"total\":20,\"done\":20,\"failed\":0,\"tasks\":20,\"seed\":[0-9]+,\"submitted\":[0-9.]+,\"finished\":[0-9.]+,\"priority\":0,\"user\":\"owner\"\}$"
expect_match "jobs" "$(mcj jobs)" "^\[\{\"job\":\"$job\",.*\"state\":\"done\""
expect_match "queue" "$(mcj queue)" '^\{"queued":0,"engines":\[\{"id":0,"queued":0,"running":0\}'

# wait with a timeout on a job that takes longer
slow=$(mcj apply --async sleep 3000); slow=${slow//\"/}
mc wait "$slow" --timeout 0.3 >/dev/null 2>&1; rc=$?
expect "wait --timeout exit status" "$rc" "3"
mc get "$slow" >/dev/null 2>&1; rc=$?
expect "get of an unfinished job fails" "$rc" "1"

# A job outlives its client: submit, exit, fetch from another process.
job=$(mcj map --async square 0:5); job=${job//\"/}
mc wait "$job" >/dev/null
expect "results fetched later" "$(mcj get "$job")" "[0,1,4,9,16]"

# Failures: one message, counted, with the engines.
out=$(mcj apply --targets all fail boom 2>"$MCCLUSTER_DIR/err"); rc=$?
expect "fail exit status" "$rc" "1"
expect "fail json" "$out" '{"error":"tasks failed","job":"'"$(mcj jobs --limit 1 | grep -o '"job":"j[0-9]*"' | head -1 | cut -d'"' -f4)"'","errors":[{"error":"boom","count":4,"engines":[0,1,2,3],"tasks":[0,1,2,3]}]}'
expect "boom said once" "$(grep -o boom "$MCCLUSTER_DIR/err" | wc -l)" "1"
expect_match "engines named" "$(cat "$MCCLUSTER_DIR/err")" "engines 0,1,2,3"
out=$(mcj map fail '["x","x","y"]' 2>&1); rc=$?
expect "map with failures exits 1" "$rc" "1"
expect_match "distinct errors grouped" "$out" '"errors":\[\{"error":"x","count":2,.*\{"error":"y","count":1'

# Bad input: one-line error naming the problem, non-zero exit, cluster keeps serving.
check_bad () {
    local desc=$1 pattern=$2; shift 2
    local err rc
    err=$("$@" 2>&1 >/dev/null); rc=$?
    if [ $rc -ne 0 ] && [ "$(echo "$err" | wc -l)" -eq 1 ] && [[ "$err" =~ $pattern ]]; then pass "$desc"
    else fail "$desc: rc=$rc err='$err'"; fi
}
check_bad "unknown kernel" "unknown kernel 'nosuch'" mc apply nosuch 1
check_bad "unknown target" "no engine 9" mc apply --targets 9 square 1
check_bad "malformed range" "malformed range '0:x'" mc map square 0:x
check_bad "malformed targets" "bad --targets" mc apply --targets 1:x square 1
check_bad "malformed JSON" "malformed JSON" mc map square '[1,'
check_bad "unknown job" "no job j999999" mc get j999999
check_bad "bad job id" "job id" mc status nonsense
check_bad "wrong argument type" "expected an int, a float" mc apply square abc
check_bad "unknown command" "unknown command" mc frobnicate
check_bad "unknown option" "unknown option '--frob'" mc map --frob square 0:3
check_bad "bad chunksize" "bad --chunksize" mc map --chunksize 0 square 0:3
expect "still serving" "$(mcj apply square 3)" "9"

# A direct map over explicit targets keeps its order.
expect "direct map 0,2" "$(mcj map --targets 0,2 square 0:5)" "[0,1,4,9,16]"
expect "seeded job records its seed" "$(mcj map --async --seed 7 noop 0:1 | xargs -I{} "$BIN/mcclient" --json status {} | grep -o '"seed":7,')" '"seed":7,'

# A connection file or profile directory that others could write is
# refused, naming it and its mode; nothing else changes.
conn="$MCCLUSTER_DIR/client.json"
chmod 0666 "$conn"
err=$(mc ids 2>&1); rc=$?
expect "client refuses a file others can write" "$rc" "1"
expect_match "client names the file and mode" "$err" "$conn is writable by others \(mode 0666\)"
chmod 0600 "$conn"
econn="$MCCLUSTER_DIR/engine.json"
chmod 0666 "$econn"
err=$("$BIN/mcengine" --file "$econn" --give-up 1 2>&1); rc=$?
[ "$rc" != 0 ] && pass "engine refuses a file others can write" || fail "engine took a file others can write"
expect_match "engine names the file and mode" "$err" "$econn is writable by others \(mode 0666\)"
chmod 0600 "$econn"
chmod 0777 "$MCCLUSTER_DIR"
err=$(mc ids 2>&1); rc=$?
expect "client refuses a directory others can write" "$rc" "1"
expect_match "client names the directory and mode" "$err" "directory $MCCLUSTER_DIR is writable by others \(mode 0777\)"
other=$(mktemp -d /tmp/mc-it-other.XXXXXX)
chmod 0777 "$other"
err=$("$BIN/ipclusterd" --profile-dir "$other" 2>&1); rc=$?
rmdir "$other"
expect "controller refuses a profile others can write" "$rc" "1"
expect_match "controller names the directory" "$err" "directory $other is writable by others"
chmod 0700 "$MCCLUSTER_DIR"
expect "still serving after the refusals" "$(mcj apply square 4)" "16"
finish
