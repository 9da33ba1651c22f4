#!/bin/bash
# Build the libFuzzer targets (clang, AddressSanitizer, UBSan) into
# build-fuzz/ and run each for SECONDS (default 10) from its seed corpus in
# tests/fuzz/corpus/, into a scratch corpus that is thrown away. A crash,
# leak or sanitizer report fails it and leaves the input in build-fuzz/.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}; shift || true
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: SECONDS must be a positive number, not '$seconds'" >&2; exit 2; }
targets=${*:-codec prescan values cli files submit}
MC_EXTRA_PACKAGES="clang libclang-rt-14-dev" CC=clang scripts/deps.sh build-fuzz -DMC_FUZZ=ON
cmake --build build-fuzz -j "$(nproc)" --target fuzz_all >/dev/null
scratch=$(mktemp -d /tmp/mc-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
for target in $targets; do
    mkdir -p "$scratch/$target"
    # What the code under test prints on stdout is noise here; libFuzzer's
    # verdict and statistics go to stderr, kept in a log.
    if ! build-fuzz/tests/fuzz/fuzz_"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
            -close_fd_mask=1 -artifact_prefix=build-fuzz/ \
            "$scratch/$target" tests/fuzz/corpus/"$target" > "$scratch/$target.log" 2>&1; then
        cat "$scratch/$target.log" >&2
        echo "fuzz_$target: FAILED (input in build-fuzz/)" >&2
        exit 1
    fi
    echo "fuzz_$target: $(grep -E '^#[0-9]+' "$scratch/$target.log" | tail -1)"
done
