#!/bin/bash
# The systemd units of deploy/systemd (issue 15, point 4), without a running
# systemd:
#   a. systemd-analyze verify accepts them (system units, the template as
#      mcengine@1 and mcengine@gpu, the user unit), with no warning at all;
#   b. every option their command lines and examples give ipclusterd or
#      mcengine is one the program's --help lists;
#   c. mcengine@'s ExecStart, run as systemd would run it (a credential
#      directory, $$ unescaped), joins a real controller with a key from
#      `mcclient trust add --engine`, with the key on no command line, and
#      exits 3 (RestartPreventExitStatus) once that key is revoked.
# Skips (77) when systemd-analyze is absent.
. "$(dirname "$0")/../integration/lib.sh"
UNITS=$(cd "$(dirname "$0")/../../deploy/systemd" && pwd)
command -v systemd-analyze >/dev/null || { echo "skip: no systemd-analyze (apt-get install systemd)"; exit 77; }
W=$MCCLUSTER_DIR/units
mkdir -p "$W/user" "$W/xdg" "$W/cred"
chmod 700 "$W/xdg"

# a. The units with the build directory for /usr/local/bin, since verify
#    checks that each command exists.
for f in "$UNITS"/*.service "$UNITS"/user/*.service; do
    sed "s#/usr/local/bin/#$BIN/#g" "$f" > "$W/${f#$UNITS/}"
done
out=$(cd "$W" && SYSTEMD_UNIT_PATH="$W:" systemd-analyze verify ipclusterd.service mcengine@1.service mcengine@gpu.service 2>&1)
expect "systemd-analyze verify: ipclusterd.service, mcengine@1, mcengine@gpu (rc $?)" "$out" ""
out=$(XDG_RUNTIME_DIR=$W/xdg systemd-analyze --user verify "$W/user/ipclusterd.service" 2>&1)
expect "systemd-analyze --user verify: user/ipclusterd.service (rc $?)" "$out" ""

# b. Options: on the lines that run a program (commented examples included)
#    and in the *_OPTS examples.
check_options () {  # PROGRAM PATTERN
    local prog=$1 help opt n=0
    help=$("$BIN/$prog" --help)
    for opt in $(grep -hE "$2" "$UNITS"/*.service "$UNITS"/user/*.service "$UNITS"/../README.md \
                 | sed -E "s/.*(bin\/$prog|_OPTS=)//" \
                 | grep -oE '(^|[[:space:]=])--?[a-z][a-z-]*' | sed 's/^[[:space:]=]*//' | sort -u); do
        n=$((n + 1))
        if grep -qE -- "(^|[ ,])$opt([ =,]|$)" <<< "$help"; then :; else fail "$prog --help has no $opt"; fi
    done
    [ $n -gt 0 ] && pass "$prog: the $n options the units and deploy/README.md give it are in its --help" \
                 || fail "$prog: no option found in the units"
}
check_options ipclusterd 'bin/ipclusterd |IPCLUSTERD_OPTS='
check_options mcengine 'bin/mcengine |MCENGINE_OPTS='

# c. The ExecStart of mcengine@, as systemd runs it.
start_cluster 0 --ip 127.0.0.1
mc trust add --engine --name unit-test -o "$W/engine.json" >/dev/null || fail "trust add --engine"
cp "$W/engine.json" "$W/cred/engine.json"
chmod 0400 "$W/cred/engine.json"
line=$(sed -n 's/^ExecStart=//p' "$W/mcengine@.service")
line=${line//\$\$/\$}
line=${line% \$MCENGINE_OPTS}
CREDENTIALS_DIRECTORY=$W/cred bash -c "exec $line" > "$W/engine.out" 2>&1 &
EPID=$!
PIDS+=("$EPID")
if wait_for 15 ids_are '[0]'; then pass "mcengine@'s ExecStart joined with the credential of \$CREDENTIALS_DIRECTORY"
else fail "mcengine@'s ExecStart did not join"; cat "$W/engine.out" >&2; fi
key=$(grep -o '"secret_key": *"[^"]*"' "$W/engine.json" | cut -d'"' -f4)
[ -n "$key" ] || fail "no secret_key in the file of trust add"
#  The key from a file (grep -f), so that grep's own arguments do not hold it.
printf '%s\n' "$key" > "$W/key"
if [ -n "$key" ] && ps -eo args | grep -qFf "$W/key"; then fail "the engine's secret key is on a command line"
else pass "the secret key is on no command line"; fi
mc trust revoke unit-test >/dev/null || fail "trust revoke"
wait_for 10 bash -c "! kill -0 $EPID 2>/dev/null"
wait "$EPID"
expect "a revoked engine exits 3 (RestartPreventExitStatus=2 3)" "$?" 3
finish
