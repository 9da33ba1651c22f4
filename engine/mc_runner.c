/*  mc_runner: decode a task, call its kernel per item, encode the result. */
#include "mc_runner.h"
#include "mc_kernel.h"
#include "mc_log.h"
#include "mc_proto.h"
#include "mc_time.h"

typedef struct {
    msgpack_sbuffer out;
} s_scratch_t;

static zframe_t *
s_result (const mc_msg_t *task, mc_runner_state_t *state, uint64_t status, const msgpack_sbuffer *data,
          const char *text, int64_t started)
{
    mc_msg_t result;
    mc_msg_init (&result);
    result.type = MC_RESULT;
    result.engine_id = atomic_load (&state->engine_id);
    result.job = task->job;
    result.task = task->task;
    result.status = status;
    result.started_us = started;
    result.finished_us = mc_time_wall_us ();
    if (status == MC_OK) {
        result.data.ptr = data->data;
        result.data.size = data->size;
    }
    result.text.ptr = text;
    result.text.size = text? strlen (text): 0;
    return mc_msg_encode (&result);
}

//  Unpack one msgpack value of the expected type into the zone.
static int
s_unpack (mc_bytes_t bytes, msgpack_zone *zone, msgpack_object *obj, msgpack_object_type type)
{
    return mc_proto_unpack (bytes.ptr, bytes.size, zone, obj) || obj->type != type? -1: 0;
}

static zframe_t *
s_run (mc_runner_state_t *state, const mc_msg_t *task, msgpack_sbuffer *out)
{
    int64_t started = mc_time_wall_us ();
    char kernel [MC_PROTO_MAX_STR + 1];
    mc_bytes_str (task->kernel, kernel, sizeof kernel);
    const mc_kernel_def_t *def = mc_kernel_find (task->kernel.ptr, task->kernel.size);
    if (!def) {
        char text [256];
        snprintf (text, sizeof text, "unknown kernel '%.100s' on this engine", kernel);
        return s_result (task, state, MC_E_UNKNOWN_KERNEL, NULL, text, started);
    }
    msgpack_zone zone;
    msgpack_zone_init (&zone, 2048);
    msgpack_object args, kwargs, items;
    zframe_t *frame = NULL;
    if (s_unpack (task->args, &zone, &args, MSGPACK_OBJECT_ARRAY)
    ||  s_unpack (task->kwargs, &zone, &kwargs, MSGPACK_OBJECT_MAP)
    ||  (task->count && (s_unpack (task->items, &zone, &items, MSGPACK_OBJECT_ARRAY)
                         || items.via.array.size != task->count))) {
        frame = s_result (task, state, MC_E_BAD_ARGUMENT, NULL, "task arguments are malformed", started);
        msgpack_zone_destroy (&zone);
        return frame;
    }
    bool is_map = task->count > 0;
    size_t argc = args.via.array.size + is_map;
    const msgpack_object **argv = calloc (argc + 1, sizeof *argv);
    for (uint32_t i = 0; i < args.via.array.size; i++)
        argv [i + is_map] = &args.via.array.ptr [i];

    msgpack_sbuffer_clear (out);
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    uint64_t n = is_map? task->count: 1;
    msgpack_pack_array (&pk, (uint32_t) n);
    mc_kcall_t call = { argv, argc, &kwargs, &pk, task->seed, 0, (const volatile int *) &state->cancel, "" };
    uint64_t status = MC_OK;
    for (uint64_t i = 0; i < n; i++) {
        if (is_map)
            argv [0] = &items.via.array.ptr [i];
        call.index = task->first + i;
        size_t mark = out->size;
        if (def->fn (&call)) {
            status = MC_E_KERNEL_ERROR;
            if (!call.error [0])
                snprintf (call.error, sizeof call.error, "%s failed without saying why", def->name);
            out->size = mark;
            break;
        }
    }
    frame = s_result (task, state, status, out, status? call.error: NULL, started);
    free (argv);
    msgpack_zone_destroy (&zone);
    return frame;
}

zframe_t *
mc_runner_run (mc_runner_state_t *state, const void *data, size_t size)
{
    mc_msg_t task;
    mc_msg_init (&task);
    int code;
    if (mc_msg_decode (&task, data, size, &code) || task.type != MC_TASK)
        return NULL;
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);
    zframe_t *frame = s_run (state, &task, &out);
    msgpack_sbuffer_destroy (&out);
    return frame;
}

static void
s_runner_actor (zsock_t *pipe, void *arg)
{
    mc_runner_state_t *state = arg;
    zsock_signal (pipe, 0);
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);
    while (true) {
        zframe_t *frame = zframe_recv (pipe);
        if (!frame)
            break;
        if (zframe_streq (frame, "$TERM")) {
            zframe_destroy (&frame);
            break;
        }
        atomic_store (&state->busy, 1);
        mc_msg_t task;
        mc_msg_init (&task);
        int code;
        zframe_t *result = NULL;
        if (mc_msg_decode (&task, zframe_data (frame), zframe_size (frame), &code) == 0 && task.type == MC_TASK)
            result = s_run (state, &task, &out);
        else
            mc_warn ("runner: dropped a frame that is not a TASK");
        //  Keep a big result buffer from pinning memory between tasks.
        if (out.alloc > (1 << 20)) {
            msgpack_sbuffer_destroy (&out);
            msgpack_sbuffer_init (&out);
        }
        zframe_destroy (&frame);
        atomic_store (&state->busy, 0);
        if (result)
            zframe_send (&result, pipe, 0);
    }
    msgpack_sbuffer_destroy (&out);
}

zactor_t *
mc_runner_new (mc_runner_state_t *state)
{
    return zactor_new (s_runner_actor, state);
}
