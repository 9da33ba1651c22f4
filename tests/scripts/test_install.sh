#!/bin/bash
# `cmake --install` into a temporary prefix (issue 18): the files where a C
# library's go, then a client program and a plugin kernel built with
# pkg-config alone against that prefix, the client run against a cluster
# started from the build whose engine (the installed mcengine) loads the
# plugin; the installed example kernels built with their Makefile.
# A program built without the sanitizers cannot load a library built with
# them: the sanitizer build (scripts/test.sh's second) skips this.
[ "${MC_SANITIZE:-OFF}" = ON ] && { echo "skip: a sanitizer build"; exit 77; }
. "$(dirname "$0")/../integration/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/mc-install.XXXXXX)
P=$T/prefix
trap 'cleanup; rm -rf "$T"' EXIT

cmake --install "$BIN" --prefix "$P" > "$T/install.log" 2>&1 || { cat "$T/install.log"; fail "cmake --install"; finish; }
for f in bin/ipclusterd bin/mcengine bin/mcclient lib/libmcclient.so lib/libmcclient.so.0 \
         include/mccluster/mccluster.h include/mccluster/mc_array.h include/mccluster/mc_kernel.h \
         lib/pkgconfig/mccluster.pc \
         share/bash-completion/completions/mcclient share/bash-completion/completions/ipclusterd \
         share/bash-completion/completions/mcengine \
         share/doc/mccluster/examples/mc_example_kernels.c share/doc/mccluster/examples/Makefile \
         lib/systemd/system/ipclusterd.service lib/systemd/system/mcengine@.service \
         lib/systemd/user/ipclusterd.service; do
    [ -e "$P/$f" ] && pass "installed $f" || fail "not installed: $f"
done
if [ -d "$BIN/man" ]; then
    for f in man1/mcclient.1 man1/ipclusterd.1 man1/mcengine.1 man3/libmcclient.3 man3/mc_kernel.3; do
        [ -e "$P/share/man/$f" ] && pass "installed man $f" || fail "not installed: man $f"
    done
    expect "man finds mcclient(1) in the prefix" "$(MANPATH=$P/share/man man -w mcclient)" "$P/share/man/man1/mcclient.1"
else
    echo "skip: no man pages built (no scdoc)"
fi
expect "no header at the top of include/" "$(ls "$P/include")" "mccluster"
expect_match "the units run the installed programs" "$(grep -h '^ExecStart=' "$P"/lib/systemd/system/*.service)" "$P/bin/ipclusterd .*$P/bin/mcengine"
expect "the installed mcclient finds its library" "$("$P/bin/mcclient" help --complete | head -1)" "ids"

# pkg-config alone: the prefix's .pc file, no path into the source tree.
export PKG_CONFIG_PATH=$P/lib/pkgconfig
expect "pkg-config --modversion" "$(pkg-config --modversion mccluster)" "$(sed -n 's/^project(mccluster VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")"
CFLAGS=$(pkg-config --cflags mccluster) LIBS=$(pkg-config --libs mccluster)
expect_match "--cflags names the prefix's include/mccluster" "$CFLAGS" "-I$P/include/mccluster"
[[ "$CFLAGS $LIBS" != *"$SRC"* && "$CFLAGS $LIBS" != *"$BIN"* ]] || fail "pkg-config names the source or build tree: $CFLAGS $LIBS"

mkdir -p "$T/kernels"
cat > "$T/client.c" <<'C'
/* A client of the installed libmcclient: a map of the plugin's kernel. */
#include <mccluster.h>
#include <stdio.h>
int main (void)
{
    char err [512];
    mc_client_t *client = mc_client_new (NULL, 0, err, sizeof err);
    if (!client) { fprintf (stderr, "%s\n", err); return 1; }
    json_t *spec = json_pack ("{s:s, s:s, s:{s:[iii]}}", "kind", "map", "kernel", "twice", "seq", "range", 0, 5, 1);
    json_t *result = mc_client_submit (client, spec, true);
    if (!result) { fprintf (stderr, "%s\n", mc_client_error (client)); return 1; }
    json_dumpf (json_object_get (result, "results"), stdout, JSON_COMPACT);
    printf ("\n");
    json_decref (result);
    json_decref (spec);
    mc_client_destroy (&client);
    return 0;
}
C
cat > "$T/twice.c" <<'C'
/* A plugin kernel built against the installed mc_kernel.h. */
#include <mc_kernel.h>
static int s_twice (mc_kcall_t *call)
{
    return mc_kcall_out_int (call, 2 * mc_kcall_int (call, "x"));
}
static const mc_kernel_def_t s_kernels [] = { { "twice", "2 x", "x:int", s_twice } };
MC_PLUGIN_KERNELS (s_kernels);
C
# shellcheck disable=SC2086
cc -Wall -o "$T/client" "$T/client.c" $CFLAGS $LIBS -Wl,-rpath,"$P/lib" && pass "client built with pkg-config" || fail "client build"
# shellcheck disable=SC2086
cc -Wall -shared -fPIC -o "$T/kernels/twice.so" "$T/twice.c" $CFLAGS && pass "plugin built with pkg-config --cflags" || fail "plugin build"
cp -r "$P/share/doc/mccluster/examples" "$T/examples"
make -s -C "$T/examples" > "$T/make.log" 2>&1 && cp "$T/examples/mc_example_kernels.so" "$T/kernels/" \
    && pass "examples built with their Makefile" || { cat "$T/make.log"; fail "examples build"; }
[[ "$(ldd "$T/client")" == *"$P/lib/libmcclient.so.0"* ]] || fail "the client does not use the installed library: $(ldd "$T/client")"

# A cluster from the build, its engine the installed one with the plugins.
start_cluster 1 --engine-bin "$P/bin/mcengine" --kernel-path "$T/kernels"
expect "the client runs the plugin's kernel" "$("$T/client")" "[0,2,4,6,8]"
expect "the example's kernel" "$("$P/bin/mcclient" --json apply cube 3)" "27"
# The Python package (issue 19), where Debian's python3 finds it for this
# prefix, with the installed library (its _paths.py names the prefix).
pydir=$(ls -d "$P"/lib/python3*/dist-packages 2>/dev/null | head -1)
if [ -n "$pydir" ] && /usr/bin/python3 -c "import numpy" 2>/dev/null; then
    expect "the installed package names the installed library" \
        "$(grep '^LIBDIR' "$pydir/mccluster/_paths.py")" "LIBDIR = \"$P/lib\""
    expect "the installed Python package runs the example's kernel" \
        "$(cd / && env -u MCCLUSTER_LIB PYTHONPATH="$pydir" /usr/bin/python3 -c \
           'import mccluster; print(mccluster.Client().load_balanced_view().map_sync("cube", range(4)))')" \
        "[0, 1, 8, 27]"
else
    fail "no Python package under $P/lib/python3*/dist-packages (or no python3-numpy)"
fi
mc shutdown > /dev/null
finish
