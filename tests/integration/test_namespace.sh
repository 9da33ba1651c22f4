#!/bin/bash
# Engine namespaces (issue 3): push, pull, scatter, gather, del, names,
# @name arguments and --out, files and stdin, typed arrays, limits and bad
# input, on an 8-engine cluster.
. "$(dirname "$0")/lib.sh"
start_cluster 8 --set max_value_bytes=100000000 --set max_client_bytes=120000000
D=$MCCLUSTER_DIR

expect "push then pull" "$(mc push a=1; mcj pull a)" "[1,1,1,1,1,1,1,1]"
expect "pull two names" "$(mc push b='"x"'; mcj pull a b)" \
  '[[1,"x"],[1,"x"],[1,"x"],[1,"x"],[1,"x"],[1,"x"],[1,"x"],[1,"x"]]'
expect "scatter 0:16" "$(mc scatter a 0:16; mcj pull a)" "[[0,1],[2,3],[4,5],[6,7],[8,9],[10,11],[12,13],[14,15]]"
expect "gather" "$(mcj gather a)" "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]"
expect "apply @a --out a" "$(mcj apply --targets all square @a --out a)" "[null,null,null,null,null,null,null,null]"
expect "chained gather" "$(mcj gather a)" "[0,1,4,9,16,25,36,49,64,81,100,121,144,169,196,225]"
expect "@name without --out" "$(mcj apply --targets 1 square @a)" "[[16,81]]"
expect "@name as keyword and in a map" "$(mc push k=3; mcj map --targets 0 echo 0:2 x=@k)" "[0,1]"
expect "4 items over 8" "$(mc scatter a 0:4; mcj pull a)" "[[0],[1],[2],[3],[],[],[],[]]"
sizes=$(mc scatter a 0:50; mcj pull a | python3 -c 'import json,sys; print(",".join(str(len(p)) for p in json.load(sys.stdin)))')
expect "50 items over 8" "$sizes" "7,7,6,6,6,6,6,6"
expect "0 items" "$(mc scatter a '[]'; mcj pull a)" "[[],[],[],[],[],[],[],[]]"
expect "round robin" "$(mc scatter --dist r a 0:10; mcj pull a)" "[[0,8],[1,9],[2],[3],[4],[5],[6],[7]]"
expect "round robin gather" "$(mcj gather --dist r a)" "[0,1,2,3,4,5,6,7,8,9]"
expect "targets restrict scatter" "$(mc scatter --targets 1,3 c 0:5; mcj pull --targets 1,3 c)" "[[0,1,2],[3,4]]"
expect "targets restrict gather" "$(mcj gather --targets 1,3 c)" "[0,1,2,3,4]"
expect "targets restrict push" "$(mc push --targets 2:4 p=5; mcj pull --targets 2:4 p)" "[5,5]"
mc pull --targets 0 p > /dev/null 2>"$D/err"; rc=$?
expect "push left others alone" "$rc" "1"
expect_match "missing name names engine and name" "$(cat "$D/err")" "engine 0: name 'p' is not defined"

# Every type round trips.
for value in 7 -3 2.5 '"text"' true false null '[1,[2,"z"],{"k":null}]' '{"a":1,"b":[true]}'; do
  expect "round trip $value" "$(mc push --targets 0 v="$value"; mcj pull --targets 0 v)" "[$value]"
done
python3 -c 'import struct; open("'$D'/d.f64","wb").write(struct.pack("<10d",*[i/4 for i in range(10)]))'
python3 -c 'import struct; open("'$D'/d.i64","wb").write(struct.pack("<5q",-2**62,-1,0,1,2**62))'
expect "f64 array round trip" "$(mc push --targets 0 --type f64 v=@"$D/d.f64"; mcj pull --targets 0 v)" \
  "[[0.0,0.25,0.5,0.75,1.0,1.25,1.5,1.75,2.0,2.25]]"
expect "i64 array round trip" "$(mc push --targets 0 --type i64 v=@"$D/d.i64"; mcj pull --targets 0 v)" \
  "[[-4611686018427387904,-1,0,1,4611686018427387904]]"
