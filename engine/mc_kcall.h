/*  mc_kcall: the engine's side of a kernel call. Kernels see only the
    opaque context of mc_kernel.h; the runner (and selftests and benchmarks)
    fill this struct for a task, point it at each item in turn and call the
    kernel with mc_kcall_invoke, which checks that the kernel built exactly
    one value. An argument value is its msgpack object: mc_kvalue_t is that
    object under another name, so reading an argument copies nothing. */
#ifndef MC_KCALL_H
#define MC_KCALL_H
#include "mc_kernel.h"
#include "mc_kargs.h"
#include <czmq.h>
#include <msgpack.h>

#define MC_KCALL_META_MAX 64        //  metadata reports kept per task (items x keys)

struct mc_kcall {
    const msgpack_object **argv;    //  positional arguments, argc of them
    size_t argc;
    const msgpack_object *kwargs;   //  a map, or NULL
    zframe_t *const *frames;        //  what the arguments' array references index
    size_t frame_count;
    msgpack_packer *out;            //  where the result is packed
    msgpack_sbuffer *out_buffer;    //  the buffer `out` writes to when it is one, else NULL: a
                                    //  one-byte value (nil, a bool) is put there straight
    zlist_t *out_frames;            //  frames of the result's arrays: the caller owns them
    uint64_t seed, index;
    const volatile int *cancel;     //  nonzero once the engine stops or the task's job is aborted; may be NULL
    const mc_kargs_t *args;         //  the kernel's declared arguments (set by invoke)
    mc_kslot_t slot [MC_KARGS_MAX]; //  their values for this call (set by invoke)
    size_t owed;                    //  values the result still needs (set by invoke)
    //  Set by mc_kcall_bind_rest for mc_kcall_invoke_item:
    bool item_bound;                //  the item is a declared argument (slot 0), converted per call
    bool rest_failed;               //  the rest could not be bound: rest_error says why
    bool rest_early;                //  ... and the failure comes before the item's conversion
    char rest_error [1024];
    char error [1024];
    struct { const char *key; double value; } meta [MC_KCALL_META_MAX];
    size_t meta_count;
};

//  A msgpack object as the kernels' opaque value (borrowed).
static inline const mc_kvalue_t *
mc_kvalue_of (const msgpack_object *obj)
{
    return (const mc_kvalue_t *) obj;
}

//  Call def once on call (argv, index and the rest set by the caller) with
//  args, def's parsed arguments: 0 when the arguments fit args and the
//  kernel built exactly one value; -1 with call->error set when they did
//  not, or it failed, or built less or more than that.
int mc_kcall_invoke (mc_kcall_t *call, const mc_kernel_def_t *def, const mc_kargs_t *args);

//  The same for the items of a map task, whose calls differ in argv [0]
//  alone: mc_kcall_bind_rest checks and converts the other arguments once
//  (argv [1 ..), kwargs, defaults; argv [0] must point at an item, any),
//  then mc_kcall_invoke_item converts argv [0], the item of this call, and
//  calls the kernel, with the results and errors of mc_kcall_invoke (an
//  error in the other arguments is told by the first call).
//  mc_kcall_unbind frees what the binding holds, after the last item.
void mc_kcall_bind_rest (mc_kcall_t *call, const mc_kernel_def_t *def, const mc_kargs_t *args);
int mc_kcall_invoke_item (mc_kcall_t *call, const mc_kernel_def_t *def);
void mc_kcall_unbind (mc_kcall_t *call);

//  Pack the metadata that the calls of a task reported into meta (nothing
//  when there is none): a map key -> value for an apply, key -> list of
//  values (one per item that reported it) for a map task. 0, or -1 when
//  out of memory.
int mc_kcall_pack_meta (const mc_kcall_t *call, bool is_map, msgpack_sbuffer *meta);

//  For selftests: call def once (seed given, index 0) on args, a JSON list,
//  and kwargs, a JSON object or NULL. Its result as compact JSON (arrays
//  as nested lists), or its error, goes into out. 0, or -1 when it failed.
int mc_kcall_try (const mc_kernel_def_t *def, const char *args, const char *kwargs, uint64_t seed,
                  char *out, size_t len);
//  The same, asserting that it returns rc and (unless expect is NULL) that
//  its result or error is expect; shows what it got when verbose.
void mc_kcall_expect (const mc_kernel_def_t *def, const char *args, const char *kwargs, uint64_t seed,
                      int rc, const char *expect, bool verbose);

//  For selftests: JSON text packed into sb (appended) and unpacked into
//  zone; asserts, as it only reads the tests' own text.
msgpack_object mc_kcall_test_value (const char *json, msgpack_sbuffer *sb, msgpack_zone *zone);

//  Self test: readers against hand-made arguments, builders against the
//  bytes they pack, and invoke's checks.
void mc_kcall_test (bool verbose);
#endif
