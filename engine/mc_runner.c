/*  mc_runner: run one task and send its result. A namespace operation is
    looked up once in the table of mc_ops.h and dispatched to its handler;
    a kernel task goes through small steps: decode its arguments, resolve
    their @names and arrays, call the kernel per item, reduce, and keep the
    results on the engine for --out. */
#include "mc_runner.h"
#include "mc_capture.h"
#include "mc_hist.h"
#include "mc_kcall.h"
#include "mc_ktable.h"
#include "mc_library.h"
#include "mc_log.h"
#include "mc_ops.h"
#include "mc_proto.h"
#include "mc_time.h"
#include "mc_value.h"

//  What one task produced.
typedef struct {
    uint64_t status;
    char text [2048];               //  an error, and the last lines the kernel printed
    msgpack_sbuffer out;            //  msgpack array, one value per item
    msgpack_packer pk;
    msgpack_sbuffer meta;           //  msgpack map of metadata, or empty
    zlist_t *frames;                //  frames the values refer to
    bool frames_owned;              //  false: borrowed from the namespace
} s_result_t;

//  A task's arguments, decoded. Array references in args, kwargs and items
//  index frames[0 .. frame_count): the task's own, or after names are
//  resolved, a table of the task's and the named values' frames.
typedef struct {
    mc_msg_t *task;
    msgpack_zone *zone;             //  the kernel thread's, cleared after the task
    msgpack_object args;            //  a list
    msgpack_object kwargs;          //  a map
    msgpack_object items;           //  a list of task->count items (a map); nil for an apply
    zframe_t *const *frames;
    size_t frame_count;
    msgpack_sbuffer resolved;       //  the three, repacked with names resolved
    zlist_t *table;                 //  frames the resolved arguments index (borrowed)
    zframe_t **table_array;         //  the same as an array (owned)
} s_task_t;

static int
s_fail (s_result_t *r, uint64_t status, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));
static int
s_fail (s_result_t *r, uint64_t status, const char *fmt, ...)
{
    r->status = status;
    va_list args;
    va_start (args, fmt);
    vsnprintf (r->text, sizeof r->text, fmt, args);
    va_end (args);
    return -1;
}

//  A msgpack_pack_* into the result returned rc: 0, or -1 with the task failed.
static int
s_packed (s_result_t *r, int rc)
{
    return rc? s_fail (r, MC_E_KERNEL_ERROR, "out of memory"): 0;
}

static void
s_send_result (mc_runner_state_t *state, const mc_msg_t *task, s_result_t *r, int64_t started, void *dest)
{
    mc_msg_t result;
    mc_msg_init (&result);
    result.type = MC_RESULT;
    result.engine_id = atomic_load (&state->engine_id);
    result.job = task->job;
    result.task = task->task;
    result.status = r->status;
    result.started_us = started;
    result.finished_us = mc_time_wall_us ();
    size_t count;
    zframe_t **frames = mc_proto_frame_array (r->frames, &count);
    if (r->status == MC_OK) {
        result.data.ptr = r->out.data;
        result.data.size = r->out.size;
        result.frames = frames;
        result.frame_count = count;
    }
    else {
        result.text.ptr = r->text;
        result.text.size = strlen (r->text);
    }
    result.meta.ptr = r->meta.data;
    result.meta.size = r->meta.size;
    //  Frames go out shared, not copied: the namespace may keep them.
    if (mc_msg_send (&result, dest, NULL))
        mc_warn ("runner: cannot send a result");
    free (frames);
}

//  --------------------------------------------------------------------------
//  Namespace operations: kernels named "%...", one handler per operation
//  of the table (mc_ops.h). Each packs the list of one result a task has.

//  A name argument: a string that is a valid name.
static int
s_name_arg (s_result_t *r, const msgpack_object *obj, char *name)
{
    if (obj->type != MSGPACK_OBJECT_STR || !mc_value_valid_name (obj->via.str.ptr, obj->via.str.size))
        return s_fail (r, MC_E_BAD_ARGUMENT, "a name must be a letter or '_' then letters, digits or '_' "
                       "(at most %d), got %s", MC_NAME_MAX, obj->type == MSGPACK_OBJECT_STR? "another string"
                                                                          : mc_value_type_name (obj));
    memcpy (name, obj->via.str.ptr, obj->via.str.size);
    name [obj->via.str.size] = 0;
    return 0;
}

//  Every argument must be a name that this namespace holds.
static int
s_held_names (s_result_t *r, mc_namespace_t *ns, const msgpack_object *args)
{
    char name [MC_NAME_MAX + 1];
    for (uint32_t i = 0; i < args->via.array.size; i++) {
        if (s_name_arg (r, &args->via.array.ptr [i], name))
            return -1;
        if (!mc_namespace_get (ns, name, strlen (name)))
            return s_fail (r, MC_E_KERNEL_ERROR, "name '%s' is not defined", name);
    }
    return 0;
}

static int
s_pack_nils (s_result_t *r, uint32_t count)
{
    int rc = msgpack_pack_array (&r->pk, count);
    for (uint32_t i = 0; i < count; i++)
        rc |= msgpack_pack_nil (&r->pk);
    return s_packed (r, rc);
}

//  Store value under the name key, its frames taken from the task.
static int
s_store (mc_namespace_t *ns, s_task_t *t, const msgpack_object *key, const msgpack_object *value, s_result_t *r)
{
    char name [MC_NAME_MAX + 1];
    if (s_name_arg (r, key, name))
        return -1;
    if (mc_namespace_set (ns, name, value, t->task->frames, t->task->frame_count, t->task->zmsg))
        return s_fail (r, MC_E_KERNEL_ERROR, "out of memory storing '%s'", name);
    return 0;
}

//  kwargs: name -> value. Every name is checked before any is stored.
static int
s_push (mc_namespace_t *ns, s_task_t *t, s_result_t *r)
{
    char name [MC_NAME_MAX + 1];
    for (uint32_t i = 0; i < t->kwargs.via.map.size; i++)
        if (s_name_arg (r, &t->kwargs.via.map.ptr [i].key, name))
            return -1;
    for (uint32_t i = 0; i < t->kwargs.via.map.size; i++)
        if (s_store (ns, t, &t->kwargs.via.map.ptr [i].key, &t->kwargs.via.map.ptr [i].val, r))
            return -1;
    return s_pack_nils (r, 1);
}

