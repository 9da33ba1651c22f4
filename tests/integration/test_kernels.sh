#!/bin/bash
# Kernels and walker targets in shared objects (issues 4 and 17): the
# example plugins are loaded with --kernel-path, listed with their doc and
# typed arguments (targets with their shape, after the kernels), and run; a user's target gives the built-in's bits; a
# plugin that cannot be loaded (garbage, another kernel ABI) is refused in
# one line naming the file, and the engine runs on without it.
. "$(dirname "$0")/lib.sh"
start_cluster 2 --kernel-path "$BIN/kernels"
D=$MCCLUSTER_DIR
expect_match "kernels lists the plugin's kernel" "$(mcj kernels)" \
  '\{"name":"cube","origin":"file","hash":"[0-9a-f]{16}","doc":"x\*x\*x of a number[^"]*","args":\[\{"name":"x","type":"any"\}\],"engines":\[0,1\],"kind":"kernel"\}'
expect_match "kernels lists built-ins with typed arguments" "$(mcj kernels)" \
  '\{"name":"walker","origin":"built-in","hash":"","doc":"[^"]*","args":\[\{"name":"item","type":"any","default":"nil"\},\{"name":"target","type":"str","default":"gauss3"\},\{"name":"steps","type":"int"\}'
# The walker's targets follow the kernels: the built-ins, and a plugin's as
# lib.name (the example plugins' mymodel.c) with its shape and origin.
expect_match "kernels lists the built-in targets" "$(mcj kernels)" \
  '\{"name":"gauss3","origin":"built-in","hash":"","doc":"three Gaussians[^"]*","dim":2,"params":0,"log":false,"engines":\[0,1\],"kind":"target"\}'
expect_match "kernels lists a plugin's target: 4-D log density, 2 params, from its file" "$(mcj kernels)" \
  '\{"name":"mymodel.banana2","origin":"file","hash":"[0-9a-f]{16}","doc":"Rosenbrock[^"]*","dim":4,"params":2,"log":true,"engines":\[0,1\],"kind":"target"\}'
expect_match "and for humans, under a heading of their own" "$(mc kernels | sed -n '/^targets of the walker/,$p')" \
  'mymodel.banana2 \[file [0-9a-f]{16}\] 4-D log density, 2 params'
expect "targets after every kernel" "$(mcj kernels | python3 -c 'import json, sys; k = [e["kind"] for e in json.load(sys.stdin)]; print(k == sorted(k), k.count("target") >= 3)')" "True True"
expect "plugin kernel runs" "$(mcj map cube 0:4)" "[0,1,8,27]"
expect "plugin kernel reads arrays" "$(mc push --type f64 v='[3,4]'; mcj apply --targets all norm @v)" "[5.0,5.0]"
expect "echo gives an array argument back" "$(mcj apply --targets all echo @v)" "[[3.0,4.0],[3.0,4.0]]"
expect "typed arguments: a default, an int as a float" "$(mcj apply --targets 0 scale 3)" "[6.0]"
expect "typed arguments by name" "$(mcj apply --targets 0 scale x=3 by=0.5)" "[1.5]"
out=$(mc apply cube '"x"' 2>&1); rc=$?
expect "plugin kernel error exit" "$rc" "1"
expect_match "plugin kernel error" "$out" "cube: expected a number, got string"
out=$(mc apply norm 3 2>&1)
expect_match "an argument of the wrong type is refused before the kernel runs" "$out" "norm: v must be an array, got int"
out=$(mc apply scale 1 2 3 2>&1)
expect_match "too many arguments" "$out" "scale: takes 2 positional arguments, got 3"

# Targets of the walker from mymodel.so: mymodel.gauss3 is the built-in
# gauss3 written as a user writes it, and gives its bits, for one chain and
# for many, on any number of engines.
for w in 1 20; do
  expect "mymodel.gauss3 gives gauss3's bits (walkers=$w)" \
    "$(mcj map walker 0:3 target=mymodel.gauss3 walkers=$w steps=500 --seed 5 | md5sum)" \
    "$(mcj map --targets 0 walker 0:3 target=gauss3 walkers=$w steps=500 --seed 5 | md5sum)"
