/*  An example of kernels in a shared object. Build it (CMake does: the
    target mc_example_kernels), put the .so in a directory, and start
    engines with `mcengine --kernel-path DIR` (or `ipclusterd -n 4
    --kernel-path DIR`); then `mcclient apply cube 3` gives 27.

    A kernel reads its arguments with mc_kcall_arg / mc_kcall_kwarg and the
    mc_kvalue_* readers (mc_kcall_array for arrays), builds one result with
    the mc_kcall_* builders (mc_kcall_int, mc_kcall_list, ...) and returns
    0; or returns mc_kcall_error (call, "what is wrong"). It needs nothing
    but mc_kernel.h. Random numbers must come from the job seed and the item
    index only (mc_kcall_seed, mc_kcall_index), so that results are
    reproducible. */
#include "mc_kernel.h"
#include <math.h>

//  cube x: x * x * x for a number.
static int
s_cube (mc_kcall_t *call)
{
    const mc_kvalue_t *x = mc_kcall_arg (call, 0);
    if (mc_kcall_argc (call) != 1)
        return mc_kcall_error (call, "cube: expected 1 argument, got %zu", mc_kcall_argc (call));
    if (mc_kvalue_type (x) == MC_KVALUE_INT) {
        int64_t v, r;
        if (mc_kvalue_int (x, &v))
            return mc_kcall_error (call, "cube: integer too large");
        if (__builtin_mul_overflow (v, v, &r) || __builtin_mul_overflow (r, v, &r))
            return mc_kcall_error (call, "cube: the result overflows a 64-bit integer");
        return mc_kcall_int (call, r);
    }
    double d;
    if (mc_kvalue_type (x) == MC_KVALUE_FLOAT && mc_kvalue_double (x, &d) == 0)
        return mc_kcall_double (call, d * d * d);
    return mc_kcall_error (call, "cube: expected a number");
}

//  norm v: the Euclidean length of a float64 array (any shape).
static int
s_norm (mc_kcall_t *call)
{
    mc_karray_t v;
    if (mc_kcall_argc (call) != 1 || mc_kcall_array (call, mc_kcall_arg (call, 0), &v) || v.dtype != MC_KDTYPE_F64)
        return mc_kcall_error (call, "norm: expected one float64 array (push it, then pass @name)");
    const double *x = v.data;
    double sum = 0;
    for (size_t i = 0; i < v.size / 8; i++)
        sum += x [i] * x [i];
    return mc_kcall_double (call, sqrt (sum));
}

static const mc_kernel_def_t s_kernels [] = {
    { "cube", "x*x*x of a number (an example kernel from a shared object)", "x:float", s_cube },
    { "norm", "Euclidean length of a float64 array (an example kernel from a shared object)", "v:array", s_norm },
};

const mc_kernel_def_t *
mc_kernels (int abi, size_t *count)
{
    if (abi != MC_KERNEL_ABI)
        return NULL;
    *count = sizeof s_kernels / sizeof s_kernels [0];
    return s_kernels;
}