//  A map of one item (this engine's part) over args [name].
static int
s_scatter (mc_namespace_t *ns, s_task_t *t, s_result_t *r)
{
    if (t->task->count != 1 || t->args.via.array.size != 1)
        return s_fail (r, MC_E_BAD_ARGUMENT, "%s takes one item and one name", mc_nsop_name (MC_NSOP_SCATTER));
    if (s_store (ns, t, &t->args.via.array.ptr [0], &t->items.via.array.ptr [0], r))
        return -1;
    return s_pack_nils (r, 1);
}

//  One name: its value; several: a list of their values. Their frames go
//  out borrowed from the namespace.
static int
s_pull (mc_namespace_t *ns, s_task_t *t, s_result_t *r)
{
    const msgpack_object *args = &t->args;
    if (args->via.array.size == 0)
        return s_fail (r, MC_E_BAD_ARGUMENT, "pull needs at least one name");
    if (s_held_names (r, ns, args))
        return -1;
    if (s_packed (r, msgpack_pack_array (&r->pk, 1))
    ||  (args->via.array.size > 1 && s_packed (r, msgpack_pack_array (&r->pk, args->via.array.size))))
        return -1;
    r->frames_owned = false;
    for (uint32_t i = 0; i < args->via.array.size; i++) {
        const msgpack_object *key = &args->via.array.ptr [i];
        const mc_nsvalue_t *value = mc_namespace_get (ns, key->via.str.ptr, key->via.str.size);
        mc_repack_t how = { value->frames, value->frame_count, r->frames, false, NULL, NULL };
        if (mc_proto_repack (&r->pk, &value->obj, &how))
            return s_fail (r, MC_E_KERNEL_ERROR, "out of memory");
    }
    return 0;
}

static int
s_del (mc_namespace_t *ns, s_task_t *t, s_result_t *r)
{
    if (s_held_names (r, ns, &t->args))
        return -1;
    for (uint32_t i = 0; i < t->args.via.array.size; i++)
        mc_namespace_delete (ns, t->args.via.array.ptr [i].via.str.ptr, t->args.via.array.ptr [i].via.str.size);
    return s_pack_nils (r, 1);
}

static int
s_names (mc_namespace_t *ns, s_task_t *t, s_result_t *r)
{
    (void) t;
    if (s_packed (r, msgpack_pack_array (&r->pk, 1)))
        return -1;
    mc_namespace_pack_names (ns, &r->pk);
    return 0;
}

typedef int (s_nsop_fn) (mc_namespace_t *ns, s_task_t *t, s_result_t *r);
static s_nsop_fn *const s_nsop_handlers [MC_NSOP_COUNT] = {
    [MC_NSOP_PUSH] = s_push, [MC_NSOP_SCATTER] = s_scatter, [MC_NSOP_PULL] = s_pull,
    [MC_NSOP_DEL] = s_del, [MC_NSOP_NAMES] = s_names,
};

//  Run namespace operation op (NULL for a '%' name that is none).
static int
s_namespace_op (const mc_nsop_t *op, mc_namespace_t *ns, s_task_t *t, s_result_t *r)
{
    if (!op) {
        char kernel [64];
        return s_fail (r, MC_E_UNKNOWN_KERNEL, "unknown namespace operation '%s'",
                       mc_bytes_str (t->task->kernel, kernel, sizeof kernel));
    }
    assert (s_nsop_handlers [op->code]);
    return s_nsop_handlers [op->code] (ns, t, r);
}

//  --------------------------------------------------------------------------
//  Kernels

//  Does a value hold any ext (array or name) that must be resolved?
static bool
s_has_ext (const msgpack_object *obj);

//  The same of the values of a list: scalars are looked at here, without
//  a call for each (a map's items are mostly scalars).
static bool
s_list_has_ext (const msgpack_object *values, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        msgpack_object_type type = values [i].type;
        if (type == MSGPACK_OBJECT_EXT
        || ((type == MSGPACK_OBJECT_ARRAY || type == MSGPACK_OBJECT_MAP) && s_has_ext (&values [i])))
            return true;
    }
    return false;
}

static bool
s_has_ext (const msgpack_object *obj)
{
    switch (obj->type) {
        case MSGPACK_OBJECT_EXT:
            return true;
        case MSGPACK_OBJECT_ARRAY:
            return s_list_has_ext (obj->via.array.ptr, obj->via.array.size);
        case MSGPACK_OBJECT_MAP:
            for (uint32_t i = 0; i < obj->via.map.size; i++)
                if (s_has_ext (&obj->via.map.ptr [i].val))
                    return true;
            return false;
        default:
            return false;
    }
}

typedef struct {
    mc_namespace_t *ns;
    zlist_t *table;
    s_result_t *r;
} s_resolve_t;

//  Replace "@name" by the value of name, its arrays renumbered into table.
static int
s_resolve_name (void *arg, msgpack_packer *pk, const char *name, size_t len)
{
    s_resolve_t *ctx = arg;
    const mc_nsvalue_t *value = mc_namespace_get (ctx->ns, name, len);
    if (!value)
        return s_fail (ctx->r, MC_E_BAD_ARGUMENT, "name '%.*s' is not defined", (int) len, name);
    mc_repack_t how = { value->frames, value->frame_count, ctx->table, false, NULL, NULL };
    return mc_proto_repack (pk, &value->obj, &how);
}

//  A bin field of the task: the I/O thread scanned it when it came (see
//  mc_runner_run), so it is unpacked without a second pre-scan.
static int
s_unpack (mc_bytes_t bytes, msgpack_zone *zone, msgpack_object *obj, msgpack_object_type type)
{
    return mc_proto_unpack_checked (bytes.ptr, bytes.size, zone, obj) || obj->type != type? -1: 0;
}

