/*  mc_ktable: the kernels this engine runs (engine only), built in or
    loaded from shared objects with `--kernel-path`. Filled at start, read
    afterwards from both threads: no locks. */
#ifndef MC_KTABLE_H
#define MC_KTABLE_H
#include "mc_kernel.h"

//  Add a kernel (def is borrowed for the life of the process): 0, or -1
//  for an invalid name, a missing function, a taken name or a full table.
int mc_ktable_register (const mc_kernel_def_t *def);
//  Add each of defs[0 .. count) that is not registered yet (the same def
//  twice is no error): 0, or -1 at the first that mc_ktable_register refuses.
int mc_ktable_register_all (const mc_kernel_def_t *defs, size_t count);
//  The kernel of this name (need not be NUL-terminated), or NULL.
const mc_kernel_def_t *mc_ktable_find (const char *name, size_t len);
size_t mc_ktable_count (void);
//  Kernel number index in the order of registration, or NULL past the end.
const mc_kernel_def_t *mc_ktable_at (size_t index);
//  Load every *.so in dir and register its kernels. 0, or -1 with err
//  naming the file and what is wrong with it (no mc_kernels, another ABI,
//  a bad or taken name).
int mc_ktable_load_dir (const char *dir, char *err, size_t errlen);
void mc_ktable_test (bool verbose);

//  The built-in kernels (engine/kernels/): noop, echo, square, sleep and
//  fail; pi and walker. 0, or -1 when a name is taken.
int mc_builtin_register (void);
int mc_sampler_register (void);
//  Their selftests: arguments checked, edge cases, results.
void mc_builtin_test (bool verbose);
void mc_sampler_test (bool verbose);
#endif
