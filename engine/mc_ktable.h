/*  mc_ktable: the kernels and walker targets this engine runs (engine
    only), built in or loaded from shared objects with `--kernel-path`.
    Filled at start; libraries a client adds are loaded later by the kernel
    thread, between tasks, and the I/O thread reads the table under its
    lock (mc_ktable_lock) to describe it. */
#ifndef MC_KTABLE_H
#define MC_KTABLE_H
#include "mc_kernel.h"
#include "mc_kargs.h"
#include <msgpack.h>

//  Where a kernel came from (kernel_info's origin, mc_proto.md §3).
#define MC_KTABLE_BUILTIN "built-in"
#define MC_KTABLE_FILE    "file"
#define MC_KTABLE_CLIENT  "client"

//  Add a kernel (def is borrowed for the life of the process): 0, or -1
//  for an invalid name or args, a missing function, a taken name or a full
//  table.
int mc_ktable_register (const mc_kernel_def_t *def);
//  Add each of defs[0 .. count) that is not registered yet (the same def
//  twice is no error): 0, or -1 at the first that mc_ktable_register refuses.
int mc_ktable_register_all (const mc_kernel_def_t *defs, size_t count);
//  The kernel of this name (need not be NUL-terminated), or NULL.
const mc_kernel_def_t *mc_ktable_find (const char *name, size_t len);
size_t mc_ktable_count (void);
//  Kernel number index in the order of registration, or NULL past the end.
const mc_kernel_def_t *mc_ktable_at (size_t index);
//  Where kernel number index came from (MC_KTABLE_BUILTIN, _FILE or
//  _CLIENT) and its version hash into *hash ("" for
//  a built-in); both borrowed.
const char *mc_ktable_origin (size_t index, const char **hash);
//  Threads other than the kernel thread hold this while they read the
//  tables after start (the kernel thread changes them between tasks).
void mc_ktable_lock (void);
void mc_ktable_unlock (void);
//  Pack the kernel list as REGISTER's and LOADED's kernel_info: an array
//  of [name, doc, args, origin, hash] per kernel, then [name, doc, "",
//  origin, hash, {"dim", "params", "log"}] per walker target (mc_proto.md
//  §3). Hold the lock, or be the kernel thread.
void mc_ktable_pack_info (msgpack_packer *pk);
//  Load the shared object at path as the added library lib (version
//  hash16), in place of the one of that name added before: 0, or -1 with
//  err (one line naming path and the reason: no mc_plugin, another ABI, a
//  name that clashes with a built-in or another library's) and the old
//  version kept. The old version's code stays mapped for the engine's
//  life, so that nothing that still points into it breaks.
int mc_ktable_add_library (const char *lib, const char *path, const char *hash16, char *err, size_t errlen);
//  Forget the kernels and targets of the added library lib: 0, or -1 when
//  it had none.
int mc_ktable_remove_library (const char *lib);
//  Pack the names of the kernels and targets of added library lib as an array.
void mc_ktable_added (const char *lib, msgpack_packer *pk);
//  The parsed args of a registered kernel (borrowed), or NULL.
const mc_kargs_t *mc_ktable_args (const mc_kernel_def_t *def);

//  Add a walker target of plugin lib as "lib.name", or a built-in one
//  (lib NULL) as "name" (def is borrowed for the life of the process): 0,
//  or -1 for a bad name, dimension or parameter count, a missing function,
//  a taken name or a full table.
int mc_ktable_register_target (const char *lib, const mc_target_def_t *def);
//  The target called name ("lib.name", need not be NUL-terminated), or NULL.
const mc_target_def_t *mc_ktable_find_target (const char *name, size_t len);
size_t mc_ktable_target_count (void);
//  Target number index and its full name into *name, or NULL past the end.
const mc_target_def_t *mc_ktable_target_at (size_t index, const char **name);

//  Load one shared object and register its kernels and targets: 0, or -1
//  with err, one line naming the file and what is wrong with it (no
//  mc_plugin, another kernel ABI with both versions, a bad or taken name);
//  a refused file registers nothing.
int mc_ktable_load (const char *path, char *err, size_t errlen);
//  Load every *.so in dir. A file that mc_ktable_load refuses is logged (a
//  warning, its one line) and skipped: the engine keeps running without
//  it. 0, or -1 with err when dir cannot be read.
int mc_ktable_load_dir (const char *dir, char *err, size_t errlen);
void mc_ktable_test (bool verbose);

//  The built-in kernels (engine/kernels/): noop, echo, square, sleep and
//  fail; pi and walker, and the walker's built-in targets (gauss3, ring,
//  banana). 0, or -1 when a name is taken.
int mc_builtin_register (void);
int mc_sampler_register (void);
//  Their selftests: arguments checked, edge cases, results.
void mc_builtin_test (bool verbose);
void mc_sampler_test (bool verbose);
#endif