//  One item that is nil, a bool, an integer or a float64, read at *at into
//  obj as msgpack-c's unpacker makes it (a signed form that holds a value
//  >= 0 is a positive integer); *at moves past it. False for anything else.
static bool
s_scalar (const uint8_t *p, size_t size, size_t *at, msgpack_object *obj)
{
    uint8_t b = p [*at];
    size_t left = size - *at - 1;
    if (b <= 0x7F || (b >= 0xCC && b <= 0xCF && left >= (1u << (b - 0xCC)))) {
        size_t n = b <= 0x7F? 0: 1u << (b - 0xCC);
        obj->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        obj->via.u64 = n? mc_proto_be (p + *at + 1, n): b;
        *at += 1 + n;
    }
    else
    if (b >= 0xE0 || (b >= 0xD0 && b <= 0xD3 && left >= (1u << (b - 0xD0)))) {
        size_t n = b >= 0xE0? 0: 1u << (b - 0xD0);
        uint64_t bits = n? mc_proto_be (p + *at + 1, n): b;
        unsigned width = n? 8 * (unsigned) n: 8;
        int64_t value = width == 64? (int64_t) bits
                      : (int64_t) (bits ^ (1ull << (width - 1))) - (int64_t) (1ull << (width - 1));
        if (value >= 0) {
            obj->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
            obj->via.u64 = (uint64_t) value;
        }
        else {
            obj->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
            obj->via.i64 = value;
        }
        *at += 1 + n;
    }
    else
    if (b == 0xC0 || b == 0xC2 || b == 0xC3) {
        obj->type = b == 0xC0? MSGPACK_OBJECT_NIL: MSGPACK_OBJECT_BOOLEAN;
        if (b != 0xC0)
            obj->via.boolean = b == 0xC3;
        *at += 1;
    }
    else
    if (b == 0xCB && left >= 8) {
        uint64_t bits = mc_proto_be (p + *at + 1, 8);
        obj->type = MSGPACK_OBJECT_FLOAT64;
        memcpy (&obj->via.f64, &bits, 8);
        *at += 9;
    }
    else
        return false;
    return true;
}

//  A map's items, a list: read here when all are scalars (s_scalar), as
//  the items of a range always are, else unpacked as any value. The same
//  objects either way; reading was most of the unpacker's time per item.
static int
s_unpack_items (mc_bytes_t bytes, msgpack_zone *zone, msgpack_object *items)
{
    const uint8_t *p = (const uint8_t *) bytes.ptr;
    uint32_t count;
    int head = mc_proto_array_header (p, bytes.size, &count);
    msgpack_object *each = head > 0 && count? msgpack_zone_malloc (zone, count * sizeof *each): NULL;
    if (each) {
        size_t at = (size_t) head;
        uint32_t i = 0;
        while (i < count && at < bytes.size && s_scalar (p, bytes.size, &at, &each [i]))
            i++;
        if (i == count && at == bytes.size) {
            items->type = MSGPACK_OBJECT_ARRAY;
            items->via.array.size = count;
            items->via.array.ptr = each;
            return 0;
        }
    }
    return s_unpack (bytes, zone, items, MSGPACK_OBJECT_ARRAY);
}

//  The task's args, kwargs and items (for a map) into t.
static int
s_decode (s_task_t *t, s_result_t *r)
{
    mc_msg_t *task = t->task;
    if (s_unpack (task->args, t->zone, &t->args, MSGPACK_OBJECT_ARRAY)
    ||  s_unpack (task->kwargs, t->zone, &t->kwargs, MSGPACK_OBJECT_MAP)
    ||  (task->count && (s_unpack_items (task->items, t->zone, &t->items)
                         || t->items.via.array.size != task->count)))
        return s_fail (r, MC_E_BAD_ARGUMENT, "task arguments are malformed");
    return 0;
}

//  Arguments with arrays or names are repacked into one value whose array
//  references all index one table: the task's frames and those of the
//  namespace values named.
static int
s_resolve (mc_namespace_t *ns, s_task_t *t, s_result_t *r)
{
    mc_msg_t *task = t->task;
    if (!s_has_ext (&t->args) && !s_has_ext (&t->kwargs) && !(task->count && s_has_ext (&t->items)))
        return 0;
    msgpack_packer pk;
    msgpack_packer_init (&pk, &t->resolved, msgpack_sbuffer_write);
    s_resolve_t ctx = { ns, t->table, r };
    mc_repack_t how = { task->frames, task->frame_count, t->table, false, s_resolve_name, &ctx };
    msgpack_object all;
    if (msgpack_pack_array (&pk, 3) || mc_proto_repack (&pk, &t->args, &how) || mc_proto_repack (&pk, &t->kwargs, &how)
    ||  (task->count? mc_proto_repack (&pk, &t->items, &how): msgpack_pack_nil (&pk))
    ||  mc_proto_unpack (t->resolved.data, t->resolved.size, t->zone, &all)) {
        if (r->status == MC_OK)
            s_fail (r, MC_E_BAD_ARGUMENT, "task arguments cannot be resolved");
        return -1;
    }
    t->args = all.via.array.ptr [0];
    t->kwargs = all.via.array.ptr [1];
    t->items = all.via.array.ptr [2];
    t->table_array = mc_proto_frame_array (t->table, &t->frame_count);
    t->frames = t->table_array;
    return 0;
}

//  Call the kernel once per item (once for an apply) into the result.
static int
s_call (mc_runner_state_t *state, const mc_kernel_def_t *def, s_task_t *t, s_result_t *r)
{
    bool is_map = t->task->count > 0;
    size_t argc = t->args.via.array.size + is_map;
    const msgpack_object **argv = calloc (argc + 1, sizeof *argv);
    if (!argv)
        return s_fail (r, MC_E_KERNEL_ERROR, "out of memory");
    for (uint32_t i = 0; i < t->args.via.array.size; i++)
        argv [i + is_map] = &t->args.via.array.ptr [i];
    uint64_t n = is_map? t->task->count: 1;
    const mc_kargs_t *args = mc_ktable_args (def);      //  a registered kernel's: never NULL
    assert (args);
    int rc = s_packed (r, msgpack_pack_array (&r->pk, (uint32_t) n));
    mc_kcall_t call = { .argv = argv, .argc = argc, .kwargs = &t->kwargs, .frames = t->frames,
                        .frame_count = t->frame_count, .out = &r->pk, .out_buffer = &r->out, .out_frames = r->frames,
                        .seed = t->task->seed, .cancel = (const volatile int *) &state->task_cancel };
    //  A map's calls differ in their item alone: the rest is bound once.
    if (is_map && rc == 0) {
        argv [0] = &t->items.via.array.ptr [0];
        mc_kcall_bind_rest (&call, def, args);
    }
    for (uint64_t i = 0; rc == 0 && i < n; i++) {
        if (is_map)
            argv [0] = &t->items.via.array.ptr [i];
        call.index = t->task->first + i;
        if (is_map? mc_kcall_invoke_item (&call, def): mc_kcall_invoke (&call, def, args))
            rc = s_fail (r, MC_E_KERNEL_ERROR, "%s", call.error);
        //  A kernel that saw its job's abort returned early, with a partial
        //  value or an error: neither is its result.
        if (atomic_load (&state->task_cancel) && !atomic_load (&state->cancel))
            rc = s_fail (r, MC_E_ABORTED, "aborted by a client while running (the kernel returned at its cancel flag)");
    }
    if (is_map)
        mc_kcall_unbind (&call);
    if (rc == 0)
        rc = s_packed (r, mc_kcall_pack_meta (&call, is_map, &r->meta));
    free (argv);
    return rc;
}

