/*  Built-in kernels: noop, echo, square, sleep, fail. Small, but each
    checks its arguments and says what is wrong, as every kernel must. */
#include "mc_kernel.h"
#include "mc_value.h"
#include <math.h>
#include <string.h>
#include <time.h>

static int
s_arity (mc_kcall_t *call, const char *name, size_t min, size_t max)
{
    size_t argc = mc_kcall_argc (call);
    if (argc < min || argc > max) {
        if (min == max)
            return mc_kcall_error (call, "%s: expected %zu argument%s, got %zu", name, min, min == 1? "": "s", argc);
        return mc_kcall_error (call, "%s: expected %zu to %zu arguments, got %zu", name, min, max, argc);
    }
    return 0;
}

static int
s_noop (mc_kcall_t *call)
{
    return msgpack_pack_nil (mc_kcall_out (call));
}

static int
s_echo (mc_kcall_t *call)
{
    msgpack_packer *out = mc_kcall_out (call);
    size_t argc = mc_kcall_argc (call);
    if (argc == 0)
        return msgpack_pack_nil (out);
    if (argc == 1)
        return msgpack_pack_object (out, *mc_kcall_arg (call, 0));
    msgpack_pack_array (out, argc);
    for (size_t i = 0; i < argc; i++)
        msgpack_pack_object (out, *mc_kcall_arg (call, i));
    return 0;
}

//  Square each element of a float64 or int64 array into a new array.
static int
s_square_array (mc_kcall_t *call, const mc_array_t *in)
{
    void *data = mc_kcall_out_array (call, in->dtype, in->ndim, in->shape);
    if (!data)
        return -1;
    size_t n = in->size / 8;
    if (in->dtype == MC_DTYPE_F64) {
        const double *x = in->data;
        double *y = data;
        for (size_t k = 0; k < n; k++)
            y [k] = x [k] * x [k];
        return 0;
    }
    const int64_t *x = in->data;
    int64_t *y = data;
    for (size_t k = 0; k < n; k++)
        if (__builtin_mul_overflow (x [k], x [k], &y [k]))
            return mc_kcall_error (call, "square: element %zu squared overflows a 64-bit integer", k);
    return 0;
}

//  Square a number, or each element of a list or array, recursively.
static int
s_square_value (mc_kcall_t *call, const msgpack_object *x)
{
    msgpack_packer *out = mc_kcall_out (call);
    int64_t i;
    mc_array_t array;
    if (mc_kcall_array (call, x, &array) == 0)
        return s_square_array (call, &array);
    switch (x->type) {
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
        case MSGPACK_OBJECT_NEGATIVE_INTEGER: {
            int64_t product;
            if (mc_value_get_int (x, &i) || __builtin_mul_overflow (i, i, &product))
                return mc_kcall_error (call, "square: %s squared overflows a 64-bit integer",
                                       x->type == MSGPACK_OBJECT_POSITIVE_INTEGER? "integer": "negative integer");
            return msgpack_pack_int64 (out, product);
        }
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            return msgpack_pack_double (out, x->via.f64 * x->via.f64);
        case MSGPACK_OBJECT_ARRAY:
            msgpack_pack_array (out, x->via.array.size);
            for (uint32_t k = 0; k < x->via.array.size; k++)
                if (s_square_value (call, &x->via.array.ptr [k]))
                    return -1;
            return 0;
        default:
            return mc_kcall_error (call, "square: expected an int, a float, or a list or array of them, got %s",
                                   mc_value_type_name (x));
    }
}

static int
s_square (mc_kcall_t *call)
{
    if (s_arity (call, "square", 1, 1))
        return -1;
    return s_square_value (call, mc_kcall_arg (call, 0));
}

static int
s_sleep (mc_kcall_t *call)
{
    if (s_arity (call, "sleep", 1, 1))
        return -1;
    double ms;
    if (mc_value_get_double (mc_kcall_arg (call, 0), &ms) || !(ms >= 0) || ms > 86400e3)
        return mc_kcall_error (call, "sleep: expected milliseconds from 0 to 86400000, got %s",
                               mc_value_type_name (mc_kcall_arg (call, 0)));
    //  Sleep in slices so that a stopping engine is not held up.
    struct timespec end;
    clock_gettime (CLOCK_MONOTONIC, &end);
    int64_t end_ns = end.tv_sec * 1000000000LL + end.tv_nsec + (int64_t) (ms * 1e6);
    while (!mc_kcall_cancelled (call)) {
        struct timespec now;
        clock_gettime (CLOCK_MONOTONIC, &now);
        int64_t left = end_ns - (now.tv_sec * 1000000000LL + now.tv_nsec);
        if (left <= 0)
            break;
        if (left > 20000000)
            left = 20000000;
        struct timespec nap = { 0, left };
        nanosleep (&nap, NULL);
    }
    if (mc_kcall_cancelled (call))
        return mc_kcall_error (call, "sleep: cancelled, the engine is stopping");
    return msgpack_pack_nil (mc_kcall_out (call));
}

static int
s_fail (mc_kcall_t *call)
{
    if (s_arity (call, "fail", 0, 1))
        return -1;
    const msgpack_object *message = mc_kcall_arg (call, 0);
    if (!message)
        return mc_kcall_error (call, "failed as asked");
    if (message->type == MSGPACK_OBJECT_STR)
        return mc_kcall_error (call, "%.*s", (int) message->via.str.size, message->via.str.ptr);
    double number;
    if (mc_value_get_double (message, &number) == 0)
        return mc_kcall_error (call, "%.17g", number);
    return mc_kcall_error (call, "failed as asked (with a %s)", mc_value_type_name (message));
}

static const mc_kernel_def_t s_builtins [] = {
    { "noop",   "do nothing and return null (for measuring overhead)", "args:any...", s_noop },
    { "echo",   "return the argument (or the list of arguments)", "args:any...", s_echo },
    { "square", "x*x for an int or float; elementwise for a list or array", "x:any", s_square },
    { "sleep",  "sleep this many milliseconds, then return null", "ms:float", s_sleep },
    { "fail",   "raise an error with the given message", "message:str", s_fail },
};

void
mc_builtin_register (void)
{
    for (size_t i = 0; i < sizeof s_builtins / sizeof s_builtins [0]; i++)
        mc_kernel_register (&s_builtins [i]);
}
