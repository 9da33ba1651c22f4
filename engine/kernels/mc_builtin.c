/*  Built-in kernels: noop, echo, square, sleep, fail. Small, but each
    declares its arguments (the engine checks them before the call) and
    says what else is wrong, as every kernel must. */
#include "mc_kernel.h"
#include "mc_kcall.h"
#include "mc_ktable.h"
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int
s_noop (mc_kcall_t *call)
{
    return mc_kcall_out_nil (call);
}

static int
s_echo (mc_kcall_t *call)
{
    size_t argc = mc_kcall_argc (call);
    if (argc == 0)
        return mc_kcall_out_nil (call);
    if (argc == 1)
        return mc_kcall_out_value (call, mc_kcall_arg (call, 0));
    if (mc_kcall_out_list (call, argc))
        return -1;
    for (size_t i = 0; i < argc; i++)
        if (mc_kcall_out_value (call, mc_kcall_arg (call, i)))
            return -1;
    return 0;
}

//  Square each element of a float64 or int64 array into a new array.
static int
s_square_array (mc_kcall_t *call, const mc_karray_t *in)
{
    void *data = mc_kcall_out_array (call, in->dtype, in->ndim, in->shape);
    if (!data)
        return -1;
    size_t n = in->size / 8;
    if (in->dtype == MC_KDTYPE_F64) {
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
s_square_value (mc_kcall_t *call, const mc_kvalue_t *x)
{
    mc_karray_t array;
    if (mc_kvalue_array (call, x, &array) == 0)
        return s_square_array (call, &array);
    switch (mc_kvalue_type (x)) {
        case MC_KVALUE_INT: {
            //  Only a positive integer can be too large for an int64_t.
            int64_t i = 0, product;
            if (mc_kvalue_int (x, &i) || __builtin_mul_overflow (i, i, &product))
                return mc_kcall_error (call, "square: %s squared overflows a 64-bit integer",
                                       i < 0? "negative integer": "integer");
            return mc_kcall_out_int (call, product);
        }
        case MC_KVALUE_FLOAT: {
            double d;
            mc_kvalue_double (x, &d);
            return mc_kcall_out_double (call, d * d);
        }
        case MC_KVALUE_LIST:
            if (mc_kcall_out_list (call, mc_kvalue_len (x)))
                return -1;
            for (size_t k = 0; k < mc_kvalue_len (x); k++)
                if (s_square_value (call, mc_kvalue_at (x, k)))
                    return -1;
            return 0;
        default:
            return mc_kcall_error (call, "square: expected an int, a float, or a list or array of them, got %s",
                                   mc_kvalue_type_name (x));
    }
}

static int
s_square (mc_kcall_t *call)
{
    return s_square_value (call, mc_kcall_value (call, "x"));
}

static int
s_sleep (mc_kcall_t *call)
{
    double ms = mc_kcall_double (call, "ms");
    if (!(ms >= 0) || ms > 86400e3)
        return mc_kcall_error (call, "sleep: expected milliseconds from 0 to 86400000, got %g", ms);
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
    return mc_kcall_out_nil (call);
}

static int
s_fail (mc_kcall_t *call)
{
    const mc_kvalue_t *message = mc_kcall_value (call, "message");
    if (!message)
        return mc_kcall_error (call, "failed as asked");
    size_t len;
    const char *text = mc_kvalue_str (message, &len);
    if (text)
        return mc_kcall_error (call, "%.*s", (int) len, text);
    double number;
    if (mc_kvalue_double (message, &number) == 0)
        return mc_kcall_error (call, "%.17g", number);
    return mc_kcall_error (call, "failed as asked (with a %s)", mc_kvalue_type_name (message));
}

static const mc_kernel_def_t s_builtins [] = {
    { "noop",   "do nothing and return null (for measuring overhead)", "args:any...", s_noop },
    { "echo",   "return the argument (or the list of arguments)", "args:any...", s_echo },
    { "square", "x*x for an int or float; elementwise for a list or array", "x:any", s_square },
    { "sleep",  "sleep this many milliseconds, then return null", "ms:float", s_sleep },
    { "fail",   "raise an error with the given message", "message:any=nil", s_fail },
};

int
mc_builtin_register (void)
{
    return mc_ktable_register_all (s_builtins, sizeof s_builtins / sizeof s_builtins [0]);
}

//  --------------------------------------------------------------------------
//  Selftest: each kernel's results and the edge cases of its arguments.

void
mc_builtin_test (bool verbose)
{
    printf (" * mc_builtin: ");
    if (verbose)
        printf ("\n");
    struct { const char *kernel, *args, *expect; int rc; } cases [] = {
        { "noop", "[1, 2]", "null", 0 },
        { "echo", "[]", "null", 0 },
        { "echo", "[{\"a\": [1, 2.5]}]", "{\"a\":[1,2.5]}", 0 },
        { "echo", "[\"a\", 1]", "[\"a\",1]", 0 },
        { "square", "[-3]", "9", 0 },
        { "square", "[2.5]", "6.25", 0 },
        { "square", "[3037000499]", "9223372030926249001", 0 },
        { "square", "[3037000500]", "square: integer squared overflows a 64-bit integer", -1 },
        { "square", "[-3037000500]", "square: negative integer squared overflows a 64-bit integer", -1 },
        { "square", "[[1, [2, 3.5]]]", "[1,[4,12.25]]", 0 },
        { "square", "[[1, \"x\"]]", "square: expected an int, a float, or a list or array of them, got string", -1 },
        { "square", "[{}]", "square: expected an int, a float, or a list or array of them, got map", -1 },
        { "square", "[]", "square: x (any) is required", -1 },
        { "square", "[1, 2]", "square: takes 1 positional argument, got 2", -1 },
        { "sleep", "[0]", "null", 0 },
        { "sleep", "[86400001]", "sleep: expected milliseconds from 0 to 86400000, got 8.64e+07", -1 },
        { "sleep", "[\"1\"]", "sleep: ms must be a float, got string", -1 },
        { "sleep", "[1, 2]", "sleep: takes 1 positional argument, got 2", -1 },
        { "fail", "[]", "failed as asked", -1 },
        { "fail", "[\"line one\\nline two\"]", "line one line two", -1 },
        { "fail", "[0.1]", "0.10000000000000001", -1 },
        { "fail", "[[1]]", "failed as asked (with a list)", -1 },
        { "fail", "[1, 2]", "fail: takes 1 positional argument, got 2", -1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        const mc_kernel_def_t *def = NULL;
        for (size_t k = 0; k < sizeof s_builtins / sizeof s_builtins [0]; k++)
            if (!strcmp (s_builtins [k].name, cases [i].kernel))
                def = &s_builtins [k];
        assert (def);
        mc_kcall_expect (def, cases [i].args, NULL, 0, cases [i].rc, cases [i].expect, verbose);
    }
    assert (mc_builtin_register () == 0 && mc_builtin_register () == 0);
    assert (mc_ktable_find ("square", 6) == &s_builtins [2]);
    printf ("OK\n");
}
