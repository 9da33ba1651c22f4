#!/bin/bash
# ctest example_*: run one example of examples/ at a small size against a
# private cluster it starts itself, with this build's package (PYTHONPATH
# names build/python); a picture it writes must be a PNG. Exit 77 (skipped)
# in a sanitizer build, whose library a Python process cannot load.
# Usage: run_example.sh SCRIPT [ARGS...]; the word PNG in ARGS becomes a
# temporary file, checked afterwards.
[ "${MC_SANITIZE:-OFF}" = ON ] && { echo "skip: a sanitizer build"; exit 77; }
PY=${MC_PYTHON3:-/usr/bin/python3}
T=$(mktemp -d /tmp/mc-example.XXXXXX)
trap 'rm -rf "$T"' EXIT
script=$1; shift
args=()
for a in "$@"; do [ "$a" = PNG ] && args+=("$T/out.png") || args+=("$a"); done
"$PY" "$(dirname "$0")/$script" "${args[@]}" || { echo "FAIL: $script exited with $?"; exit 1; }
if [[ " $* " == *" PNG "* ]]; then
    [ "$(head -c 4 "$T/out.png" | tail -c 3)" = PNG ] || { echo "FAIL: no PNG written"; exit 1; }
    echo "ok: a PNG of $(stat -c %s "$T/out.png") bytes"
fi
