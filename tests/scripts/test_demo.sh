#!/bin/bash
# scripts/demo.sh (the README's first command) on the programs of $MC_BIN:
# exit status 0, the pi estimate and the picture; and a non-zero status,
# soon, when the controller cannot start.
set -euo pipefail
# The README's command builds for use, not under the sanitizers: that build
# (scripts/test.sh's second) is tested by the rest.
[ "${MC_SANITIZE:-OFF}" = ON ] && { echo "skip: a sanitizer build"; exit 77; }
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/mc-demo-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail () { echo "FAIL: $*" >&2; exit 1; }

rc=0
MC_BIN=$MC_BIN MC_DEMO_OUT=$tmp timeout 150 bash "$src/scripts/demo.sh" > "$tmp/out" 2>&1 || rc=$?
cat "$tmp/out"
[ $rc = 0 ] || fail "demo.sh exited with $rc"
grep -Eq '^pi = 3\.14[0-9]+ \+- 0\.000[0-9]+' "$tmp/out" || fail "no pi estimate"
[ -s "$tmp/walk.png" ] || fail "no walk.png"
[ "$(head -c 8 "$tmp/walk.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "walk.png is not a PNG"
[ "$(head -c 8 "$tmp/pi.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "pi.png is not a PNG"
grep -q '^cluster stopped' "$tmp/out" || fail "the cluster was not stopped"

# A controller that cannot start: the demo says so and fails at once.
mkdir "$tmp/bin"
printf '#!/bin/sh\necho "ipclusterd: cannot bind (for the test)" >&2\nexit 1\n' > "$tmp/bin/ipclusterd"
chmod +x "$tmp/bin/ipclusterd"
ln -s "$MC_BIN/mcclient" "$tmp/bin/mcclient"
rc=0
MC_BIN=$tmp/bin MC_DEMO_OUT=$tmp timeout 30 bash "$src/scripts/demo.sh" > "$tmp/out2" 2>&1 || rc=$?
cat "$tmp/out2"
[ $rc != 0 ] && [ $rc != 124 ] || fail "demo.sh with a failing controller exited with $rc"
grep -q 'did not start' "$tmp/out2" || fail "no word of the failed start"
echo "demo: ok"
