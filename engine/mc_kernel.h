/*  mc_kernel: the kernel ABI, all that a kernel's author includes. A kernel
    is a C function that reads its arguments through an opaque call context
    and builds exactly one result value with the mc_kcall_* builders, or
    reports an error. Arguments are opaque values read with mc_kvalue_*:
    nothing here is the wire format, so kernels never depend on it.
    Built-in kernels and kernels in shared objects use the same calls.

    A shared object (loaded by `mcengine --kernel-path DIR`) exports

        const mc_kernel_def_t *mc_kernels (int abi, size_t *count);

    which returns its table of kernels (static storage), or NULL when it
    cannot serve this MC_KERNEL_ABI: the engine then refuses the file. Names
    are letters, digits, '_', '-' or '.'; `args` lists the arguments as
    "name:type" or "name:type=default", separated by spaces, with types int,
    float, str, bool, list, map, array, any (a trailing "..." for more). See
    engine/kernels/examples. */
#ifndef MC_KERNEL_H
#define MC_KERNEL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  2: opaque values and result builders (1 handed out msgpack objects).
#define MC_KERNEL_ABI 2

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

//  The entry point a shared object of kernels exports.
typedef const mc_kernel_def_t *(mc_kernels_fn) (int abi, size_t *count);

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

//  Positional arguments: for a map the item comes first, then the job's args.
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
int mc_kcall_array (const mc_kcall_t *call, const mc_kvalue_t *value, mc_karray_t *array);

//  --------------------------------------------------------------------------
//  The result: exactly one value per call. A list or map of n entries is
//  followed by its n values (a map's by n key and value pairs). Each
//  builder returns 0, or -1 with the call's error set (out of memory, or
//  more values than one result holds): then return -1.

int mc_kcall_nil (mc_kcall_t *call);
int mc_kcall_bool (mc_kcall_t *call, bool value);
int mc_kcall_int (mc_kcall_t *call, int64_t value);
int mc_kcall_double (mc_kcall_t *call, double value);
int mc_kcall_str (mc_kcall_t *call, const char *text, size_t len);
int mc_kcall_list (mc_kcall_t *call, size_t count);
int mc_kcall_map (mc_kcall_t *call, size_t count);
//  An argument value (or a part of one) as it came, arrays included.
int mc_kcall_value (mc_kcall_t *call, const mc_kvalue_t *value);
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
