#!/bin/bash
# CPack's Debian package of the build (issue 18): built into a temporary
# directory (the build directory is left as it is), holding the programs,
# the library and its headers under include/mccluster/, mccluster.pc and
# the units for the prefix /usr, the man pages, the completion and the
# examples, with its dependencies. Exit 77 (skipped) without dpkg-deb.
set -u
BIN=${MC_BIN:?}
# The README's command builds for use, not under the sanitizers: that build
# (scripts/test.sh's second) is tested by the rest.
[ "${MC_SANITIZE:-OFF}" = ON ] && { echo "skip: a sanitizer build"; exit 77; }
command -v dpkg-deb > /dev/null || { echo "skip: no dpkg-deb"; exit 77; }
T=$(mktemp -d /tmp/mc-deb.XXXXXX)
trap 'rm -rf "$T"' EXIT
failures=0
fail () { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
cpack --config "$BIN/CPackConfig.cmake" -G DEB -B "$T" > "$T/cpack.log" 2>&1 || { cat "$T/cpack.log"; exit 1; }
deb=$(ls "$T"/mccluster_*.deb) || exit 1
files=$(dpkg-deb -c "$deb" | awk '{ print $6 }')
want="./usr/bin/ipclusterd ./usr/bin/mcengine ./usr/bin/mcclient ./usr/lib/libmcclient.so.0
      ./usr/include/mccluster/mccluster.h ./usr/include/mccluster/mc_array.h ./usr/include/mccluster/mc_kernel.h
      ./usr/lib/pkgconfig/mccluster.pc ./usr/lib/systemd/system/ipclusterd.service
      ./usr/lib/systemd/system/mcengine@.service ./usr/lib/systemd/user/ipclusterd.service
      ./usr/share/bash-completion/completions/mcclient ./usr/share/doc/mccluster/examples/mc_example_kernels.c
      ./usr/lib/python3/dist-packages/mccluster/__init__.py ./usr/lib/python3/dist-packages/mccluster/_paths.py"
[ -d "$BIN/man" ] && want="$want ./usr/share/man/man1/mcclient.1 ./usr/share/man/man1/ipclusterd.1
      ./usr/share/man/man1/mcengine.1 ./usr/share/man/man3/libmcclient.3 ./usr/share/man/man3/mc_kernel.3"
for f in $want; do
    grep -qxF "$f" <<< "$files" && echo "ok: $f" || fail "not in the package: $f"
done
grep -q '^\./usr/include/[^/]*\.h$' <<< "$files" && fail "a header at the top of /usr/include"
depends=$(dpkg-deb -f "$deb" Depends)
for dep in libzmq5 libczmq4 libjansson4 libsqlite3-0 libjansson-dev libmsgpack-dev; do
    [[ "$depends" == *"$dep"* ]] && echo "ok: depends on $dep" || fail "no dependency on $dep: $depends"
done
pc=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/lib/pkgconfig/mccluster.pc)
grep -qx 'prefix=/usr' <<< "$pc" && echo "ok: mccluster.pc for /usr" || fail "mccluster.pc: $pc"
unit=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/lib/systemd/system/ipclusterd.service)
grep -q '^ExecStart=/usr/bin/ipclusterd ' <<< "$unit" && echo "ok: the unit runs /usr/bin/ipclusterd" || fail "ExecStart of ipclusterd.service"
[ $failures = 0 ] && echo "all checks passed" || { echo "$failures check(s) failed"; exit 1; }
