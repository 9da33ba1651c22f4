/*  An example of kernels in a shared object. Build it (CMake does: the
    target mc_example_kernels), put the .so in a directory, and start
    engines with `mcengine --kernel-path DIR` (or `ipclusterd -n 4
    --kernel-path DIR`); then `mcclient apply cube 3` gives 27.

    A kernel declares its arguments ("x:float", see mc_kernel.h); the engine
    checks and converts them before the call, so the kernel reads them by
    name (mc_kcall_double, mc_kcall_int, mc_kcall_str, mc_kcall_array),
    builds one result with the mc_kcall_out_* builders and returns 0, or
    returns mc_kcall_error (call, "what is wrong"). It needs nothing but
    mc_kernel.h. Random numbers must come from the job seed and the item
    index only (mc_kcall_seed, mc_kcall_index), so that results are
    reproducible. Targets of the walker are in mymodel.c beside this. */
#include "mc_kernel.h"
#include <math.h>

//  cube x: x * x * x, an integer for an integer (read raw, as an "any").
static int
s_cube (mc_kcall_t *call)
{
    const mc_kvalue_t *x = mc_kcall_value (call, "x");
    int64_t v, r;
    if (mc_kvalue_type (x) != MC_KVALUE_INT || mc_kvalue_int (x, &v)) {
        double d;
        if (mc_kvalue_double (x, &d))
            return mc_kcall_error (call, "cube: expected a number, got %s", mc_kvalue_type_name (x));
        return mc_kcall_out_double (call, d * d * d);
    }
    if (__builtin_mul_overflow (v, v, &r) || __builtin_mul_overflow (r, v, &r))
        return mc_kcall_error (call, "cube: the result overflows a 64-bit integer");
    return mc_kcall_out_int (call, r);
}

//  norm v: the Euclidean length of a float64 array (any shape).
static int
s_norm (mc_kcall_t *call)
{
    mc_karray_t v;
    if (mc_kcall_array (call, "v", &v) || v.dtype != MC_KDTYPE_F64)
        return mc_kcall_error (call, "norm: expected a float64 array (push it, then pass @name)");
    const double *x = v.data;
    double sum = 0;
    for (size_t i = 0; i < v.size / 8; i++)
        sum += x [i] * x [i];
    return mc_kcall_out_double (call, sqrt (sum));
}

//  scale x by=2: x * by, two floats.
static int
s_scale (mc_kcall_t *call)
{
    return mc_kcall_out_double (call, mc_kcall_double (call, "x") * mc_kcall_double (call, "by"));
}

static const mc_kernel_def_t s_kernels [] = {
    { "cube", "x*x*x of a number (an example kernel from a shared object)", "x:any", s_cube },
    { "norm", "Euclidean length of a float64 array (an example kernel from a shared object)", "v:array", s_norm },
    { "scale", "x * by (an example kernel from a shared object)", "x:float by:float=2", s_scale },
};

MC_PLUGIN_KERNELS (s_kernels);
