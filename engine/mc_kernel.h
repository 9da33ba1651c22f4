/*  mc_kernel: what a kernel is and how it is called, the kernel ABI. A
    kernel is a C function that reads typed arguments (msgpack objects, and
    arrays through mc_kcall_array) and packs exactly one result value, or
    reports an error. Built-in kernels and kernels in shared objects use
    the same calls.

    A shared object (loaded by `mcengine --kernel-path DIR`) exports

        const mc_kernel_def_t *mc_kernels (int abi, size_t *count);

    which returns its table of kernels (static storage), or NULL when it
    cannot serve this MC_KERNEL_ABI. Names are letters, digits, '_', '-' or
    '.'; `args` lists the arguments as "name:type" or "name:type=default",
    separated by spaces, with types int, float, str, bool, list, map,
    array, any (a trailing "..." for more). See engine/kernels/examples. */
#ifndef MC_KERNEL_H
#define MC_KERNEL_H
#include "mc_array.h"
#include <czmq.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MC_KERNEL_ABI 1

typedef struct mc_kcall mc_kcall_t;
//  Run once per item (map) or once (apply). Return 0 after packing exactly
//  one value into mc_kcall_out, or the result of mc_kcall_error.
typedef int (mc_kernel_fn) (mc_kcall_t *call);

typedef struct {
    const char *name;           //  what users type
    const char *doc;            //  one line
    const char *args;           //  typed arguments, e.g. "samples:int" (see above)
    mc_kernel_fn *fn;
} mc_kernel_def_t;

//  Positional arguments: for a map the item comes first, then the job's args.
size_t mc_kcall_argc (const mc_kcall_t *call);
//  Argument i (borrowed), or NULL when there is none.
const msgpack_object *mc_kcall_arg (const mc_kcall_t *call, size_t i);
//  Keyword argument by name (borrowed), or NULL.
const msgpack_object *mc_kcall_kwarg (const mc_kcall_t *call, const char *name);
//  Where the kernel packs its one result value.
msgpack_packer *mc_kcall_out (mc_kcall_t *call);
//  Read an array argument (float64 or int64 with a shape): 0 with *array
//  filled (data borrowed for the call), or -1 when obj is no array.
int mc_kcall_array (const mc_kcall_t *call, const msgpack_object *obj, mc_array_t *array);
//  Pack an array of this dtype and shape as (part of) the result and return
//  its data for the kernel to fill (8-byte aligned, uninitialised). NULL
//  when the memory cannot be had: the error is already set, return -1.
void *mc_kcall_out_array (mc_kcall_t *call, mc_dtype_t dtype, uint32_t ndim, const uint64_t *shape);
//  Report a number about this call beside its result (the task's metadata,
//  e.g. "acceptance"); at most 16 keys per task. A map task reports each
//  key as a list with one value per item.
void mc_kcall_meta_double (mc_kcall_t *call, const char *key, double value);
//  Report an error (one line); returns -1 for the kernel to return.
int mc_kcall_error (mc_kcall_t *call, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
//  The job seed and this item's job-wide index: derive random streams from
//  these two only, so results do not depend on engine or order.
uint64_t mc_kcall_seed (const mc_kcall_t *call);
uint64_t mc_kcall_index (const mc_kcall_t *call);
//  True once the engine is stopping: long kernels should return soon.
bool mc_kcall_cancelled (const mc_kcall_t *call);

//  The entry point a shared object of kernels exports.
typedef const mc_kernel_def_t *(mc_kernels_fn) (int abi, size_t *count);

//  --- used by the engine, not by kernels ---
//  The kernel table of this process. Register fails (-1) for a taken or
//  invalid name.
int mc_kernel_register (const mc_kernel_def_t *def);
const mc_kernel_def_t *mc_kernel_find (const char *name, size_t len);
size_t mc_kernel_count (void);
const mc_kernel_def_t *mc_kernel_at (size_t index);

//  Load every *.so in dir and register its kernels. 0, or -1 with err
//  naming the file and what is wrong with it.
int mc_kernel_load_dir (const char *dir, char *err, size_t errlen);
struct mc_kcall {
    const msgpack_object **argv;
    size_t argc;
    const msgpack_object *kwargs;   //  a map
    zframe_t *const *frames;        //  what the arguments' array references index
    size_t frame_count;
    msgpack_packer *out;
    zlist_t *out_frames;            //  frames of the result's arrays (the runner's)
    uint64_t seed, index;
    const volatile int *cancel;
    char error [1024];
    struct { const char *key; double value; } meta [64];
    size_t meta_count;
};
//  Register noop, echo, square, sleep and fail.
void mc_builtin_register (void);
//  Register pi and walker.
void mc_sampler_register (void);
#endif