//  --reduce: what to do to each item's result before it leaves.
static int
s_reduce (s_task_t *t, s_result_t *r)
{
    if (t->task->reduce.size == 0)
        return 0;
    msgpack_object spec;
    if (s_unpack (t->task->reduce, t->zone, &spec, MSGPACK_OBJECT_MAP))
        return s_fail (r, MC_E_BAD_ARGUMENT, "task reduce is malformed");
    char err [256];
    int rc = mc_hist_reduce (&spec, &r->out, &r->frames, err, sizeof err);
    if (rc)
        return s_fail (r, rc == -2? MC_E_BAD_ARGUMENT: MC_E_KERNEL_ERROR, "%s", err);
    return 0;
}

//  --out name: the results stay on this engine; the caller gets nulls.
static int
s_keep_out (mc_namespace_t *ns, s_task_t *t, s_result_t *r)
{
    mc_msg_t *task = t->task;
    if (task->out.size == 0)
        return 0;
    char name [MC_NAME_MAX + 1];
    if (!mc_value_valid_name (task->out.ptr, task->out.size))
        return s_fail (r, MC_E_BAD_ARGUMENT, "--out: '%s' is not a valid name", mc_bytes_str (task->out, name, sizeof name));
    mc_bytes_str (task->out, name, sizeof name);
    bool is_map = task->count > 0;
    msgpack_object values;
    size_t count;
    zframe_t **outs = mc_proto_frame_array (r->frames, &count);
    int rc = mc_proto_unpack (r->out.data, r->out.size, t->zone, &values);
    if (rc == 0)
        rc = mc_namespace_set (ns, name, is_map? &values: &values.via.array.ptr [0], outs, count, NULL);
    free (outs);
    if (rc)
        return s_fail (r, MC_E_KERNEL_ERROR, "out of memory storing '%s'", name);
    zlist_purge (r->frames);        //  the namespace owns them now
    msgpack_sbuffer_clear (&r->out);
    return s_pack_nils (r, (uint32_t) (is_map? task->count: 1));
}

//  The kernel thread keeps a zone and a result buffer from one task to the
//  next: a fresh block of this size for each task was a malloc that made
//  glibc consolidate its free lists every time. Bytes kept at most:
#define S_ZONE_CHUNK (16u << 10)            //  the zone's first chunk (a 100-item map's objects fit)
#define S_KEEP_OUT (1u << 20)               //  a result buffer larger than this is freed after its task

static void
s_run (mc_runner_state_t *state, mc_namespace_t *ns, mc_msg_t *task, s_result_t *r)
{
    bool namespace_op = task->kernel.size && task->kernel.ptr [0] == '%';
    const mc_kernel_def_t *def = namespace_op? NULL: mc_ktable_find (task->kernel.ptr, task->kernel.size);
    if (!namespace_op && !def) {
        char kernel [128];
        s_fail (r, MC_E_UNKNOWN_KERNEL, "unknown kernel '%s' on this engine",
                mc_bytes_str (task->kernel, kernel, sizeof kernel));
        return;
    }
    //  (zlist_new never returns NULL: CZMQ asserts on its allocations.)
    s_task_t t = { .task = task, .frames = task->frames, .frame_count = task->frame_count, .table = zlist_new () };
    t.items.type = MSGPACK_OBJECT_NIL;
    if (!state->zone && !(state->zone = msgpack_zone_new (S_ZONE_CHUNK))) {
        s_fail (r, MC_E_KERNEL_ERROR, "out of memory");
        zlist_destroy (&t.table);
        return;
    }
    t.zone = state->zone;
    msgpack_sbuffer_init (&t.resolved);
    if (s_decode (&t, r) == 0) {
        if (namespace_op)
            s_namespace_op (mc_nsop_find (task->kernel.ptr, task->kernel.size), ns, &t, r);
        else
        if (s_resolve (ns, &t, r) == 0 && s_call (state, def, &t, r) == 0 && s_reduce (&t, r) == 0)
            s_keep_out (ns, &t, r);
    }
    free (t.table_array);
    zlist_destroy (&t.table);
    msgpack_sbuffer_destroy (&t.resolved);
    msgpack_zone_clear (t.zone);            //  keeps its first chunk for the next task
}

static void
s_lock (mc_runner_state_t *state)
{
    while (atomic_flag_test_and_set_explicit (&state->lock, memory_order_acquire))
        ;
}

static void
s_unlock (mc_runner_state_t *state)
{
    atomic_flag_clear_explicit (&state->lock, memory_order_release);
}

static bool
s_aborted (const mc_runner_state_t *state, uint64_t job)
{
    for (size_t i = 0; i < MC_RUNNER_ABORTED_MAX; i++)
        if (state->aborted [i] == job + 1)
            return true;
    return false;
}

//  A task of job starts: its cancel flag is up at once when the job was
//  aborted (then it is skipped) or the engine stops. True to skip it.
static bool
s_task_begin (mc_runner_state_t *state, uint64_t job)
{
    s_lock (state);
    bool aborted = s_aborted (state, job);
    state->running_job = job + 1;
    atomic_store (&state->task_cancel, aborted || atomic_load (&state->cancel));
    s_unlock (state);
    return aborted;
}

static void
s_task_end (mc_runner_state_t *state)
{
    s_lock (state);
    state->running_job = 0;
    atomic_store (&state->task_cancel, atomic_load (&state->cancel));
    s_unlock (state);
}

