/*  mc_runner: decode a task, resolve its @name arguments, call its kernel
    per item (or do a namespace operation), and send the result. */
#include "mc_runner.h"
#include "mc_kernel.h"
#include "mc_log.h"
#include "mc_proto.h"
#include "mc_time.h"
#include "mc_value.h"

//  What one task produced.
typedef struct {
    uint64_t status;
    char text [1024];
    msgpack_sbuffer out;            //  msgpack array, one value per item
    msgpack_packer pk;
    msgpack_sbuffer meta;           //  msgpack map of metadata, or empty
    zlist_t *frames;                //  frames the values refer to
    bool frames_owned;              //  false: borrowed from the namespace
} s_result_t;

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
//  Namespace operations: kernels whose names start with '%'.

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

static void
s_pack_nils (s_result_t *r, uint32_t count)
{
    msgpack_pack_array (&r->pk, count);
    for (uint32_t i = 0; i < count; i++)
        msgpack_pack_nil (&r->pk);
}

static int
s_namespace_op (mc_namespace_t *ns, mc_msg_t *task, const msgpack_object *args,
                const msgpack_object *kwargs, const msgpack_object *items, s_result_t *r)
{
    char name [MC_NAME_MAX + 1];
    if (mc_bytes_eq (task->kernel, "%push")) {
        //  kwargs: name -> value. Check every name before storing any.
        for (uint32_t i = 0; i < kwargs->via.map.size; i++)
            if (s_name_arg (r, &kwargs->via.map.ptr [i].key, name))
                return -1;
        for (uint32_t i = 0; i < kwargs->via.map.size; i++) {
            s_name_arg (r, &kwargs->via.map.ptr [i].key, name);
            if (mc_namespace_set (ns, name, &kwargs->via.map.ptr [i].val, task->frames, task->frame_count, task->zmsg))
                return s_fail (r, MC_E_KERNEL_ERROR, "out of memory storing '%s'", name);
        }
        s_pack_nils (r, 1);
        return 0;
    }
    if (mc_bytes_eq (task->kernel, "%scatter")) {
        //  A map of one item (this engine's part) over args [name].
        if (task->count != 1 || args->via.array.size != 1)
            return s_fail (r, MC_E_BAD_ARGUMENT, "%%scatter takes one item and one name");
        if (s_name_arg (r, &args->via.array.ptr [0], name))
            return -1;
        if (mc_namespace_set (ns, name, &items->via.array.ptr [0], task->frames, task->frame_count, task->zmsg))
            return s_fail (r, MC_E_KERNEL_ERROR, "out of memory storing '%s'", name);
        s_pack_nils (r, 1);
        return 0;
    }
    if (mc_bytes_eq (task->kernel, "%pull")) {
        if (args->via.array.size == 0)
            return s_fail (r, MC_E_BAD_ARGUMENT, "pull needs at least one name");
        if (s_held_names (r, ns, args))
            return -1;
        //  One name: its value; several: a list of their values.
        msgpack_pack_array (&r->pk, 1);
        if (args->via.array.size > 1)
            msgpack_pack_array (&r->pk, args->via.array.size);
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
    if (mc_bytes_eq (task->kernel, "%del")) {
        if (s_held_names (r, ns, args))
            return -1;
        for (uint32_t i = 0; i < args->via.array.size; i++)
            mc_namespace_delete (ns, args->via.array.ptr [i].via.str.ptr, args->via.array.ptr [i].via.str.size);
        s_pack_nils (r, 1);
        return 0;
    }
    if (mc_bytes_eq (task->kernel, "%names")) {
        msgpack_pack_array (&r->pk, 1);
        mc_namespace_pack_names (ns, &r->pk);
        return 0;
    }
    char kernel [64];
    return s_fail (r, MC_E_UNKNOWN_KERNEL, "unknown namespace operation '%s'",
                   mc_bytes_str (task->kernel, kernel, sizeof kernel));
}

//  --------------------------------------------------------------------------
//  Kernels

//  The metadata kernels reported: key -> value for an apply, key -> list
//  of values (one per item that reported it) for a map task.
static void
s_pack_meta (const mc_kcall_t *call, bool is_map, s_result_t *r)
{
    if (call->meta_count == 0)
        return;
    msgpack_packer pk;
    msgpack_packer_init (&pk, &r->meta, msgpack_sbuffer_write);
    const char *keys [64];
    size_t nkeys = 0;
    for (size_t i = 0; i < call->meta_count; i++) {
        size_t k = 0;
        while (k < nkeys && strcmp (keys [k], call->meta [i].key))
            k++;
        if (k == nkeys)
            keys [nkeys++] = call->meta [i].key;
    }
    msgpack_pack_map (&pk, nkeys);
    for (size_t k = 0; k < nkeys; k++) {
        msgpack_pack_str_with_body (&pk, keys [k], strlen (keys [k]));
        size_t count = 0;
        for (size_t i = 0; i < call->meta_count; i++)
            count += !strcmp (keys [k], call->meta [i].key);
        if (is_map)
            msgpack_pack_array (&pk, count);
        for (size_t i = 0; i < call->meta_count; i++)
            if (!strcmp (keys [k], call->meta [i].key)) {
                msgpack_pack_double (&pk, call->meta [i].value);
                if (!is_map)
                    break;
            }
    }
}

//  reduce {"op": "hist2d", "bins": [nx, ny], "range": [x0, x1, y0, y1]}:
//  replace each item's points (an n x 2 float64 array) by their counts, an
//  int64 array of ny rows (y from y0 up) and nx columns (x from x0 right);
//  points outside the range are not counted. 0 or -1 (failed).
static int
s_hist2d (const msgpack_object *spec, s_result_t *r)
{
    const msgpack_object *bins = mc_proto_map_get (spec, "bins"), *range = mc_proto_map_get (spec, "range");
    if (!bins || bins->type != MSGPACK_OBJECT_ARRAY || bins->via.array.size != 2
    ||  !range || range->type != MSGPACK_OBJECT_ARRAY || range->via.array.size != 4)
        return s_fail (r, MC_E_BAD_ARGUMENT, "hist2d: bins and range are malformed");
    int64_t nx, ny;
    double lo [2], hi [2];
    if (mc_value_get_int (&bins->via.array.ptr [0], &nx) || mc_value_get_int (&bins->via.array.ptr [1], &ny)
    ||  nx < 1 || ny < 1 || nx > 4096 || ny > 4096
    ||  mc_value_get_double (&range->via.array.ptr [0], &lo [0]) || mc_value_get_double (&range->via.array.ptr [1], &hi [0])
    ||  mc_value_get_double (&range->via.array.ptr [2], &lo [1]) || mc_value_get_double (&range->via.array.ptr [3], &hi [1])
    ||  !(lo [0] < hi [0]) || !(lo [1] < hi [1]))
        return s_fail (r, MC_E_BAD_ARGUMENT, "hist2d: bins and range are malformed");
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    msgpack_object items;
    size_t count;
    zframe_t **in = mc_proto_frame_array (r->frames, &count);
    msgpack_sbuffer counts;
    msgpack_sbuffer_init (&counts);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &counts, msgpack_sbuffer_write);
    zlist_t *frames = zlist_new ();
    int rc = mc_proto_unpack (r->out.data, r->out.size, &zone, &items);
    if (rc == 0)
        msgpack_pack_array (&pk, items.via.array.size);
    for (uint32_t i = 0; rc == 0 && i < items.via.array.size; i++) {
        mc_array_t points;
        if (!mc_proto_array_data (&items.via.array.ptr [i], in, count, &points) || points.dtype != MC_DTYPE_F64
        ||  points.ndim != 2 || points.shape [1] != 2) {
            rc = s_fail (r, MC_E_KERNEL_ERROR, "hist2d: the kernel's result is not an n x 2 float64 array of points");
            break;
        }
        mc_array_t hist = { MC_DTYPE_I64, 2, { (uint64_t) ny, (uint64_t) nx }, NULL, (size_t) (nx * ny * 8), 0 };
        zframe_t *frame = mc_proto_frame_new (NULL, hist.size);
        if (!frame) {
            rc = s_fail (r, MC_E_KERNEL_ERROR, "hist2d: cannot allocate %zu bytes", hist.size);
            break;
        }
        int64_t *h = (int64_t *) zframe_data (frame);
        memset (h, 0, hist.size);
        mc_array_hist2d (points.data, points.shape [0], h, (size_t) ny, (size_t) nx, lo [0], hi [0], lo [1], hi [1]);
        zlist_append (frames, frame);
        mc_array_pack_ref (&pk, &hist, (uint32_t) zlist_size (frames) - 1);
    }
    //  The counts replace the points.
    zlist_t *old = rc == 0? r->frames: frames;
    if (rc == 0) {
        r->frames = frames;
        msgpack_sbuffer_clear (&r->out);
        msgpack_sbuffer_write (&r->out, counts.data, counts.size);
    }
    zframe_t *frame;
    while ((frame = zlist_pop (old)))
        zframe_destroy (&frame);
    zlist_destroy (&old);
    msgpack_sbuffer_destroy (&counts);
    free (in);
    msgpack_zone_destroy (&zone);
    return rc;
}

