#!/bin/bash
# Kernels in shared objects (issue 4): the example plugin is loaded with
# --kernel-path, listed with its doc and typed arguments, and runs; a broken
# plugin stops the engine with an error naming the file.
. "$(dirname "$0")/lib.sh"
start_cluster 2 --kernel-path "$BIN/kernels"
D=$MCCLUSTER_DIR
expect_match "kernels lists the plugin's kernel" "$(mcj kernels)" \
  '\{"name":"cube","doc":"x\*x\*x of a number[^"]*","args":\[\{"name":"x","type":"float"\}\],"engines":\[0,1\]\}'
expect_match "kernels lists built-ins with typed arguments" "$(mcj kernels)" \
  '\{"name":"walker","doc":"[^"]*","args":\[\{"name":"target","type":"str","default":"gauss3"\},\{"name":"steps","type":"int"\}'
expect "plugin kernel runs" "$(mcj map cube 0:4)" "[0,1,8,27]"
expect "plugin kernel reads arrays" "$(mc push --type f64 v='[3,4]'; mcj apply --targets all norm @v)" "[5.0,5.0]"
expect "echo gives an array argument back" "$(mcj apply --targets all echo @v)" "[[3.0,4.0],[3.0,4.0]]"
out=$(mc apply cube '"x"' 2>&1); rc=$?
expect "plugin kernel error exit" "$rc" "1"
expect_match "plugin kernel error" "$out" "cube: expected a number"
mkdir -p "$D/bad"; echo "not a library" > "$D/bad/broken.so"
out=$("$BIN/mcengine" --kernel-path "$D/bad" --list-kernels 2>&1); rc=$?
expect "broken plugin exit" "$rc" "1"
expect_match "broken plugin error names the file" "$out" "broken.so"
# A plugin built for kernel ABI 1 calls a function that ABI 2 no longer
# has: it is refused as a plugin of another ABI, not as a missing symbol.
mkdir -p "$D/old"
cat > "$D/old/old.c" <<'EOF'
typedef struct { const char *name, *doc, *args; int (*fn) (void *); } def_t;
extern void *mc_kcall_out (void *call);
static int s_old (void *call) { return mc_kcall_out (call) == 0; }
static const def_t s_defs [] = { { "old", "", "", s_old } };
const def_t *mc_kernels (int abi, unsigned long *count) { if (abi != 1) return 0; *count = 1; return s_defs; }
EOF
if cc -shared -fPIC -o "$D/old/old.so" "$D/old/old.c"; then
  out=$("$BIN/mcengine" --kernel-path "$D/old" --list-kernels 2>&1); rc=$?
  expect "plugin of another ABI exit" "$rc" "1"
  expect_match "plugin of another ABI is named as such" "$out" "old.so: does not serve kernel ABI 2"
else
  fail "cannot build a plugin of kernel ABI 1"
fi
out=$("$BIN/mcengine" --kernel-path "$D/nosuch" --list-kernels 2>&1); rc=$?
expect_match "missing kernel path" "$out" "--kernel-path .*nosuch: No such file"
finish
