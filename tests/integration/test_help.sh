#!/bin/bash
# Help where people look for it (issue 18): `mcclient help CMD`, `CMD
# --help` and `-h` for every command, the same for ipclusterd and mcengine;
# one spelling of the histogram options, the old one with a note; and the
# bash completion, with kernel names and job ids from a running cluster.
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)

commands=$(mc help --complete)
expect_match "help --complete lists the commands" "$(echo $commands)" '^ids engines .*map apply .*gather .*purge help$'
for cmd in $commands; do
    out=$(mc help "$cmd"); rc=$?
    expect "help $cmd: status" "$rc" 0
    expect_match "help $cmd: usage, options, example" "$out" "^usage: mcclient \[GLOBAL OPTIONS\] $cmd.*Options:.*-h, --help.*Example:
  mcclient $cmd"
    expect "$cmd --help is help $cmd" "$(mc "$cmd" --help; echo "rc=$?")" "$out
rc=0"
    expect "$cmd -h is help $cmd" "$(mc "$cmd" -h)" "$out"
    # Every option shown has its one line, and every option its parser
    # takes (as help --complete gives them) is shown.
    while read -r name value; do
        [ "$name" = @args ] && continue
        [[ "$out" == *"$name"* ]] || fail "help $cmd does not show $name"
    done < <(mc help --complete "$cmd")
done
expect_match "map --help shows the histogram options" "$(mc map --help)" '--reduce sum\|hist2d.*--bins NXxNY.*--range x0:x1,y0:y1.*--png FILE'
expect_match "gather --help: the same spelling" "$(mc gather --help)" '--reduce hist2d.*--bins NXxNY.*--range x0:x1,y0:y1.*--png FILE'
[[ "$(mc gather --help)" != *--hist* ]] || fail "gather --help shows the old --hist"
out=$(mc --help); expect "mcclient --help: status" "$?" 0
expect_match "mcclient --help lists commands" "$out" 'Cluster:.*Work.*Engine namespaces.*Jobs.*mcclient help COMMAND'
out=$(mc help nosuch 2>&1); rc=$?
expect "help of an unknown command: status 2" "$rc" 2
expect_match "help of an unknown command: said" "$out" "unknown command 'nosuch'"
out=$(mc map --frob 2>&1 >/dev/null); expect "bad option: status 2" "$?" 2
expect "bad option: said in one line, naming the command's help" "$out" \
       "mcclient: unknown option '--frob' (see mcclient help map)"
out=$(mc 2>&1); expect "no command: status 2" "$?" 2
expect_match "no command: the commands on stderr" "$out" '^usage: mcclient'

for prog in ipclusterd mcengine; do
    out=$("$BIN/$prog" --help); rc=$?
    expect "$prog --help: status" "$rc" 0
    expect_match "$prog --help: usage, options, example" "$out" "^usage: $prog .*--profile-dir.*Examples?:
  $prog"
    expect "$prog -h is --help" "$("$BIN/$prog" -h)" "$out"
    "$BIN/$prog" --frob >/dev/null 2>&1; expect "$prog bad option: status 2" "$?" 2
done

# The histogram of gathered points: the new spelling, and the old one
# with its note, give the same counts.
start_cluster 2
# A -h after -- is an argument, not a request for help.
expect "-- -h is an argument" "$(mcj apply echo -- -h 2>&1)" "$(printf '"%s"' -h)"
mc apply --targets all walker steps=2000 --seed 3 --out pts >/dev/null || fail "walker --out"
new=$(mcj gather pts --reduce hist2d --bins 4x3 2>"$MCCLUSTER_DIR/err")
expect "gather --reduce hist2d: no note" "$(cat "$MCCLUSTER_DIR/err")" ""
expect_match "gather --reduce hist2d --bins 4x3: 3 rows of 4" "$new" '^\[\[[0-9]+(,[0-9]+){3}\](,\[[0-9]+(,[0-9]+){3}\]){2}\]$'
old=$(mcj gather pts --hist 4x3 2>"$MCCLUSTER_DIR/err")
expect "gather --hist: the same counts" "$old" "$new"
expect_match "gather --hist: a deprecation note" "$(cat "$MCCLUSTER_DIR/err")" 'deprecated: use --reduce hist2d --bins 4x3'
out=$(mc gather pts --bins 4x3 2>&1); rc=$?
expect "gather --bins without --reduce: status 2" "$rc" 2

# Completion: commands, options, option values, kernels and job ids from
# this cluster.
job=$(mc map --async square 0:3)
mc wait "$job" >/dev/null
complete_words () {
    (
        PATH=$BIN:$PATH
        . "$SRC/cli/mccluster.bash"
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
        if [ "$1" = mcclient ]; then _mcclient; else _mccluster_daemon; fi
        printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '
    )
}
expect "complete a command" "$(complete_words mcclient ga)" "gather "
expect "complete help's command" "$(complete_words mcclient help ma)" "map "
expect "complete map's options" "$(complete_words mcclient map --re)" "--reduce --retries "
expect "complete --reduce's values" "$(complete_words mcclient map --reduce '')" "hist2d sum "
expect "complete gather's --reduce" "$(complete_words mcclient gather x --reduce '')" "hist2d "
expect "complete trust's sub-commands" "$(complete_words mcclient trust '')" "add list revoke "
expect_match "complete kernels from the cluster" "$(complete_words mcclient map '')" '(^| )pi .*square .*walker '
expect "complete kernels, not targets" "$(complete_words mcclient map '' | grep -c gauss3)" "0"
expect "complete a target= value" "$(complete_words mcclient map walker target=ga)" "target=gauss3 "
expect "complete target= split at =" "$(complete_words mcclient apply walker steps=10 target = '')" "banana gauss3 ring "
expect "right after the =" "$(complete_words mcclient apply walker target =)" "banana gauss3 ring "
expect "and a name after it" "$(complete_words mcclient apply walker target = ba)" "banana "
expect_match "complete after a global option" "$(complete_words mcclient --json apply --targets all s)" 'sleep square '
expect_match "complete job ids" "$(complete_words mcclient wait '')" "(^| )$job "
expect "complete ipclusterd's options" "$(complete_words ipclusterd --engine)" "--engine-bin --engine-port --engines "
expect "complete ipclusterd's launchers" "$(complete_words ipclusterd --engines '')" "local mpi pbs slurm ssh "
expect "complete mcengine's options" "$(complete_words mcengine --li)" "--lifeline --list-kernels "
finish