bool
mc_runner_cancel_job (mc_runner_state_t *state, uint64_t job)
{
    s_lock (state);
    if (!s_aborted (state, job)) {
        state->aborted [state->aborted_next] = job + 1;
        state->aborted_next = (state->aborted_next + 1) % MC_RUNNER_ABORTED_MAX;
    }
    bool running = state->running_job == job + 1;
    if (running)
        atomic_store (&state->task_cancel, 1);
    s_unlock (state);
    return running;
}

bool
mc_runner_running (mc_runner_state_t *state, uint64_t job)
{
    s_lock (state);
    bool running = state->running_job == job + 1;
    s_unlock (state);
    return running;
}

void
mc_runner_stop (mc_runner_state_t *state)
{
    s_lock (state);
    atomic_store (&state->cancel, 1);
    atomic_store (&state->task_cancel, 1);
    s_unlock (state);
}

//  What the task printed goes with its result: into its metadata as
//  "stdout" and "stderr", and, when it failed, its last lines after the
//  error (mc_proto.md §3, RESULT).
//  A key of the kernel's metadata that the printed output replaces.
static bool
s_output_key (const msgpack_object *key, const mc_capture_t *printed)
{
    return key->type == MSGPACK_OBJECT_STR && key->via.str.size == 6
        && ((printed->out && !memcmp (key->via.str.ptr, "stdout", 6))
        ||  (printed->err && !memcmp (key->via.str.ptr, "stderr", 6)));
}

static void
s_add_output (s_result_t *r, const mc_capture_t *printed)
{
    if (r->status != MC_OK) {
        char last [700];
        mc_capture_last_lines (printed, 5, last, sizeof last);
        size_t n = strlen (r->text);
        if (last [0])
            snprintf (r->text + n, sizeof r->text - n, "\n%s", last);
    }
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    msgpack_object old = { .type = MSGPACK_OBJECT_NIL };
    if (r->meta.size && (mc_proto_unpack (r->meta.data, r->meta.size, &zone, &old) || old.type != MSGPACK_OBJECT_MAP))
        old.type = MSGPACK_OBJECT_NIL;
    msgpack_sbuffer meta;
    msgpack_sbuffer_init (&meta);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &meta, msgpack_sbuffer_write);
    //  The kernel's own keys, but for stdout and stderr, which the printed
    //  output takes (a map holds each key once).
    uint32_t count = old.type == MSGPACK_OBJECT_MAP? old.via.map.size: 0, kept = 0;
    for (uint32_t i = 0; i < count; i++)
        kept += !s_output_key (&old.via.map.ptr [i].key, printed);
    int rc = msgpack_pack_map (&pk, kept + (printed->out != NULL) + (printed->err != NULL));
    for (uint32_t i = 0; i < count; i++)
        if (!s_output_key (&old.via.map.ptr [i].key, printed)) {
            rc |= msgpack_pack_object (&pk, old.via.map.ptr [i].key);
            rc |= msgpack_pack_object (&pk, old.via.map.ptr [i].val);
        }
    if (printed->out)
        rc |= mc_proto_pack_str (&pk, "stdout") | mc_proto_pack_str (&pk, printed->out);
    if (printed->err)
        rc |= mc_proto_pack_str (&pk, "stderr") | mc_proto_pack_str (&pk, printed->err);
    msgpack_zone_destroy (&zone);
    if (rc == 0) {
        msgpack_sbuffer_destroy (&r->meta);
        r->meta = meta;
    }
    else
        msgpack_sbuffer_destroy (&meta);
}

//  One message for the kernel thread: a TASK, LIBRARY or UNLOAD (the
//  caller resets it). 0, or -1 for anything else.
static int
s_run_one (mc_runner_state_t *state, mc_namespace_t *ns, mc_msg_t *task, void *dest)
{
    if (task->type == MC_LIBRARY || task->type == MC_UNLOAD) {
        //  Between two tasks: the one before ran on the old version.
        if (mc_library_handle (task, atomic_load (&state->engine_id), dest))
            mc_warn ("runner: cannot answer a library");
        //  What loading it printed (constructors) is no task's output.
        mc_capture_t printed;
        if (mc_capture_take (&printed))
            mc_capture_free (&printed);
        return 0;
    }
    if (task->type != MC_TASK)
        return -1;
    int64_t started = mc_time_wall_us ();
    //  The buffer kept from the last task, empty.
    s_result_t r = { .status = MC_OK, .frames = zlist_new (), .frames_owned = true, .out = state->out };
    msgpack_sbuffer_init (&state->out);
    msgpack_packer_init (&r.pk, &r.out, msgpack_sbuffer_write);
    msgpack_sbuffer_init (&r.meta);
    if (s_task_begin (state, task->job))
        s_fail (&r, MC_E_ABORTED, "aborted by a client before it ran");
    else
        s_run (state, ns, task, &r);
    s_task_end (state);
    mc_capture_t printed;
    if (mc_capture_take (&printed)) {
        s_add_output (&r, &printed);
        mc_capture_free (&printed);
    }
    s_send_result (state, task, &r, started, dest);
    if (r.frames_owned) {
        zframe_t *frame;
        while ((frame = zlist_pop (r.frames)))
            zframe_destroy (&frame);
    }
    zlist_destroy (&r.frames);
    if (r.out.alloc <= S_KEEP_OUT) {
        msgpack_sbuffer_clear (&r.out);
        state->out = r.out;
    }
    else
        msgpack_sbuffer_destroy (&r.out);
    msgpack_sbuffer_destroy (&r.meta);
    return 0;
}

int
mc_runner_run (mc_runner_state_t *state, mc_namespace_t *ns, zmsg_t **task_p, void *dest)
{
    mc_msg_t task;
    mc_msg_init (&task);
    int code, rc = 0;
    //  From our own I/O thread, which checked these bytes as they came from
    //  the controller (mc_msg_recv, mc_batch_next): they are not scanned
    //  again here, nor when the task's arguments are unpacked.
    if (mc_msg_take_checked (&task, task_p, &code))
        rc = -1;
    else
    if (task.type == MC_BATCH) {
        //  Tasks the I/O thread passed on together, run in their order.
        size_t offset = 0;
        mc_msg_t inner;
        int got;
        while ((got = mc_batch_next_checked (&task, &offset, &inner, &code)) == 1)
            if (s_run_one (state, ns, &inner, dest))
                rc = -1;
        if (got == -2)
            rc = -1;
    }
    else
        rc = s_run_one (state, ns, &task, dest);
    mc_msg_reset (&task);
    return rc;
}

