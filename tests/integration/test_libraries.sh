#!/bin/bash
# Libraries of kernels that a client adds (issue 17, points 3 and 4;
# mc_proto.md §6 kernels_add, kernels_remove): the README's density in a
# file, compiled and shipped with one command and walked with one more;
# a library added, replaced while a task of it runs (the task finishes on
# its version), seen by an engine that joins later and by a restarted
# controller's engines, and removed; and the bad inputs, each refused in
# one line naming the file while the engines run on.
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
start_cluster 2
D=$MCCLUSTER_DIR
cd "$D" || exit 1

# The README's flow, exactly: its ring.c and its two commands.
awk '/^cat > ring.c <<.EOF.$/ {on = 1; next} on && /^EOF$/ {exit} on' "$SRC/README.md" > ring.c
expect "the README's density is 10 lines or so" "$( [ "$(wc -l < ring.c)" -le 12 ] && [ "$(wc -l < ring.c)" -ge 8 ] && echo yes)" "yes"
add_cmd=$(grep '^mcclient kernels add ring.c$' "$SRC/README.md")
walk_cmd=$(grep '^mcclient map walker .*target=ring.ring.*--png ring.png$' "$SRC/README.md")
expect "the README says kernels add ring.c" "$add_cmd" "mcclient kernels add ring.c"
out=$(eval "\"$BIN\"/$add_cmd" 2>&1); rc=$?
expect "kernels add ring.c" "$rc" "0"
expect_match "kernels add says what it added on which engines" "$out" '^ring \(version [0-9a-f]{16}\) on engines [01] [01]: ring\.ring$'
# Warning-clean: nothing but that line.
expect "the example compiles without a warning" "$(echo "$out" | wc -l)" "1"
out=$(eval "\"$BIN\"/$walk_cmd" 2>&1); rc=$?
expect "walker picture of the added density" "$rc" "0"
expect_match "the picture is a PNG" "$(head -c 8 ring.png | od -An -c | tr -d ' ')" '^211PNG'
# The ring: nothing at the centre, everything near radius 1.
python3 - "$out" <<'PY' && pass "the walkers drew a ring" || fail "the walkers did not draw a ring"
import json, sys
h = json.loads(sys.argv[1]); n = len(h)
total = sum(map(sum, h)); centre = sum(h[i][j] for i in range(n // 2 - 3, n // 2 + 3) for j in range(n // 2 - 3, n // 2 + 3))
assert total > 100000 and centre < total / 1000, (total, centre)
PY

# A library with a kernel and a target, in two versions (-DVERSION=N as CFLAGS).
out=$(mc kernels add "$SRC/tests/kernels/versioned.c" -DVERSION=1 2>&1)
expect_match "versioned.c, version 1" "$out" '^versioned \(version ([0-9a-f]{16})\) on engines [01] [01]: version_of versioned.bump$'
v1=$(echo "$out" | grep -o '[0-9a-f]\{16\}')
expect "both engines run version 1" "$(mcj apply --targets all version_of)" "[1,1]"
expect_match "kernels shows its origin and version" "$(mcj kernels)" \
  "\{\"name\":\"version_of\",\"origin\":\"client\",\"hash\":\"$v1\",\"doc\":\"the library's VERSION[^\"]*\",\"args\":\[\{\"name\":\"ms\",\"type\":\"int\",\"default\":\"0\"\}\],\"engines\":\[0,1\],\"kind\":\"kernel\"\}"
expect_match "built-ins say so" "$(mcj kernels)" '\{"name":"square","origin":"built-in","hash":"",'
expect_match "kernels, for humans" "$(mc kernels)" "version_of +\[client $v1\] ms:int=0"
# Its target too, after the kernels (issue: users could not see which
# targets the cluster has): shape, origin and version, as target= names it.
expect_match "kernels lists the library's target" "$(mcj kernels)" \
  "\{\"name\":\"versioned.bump\",\"origin\":\"client\",\"hash\":\"$v1\",\"doc\":\"a Gaussian bump at \(VERSION, 0\)\",\"dim\":2,\"params\":0,\"log\":false,\"engines\":\[0,1\],\"kind\":\"target\"\}"
expect_match "and the README's ring.ring beside the built-in ring" "$(mcj kernels)" \
  '"name":"ring","origin":"built-in".*"kind":"target".*"name":"ring.ring","origin":"client","hash":"[0-9a-f]{16}","doc":"a ring of radius 1","dim":2,"params":0,"log":false,"engines":\[0,1\],"kind":"target"'
expect_match "targets for humans" "$(mc kernels | sed -n '/^targets of the walker/,$p')" \
  "versioned.bump \[client $v1\] 2-D density, 0 params"
# Replaced while a task of version 1 runs on each engine: those finish on
# version 1, tasks after the replacement run version 2.
job=$(mcj map --async version_of '[1500,1500]'); job=${job//\"/}
busy_both () { [ "$(mcj engines | grep -o '"inflight":1' | wc -l)" == 2 ]; }
wait_for 10 busy_both || fail "the two tasks did not start"
out=$(mc kernels add "$SRC/tests/kernels/versioned.c" -DVERSION=2 2>&1)
expect_match "versioned.c, version 2" "$out" '^versioned \(version [0-9a-f]{16}\) on engines [01] [01]: version_of versioned.bump$'
expect "tasks running at the replacement finish on version 1" "$(mcj get "$job")" "[1,1]"
expect "tasks after it run version 2" "$(mcj apply --targets all version_of)" "[2,2]"
expect_match "the new target too (a bump at x=2)" \
  "$(mcj apply --targets 0 walker target=versioned.bump steps=4000 --seed 3 --reduce hist2d --bins 4x1 --range 0:4,-10:10)" \
  '^\[\[[0-9]+,[0-9]+,[0-9]+,[0-9]+\]\]$'
expect_match "kernels shows the new version" "$(mcj kernels)" '"name":"version_of","origin":"client","hash":"'"$(echo "$out" | grep -o '[0-9a-f]\{16\}')"'"'

# An engine that joins later gets every library (no shared file system:
# its private directory is its own).
"$BIN/mcengine" > "$D/late.log" 2>&1 &
PIDS+=($!)
wait_for 20 ids_are "[0,1,2]" || fail "the late engine did not register"
# engines_of KERNEL: the ids of the engines that list it, as JSON.
engines_of () { mcj kernels | python3 -c "import json, sys; print(json.dumps([k['engines'] for k in json.load(sys.stdin) if k['name'] == '$1'], separators=(',', ':')))"; }
has_late () { [ "$(engines_of version_of)" == "[[0,1,2]]" ]; }
wait_for 10 has_late || fail "the late engine did not load the libraries"
expect "the late engine runs version 2" "$(mcj apply --targets 2 version_of)" "[2]"
expect_match "and the README's ring" "$(mcj apply --targets 2 walker target=ring.ring steps=100 --seed 1)" '^\[\[\['

# Bad inputs: one line naming the file and why, nothing kept, engines on.
printf 'int x = ;\n' > broken.c
out=$(mc kernels add broken.c 2>&1); rc=$?
expect "a compile error fails" "$rc" "1"
expect_match "the compiler's own message is shown" "$out" "broken.c:1:9: error: expected expression"
expect_match "and nothing was sent" "$out" "mcclient: broken.c: does not compile \(cc above\): nothing was sent"
printf 'const int mc_plugin [8] = { 2 };\n' > oldabi.c
printf 'int not_a_plugin (void);\nint not_a_plugin (void) { return 1; }\n' > noentry.c
cat > clash.c <<'C'
#include "mc_kernel.h"
static int s_square (mc_kcall_t *call) { return mc_kcall_out_int (call, 4); }
static const mc_kernel_def_t s_kernels [] = { { "square", "mine", "x:int", s_square } };
MC_PLUGIN_KERNELS (s_kernels);
C
# An ELF header of an aarch64 shared object (e_machine 183) and nothing more.
python3 -c "
import struct
h = bytearray(64); h[0:4] = b'\x7fELF'; h[4] = 2; h[5] = 1; h[6] = 1; h[16] = 3
struct.pack_into('<H', h, 18, 183 if struct.unpack('<H', open('/proc/self/exe', 'rb').read(20)[18:20])[0] != 183 else 62)
open('arm64.so', 'wb').write(h)"
before=$(mcj kernels)
for case in "oldabi.c:oldabi.so: built for kernel ABI 2, this engine serves ABI 3" \
            "noentry.c:noentry.so: no mc_plugin" \
            "clash.c:clash.so: kernel 'square' clashes with a built-in kernel of that name" \
            "arm64.so:arm64.so: built for another machine \(ELF e_machine [0-9]+, this engine's is [0-9]+\)"; do
  file=${case%%:*}; why=${case#*:}
  out=$(mc kernels add "$file" 2>&1); rc=$?
  expect "$file refused" "$rc" "1"
  expect_match "$file: one line naming the file and the reason" "$out" "^mcclient: $why[^
]*$"
done
expect "nothing refused was kept, and the engines run on" "$(mcj kernels)" "$before"
expect "the engines still serve" "$(mcj apply --targets all square 3)" "[9,9,9]"
expect "square is still the built-in" "$(mcj kernels | grep -o '"name":"square","origin":"[a-z-]*"')" '"name":"square","origin":"built-in"'
out=$(mc kernels add nosuch.so 2>&1)
expect_match "a missing file" "$out" "mcclient: nosuch.so: No such file or directory"
out=$(mc kernels add ring.txt 2>&1); rc=$?
expect "neither .c nor .so is a usage error" "$rc" "2"

# Only the cluster's owner adds code to the engines.
mc trust add --client --name alice -o "$D/alice.json" > /dev/null || fail "trust add alice"
out=$(MCCLUSTER_CLIENT="$(cat "$D/alice.json")" "$BIN/mcclient" kernels add ring.c 2>&1); rc=$?
expect "another user may not add a library" "$rc" "1"
expect_match "and is told why" "$out" "kernels_add: only the cluster's owner may add or remove kernels"
out=$(MCCLUSTER_CLIENT="$(cat "$D/alice.json")" "$BIN/mcclient" kernels remove ring 2>&1)
expect_match "nor remove one" "$out" "kernels_remove: only the cluster's owner"

# A restarted controller keeps the libraries (store) and gives them to its engines.
mc shutdown > /dev/null
wait "$CTRL_PID" 2>/dev/null
start_cluster 1
has_one () { [ "$(engines_of version_of)" == "[[0]]" ]; }
wait_for 10 has_one || fail "a restarted controller's engine did not get the library"
expect "from the store: version 2" "$(mcj apply --targets 0 version_of)" "[2]"

# Removed: the kernel and the targets go, everywhere.
out=$(mc kernels remove versioned)
expect_match "kernels remove" "$out" "versioned removed from 1 engines"
gone () { ! mcj kernels | grep -q '"name":"version_of"'; }
wait_for 10 gone || fail "version_of still listed after remove"
target_gone () { ! mcj kernels | grep -q '"name":"versioned.bump"'; }
wait_for 10 target_gone && pass "its target is no longer listed" || fail "versioned.bump still listed after remove"
expect_match "the built-in targets stay listed" "$(mcj kernels)" '"name":"gauss3","origin":"built-in"'
out=$(mc apply version_of 2>&1)
expect_match "a removed kernel is unknown" "$out" "version_of"
out=$(mc apply --targets 0 walker target=versioned.bump steps=10 2>&1)
expect_match "its target is gone too" "$out" "unknown target 'versioned.bump'"
out=$(mc kernels remove versioned 2>&1); rc=$?
expect "removing it again fails" "$rc" "1"
expect_match "and says why" "$out" "no library 'versioned' was added"
expect "ring stays" "$(mcj apply --targets 0 walker target=ring.ring steps=10 --seed 1 | head -c 3)" "[[["
finish
