/*  An example of kernels in a shared object. Build it (CMake does: the
    target mc_example_kernels), put the .so in a directory, and start
    engines with `mcengine --kernel-path DIR` (or `ipclusterd -n 4
    --kernel-path DIR`); then `mcclient apply cube 3` gives 27.

    A kernel reads its arguments with mc_kcall_arg / mc_kcall_kwarg (and
    mc_kcall_array for arrays), packs one value into mc_kcall_out, and
    returns 0; or returns mc_kcall_error (call, "what is wrong"). Random
    numbers must come from the job seed and the item index only
    (mc_kcall_seed, mc_kcall_index), so that results are reproducible. */
#include "mc_kernel.h"
#include <math.h>

//  cube x: x * x * x for a number.
static int
s_cube (mc_kcall_t *call)
{
    const msgpack_object *x = mc_kcall_arg (call, 0);
    if (mc_kcall_argc (call) != 1 || !x)
        return mc_kcall_error (call, "cube: expected 1 argument, got %zu", mc_kcall_argc (call));
    if (x->type == MSGPACK_OBJECT_POSITIVE_INTEGER || x->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        int64_t v = x->type == MSGPACK_OBJECT_NEGATIVE_INTEGER? x->via.i64: (int64_t) x->via.u64, r;
        if (x->via.u64 > INT64_MAX && x->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            return mc_kcall_error (call, "cube: integer too large");
        if (__builtin_mul_overflow (v, v, &r) || __builtin_mul_overflow (r, v, &r))
            return mc_kcall_error (call, "cube: the result overflows a 64-bit integer");
        return msgpack_pack_int64 (mc_kcall_out (call), r);
    }
    if (x->type == MSGPACK_OBJECT_FLOAT64 || x->type == MSGPACK_OBJECT_FLOAT32)
        return msgpack_pack_double (mc_kcall_out (call), x->via.f64 * x->via.f64 * x->via.f64);
    return mc_kcall_error (call, "cube: expected a number");
}

//  norm v: the Euclidean length of a float64 array (any shape).
static int
s_norm (mc_kcall_t *call)
{
    mc_array_t v;
    if (mc_kcall_argc (call) != 1 || mc_kcall_array (call, mc_kcall_arg (call, 0), &v) || v.dtype != MC_DTYPE_F64)
        return mc_kcall_error (call, "norm: expected one float64 array (push it, then pass @name)");
    const double *x = v.data;
    double sum = 0;
    for (size_t i = 0; i < v.size / 8; i++)
        sum += x [i] * x [i];
    return msgpack_pack_double (mc_kcall_out (call), sqrt (sum));
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