//  What the kernel thread kept for its next task.
static void
s_runner_free (mc_runner_state_t *state)
{
    msgpack_sbuffer_destroy (&state->out);
    msgpack_sbuffer_init (&state->out);
    if (state->zone)
        msgpack_zone_free (state->zone);
    state->zone = NULL;
}

static void
s_runner_actor (zsock_t *pipe, void *arg)
{
    mc_runner_state_t *state = arg;
    mc_namespace_t *ns = mc_namespace_new ();
    zsock_signal (pipe, 0);
    if (!ns)
        mc_error ("runner: no memory for a namespace: no task will run");
    while (ns) {
        zmsg_t *msg = zmsg_recv (pipe);
        if (!msg)
            break;
        if (zmsg_size (msg) == 1 && zframe_streq (zmsg_first (msg), "$TERM")) {
            zmsg_destroy (&msg);
            break;
        }
        atomic_store (&state->busy, 1);
        if (mc_runner_run (state, ns, &msg, pipe))
            mc_warn ("runner: dropped a message that is not a TASK");
        atomic_store (&state->busy, 0);
    }
    s_runner_free (state);
    mc_namespace_destroy (&ns);
}

zactor_t *
mc_runner_new (mc_runner_state_t *state)
{
    return zactor_new (s_runner_actor, state);
}

//  --------------------------------------------------------------------------
//  Selftest: kernels and namespace operations through real TASK messages.

typedef struct {
    mc_runner_state_t state;
    mc_namespace_t *ns;
    zsock_t *in, *out;              //  the runner sends to in; we read from out
} s_engine_t;

//  Run one task: JSON args, kwargs and items (NULL: an apply), an optional
//  --out name and optional array frames (the args refer to them).
static json_t *
s_task (s_engine_t *e, const char *kernel, const char *args, const char *kwargs, const char *items,
        const char *out, zframe_t **frames, size_t nframes, uint64_t *status, char *text)
{
    msgpack_sbuffer a, k, it;
    msgpack_sbuffer *bufs [] = { &a, &k, &it };
    const char *jsons [] = { args, kwargs? kwargs: "{}", items? items: "[]" };
    msgpack_packer pk;
    for (int i = 0; i < 3; i++) {
        msgpack_sbuffer_init (bufs [i]);
        msgpack_packer_init (&pk, bufs [i], msgpack_sbuffer_write);
        //  "@x" strings in JSON stand for name references.
        json_t *value = json_loads (jsons [i], JSON_DECODE_ANY, NULL);
        assert (value);
        if (json_is_array (value) && json_array_size (value) == 1 && json_is_string (json_array_get (value, 0))
        &&  json_string_value (json_array_get (value, 0)) [0] == '@') {
            msgpack_pack_array (&pk, 1);
            mc_array_pack_name (&pk, json_string_value (json_array_get (value, 0)) + 1);
        }
        else
            mc_value_pack_json (&pk, value);
        json_decref (value);
    }
    mc_msg_t task;
    mc_msg_init (&task);
    task.type = MC_TASK;
    task.job = 1;
    json_t *item_list = items? json_loads (items, 0, NULL): NULL;
    task.count = json_array_size (item_list);
    json_decref (item_list);
    task.kernel.ptr = kernel;
    task.kernel.size = strlen (kernel);
    task.args.ptr = a.data;   task.args.size = a.size;
    task.kwargs.ptr = k.data; task.kwargs.size = k.size;
    task.items.ptr = it.data; task.items.size = it.size;
    task.out.ptr = out;
    task.out.size = out? strlen (out): 0;
    task.frames = frames;
    task.frame_count = nframes;
    assert (mc_msg_send (&task, e->out, NULL) == 0);
    zmsg_t *wire = zmsg_recv (e->in);
    assert (mc_runner_run (&e->state, e->ns, &wire, e->in) == 0 && !wire);
    mc_msg_t msg;
    mc_msg_init (&msg);
    int code;
    assert (mc_msg_recv (&msg, e->out, false, &code) == 0 && msg.type == MC_RESULT);
    *status = msg.status;
    mc_bytes_str (msg.text, text, 256);
    char err [64];
    json_t *result = NULL;
    if (msg.status == MC_OK) {
        msgpack_zone zone;
        msgpack_zone_init (&zone, 256);
        msgpack_object obj;
        assert (mc_proto_unpack (msg.data.ptr, msg.data.size, &zone, &obj) == 0);
        result = mc_value_to_json_frames (&obj, msg.frames, msg.frame_count, err, sizeof err);
        assert (result);
        msgpack_zone_destroy (&zone);
    }
    mc_msg_reset (&msg);
    for (int i = 0; i < 3; i++)
        msgpack_sbuffer_destroy (bufs [i]);
    return result;
}

