#!/bin/bash
# The man pages built by scdoc (docs/man): no warnings from man --warnings
# (groff), a NAME section lexgrog can read, and every option of each
# program's help mentioned in its page, so that they cannot drift apart.
# Exit 77 (skipped) when scdoc was not there to build them.
set -u
BIN=${MC_BIN:?}
[ -d "$BIN/man" ] || { echo "skip: no man pages (scdoc not installed when the build was configured)"; exit 77; }
failures=0
fail () { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
for page in mcclient.1 ipclusterd.1 mcengine.1 libmcclient.3 mc_kernel.3; do
    f=$BIN/man/$page
    [ -s "$f" ] || { fail "$page not built"; continue; }
    warnings=$(MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
    [ -z "$warnings" ] && echo "ok: $page: no warnings" || fail "$page: $warnings"
    whatis=$(lexgrog "$f") || fail "$page: lexgrog cannot read its NAME"
    [[ "$whatis" == *": \"${page%.*} - "* ]] && echo "ok: $page: $whatis" || fail "$page: lexgrog says $whatis"
done
# Every option of --help, in the page of its program.
text () { MANWIDTH=200 man -l "$BIN/man/$1" 2>/dev/null | col -b; }
for prog in ipclusterd mcengine; do
    page=$(text "$prog.1")
    for opt in $("$BIN/$prog" --help | grep -o '^ *\(-[a-z], \)\{0,1\}--[a-z][a-z-]*' | grep -o -- '--[a-z-]*'); do
        [[ "$page" == *"$opt"* ]] || fail "$prog.1 does not mention $opt"
    done
done
page=$(text mcclient.1)
for cmd in $("$BIN/mcclient" help --complete); do
    [[ "$page" == *"$cmd"* ]] || fail "mcclient.1 does not mention the command $cmd"
    for opt in $("$BIN/mcclient" help --complete "$cmd" | awk '$1 != "@args" { print $1 }'); do
        [[ "$page" == *"$opt"* ]] || fail "mcclient.1 does not mention $cmd's $opt"
    done
done
# Every function of the public header, in libmcclient(3).
SRC=$(cd "$(dirname "$0")/../.." && pwd)
page=$(text libmcclient.3)
for fn in $(grep -o '^[a-z].*[ *]\(mc_[a-z_]*\) (' "$SRC/client/include/mccluster.h" | grep -o 'mc_[a-z_]* ($' | tr -d ' ('); do
    [[ "$page" == *"$fn"* ]] || fail "libmcclient.3 does not mention $fn"
done
[ $failures = 0 ] && echo "all checks passed" || { echo "$failures check(s) failed"; exit 1; }
