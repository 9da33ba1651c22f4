/*  mc_kernel: the kernel ABI, all that a kernel's author includes. A kernel
    is a C function that reads its arguments by name, already checked and
    converted by the engine against the `args` it declares, and builds
    exactly one result value with the mc_kcall_out_* builders, or reports an
    error. Nothing here is the wire format, so kernels never depend on it.
    Built-in kernels and kernels in shared objects use the same calls.

    `args` lists the arguments as "name:type" or "name:type=default",
    separated by spaces, with types int, float, str, bool, list, map, array,
    any. Arguments bind positionally (a map's item first), then by keyword;
    a "*" ends the positional ones (those after it are keyword only, and a
    map's item before it may be declared as `item:any=nil` and ignored); a
    trailing "..." after the last positional one lets more arguments
    through, positional and keyword (read them raw with mc_kcall_arg and
    mc_kcall_kwarg). A default of "nil" makes an argument
    optional with no value (mc_kcall_has says whether it came). The engine
    refuses a call whose arguments do not fit, naming the argument, before
    the kernel runs: an int takes an integer or an integral float (1e6), a
    float any number.

    A shared object (loaded by `mcengine --kernel-path DIR`, or sent to
    every engine with `mcclient kernels add FILE.c|FILE.so`, which compiles
    a .c with `cc -O2 -fPIC -shared -Wall -Wextra` against this header) says

        MC_PLUGIN (kernels, targets);

    at file scope (or MC_PLUGIN_KERNELS / MC_PLUGIN_TARGETS): it defines the
    data symbol `mc_plugin`, whose first member is the
    MC_KERNEL_ABI it was built against. An engine of another ABI refuses the
    file in one line naming both versions, and keeps running. Its kernels
    are named as they are; its walker targets are named "lib.name", where
    lib is the file's name without a leading "lib" and the ".so" (targets of
    mymodel.so are mymodel.banana2, ...). Names are letters, digits, '_',
    '-' or '.'. See engine/kernels/examples. */
#ifndef MC_KERNEL_H
#define MC_KERNEL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

//  3: arguments checked and read by name; targets of the walker; builders
//  renamed mc_kcall_out_*; the mc_plugin symbol (2: opaque values and
//  builders, the mc_kernels function; 1: raw msgpack objects).
#define MC_KERNEL_ABI 3

//  One call of a kernel: its arguments, seed and index, and its result.
typedef struct mc_kcall mc_kcall_t;
//  One argument value, or a part of one; borrowed for the call.
typedef struct mc_kvalue mc_kvalue_t;

//  Run once per item (map) or once (apply). Return 0 after building exactly
//  one result value, or -1 (what mc_kcall_error returns).
typedef int (mc_kernel_fn) (mc_kcall_t *call);

typedef struct {
    const char *name;           //  what users type
    const char *doc;            //  one line
    const char *args;           //  typed arguments, e.g. "samples:int" (see above)
    mc_kernel_fn *fn;
} mc_kernel_def_t;

//  A target of the walker: an unnormalised density, or its logarithm, at
//  the point x [0 .. dim) with the job's params (params [0 .. nparams)).
//  It must be a pure function of its arguments (no state, no randomness):
//  it is called from several chains, and results must be reproducible. A
//  density of 0 (log: -INFINITY) is outside the support.
typedef double (mc_target_fn) (const double *x, size_t dim, const double *params);

//  Optional, beside fn: the same density at n points at once, coordinate d
//  of point i at x [d * n + i], its value into out [i]. With it, walkers=K
//  runs LANES chains side by side, vectorised as the built-in targets are
//  (else one after another, about 4x slower on AVX2). Define it from fn
//  with MC_TARGET_LANES; it must give fn's bits.
typedef void (mc_target_lanes_fn) (const double *x, size_t n, size_t dim, const double *params, double *out);

#define MC_TARGET_MAX_DIM 64        //  coordinates of a point
#define MC_TARGET_MAX_PARAMS 1024   //  params=[...] of one target
#define MC_TARGET_ANY_PARAMS (-1)   //  nparams: any number of parameters

typedef struct {
    const char *name;           //  what users type after "lib."
    const char *doc;            //  one line
    uint32_t dim;               //  1 .. MC_TARGET_MAX_DIM
    int32_t nparams;            //  0 .. MC_TARGET_MAX_PARAMS, or MC_TARGET_ANY_PARAMS
    bool log;                   //  fn returns log density (else the density)
    mc_target_fn *fn;
    mc_target_lanes_fn *lanes;  //  fn at many points at once, or NULL
} mc_target_def_t;