//  s_unpack_items makes the objects msgpack-c's unpacker makes: lists of
//  random scalars in every form and width, some with a value that is not
//  one (then it unpacks them), some cut short.
static void
s_test_items (void)
{
    uint64_t state = 3;
    msgpack_zone zone;
    msgpack_zone_init (&zone, 4096);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    for (int round = 0; round < 20000; round++) {
        msgpack_sbuffer_clear (&sb);
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t count = (uint32_t) (state >> 33) % 40;
        msgpack_pack_array (&pk, count);
        for (uint32_t i = 0; i < count; i++) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            uint64_t r = state >> 11;
            int64_t v = (int64_t) r >> (r % 64);                //  every width, both signs
            switch (r % 13) {
                case 0: msgpack_pack_nil (&pk); break;
                case 1: msgpack_pack_true (&pk); break;
                case 2: msgpack_pack_false (&pk); break;
                case 3: msgpack_pack_double (&pk, (double) v / 7); break;
                case 4: msgpack_pack_uint64 (&pk, r); break;
                case 5: msgpack_pack_fix_int8 (&pk, (int8_t) v); break;    //  signed forms of values >= 0 too
                case 6: msgpack_pack_fix_int16 (&pk, (int16_t) v); break;
                case 7: msgpack_pack_fix_int32 (&pk, (int32_t) v); break;
                case 8: msgpack_pack_fix_int64 (&pk, v); break;
                case 9: msgpack_pack_fix_uint8 (&pk, (uint8_t) r); break;
                case 10: (round % 7)? msgpack_pack_int64 (&pk, v): msgpack_pack_str_with_body (&pk, "ab", 2); break;
                case 11: (round % 5)? msgpack_pack_int64 (&pk, -v): msgpack_pack_float (&pk, 1.5f); break;
                default: (round % 3)? msgpack_pack_fix_uint16 (&pk, (uint16_t) r): msgpack_pack_array (&pk, 0); break;
            }
        }
        size_t size = sb.size - (round % 11 == 0 && sb.size > 1);      //  cut short
        mc_bytes_t bytes = { sb.data, size };
        msgpack_object fast, slow;
        int got = s_unpack_items (bytes, &zone, &fast);
        size_t off = 0;
        bool whole = msgpack_unpack (sb.data, size, &off, &zone, &slow) == MSGPACK_UNPACK_SUCCESS && off == size;
        assert ((got == 0) == whole);
        if (!whole)
            continue;
        assert (fast.type == MSGPACK_OBJECT_ARRAY && fast.via.array.size == slow.via.array.size);
        for (uint32_t i = 0; i < fast.via.array.size; i++) {
            const msgpack_object *a = &fast.via.array.ptr [i], *b = &slow.via.array.ptr [i];
            assert (a->type == b->type);
            if (a->type == MSGPACK_OBJECT_FLOAT64 || a->type == MSGPACK_OBJECT_FLOAT32)
                assert (!memcmp (&a->via.f64, &b->via.f64, sizeof a->via.f64));
            else
                assert (msgpack_object_equal (*a, *b));
        }
        msgpack_zone_clear (&zone);
    }
    msgpack_sbuffer_destroy (&sb);
    msgpack_zone_destroy (&zone);
}

static void
s_expect (json_t *got, const char *expect)
{
    char *dump = json_dumps (got, JSON_COMPACT | JSON_ENCODE_ANY);
    if (strcmp (dump, expect))
        fprintf (stderr, "got %s, expected %s\n", dump, expect);
    assert (!strcmp (dump, expect));
    free (dump);
    json_decref (got);
}

