#!/bin/bash
# Install what mccluster needs from Debian (run as root on a fresh machine),
# then configure and build into $1 (default build/) with extra cmake args.
# scdoc builds the man pages (docs/man); python3-numpy is what the Python
# package (python/) needs beside python3.
# MC_EXTRA_PACKAGES names more packages to install (the benchmark suite's).
set -euo pipefail
cd "$(dirname "$0")/.."
packages="build-essential cmake pkg-config libzmq3-dev libczmq-dev libmsgpack-dev libjansson-dev
          libsqlite3-dev libsodium-dev libcairo2-dev fonts-dejavu-core procps python3 python3-numpy scdoc ${MC_EXTRA_PACKAGES:-}"
missing=$(dpkg-query -W -f='${Status} ${Package}\n' $packages 2>/dev/null | grep -v '^install ok installed' | wc -l || true)
if ! dpkg-query -W $packages >/dev/null 2>&1 || [ "$missing" != 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq $packages >/dev/null
fi
dir=${1:-build}; shift || true
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)" >/dev/null