expect "shaped array" "$(mc push --targets 0 --type i64 v='[[1,2,3],[4,5,6]]'; mcj pull --targets 0 v)" "[[[1,2,3],[4,5,6]]]"
expect_match "names lists type and size" "$(mcj names --targets 0)" \
  '^\[\{"id":0,"names":\{.*"v":\{"type":"i64","size":6,"bytes":[0-9]+,"shape":\[2,3\]\}'

# Files and stdin, in and out.
echo '{"x":[1,2]}' > "$D/v.json"
expect "push @file.json" "$(mc push --targets 0 v=@"$D/v.json"; mcj pull --targets 0 v)" '[{"x":[1,2]}]'
echo '[5,6,7]' > "$D/s.json"
expect "scatter @file.json" "$(mc scatter --targets 0,1 s @"$D/s.json"; mcj gather --targets 0,1 s)" "[5,6,7]"
expect "scatter from stdin" "$(echo '[8,9]' | mc scatter --targets 0,1 s -; mcj pull --targets 0,1 s)" "[[8],[9]]"
mc scatter --type f64 f @"$D/d.f64"
expect "scatter f64 raw" "$(mcj pull --targets 0,7 f)" "[[0.0,0.25],[2.25]]"
mc gather f -o "$D/back.f64" --raw
expect "gather --raw gives the same bytes" "$(cmp "$D/d.f64" "$D/back.f64" && echo same)" "same"
mc scatter --dist r --type f64 f @"$D/d.f64"; mc gather --dist r f -o "$D/back.f64" --raw
expect "round robin raw round trip" "$(cmp "$D/d.f64" "$D/back.f64" && echo same)" "same"
mc apply --targets all square @f --out f > /dev/null
mc gather --dist r f -o "$D/sq.json"
expect "gather -o JSON, squared arrays" "$(cat "$D/sq.json")" "[0.0,0.0625,0.25,0.5625,1.0,1.5625,2.25,3.0625,4.0,5.0625]"
expect "del" "$(mc del s --targets 0,1; mc pull --targets 0 s 2>&1)" "mcclient: engine 0: name 's' is not defined"

# Bad input: a clear error, exit status 1 or 2, and nothing changed.
check_error () {  # DESCRIPTION REGEX COMMAND...
  local desc=$1 regex=$2; shift 2
  local out rc; out=$("$@" 2>&1); rc=$?
  if [ $rc -eq 0 ]; then fail "$desc: succeeded"; else expect_match "$desc" "$out" "$regex"; fi
}
check_error "malformed JSON" "JSON|malformed|expected" mc push a='[1,'
check_error "malformed JSON file" "not valid JSON" bash -c "echo '[1,' > $D/bad.json; $BIN/mcclient scatter a @$D/bad.json"
check_error "missing file" "cannot read '.*nosuch.json'" mc push a=@"$D/nosuch.json"
check_error "scatter of a non-list" "not a list" mc scatter a 5
check_error "i64 from floats" "rectangular list of integer" mc scatter --type i64 a '[1.5]'
check_error "raw file of odd size" "not a whole number of 8-byte" bash -c "printf abc > $D/odd.bin; $BIN/mcclient scatter --type f64 a @$D/odd.bin"
check_error "unknown name" "name 'zzz' is not defined" mc pull zzz
check_error "unknown @name" "name 'zzz' is not defined" mc apply --targets 0 square @zzz
check_error "engine that does not exist" "no engine 99" mc push --targets 99 a=1
check_error "bad name" "not a valid name" mc push 9a=1
check_error "bad --out" "--out needs a name" mc apply --targets 0 square 1 --out 1x
check_error "gather of a scalar" "not a list or an array" bash -c "$BIN/mcclient push q=1; $BIN/mcclient gather q"
check_error "raw gather of lists" "not an array" mc gather a -o "$D/x" --raw
check_error "raw gather of mixed dtypes" "'m' is i64\\[1\\] on engine 1 but f64\\[1\\] on engine 0" \
  bash -c "$BIN/mcclient scatter --targets 0 --type f64 m '[1.5]' && $BIN/mcclient scatter --targets 1 --type i64 m '[2]' && $BIN/mcclient gather --targets 0,1 m -o $D/x --raw"
check_error "raw gather, a name one engine lacks" "engine 2: name 'm' is not defined" mc gather --targets 0,1,2 m -o "$D/x" --raw
expect "nothing changed" "$(mcj gather --dist r a)" "[0,1,2,3,4,5,6,7,8,9]"