//  At file scope: name, the lanes form of the point density fn (a static
//  function of this file, so that it is inlined) of DIM coordinates. Built
//  for AVX2 and for any x86-64, chosen at run time. Compile the plugin with
//  -O3 -ffp-contract=off -fno-trapping-math (as the engine's samplers are):
//  vectorised, with no fused multiply-add to change a bit.
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define MC_TARGET_CLONES __attribute__ ((target_clones ("avx2", "default")))
#else
#define MC_TARGET_CLONES
#endif
#define MC_TARGET_LANES(name, fn, DIM)                                                              \
    MC_TARGET_CLONES static void                                                                   \
    name (const double *x, size_t n, size_t dim, const double *params, double *out)                \
    {                                                                                              \
        (void) dim;                                                                                \
        for (size_t i = 0; i < n; i++) {                                                           \
            double p [DIM];                                                                        \
            for (size_t d = 0; d < (DIM); d++)                                                     \
                p [d] = x [d * n + i];                                                             \
            out [i] = fn (p, (DIM), params);                                                       \
        }                                                                                          \
    }

//  What a shared object exports, as the data symbol mc_plugin. The first
//  member stays first in every ABI, so that any engine can read it.
typedef struct {
    int abi;                                //  MC_KERNEL_ABI it was built against
    const mc_kernel_def_t *kernels;         //  static storage
    size_t kernel_count;
    const mc_target_def_t *targets;         //  static storage, or NULL
    size_t target_count;
} mc_plugin_t;

#define MC_COUNT_OF(a) (sizeof (a) / sizeof ((a) [0]))
//  At file scope of a plugin: its tables of kernels and of targets (static
//  arrays), or of either alone.
#define MC_PLUGIN(kernels, targets) \
    const mc_plugin_t mc_plugin = { MC_KERNEL_ABI, kernels, MC_COUNT_OF (kernels), targets, MC_COUNT_OF (targets) }
#define MC_PLUGIN_KERNELS(kernels) \
    const mc_plugin_t mc_plugin = { MC_KERNEL_ABI, kernels, MC_COUNT_OF (kernels), NULL, 0 }
#define MC_PLUGIN_TARGETS(targets) \
    const mc_plugin_t mc_plugin = { MC_KERNEL_ABI, NULL, 0, targets, MC_COUNT_OF (targets) }

//  exp(x) for x <= 0 in plain IEEE operations (no libm): the same bits on
//  every machine, in every build and in every plugin, so that a target
//  written with it gives the built-in targets' bits. Relative error at most
//  4.5e-16 (2 ulp; mc_sampler's selftest measures it against expl), and 0
//  below -708. Rounding uses the 1.5 * 2^52 trick so that the integer part
//  never leaves the double's bits (AVX2 has no double <-> int64
//  conversion): loops that call it can be vectorised.
static inline double
mc_exp (double x)
{
    const double shift = 6755399441055744.0;            //  1.5 * 2^52
    double xc = x < -708.0? -708.0: x;
    double t = xc * 1.4426950408889634 + shift;          //  round to nearest
    double k = t - shift;
    //  r in [-ln2/2, ln2/2]: the Taylor series to r^13 / 13! leaves a
    //  truncation below 2^-60 there (to r^12 it was 8.8e-15).
    double r = (xc - k * 0.693145751953125) - k * 1.4286068203094173e-06;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    uint64_t bits;
    memcpy (&bits, &t, 8);
    uint64_t e = (bits + 1023) << 52;                    //  2^k: k sits in the low bits of t
    double scale;
    memcpy (&scale, &e, 8);
    return x < -708.0? 0.0: p * scale;
}

//  --------------------------------------------------------------------------
//  Arguments

//  What a value is. The numbers are part of the ABI.
typedef enum {
    MC_KVALUE_NONE = 0,         //  no value (a NULL pointer: a missing argument)
    MC_KVALUE_NIL = 1,
    MC_KVALUE_BOOL = 2,
    MC_KVALUE_INT = 3,
    MC_KVALUE_FLOAT = 4,
    MC_KVALUE_STR = 5,
    MC_KVALUE_LIST = 6,
    MC_KVALUE_MAP = 7,
    MC_KVALUE_ARRAY = 8,        //  a typed array: read it with mc_kcall_array
    MC_KVALUE_OTHER = 9         //  binary and the like: a kernel can only pass it on
} mc_ktype_t;

//  Element types of typed arrays; little-endian 8-byte elements, row-major.
typedef enum { MC_KDTYPE_F64 = 1, MC_KDTYPE_I64 = 2 } mc_kdtype_t;
#define MC_KARRAY_MAX_DIMS 8

//  A typed array as a kernel reads it.
typedef struct {
    mc_kdtype_t dtype;
    uint32_t ndim;                          //  1 .. MC_KARRAY_MAX_DIMS
    uint64_t shape [MC_KARRAY_MAX_DIMS];
    const void *data;                       //  8-byte aligned, borrowed for the call
    size_t size;                            //  bytes: 8 x product of shape
} mc_karray_t;

