# Shared harness for integration tests: a temporary profile, real programs
# on ephemeral ports, and cleanup by PID on every exit, also on failure.
set -u
BIN=${MC_BIN:?MC_BIN must name the build directory}
export MCCLUSTER_DIR=$(mktemp -d /tmp/mc-it.XXXXXX)
PIDS=()
FAILURES=0

cleanup () {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$MCCLUSTER_DIR"
}
trap cleanup EXIT

fail () { echo "FAIL: $*" >&2; FAILURES=$((FAILURES + 1)); }
pass () { echo "ok: $*"; }

# expect DESCRIPTION ACTUAL EXPECTED
expect () {
    if [ "$2" == "$3" ]; then pass "$1"; else fail "$1: got '$2', expected '$3'"; fi
}
# expect_match DESCRIPTION TEXT REGEX
expect_match () {
    if [[ "$2" =~ $3 ]]; then pass "$1"; else fail "$1: '$2' does not match /$3/"; fi
}

# wait_for SECONDS COMMAND...: poll until the command succeeds.
wait_for () {
    local limit=$1; shift
    local deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.05
    done
}

# Ready, or dead (then there is nothing to wait for).
s_ready_or_dead () {
    grep -q ready "$MCCLUSTER_DIR/ipclusterd.out" && return 0
    kill -0 "$CTRL_PID" 2>/dev/null || { echo "ipclusterd exited" >&2; return 0; }
    return 1
}

# start_cluster N [ipclusterd options...]: controller in the foreground as
# our child; returns once it printed "ready". Sets CTRL_PID.
start_cluster () {
    local n=$1; shift
    #  The shell truncates the output file in the child, which a busy machine
    #  may run only after we first look: a "ready" left by the last cluster
    #  must not be there to be read.
    rm -f "$MCCLUSTER_DIR/ipclusterd.out"
    "$BIN/ipclusterd" -n "$n" "$@" > "$MCCLUSTER_DIR/ipclusterd.out" 2>&1 &
    CTRL_PID=$!
    PIDS+=("$CTRL_PID")
    if ! wait_for 20 s_ready_or_dead; then
        fail "cluster of $n did not start"; cat "$MCCLUSTER_DIR/ipclusterd.out" >&2; exit 1
    fi
    if ! grep -q ready "$MCCLUSTER_DIR/ipclusterd.out"; then
        fail "ipclusterd exited"; cat "$MCCLUSTER_DIR/ipclusterd.out" >&2; exit 1
    fi
}

mc () { "$BIN/mcclient" "$@"; }
mcj () { "$BIN/mcclient" --json "$@"; }

# ids_are JSON: true when the controller lists exactly these engine ids
# (a function, so that wait_for asks again each time).
ids_are () { [ "$(mcj ids)" == "$1" ]; }

# Engine pids as the controller reports them.
engine_pids () { mcj engines | grep -o '"pid":[0-9]*' | cut -d: -f2; }

finish () {
    if [ $FAILURES -gt 0 ]; then echo "$FAILURES check(s) failed"; exit 1; fi
    echo "all checks passed"
}
