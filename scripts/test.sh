#!/bin/bash
# Install, build and run the whole test suite: once as built for use, once
# under AddressSanitizer and UndefinedBehaviourSanitizer, then the fuzz
# targets for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."
# The security tests also use network namespaces (iproute2), setpriv and
# nsenter (util-linux), and tcpdump to look at what crosses the wire. The
# launcher tests (tests/deploy/) run sshd, munge, Slurm with its PBS wrappers,
# Open MPI and MPICH on "hosts" that are network namespaces; deploy_units
# runs systemd-analyze (package systemd; no systemd need run). The install
# tests check the man pages with man and lexgrog (man-db, with col from
# bsdextrautils) and build the .deb with dpkg-deb and dpkg-shlibdeps (dpkg-dev).
# The Python package's tests run with pytest (python3-pytest), and its
# walkers example draws with matplotlib (python3-matplotlib) as well as
# without.
MC_EXTRA_PACKAGES="iproute2 util-linux tcpdump openssh-server openssh-client munge slurm-wlm
                   slurm-wlm-torque openmpi-bin mpich bc systemd man-db bsdextrautils dpkg-dev
                   python3-pytest python3-matplotlib" scripts/deps.sh build
(cd build && ctest -j2 --output-on-failure)
scripts/deps.sh build-asan -DMC_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
# The 30-second kernel test says nothing new under the sanitizers.
(cd build-asan && ctest -j2 --output-on-failure -E long_kernel)
# Every decoder of outside input under libFuzzer, 10 seconds a target.
scripts/fuzz.sh 10
echo "all tests passed"