void
mc_runner_test (bool verbose)
{
    printf (" * mc_runner: ");
    if (verbose)
        printf ("\n");
    assert (mc_builtin_register () == 0 && mc_sampler_register () == 0);
    s_test_items ();
    const char *push = mc_nsop_name (MC_NSOP_PUSH), *scatter = mc_nsop_name (MC_NSOP_SCATTER),
               *pull = mc_nsop_name (MC_NSOP_PULL), *del = mc_nsop_name (MC_NSOP_DEL),
               *names = mc_nsop_name (MC_NSOP_NAMES);
    s_engine_t e = { .ns = mc_namespace_new () };
    e.in = zsock_new_pair ("@inproc://test_runner");
    e.out = zsock_new_pair (">inproc://test_runner");
    assert (e.in && e.out);
    struct { const char *kernel, *args, *items, *expect; uint64_t status; const char *says; } cases [] = {
        { "square", "[3]", NULL, "[9]", 0, "" },
        { "square", "[]", "[1,2.5,[3,4]]", "[1,6.25,[9,16]]", 0, "" },
        { "square", "[\"x\"]", NULL, NULL, MC_E_KERNEL_ERROR, "got string" },
        { "square", "[4000000000]", NULL, NULL, MC_E_KERNEL_ERROR, "overflows" },
        { "square", "[1,2]", NULL, NULL, MC_E_KERNEL_ERROR, "takes 1 positional argument, got 2" },
        { "echo", "[\"a\",1]", NULL, "[[\"a\",1]]", 0, "" },
        { "noop", "[]", "[1,2,3]", "[null,null,null]", 0, "" },
        { "sleep", "[1]", NULL, "[null]", 0, "" },
        { "sleep", "[-1]", NULL, NULL, MC_E_KERNEL_ERROR, "milliseconds" },
        { "fail", "[\"boom\"]", NULL, NULL, MC_E_KERNEL_ERROR, "boom" },
        { "nosuch", "[]", NULL, NULL, MC_E_UNKNOWN_KERNEL, "unknown kernel" },
        { "%nosuch", "[]", NULL, NULL, MC_E_UNKNOWN_KERNEL, "unknown namespace operation" },
        { pull, "[\"a\"]", NULL, NULL, MC_E_KERNEL_ERROR, "name 'a' is not defined" },
        { pull, "[\"9a\"]", NULL, NULL, MC_E_BAD_ARGUMENT, "a name must be" },
        { "square", "[\"@a\"]", NULL, NULL, MC_E_BAD_ARGUMENT, "name 'a' is not defined" },
    };
    uint64_t status;
    char text [256];
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        json_t *out = s_task (&e, cases [i].kernel, cases [i].args, NULL, cases [i].items, NULL, NULL, 0,
                              &status, text);
        if (status != cases [i].status || !strstr (text, cases [i].says))
            fprintf (stderr, "case %zu: status %llu, '%s'\n", i, (unsigned long long) status, text);
        assert (status == cases [i].status);
        assert (strstr (text, cases [i].says));
        if (cases [i].expect)
            s_expect (out, cases [i].expect);
        else
            json_decref (out);
    }
    //  push, pull, @name, --out, scatter, names, del.
    s_expect (s_task (&e, push, "[]", "{\"a\":[1,2],\"b\":\"x\"}", NULL, NULL, NULL, 0, &status, text), "[null]");
    s_expect (s_task (&e, pull, "[\"a\",\"b\"]", NULL, NULL, NULL, NULL, 0, &status, text), "[[[1,2],\"x\"]]");
    s_expect (s_task (&e, "square", "[\"@a\"]", NULL, NULL, "a", NULL, 0, &status, text), "[null]");
    s_expect (s_task (&e, pull, "[\"a\"]", NULL, NULL, NULL, NULL, 0, &status, text), "[[1,4]]");
    s_expect (s_task (&e, scatter, "[\"c\"]", NULL, "[[5,6]]", NULL, NULL, 0, &status, text), "[null]");
    s_expect (s_task (&e, pull, "[\"c\"]", NULL, NULL, NULL, NULL, 0, &status, text), "[[5,6]]");
    s_expect (s_task (&e, del, "[\"b\"]", NULL, NULL, NULL, NULL, 0, &status, text), "[null]");
    s_expect (s_task (&e, names, "[]", NULL, NULL, NULL, NULL, 0, &status, text),
              "[{\"a\":{\"type\":\"list\",\"size\":2,\"bytes\":3},\"c\":{\"type\":\"list\",\"size\":2,\"bytes\":3}}]");
    s_task (&e, del, "[\"b\"]", NULL, NULL, NULL, NULL, 0, &status, text);
    assert (status == MC_E_KERNEL_ERROR && strstr (text, "'b' is not defined"));
    //  Arrays: pushed as a frame, squared elementwise in place, pulled back.
    double values [4] = { 1, 2, 3, -4 };
    mc_array_t array = { MC_DTYPE_F64, 1, { 4 }, values, sizeof values, 0 };
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 1);
    msgpack_pack_str_with_body (&pk, "v", 1);
    mc_array_pack_ref (&pk, &array, 0);
    zframe_t *frame = zframe_new (values, sizeof values);
    mc_msg_t task;
    mc_msg_init (&task);
    task.type = MC_TASK;
    task.kernel.ptr = push;
    task.kernel.size = strlen (push);
    task.args.ptr = "\x90";
    task.args.size = 1;
    task.kwargs.ptr = sb.data;
    task.kwargs.size = sb.size;
    task.frames = &frame;
    task.frame_count = 1;
    assert (mc_msg_send (&task, e.out, NULL) == 0);
    zmsg_t *wire = zmsg_recv (e.in);
    assert (mc_runner_run (&e.state, e.ns, &wire, e.in) == 0);
    mc_msg_t result;
    mc_msg_init (&result);
    int code;
    assert (mc_msg_recv (&result, e.out, false, &code) == 0 && result.status == MC_OK);
    mc_msg_reset (&result);
    zframe_destroy (&frame);
    msgpack_sbuffer_destroy (&sb);
    s_expect (s_task (&e, "square", "[\"@v\"]", NULL, NULL, "v", NULL, 0, &status, text), "[null]");
    s_expect (s_task (&e, pull, "[\"v\"]", NULL, NULL, NULL, NULL, 0, &status, text), "[[1.0,4.0,9.0,16.0]]");
    s_expect (s_task (&e, "square", "[\"@v\"]", NULL, NULL, NULL, NULL, 0, &status, text),
              "[[1.0,16.0,81.0,256.0]]");
    //  A BATCH of tasks, as the I/O thread passes one on: a RESULT each, in
    //  order; one that is no task is refused, the others still run.
    msgpack_sbuffer batch;
    msgpack_sbuffer_init (&batch);
    const char *kernels [3] = { "square", "noop", "square" };
    for (int i = 0; i < 3; i++) {
        mc_msg_t one;
        mc_msg_init (&one);
        one.type = i == 1? MC_PING: MC_TASK;
        one.job = 1;
        one.task = (uint64_t) i;
        one.kernel.ptr = kernels [i];
        one.kernel.size = strlen (kernels [i]);
        one.args.ptr = i? "\x91\x04": "\x91\x03";
        one.args.size = 2;
        one.kwargs.ptr = "\x80";
        one.kwargs.size = 1;
        assert (mc_batch_append (&batch, &one) == 0);
    }
    assert (mc_batch_send (&batch, 3, e.out, NULL) == 0);
    msgpack_sbuffer_destroy (&batch);
    wire = zmsg_recv (e.in);
    assert (mc_runner_run (&e.state, e.ns, &wire, e.in) == -1 && !wire);
    for (uint64_t i = 0; i < 3; i += 2) {
        assert (mc_msg_recv (&result, e.out, false, &code) == 0 && result.type == MC_RESULT && result.task == i);
        assert (result.status == MC_OK && result.data.size == 2 && (uint8_t) result.data.ptr [1] == (i? 16: 9));
    }
    mc_msg_reset (&result);
    //  A message that is not a TASK is refused.
    zmsg_t *junk = zmsg_new ();
    zmsg_addstr (junk, "junk");
    assert (mc_runner_run (&e.state, e.ns, &junk, e.in) == -1);
    //  An abort: the job's queued tasks are skipped, other jobs' run, and
    //  the flag falls on the running task of that job only (test tasks are
    //  of job 1).
    assert (!mc_runner_cancel_job (&e.state, 2));
    s_expect (s_task (&e, "square", "[3]", NULL, NULL, NULL, NULL, 0, &status, text), "[9]");
    assert (!mc_runner_cancel_job (&e.state, 1) && !mc_runner_cancel_job (&e.state, 1));
    json_decref (s_task (&e, "square", "[3]", NULL, NULL, NULL, NULL, 0, &status, text));
    assert (status == MC_E_ABORTED && strstr (text, "before it ran"));
    assert (!s_task_begin (&e.state, 5) && !atomic_load (&e.state.task_cancel));
    assert (!mc_runner_cancel_job (&e.state, 6) && !atomic_load (&e.state.task_cancel));
    assert (mc_runner_cancel_job (&e.state, 5) && atomic_load (&e.state.task_cancel));
    assert (mc_runner_running (&e.state, 5) && !mc_runner_running (&e.state, 6));
    s_task_end (&e.state);
    assert (!atomic_load (&e.state.task_cancel) && !mc_runner_running (&e.state, 5));
    //  The ring forgets the oldest aborted job first.
    for (uint64_t job = 100; job < 100 + MC_RUNNER_ABORTED_MAX; job++)
        mc_runner_cancel_job (&e.state, job);
    assert (!s_aborted (&e.state, 1) && s_aborted (&e.state, 100));
    //  The engine stops: every task's flag is up.
    mc_runner_stop (&e.state);
    assert (!s_task_begin (&e.state, 7) && atomic_load (&e.state.task_cancel));
    s_task_end (&e.state);
    assert (atomic_load (&e.state.task_cancel));
    s_runner_free (&e.state);
    mc_namespace_destroy (&e.ns);
    zsock_destroy (&e.in);
    zsock_destroy (&e.out);
    printf ("OK\n");
}