//  Arguments by their declared name, checked and converted before the
//  call: an int, a float, a bool, a string (NUL-terminated, its length in
//  *len unless len is NULL; borrowed for the call) or an array. Asking for
//  a name that `args` does not declare with that type is the kernel's bug:
//  the reader returns 0 / NULL / -1 and the call fails, saying so.
int64_t mc_kcall_int (mc_kcall_t *call, const char *name);
double mc_kcall_double (mc_kcall_t *call, const char *name);
bool mc_kcall_bool (mc_kcall_t *call, const char *name);
const char *mc_kcall_str (mc_kcall_t *call, const char *name, size_t *len);
//  A typed array argument into *array: 0, or -1.
int mc_kcall_array (mc_kcall_t *call, const char *name, mc_karray_t *array);
//  Whether an optional argument (default nil) came.
bool mc_kcall_has (mc_kcall_t *call, const char *name);
//  Any argument as it came (a list, a map, an "any"): read it with the
//  mc_kvalue_* readers below. NULL when it did not come.
const mc_kvalue_t *mc_kcall_value (mc_kcall_t *call, const char *name);

//  Raw positional arguments: for a map the item comes first, then the
//  job's args (with "..." in args, the extra ones are read this way).
size_t mc_kcall_argc (const mc_kcall_t *call);
//  Argument i, or NULL when there is none.
const mc_kvalue_t *mc_kcall_arg (const mc_kcall_t *call, size_t i);
//  Keyword argument by name, or NULL.
const mc_kvalue_t *mc_kcall_kwarg (const mc_kcall_t *call, const char *name);

//  Every mc_kvalue_* reader accepts NULL (a missing value).
mc_ktype_t mc_kvalue_type (const mc_kvalue_t *value);
//  A short name of its type for messages: "int", "float", "string", "list",
//  "map", "array", ...; "nothing" for NULL.
const char *mc_kvalue_type_name (const mc_kvalue_t *value);
//  An integer, or a float with an integral value, into *out: 0, or -1 when
//  value is neither or does not fit an int64_t.
int mc_kvalue_int (const mc_kvalue_t *value, int64_t *out);
//  Any number as a double: 0 or -1.
int mc_kvalue_double (const mc_kvalue_t *value, double *out);
int mc_kvalue_bool (const mc_kvalue_t *value, bool *out);
//  A string's bytes (not NUL-terminated) and their number in *len; NULL
//  when value is no string.
const char *mc_kvalue_str (const mc_kvalue_t *value, size_t *len);
//  Elements of a list, entries of a map; 0 for anything else.
size_t mc_kvalue_len (const mc_kvalue_t *value);
//  Element i of a list, or NULL.
const mc_kvalue_t *mc_kvalue_at (const mc_kvalue_t *list, size_t i);
//  The value of a string key of a map, or NULL.
const mc_kvalue_t *mc_kvalue_get (const mc_kvalue_t *map, const char *key);
//  A typed array (float64 or int64 with a shape) into *array: 0, or -1 when
//  value is no array.
int mc_kvalue_array (const mc_kcall_t *call, const mc_kvalue_t *value, mc_karray_t *array);

//  --------------------------------------------------------------------------
//  The result: exactly one value per call. A list or map of n entries is
//  followed by its n values (a map's by n key and value pairs). Each
//  builder returns 0, or -1 with the call's error set (out of memory, or
//  more values than one result holds): then return -1.

int mc_kcall_out_nil (mc_kcall_t *call);
int mc_kcall_out_bool (mc_kcall_t *call, bool value);
int mc_kcall_out_int (mc_kcall_t *call, int64_t value);
int mc_kcall_out_double (mc_kcall_t *call, double value);
int mc_kcall_out_str (mc_kcall_t *call, const char *text, size_t len);
int mc_kcall_out_list (mc_kcall_t *call, size_t count);
int mc_kcall_out_map (mc_kcall_t *call, size_t count);
//  An argument value (or a part of one) as it came, arrays included.
int mc_kcall_out_value (mc_kcall_t *call, const mc_kvalue_t *value);
//  A typed array of this dtype and shape; returns its data for the kernel
//  to fill (8-byte aligned, uninitialised), or NULL with the error set.
void *mc_kcall_out_array (mc_kcall_t *call, mc_kdtype_t dtype, uint32_t ndim, const uint64_t *shape);

//  --------------------------------------------------------------------------
//  Everything else

//  Report a number about this call beside its result (the task's metadata,
//  e.g. "acceptance"); key must be static storage (a literal). At most 16
//  keys per task; a map task reports each key as a list with one value per
//  item.
void mc_kcall_meta_double (mc_kcall_t *call, const char *key, double value);
//  Report an error (one line); returns -1 for the kernel to return.
int mc_kcall_error (mc_kcall_t *call, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
//  The job seed and this item's job-wide index: derive random streams from
//  these two only, so results do not depend on engine or order.
uint64_t mc_kcall_seed (const mc_kcall_t *call);
uint64_t mc_kcall_index (const mc_kcall_t *call);
//  True once the engine is stopping, or a client aborted this task's job:
//  long kernels should poll it and return soon (what they return then is
//  not kept). A kernel that ignores it past the controller's
//  abort_grace_ms has its engine restarted, namespace and all.
bool mc_kcall_cancelled (const mc_kcall_t *call);
#endif