# Arrays of more than 4 MiB come in chunks (6 MB per engine here), put back
# together in order, by block and round robin, to a file and as JSON.
python3 -c 'import struct; open("'$D'/s.f64","wb").write(struct.pack("<1500000d",*[i/2 for i in range(1500000)]))'
mc scatter --targets 0,1 --type f64 s @"$D/s.f64"; mc gather --targets 0,1 s -o "$D/s.back" --raw
expect "streamed gather gives the same bytes" "$(cmp "$D/s.f64" "$D/s.back" && echo same)" "same"
expect "streamed pull as JSON" "$(mcj pull --targets 1 s | python3 -c 'import json,sys; v=json.load(sys.stdin)[0]; print(len(v), v[0], v[-1])')" \
  "750000 375000.0 749999.5"
mc scatter --dist r --targets 0,1 --type f64 s @"$D/s.f64"; mc gather --dist r --targets 0,1 s -o "$D/s.back" --raw
expect "streamed round robin gather" "$(cmp "$D/s.f64" "$D/s.back" && echo same)" "same"
# Streamed and small parts mixed: each goes to its place.
python3 -c 'import struct; open("'$D'/t.f64","wb").write(struct.pack("<3d",1,2,3))'
mc push --targets 0,2 --type f64 s=@"$D/s.f64"; mc push --targets 1 --type f64 s=@"$D/t.f64"
mc gather --targets 0,1,2 s -o "$D/s.back" --raw
expect "streamed and small parts" "$(cat "$D/s.f64" "$D/t.f64" "$D/s.f64" | cmp - "$D/s.back" && echo same)" "same"
# A later part that comes first (engine 0 answers after a sleep) waits for
# the sizes of the parts before it, then goes to its place; one whose reply
# is in while they are still unknown is joined at the end.
mc scatter --targets 0,1 --type f64 s @"$D/s.f64"
mc apply --targets 0 --async sleep 300 > /dev/null; mc gather --targets 0,1 s -o "$D/s.back" --raw
expect "a later part first" "$(cmp "$D/s.f64" "$D/s.back" && echo same)" "same"
mc push --targets 0 --type f64 s=@"$D/t.f64"; mc push --targets 1 --type f64 s=@"$D/s.f64"
mc apply --targets 0 --async sleep 300 > /dev/null; mc gather --targets 0,1 s -o "$D/s.back" --raw
expect "a later part complete first" "$(cat "$D/t.f64" "$D/s.f64" | cmp - "$D/s.back" && echo same)" "same"
mc del --targets 0,1,2 s

# Limits: values over max_value_bytes are refused before sending; results
# over max_client_bytes fail; the controller keeps serving.
head -c 100000008 /dev/zero > "$D/big.f64"
check_error "value over max_value_bytes" "max_value_bytes=100000000; nothing was sent" \
  mc push --targets 0 --type f64 big=@"$D/big.f64"
head -c 41000000 /dev/zero > "$D/mid.f64"
mc push --type f64 --targets 0 m1=@"$D/mid.f64" m2=@"$D/mid.f64" m3=@"$D/mid.f64"
check_error "results over max_client_bytes" "max_client_bytes" mc pull --targets 0 m1 m2 m3
expect "still serving" "$(mc del --targets 0 m1 m2 m3; mcj ids)" "[0,1,2,3,4,5,6,7]"

# An engine that cannot allocate reports the error and keeps running (an
# idle engine reserves about 90 MB of address space; h takes 96 MB more).
# (AddressSanitizer reserves terabytes of address space: no ulimit -v there.)
if [ "${MC_SANITIZE:-OFF}" == "ON" ]; then echo "skip: allocation failure under ASan"; finish; exit; fi
(ulimit -v 240000; exec "$BIN/mcengine" > "$D/small.log" 2>&1) &
PIDS+=($!)
wait_for 10 ids_are "[0,1,2,3,4,5,6,7,8]" || fail "the small engine did not register"
head -c 96000000 /dev/zero > "$D/huge.f64"
mc push --targets 8 --type f64 h=@"$D/huge.f64" 2>&1
check_error "kernel output that cannot be allocated" "cannot allocate 96000000 bytes" \
  mc apply --targets 8 square @h --out h2
expect "the engine keeps running" "$(mcj apply --targets 8 echo 1)" "[1]"
finish