done
# An N-D target with parameters: n x 4 points; hist2d of two chosen coordinates.
pts=$(mcj apply --targets 0 walker target=mymodel.banana2 'params=[1,100]' steps=10 burn_in=0 --seed 2)
expect_match "a 4-D target gives n x 4 points" "$pts" '^\[\[\[-?[0-9.e-]+,-?[0-9.e-]+,-?[0-9.e-]+,-?[0-9.e-]+\],'
h03=$(mcj map walker --tasks 4 target=mymodel.banana2 'params=[1,100]' steps=2000 --seed 2 --reduce hist2d --bins 4x4 --range -3:3,-3:12 --coords 0,3)
h30=$(mcj map walker --tasks 4 target=mymodel.banana2 'params=[1,100]' steps=2000 --seed 2 --reduce hist2d --bins 4x4 --range -3:12,-3:3 --coords 3,0)
expect_match "hist2d --coords counts every point" "$(echo "$h03" | tr -c '0-9\n' ' ' | awk '{for(i=1;i<=NF;i++)s+=$i} END {print s}')" "^[0-9]+$"
python3 - "$h03" "$h30" <<'PY' && pass "--coords 0,3 is --coords 3,0 transposed" || fail "--coords transposed differs"
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert sum(map(sum, a)) > 7000 and a == [list(r) for r in zip(*b)], (a, b)
PY
out=$(mc apply walker target=mymodel.banana2 'params=[1]' steps=10 2>&1)
expect_match "wrong params length names the target" "$out" "walker: target mymodel.banana2 takes 2 params, got 1"
out=$(mc apply walker target=mymodel.nosuch steps=10 2>&1)
expect_match "unknown user target" "$out" "walker: unknown target 'mymodel.nosuch'"
expect_match "mcengine lists targets" "$("$BIN/mcengine" --kernel-path "$BIN/kernels" --list-kernels)" \
  "target mymodel.banana2: 4-D log density, 2 params"

# Plugins that cannot be loaded: one line each, and the engine runs on.
mkdir -p "$D/bad"; echo "not a library" > "$D/bad/broken.so"; cp "$BIN/kernels/mc_example_kernels.so" "$D/bad/"
out=$("$BIN/mcengine" --kernel-path "$D/bad" --list-kernels 2>&1); rc=$?
expect "broken plugin: the engine runs on" "$rc" "0"
expect_match "broken plugin error names the file" "$out" "not loaded: .*broken.so"
expect_match "the other plugin still loads" "$out" "cube "
# A plugin built for kernel ABI 2 (its mc_kernels function serves 2 only;
# it calls a builder that ABI 3 renamed): refused naming both versions.
mkdir -p "$D/old"
cat > "$D/old/old.c" <<'EOF2'
typedef struct { const char *name, *doc, *args; int (*fn) (void *); } def_t;
extern int mc_kcall_nil (void *call);
static int s_old (void *call) { return mc_kcall_nil (call); }
static const def_t s_defs [] = { { "old", "", "", s_old } };
const def_t *mc_kernels (int abi, unsigned long *count) { if (abi != 2) return 0; *count = 1; return s_defs; }
EOF2
if cc -shared -fPIC -o "$D/old/old.so" "$D/old/old.c"; then
  out=$("$BIN/mcengine" --kernel-path "$D/old" --list-kernels 2>&1); rc=$?
  expect "plugin of another ABI: the engine runs on" "$rc" "0"
  expect_match "plugin of another ABI is refused naming both" "$out" \
    "old.so: built for kernel ABI 2, this engine serves ABI 3 \\(rebuild it against engine/mc_kernel.h\\)"
  expect "its kernel is not there" "$(echo "$out" | grep -c '^old ')" "0"
  # And in a running cluster: the engine registers without it and serves.
  mc shutdown > /dev/null 2>&1
  gone () { ! kill -0 "$1" 2>/dev/null; }
  wait_for 20 gone "$CTRL_PID" || fail "the first cluster did not stop"
  start_cluster 1 --kernel-path "$D/old"
  expect "an engine with an old plugin beside it serves" "$(mcj apply --targets all square 3)" "[9]"
else
  fail "cannot build a plugin of kernel ABI 2"
fi
out=$("$BIN/mcengine" --kernel-path "$D/nosuch" --list-kernels 2>&1); rc=$?
expect_match "missing kernel path" "$out" "--kernel-path .*nosuch: No such file"
finish