//  Does a value hold any ext (array or name) that must be resolved?
static bool
s_has_ext (const msgpack_object *obj)
{
    switch (obj->type) {
        case MSGPACK_OBJECT_EXT:
            return true;
        case MSGPACK_OBJECT_ARRAY:
            for (uint32_t i = 0; i < obj->via.array.size; i++)
                if (s_has_ext (&obj->via.array.ptr [i]))
                    return true;
            return false;
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

static int
s_unpack (mc_bytes_t bytes, msgpack_zone *zone, msgpack_object *obj, msgpack_object_type type)
{
    return mc_proto_unpack (bytes.ptr, bytes.size, zone, obj) || obj->type != type? -1: 0;
}

static void
s_run (mc_runner_state_t *state, mc_namespace_t *ns, mc_msg_t *task, s_result_t *r)
{
    bool namespace_op = task->kernel.size && task->kernel.ptr [0] == '%';
    const mc_kernel_def_t *def = namespace_op? NULL: mc_kernel_find (task->kernel.ptr, task->kernel.size);
    if (!namespace_op && !def) {
        char kernel [128];
        s_fail (r, MC_E_UNKNOWN_KERNEL, "unknown kernel '%s' on this engine",
                mc_bytes_str (task->kernel, kernel, sizeof kernel));
        return;
    }
    msgpack_zone zone;
    msgpack_zone_init (&zone, 2048);
    msgpack_object args, kwargs, items;
    msgpack_sbuffer resolved;
    msgpack_sbuffer_init (&resolved);
    zlist_t *table = zlist_new ();
    zframe_t **frames = NULL;
    const msgpack_object **argv = NULL;
    if (s_unpack (task->args, &zone, &args, MSGPACK_OBJECT_ARRAY)
    ||  s_unpack (task->kwargs, &zone, &kwargs, MSGPACK_OBJECT_MAP)
    ||  (task->count && (s_unpack (task->items, &zone, &items, MSGPACK_OBJECT_ARRAY)
                         || items.via.array.size != task->count))) {
        s_fail (r, MC_E_BAD_ARGUMENT, "task arguments are malformed");
        goto done;
    }
    if (namespace_op) {
        s_namespace_op (ns, task, &args, &kwargs, task->count? &items: NULL, r);
        goto done;
    }
    //  Arguments with arrays or names are repacked into one value whose
    //  array references all index one table: the task's frames and those
    //  of the namespace values named.
    zframe_t *const *arg_frames = task->frames;
    size_t arg_frame_count = task->frame_count;
    if (s_has_ext (&args) || s_has_ext (&kwargs) || (task->count && s_has_ext (&items))) {
        msgpack_packer pk;
        msgpack_packer_init (&pk, &resolved, msgpack_sbuffer_write);
        s_resolve_t ctx = { ns, table, r };
        mc_repack_t how = { task->frames, task->frame_count, table, false, s_resolve_name, &ctx };
        msgpack_object all;
        msgpack_pack_array (&pk, 3);
        if (mc_proto_repack (&pk, &args, &how) || mc_proto_repack (&pk, &kwargs, &how)
        ||  (task->count? mc_proto_repack (&pk, &items, &how): msgpack_pack_nil (&pk))) {
            if (r->status == MC_OK)
                s_fail (r, MC_E_BAD_ARGUMENT, "task arguments cannot be resolved");
            goto done;
        }
        if (mc_proto_unpack (resolved.data, resolved.size, &zone, &all)) {
            s_fail (r, MC_E_BAD_ARGUMENT, "task arguments cannot be resolved");
            goto done;
        }
        args = all.via.array.ptr [0];
        kwargs = all.via.array.ptr [1];
        items = all.via.array.ptr [2];
        frames = mc_proto_frame_array (table, &arg_frame_count);
        arg_frames = frames;
    }
    bool is_map = task->count > 0;
    size_t argc = args.via.array.size + is_map;
    argv = calloc (argc + 1, sizeof *argv);
    for (uint32_t i = 0; i < args.via.array.size; i++)
        argv [i + is_map] = &args.via.array.ptr [i];
    uint64_t n = is_map? task->count: 1;
    msgpack_pack_array (&r->pk, (uint32_t) n);
    mc_kcall_t call = { argv, argc, &kwargs, arg_frames, arg_frame_count, &r->pk, r->frames,
                        task->seed, 0, (const volatile int *) &state->cancel, "", { { 0 } }, 0 };
    for (uint64_t i = 0; i < n; i++) {
        if (is_map)
            argv [0] = &items.via.array.ptr [i];
        call.index = task->first + i;
        if (def->fn (&call)) {
            if (!call.error [0])
                snprintf (call.error, sizeof call.error, "%s failed without saying why", def->name);
            s_fail (r, MC_E_KERNEL_ERROR, "%s", call.error);
            goto done;
        }
    }
    s_pack_meta (&call, is_map, r);
    if (task->reduce.size) {
        msgpack_object spec;
        if (mc_proto_unpack (task->reduce.ptr, task->reduce.size, &zone, &spec) || spec.type != MSGPACK_OBJECT_MAP) {
            s_fail (r, MC_E_BAD_ARGUMENT, "task reduce is malformed");
            goto done;
        }
        if (s_hist2d (&spec, r))
            goto done;
    }
    //  --out name: the results stay on this engine; the caller gets nulls.
    if (task->out.size) {
        char name [MC_NAME_MAX + 1];
        if (!mc_value_valid_name (task->out.ptr, task->out.size)) {
            s_fail (r, MC_E_BAD_ARGUMENT, "--out: '%s' is not a valid name", mc_bytes_str (task->out, name, sizeof name));
            goto done;
        }
        mc_bytes_str (task->out, name, sizeof name);
        msgpack_object values;
        size_t count;
        zframe_t **outs = mc_proto_frame_array (r->frames, &count);
        int rc = mc_proto_unpack (r->out.data, r->out.size, &zone, &values);
        if (rc == 0)
            rc = mc_namespace_set (ns, name, is_map? &values: &values.via.array.ptr [0], outs, count, NULL);
        free (outs);
        if (rc) {
            s_fail (r, MC_E_KERNEL_ERROR, "out of memory storing '%s'", name);
            goto done;
        }
        zlist_purge (r->frames);        //  the namespace owns them now
        msgpack_sbuffer_clear (&r->out);
        s_pack_nils (r, (uint32_t) n);
    }
done:
    free (argv);
    free (frames);
    zlist_destroy (&table);
    msgpack_sbuffer_destroy (&resolved);
    msgpack_zone_destroy (&zone);
}

int
mc_runner_run (mc_runner_state_t *state, mc_namespace_t *ns, zmsg_t **task_p, void *dest)
{
    mc_msg_t task;
    mc_msg_init (&task);
    int code;
    if (mc_msg_take (&task, task_p, false, &code) || task.type != MC_TASK) {
        mc_msg_reset (&task);
        return -1;
    }
    int64_t started = mc_time_wall_us ();
    s_result_t r;
    r.status = MC_OK;
    r.text [0] = 0;
    msgpack_sbuffer_init (&r.out);
    msgpack_packer_init (&r.pk, &r.out, msgpack_sbuffer_write);
    r.frames = zlist_new ();
    r.frames_owned = true;
    msgpack_sbuffer_init (&r.meta);
    s_run (state, ns, &task, &r);
    s_send_result (state, &task, &r, started, dest);
    if (r.frames_owned) {
        zframe_t *frame;
        while ((frame = zlist_pop (r.frames)))
            zframe_destroy (&frame);
    }
    zlist_destroy (&r.frames);
    msgpack_sbuffer_destroy (&r.out);
    msgpack_sbuffer_destroy (&r.meta);
    mc_msg_reset (&task);
    return 0;
}

static void
s_runner_actor (zsock_t *pipe, void *arg)
{
    mc_runner_state_t *state = arg;
    mc_namespace_t *ns = mc_namespace_new ();
    zsock_signal (pipe, 0);
    while (true) {
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
    mc_namespace_destroy (&ns);
}

zactor_t *
mc_runner_new (mc_runner_state_t *state)
{
    return zactor_new (s_runner_actor, state);
}
