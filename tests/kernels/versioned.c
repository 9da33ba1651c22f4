/*  A library that tests/integration/test_libraries.sh adds with `mcclient
    kernels add versioned.c -DVERSION=N`: which version runs, how long a task
    takes, and a walker target, so that adding, replacing and removing a
    library on a running cluster can be seen. */
#include "mc_kernel.h"
#include <time.h>

#ifndef VERSION
#define VERSION 1
#endif

//  version_of ms: sleeps ms milliseconds, then returns VERSION.
static int
s_version_of (mc_kcall_t *call)
{
    int64_t ms = mc_kcall_int (call, "ms");
    struct timespec left = { ms / 1000, (ms % 1000) * 1000000 };
    while (ms > 0 && nanosleep (&left, &left))
        ;
    return mc_kcall_out_int (call, VERSION);
}

//  A Gaussian bump around (VERSION, 0).
static double
s_bump (const double *x, size_t dim, const double *params)
{
    (void) dim, (void) params;
    double u = x [0] - VERSION, v = x [1];
    return mc_exp (-(u * u + v * v) / 2);
}

static const mc_kernel_def_t s_kernels [] = {
    { "version_of", "the library's VERSION, after ms milliseconds (a test kernel)", "ms:int=0", s_version_of },
};
static const mc_target_def_t s_targets [] = {
    { "bump", "a Gaussian bump at (VERSION, 0)", 2, 0, false, s_bump, NULL },
};
MC_PLUGIN (s_kernels, s_targets);
