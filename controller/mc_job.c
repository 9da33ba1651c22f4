/*  mc_job: parse a submit body into a job and split it into tasks. */
#include "mc_job.h"
#include "mc_proto.h"
#include "mc_time.h"
#include "mc_value.h"
#include <ctype.h>
#include <string.h>

struct _mc_job_t {
    mc_job_info_t info;
    char *body;                     //  copy of the submit body (owned)
    size_t body_size;
    msgpack_zone zone;              //  holds `spec`, which points into `body`
    msgpack_object spec;
    msgpack_sbuffer args, kwargs;   //  encoded once, sent with every task
    bool is_range;
    int64_t range_start, range_step;
    const msgpack_object *seq_items;    //  array items (points into spec)
    uint64_t chunksize;
    const msgpack_object *targets;  //  NULL when load-balanced
    const msgpack_object *args_obj, *kwargs_obj;    //  point into spec; NULL when absent
    char out [MC_JOB_NAME_MAX + 1]; //  namespace name for results, or ""
    msgpack_sbuffer engine_reduce;  //  hist2d spec for the engines, or empty
    bool transient;                 //  results go back to the submitter, never to the store
    zmsg_t *held;                   //  the request whose array frames the body refers to
    zframe_t **frames;              //  borrowed from held
    size_t frame_count;
    zmsg_t **results;               //  transient: each task's RESULT message (owned)
    bool streams;                   //  a %pull whose large arrays come in chunks
    uint64_t *streamed;             //  per frame of its result: bytes relayed so far
    size_t streamed_count;          //  frames that have had chunks
    int stream_error;               //  MC_E_... once a chunk could not be relayed
    size_t held_bytes;              //  bytes of frames held: request and results
    mc_task_t *tasks;
    uint64_t tasks_finished;
    double mean_task_us;
    zlist_t *waiters;
};

#define FAIL(c, ...) do { *code = (c); snprintf (err, errlen, __VA_ARGS__); goto fail; } while (0)

//  Namespace operations, done by every engine itself (see mc_proto.md).
static const char *s_namespace_ops [] = { "%push", "%scatter", "%pull", "%del", "%names" };

bool
mc_job_is_namespace_op (const char *kernel)
{
    for (size_t i = 0; i < sizeof s_namespace_ops / sizeof s_namespace_ops [0]; i++)
        if (!strcmp (kernel, s_namespace_ops [i]))
            return true;
    return false;
}

static bool
s_valid_kernel_name (const msgpack_object *obj)
{
    if (!obj || obj->type != MSGPACK_OBJECT_STR || obj->via.str.size == 0
    ||  obj->via.str.size > MC_KERNEL_NAME_MAX)
        return false;
    if (obj->via.str.ptr [0] == '%') {
        char name [MC_KERNEL_NAME_MAX + 1];
        memcpy (name, obj->via.str.ptr, obj->via.str.size);
        name [obj->via.str.size] = 0;
        return mc_job_is_namespace_op (name);
    }
    return mc_value_valid_kernel_name (obj->via.str.ptr, obj->via.str.size);
}

//  Does a value hold an array reference (to a frame)?
static bool
s_has_ref (const msgpack_object *obj)
{
    if (obj->type == MSGPACK_OBJECT_EXT)
        return obj->via.ext.type == MC_EXT_ARRAY;
    if (obj->type == MSGPACK_OBJECT_ARRAY) {
        for (uint32_t i = 0; i < obj->via.array.size; i++)
            if (s_has_ref (&obj->via.array.ptr [i]))
                return true;
    }
    else
    if (obj->type == MSGPACK_OBJECT_MAP)
        for (uint32_t i = 0; i < obj->via.map.size; i++)
            if (s_has_ref (&obj->via.map.ptr [i].val))
                return true;
    return false;
}

static bool
s_is_true (const msgpack_object *obj)
{
    return obj && obj->type == MSGPACK_OBJECT_BOOLEAN && obj->via.boolean;
}

mc_job_t *
mc_job_new (uint64_t id, const void *body, size_t size, uint64_t seed_if_absent,
            int *code, char *err, size_t errlen)
{
    mc_job_t *self = calloc (1, sizeof *self);
    assert (self);
    self->info.id = id;
    self->body = malloc (size? size: 1);
    assert (self->body);
    memcpy (self->body, body, size);
    self->body_size = size;
    msgpack_zone_init (&self->zone, 2048);
    msgpack_sbuffer_init (&self->args);
    msgpack_sbuffer_init (&self->kwargs);
    msgpack_sbuffer_init (&self->engine_reduce);
    self->waiters = zlist_new ();

    if (mc_proto_unpack (self->body, size, &self->zone, &self->spec) || self->spec.type != MSGPACK_OBJECT_MAP)
        FAIL (MC_E_MALFORMED, "submit: body is not a msgpack map");

    const msgpack_object *kind = mc_proto_map_get (&self->spec, "kind");
    bool is_map;
    if (kind && kind->type == MSGPACK_OBJECT_STR && kind->via.str.size == 3 && !memcmp (kind->via.str.ptr, "map", 3))
        is_map = true;
    else
    if (kind && kind->type == MSGPACK_OBJECT_STR && kind->via.str.size == 5 && !memcmp (kind->via.str.ptr, "apply", 5))
        is_map = false;
    else
        FAIL (MC_E_BAD_ARGUMENT, "submit: 'kind' must be \"map\" or \"apply\"");
    strcpy (self->info.kind, is_map? "map": "apply");

    const msgpack_object *kernel = mc_proto_map_get (&self->spec, "kernel");
    if (!s_valid_kernel_name (kernel))
        FAIL (MC_E_BAD_ARGUMENT, "submit: 'kernel' must be a name of 1-%d letters, digits, '_', '-' or '.'",
              MC_KERNEL_NAME_MAX);
    memcpy (self->info.kernel, kernel->via.str.ptr, kernel->via.str.size);
    self->transient = s_is_true (mc_proto_map_get (&self->spec, "transient"));
    bool namespace_op = self->info.kernel [0] == '%';
    if (namespace_op && !self->transient)
        FAIL (MC_E_BAD_ARGUMENT, "submit: namespace operations must be transient");
    if (s_has_ref (&self->spec) && !self->transient)
        FAIL (MC_E_BAD_ARGUMENT, "submit: arrays travel only with transient jobs (push them, then pass @name)");

    const msgpack_object *out = mc_proto_map_get (&self->spec, "out");
    if (out && out->type != MSGPACK_OBJECT_NIL) {
        if (out->type != MSGPACK_OBJECT_STR || out->via.str.size == 0 || out->via.str.size > MC_JOB_NAME_MAX
        ||  namespace_op)
            FAIL (MC_E_BAD_ARGUMENT, "submit: 'out' must be a name of 1-%d characters, for a kernel",
                  MC_JOB_NAME_MAX);
        memcpy (self->out, out->via.str.ptr, out->via.str.size);
        self->out [out->via.str.size] = 0;
    }

    msgpack_packer pk;
    const msgpack_object *args = mc_proto_map_get (&self->spec, "args");
    if (args && args->type != MSGPACK_OBJECT_ARRAY && args->type != MSGPACK_OBJECT_NIL)
        FAIL (MC_E_BAD_ARGUMENT, "submit: 'args' must be an array");
    msgpack_packer_init (&pk, &self->args, msgpack_sbuffer_write);
    if (args && args->type == MSGPACK_OBJECT_ARRAY) {
        msgpack_pack_object (&pk, *args);
        self->args_obj = args;
    }
    else
        msgpack_pack_array (&pk, 0);

    const msgpack_object *kwargs = mc_proto_map_get (&self->spec, "kwargs");
    if (kwargs && kwargs->type != MSGPACK_OBJECT_MAP && kwargs->type != MSGPACK_OBJECT_NIL)
        FAIL (MC_E_BAD_ARGUMENT, "submit: 'kwargs' must be a map");
    msgpack_packer_init (&pk, &self->kwargs, msgpack_sbuffer_write);
    if (kwargs && kwargs->type == MSGPACK_OBJECT_MAP) {
        for (uint32_t i = 0; i < kwargs->via.map.size; i++)
            if (kwargs->via.map.ptr [i].key.type != MSGPACK_OBJECT_STR)
                FAIL (MC_E_BAD_ARGUMENT, "submit: 'kwargs' keys must be strings");
        msgpack_pack_object (&pk, *kwargs);
        self->kwargs_obj = kwargs;
    }
    else
        msgpack_pack_map (&pk, 0);

    const msgpack_object *seq = mc_proto_map_get (&self->spec, "seq");
    if (is_map) {
        const msgpack_object *range = mc_proto_map_get (seq, "range");
        if (seq && seq->type == MSGPACK_OBJECT_ARRAY) {
            self->seq_items = seq->via.array.ptr;
            self->info.total = seq->via.array.size;
        }
        else
        if (range && range->type == MSGPACK_OBJECT_ARRAY && range->via.array.size == 3) {
            int64_t v [3];
            for (int i = 0; i < 3; i++) {
                const msgpack_object *o = &range->via.array.ptr [i];
                if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
                    v [i] = (int64_t) o->via.u64;
                else
                if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
                    v [i] = o->via.i64;
                else
                    FAIL (MC_E_BAD_ARGUMENT, "submit: 'seq' range must hold three integers");
            }
            if (v [2] == 0)
                FAIL (MC_E_BAD_ARGUMENT, "submit: 'seq' range step must not be 0");
            //  Count as Python's range does, in unsigned arithmetic so that
            //  extreme bounds cannot overflow.
            uint64_t count = 0;
            if (v [2] > 0 && v [0] < v [1])
                count = ((uint64_t) v [1] - (uint64_t) v [0] - 1) / (uint64_t) v [2] + 1;
            else
            if (v [2] < 0 && v [0] > v [1])
                count = ((uint64_t) v [0] - (uint64_t) v [1] - 1) / ((uint64_t) (-(v [2] + 1)) + 1) + 1;
            self->is_range = true;
            self->range_start = v [0];
            self->range_step = v [2];
            self->info.total = count;
        }
        else
            FAIL (MC_E_BAD_ARGUMENT, "submit: 'seq' must be an array or {\"range\": [start, stop, step]}");
    }
    else
    if (seq && seq->type != MSGPACK_OBJECT_NIL)
        FAIL (MC_E_BAD_ARGUMENT, "submit: 'seq' is only for kind \"map\"");

    const msgpack_object *chunksize = mc_proto_map_get (&self->spec, "chunksize");
    self->chunksize = 1;
    if (chunksize && chunksize->type != MSGPACK_OBJECT_NIL) {
        if (chunksize->type != MSGPACK_OBJECT_POSITIVE_INTEGER || chunksize->via.u64 < 1
        ||  chunksize->via.u64 > UINT32_MAX)
            FAIL (MC_E_BAD_ARGUMENT, "submit: 'chunksize' must be an integer from 1 to %u", UINT32_MAX);
        self->chunksize = chunksize->via.u64;
    }

    const msgpack_object *seed = mc_proto_map_get (&self->spec, "seed");
    if (seed && seed->type != MSGPACK_OBJECT_NIL) {
        if (seed->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            FAIL (MC_E_BAD_ARGUMENT, "submit: 'seed' must be a non-negative integer");
        self->info.seed = seed->via.u64;
    }
    else
        self->info.seed = seed_if_absent;

    const msgpack_object *targets = mc_proto_map_get (&self->spec, "targets");
    if (targets && targets->type != MSGPACK_OBJECT_NIL) {
        bool all = targets->type == MSGPACK_OBJECT_STR && targets->via.str.size == 3
                && !memcmp (targets->via.str.ptr, "all", 3);
        if (!all && targets->type != MSGPACK_OBJECT_ARRAY)
            FAIL (MC_E_BAD_ARGUMENT, "submit: 'targets' must be null, \"all\" or an array of engine ids");
        if (!all) {
            if (targets->via.array.size == 0)
                FAIL (MC_E_BAD_ARGUMENT, "submit: 'targets' is an empty list");
            for (uint32_t i = 0; i < targets->via.array.size; i++)
                if (targets->via.array.ptr [i].type != MSGPACK_OBJECT_POSITIVE_INTEGER
                ||  targets->via.array.ptr [i].via.u64 > INT32_MAX)
                    FAIL (MC_E_BAD_ARGUMENT, "submit: 'targets' must hold engine ids (non-negative integers)");
        }
        self->targets = targets;
    }
    if (namespace_op && !self->targets)
        FAIL (MC_E_BAD_ARGUMENT, "submit: namespace operations need targets");
    const msgpack_object *stream = mc_proto_map_get (self->kwargs_obj, "stream");
    if (stream && !strcmp (self->info.kernel, "%pull")) {
        if (stream->type != MSGPACK_OBJECT_BOOLEAN)
            FAIL (MC_E_BAD_ARGUMENT, "submit: %%pull 'stream' must be true or false");
        self->streams = stream->via.boolean;
        if (self->streams && (self->targets->type != MSGPACK_OBJECT_ARRAY || self->targets->via.array.size != 1))
            FAIL (MC_E_BAD_ARGUMENT, "submit: a streamed %%pull needs 'targets' to be a list of one engine id");
    }
    //  reduce: "sum", or {"op": "hist2d", "bins": [nx, ny], "range": [x0, x1, y0, y1]}:
    //  engines bin each result, the controller sums the counts.
    const msgpack_object *reduce = mc_proto_map_get (&self->spec, "reduce");
    if (reduce && reduce->type != MSGPACK_OBJECT_NIL) {
        const msgpack_object *op = reduce->type == MSGPACK_OBJECT_MAP? mc_proto_map_get (reduce, "op"): reduce;
        bool sum = op && op->type == MSGPACK_OBJECT_STR && op->via.str.size == 3 && !memcmp (op->via.str.ptr, "sum", 3);
        bool hist = op && op->type == MSGPACK_OBJECT_STR && op->via.str.size == 6
                 && !memcmp (op->via.str.ptr, "hist2d", 6);
        if (!sum && !hist)
            FAIL (MC_E_BAD_ARGUMENT, "submit: 'reduce' must be \"sum\" or {\"op\": \"hist2d\", ...}");
        if (namespace_op || self->transient || self->out [0])
            FAIL (MC_E_BAD_ARGUMENT, "submit: 'reduce' is for kernels whose results come back");
        if (hist) {
            const msgpack_object *bins = mc_proto_map_get (reduce, "bins");
            const msgpack_object *range = mc_proto_map_get (reduce, "range");
            bool ok = bins && bins->type == MSGPACK_OBJECT_ARRAY && bins->via.array.size == 2
                   && range && range->type == MSGPACK_OBJECT_ARRAY && range->via.array.size == 4;
            for (uint32_t i = 0; ok && i < 2; i++)
                ok = bins->via.array.ptr [i].type == MSGPACK_OBJECT_POSITIVE_INTEGER
                  && bins->via.array.ptr [i].via.u64 >= 1 && bins->via.array.ptr [i].via.u64 <= 4096;
            double r [4];
            for (uint32_t i = 0; ok && i < 4; i++)
                ok = mc_value_get_double (&range->via.array.ptr [i], &r [i]) == 0;
            if (!ok || !(r [0] < r [1]) || !(r [2] < r [3]))
                FAIL (MC_E_BAD_ARGUMENT, "submit: hist2d needs bins [nx, ny] (1-4096) and range [x0, x1, y0, y1] "
                      "with x0 < x1 and y0 < y1");
            msgpack_packer_init (&pk, &self->engine_reduce, msgpack_sbuffer_write);
            msgpack_pack_object (&pk, *reduce);
        }
        self->info.reduce = true;
    }
    self->info.single = (!is_map && !self->targets) || self->info.reduce;
    self->info.submitted_us = mc_time_wall_us ();
    *code = MC_OK;
    return self;
fail:
    mc_job_destroy (&self);
    return NULL;
}

void
mc_job_destroy (mc_job_t **self_p)
{
    mc_job_t *self = *self_p;
    if (!self)
        return;
    msgpack_zone_destroy (&self->zone);
    msgpack_sbuffer_destroy (&self->args);
    msgpack_sbuffer_destroy (&self->kwargs);
    msgpack_sbuffer_destroy (&self->engine_reduce);
    zlist_destroy (&self->waiters);
    free (self->streamed);
    if (self->results)
        for (uint64_t i = 0; i < self->info.tasks; i++)
            zmsg_destroy (&self->results [i]);
    free (self->results);
    free (self->frames);
    zmsg_destroy (&self->held);
    free (self->tasks);
    free (self->body);
    free (self);
    *self_p = NULL;
}

const msgpack_object *
mc_job_targets (const mc_job_t *self)
{
    return self->targets;
}

static mc_task_t *
s_alloc_tasks (mc_job_t *self, uint64_t count)
{
    if (count > UINT32_MAX)
        return NULL;
    self->tasks = calloc (count? count: 1, sizeof (mc_task_t));
    self->info.tasks = count;
    return self->tasks;
}

int
mc_job_plan (mc_job_t *self, const int32_t *targets, size_t ntargets)
{
    bool is_map = self->info.kind [0] == 'm';
    uint64_t ntasks;
    if (ntargets == 0)
        ntasks = is_map? (self->info.total + self->chunksize - 1) / self->chunksize: 1;
    else
        ntasks = ntargets;
    if (!s_alloc_tasks (self, ntasks))
        return -1;
    for (uint64_t i = 0; i < ntasks; i++) {
        mc_task_t *task = &self->tasks [i];
        task->job = self;
        task->number = (uint32_t) i;
        task->engine = -1;
        task->target = ntargets? targets [i]: -1;
        if (!is_map)
            task->first = i;
        else
        if (ntargets == 0) {
            task->first = i * self->chunksize;
            uint64_t left = self->info.total - task->first;
            task->count = (uint32_t) (left < self->chunksize? left: self->chunksize);
        }
        else {
            uint64_t start, size;
            mc_dist_block (self->info.total, ntargets, i, &start, &size);
            task->first = start;
            task->count = (uint32_t) size;
        }
    }
    //  An apply counts one item per task.
    if (!is_map)
        self->info.total = ntasks;
    return 0;
}

void
mc_job_pack_items (const mc_job_t *self, const mc_task_t *task, msgpack_packer *pk)
{
    msgpack_pack_array (pk, task->count);
    for (uint64_t i = task->first; i < task->first + task->count; i++) {
        if (self->is_range)
            msgpack_pack_int64 (pk, (int64_t) ((uint64_t) self->range_start + i * (uint64_t) self->range_step));
        else
            msgpack_pack_object (pk, self->seq_items [i]);
    }
}

int
mc_job_pack_task (const mc_job_t *self, const mc_task_t *task, msgpack_packer *args, msgpack_packer *kwargs,
                  msgpack_packer *items, zlist_t *frames)
{
    mc_repack_t how = { self->frames, self->frame_count, frames, false, NULL, NULL };
    int rc = self->args_obj? mc_proto_repack (args, self->args_obj, &how): msgpack_pack_array (args, 0);
    rc |= self->kwargs_obj? mc_proto_repack (kwargs, self->kwargs_obj, &how): msgpack_pack_map (kwargs, 0);
    if (task->count == 0)
        return rc;
    if (self->is_range) {
        mc_job_pack_items (self, task, items);
        return rc;
    }
    rc |= msgpack_pack_array (items, task->count);
    for (uint64_t i = task->first; i < task->first + task->count; i++)
        rc |= mc_proto_repack (items, &self->seq_items [i], &how);
    return rc? -1: 0;
}

void
mc_job_hold_frames (mc_job_t *self, zmsg_t **held_p, zframe_t *const *frames, size_t count)
{
    assert (!self->held);
    self->held = *held_p;
    *held_p = NULL;
    self->frames = malloc ((count? count: 1) * sizeof *frames);
    memcpy (self->frames, frames, count * sizeof *frames);
    self->frame_count = count;
    for (size_t i = 0; i < count; i++)
        self->held_bytes += zframe_size (frames [i]);
}

size_t
mc_job_frame_count (const mc_job_t *self)
{
    return self->frame_count;
}

bool
mc_job_transient (const mc_job_t *self)
{
    return self->transient;
}

const void *
mc_job_engine_reduce (const mc_job_t *self, size_t *size)
{
    *size = self->engine_reduce.size;
    return self->engine_reduce.size? self->engine_reduce.data: NULL;
}

bool
mc_job_body_reduces (const void *body, size_t size)
{
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    msgpack_object spec;
    bool reduces = false;
    if (mc_proto_unpack (body, size, &zone, &spec) == 0) {
        const msgpack_object *reduce = mc_proto_map_get (&spec, "reduce");
        reduces = reduce && reduce->type != MSGPACK_OBJECT_NIL;
    }
    msgpack_zone_destroy (&zone);
    return reduces;
}

const char *
mc_job_out (const mc_job_t *self)
{
    return self->out;
}

size_t
mc_job_held_bytes (const mc_job_t *self)
{
    return self->held_bytes;
}

void
mc_job_keep_result (mc_job_t *self, const mc_task_t *task, zmsg_t **result_p)
{
    assert (self->transient && task->number < self->info.tasks);
    if (!self->results)
        self->results = calloc (self->info.tasks, sizeof *self->results);
    zmsg_destroy (&self->results [task->number]);
    self->results [task->number] = *result_p;
    *result_p = NULL;
    //  Everything after the header is array frames.
    zmsg_t *msg = self->results [task->number];
    for (zframe_t *f = zmsg_first (msg)? zmsg_next (msg): NULL; f; f = zmsg_next (msg))
        self->held_bytes += zframe_size (f);
}

bool
mc_job_streams (const mc_job_t *self)
{
    return self->streams;
}

int
mc_job_stream_chunk (mc_job_t *self, const mc_msg_t *chunk)
{
    if (self->stream_error)
        return -1;
    size_t bytes = zframe_size (chunk->frames [0]);
    bool next_frame = chunk->offset == 0 && chunk->frame >= self->streamed_count;
    bool same_frame = self->streamed_count && chunk->frame == self->streamed_count - 1
                   && chunk->offset == self->streamed [chunk->frame];
    if (!next_frame && !same_frame) {
        self->stream_error = MC_E_MALFORMED;
        return -1;
    }
    if (next_frame) {
        uint64_t *grown = realloc (self->streamed, (chunk->frame + 1) * sizeof *grown);
        if (!grown) {
            self->stream_error = MC_E_INTERNAL;
            return -1;
        }
        memset (grown + self->streamed_count, 0, (chunk->frame + 1 - self->streamed_count) * sizeof *grown);
        self->streamed = grown;
        self->streamed_count = chunk->frame + 1;
    }
    self->streamed [chunk->frame] += bytes;
    self->held_bytes += bytes;
    return 0;
}

void
mc_job_stream_fail (mc_job_t *self, int code)
{
    if (!self->stream_error)
        self->stream_error = code;
}

int
mc_job_stream_check (const mc_job_t *self, const mc_msg_t *result)
{
    if (self->stream_error)
        return self->stream_error;
    for (size_t i = 0; i < result->frame_count || i < self->streamed_count; i++) {
        uint64_t relayed = i < self->streamed_count? self->streamed [i]: 0;
        uint64_t wanted = result->streamed && i < result->frame_count? result->streamed [i]: 0;
        if (relayed != wanted)
            return MC_E_MALFORMED;
    }
    return MC_OK;
}

zmsg_t *
mc_job_result (const mc_job_t *self, uint64_t number)
{
    return self->results && number < self->info.tasks? self->results [number]: NULL;
}

void
mc_job_task_finished (mc_job_t *self, mc_task_t *task, bool ok, int64_t run_us)
{
    assert (task->state == MC_TASK_RUNNING || task->state == MC_TASK_WAITING);
    task->state = ok? MC_TASK_DONE: MC_TASK_FAILED;
    uint64_t items = task->count? task->count: 1;
    if (self->info.kind [0] == 'm' && task->count == 0)
        items = 0;                  //  an empty block of a direct map
    if (ok)
        self->info.done += items;
    else
        self->info.failed += items;
    self->tasks_finished++;
    if (run_us < 0)
        run_us = 0;
    self->mean_task_us = self->mean_task_us > 0? 0.75 * self->mean_task_us + 0.25 * run_us: run_us + 0.001;
    if (mc_job_is_finished (self))
        self->info.finished_us = mc_time_wall_us ();
}

bool
mc_job_is_finished (const mc_job_t *self)
{
    return self->tasks_finished == self->info.tasks;
}

mc_job_info_t *
mc_job_info (mc_job_t *self)
{
    return &self->info;
}

mc_task_t *
mc_job_task (mc_job_t *self, uint64_t number)
{
    return number < self->info.tasks? &self->tasks [number]: NULL;
}

const void *
mc_job_body (const mc_job_t *self, size_t *size)
{
    *size = self->body_size;
    return self->body;
}

const void *
mc_job_args (const mc_job_t *self, size_t *size)
{
    *size = self->args.size;
    return self->args.data;
}

const void *
mc_job_kwargs (const mc_job_t *self, size_t *size)
{
    *size = self->kwargs.size;
    return self->kwargs.data;
}

double
mc_job_mean_task_us (const mc_job_t *self)
{
    return self->mean_task_us;
}

zlist_t *
mc_job_waiters (mc_job_t *self)
{
    return self->waiters;
}

const char *
mc_job_info_state (const mc_job_info_t *info)
{
    if (info->finished_us)
        return info->failed? "failed": "done";
    return info->started? "running": "queued";
}

static void
s_pack_key (msgpack_packer *pk, const char *key)
{
    msgpack_pack_str_with_body (pk, key, strlen (key));
}

void
mc_job_info_pack (const mc_job_info_t *info, msgpack_packer *pk, uint32_t extra)
{
    char id [32];
    mc_job_id_format (info->id, id, sizeof id);
    msgpack_pack_map (pk, 11 + extra);
    s_pack_key (pk, "job");       s_pack_key (pk, id);
    s_pack_key (pk, "kind");      s_pack_key (pk, info->kind);
    s_pack_key (pk, "kernel");    s_pack_key (pk, info->kernel);
    s_pack_key (pk, "state");     s_pack_key (pk, mc_job_info_state (info));
    s_pack_key (pk, "total");     msgpack_pack_uint64 (pk, info->total);
    s_pack_key (pk, "done");      msgpack_pack_uint64 (pk, info->done);
    s_pack_key (pk, "failed");    msgpack_pack_uint64 (pk, info->failed);
    s_pack_key (pk, "tasks");     msgpack_pack_uint64 (pk, info->tasks);
    //  Seeds are drawn below 2^63 so that JSON readers keep every bit.
    s_pack_key (pk, "seed");      msgpack_pack_uint64 (pk, info->seed);
    s_pack_key (pk, "submitted"); msgpack_pack_double (pk, info->submitted_us / 1e6);
    s_pack_key (pk, "finished");
    if (info->finished_us)
        msgpack_pack_double (pk, info->finished_us / 1e6);
    else
        msgpack_pack_nil (pk);
}

void
mc_job_id_format (uint64_t id, char *buf, size_t len)
{
    snprintf (buf, len, "j%llu", (unsigned long long) id);
}

int
mc_job_id_parse (const char *text, size_t len, uint64_t *id)
{
    size_t i = 0;
    if (len && text [0] == 'j')
        i = 1;
    if (i == len || len - i > 19)
        return -1;
    uint64_t value = 0;
    for (; i < len; i++) {
        if (!isdigit ((unsigned char) text [i]))
            return -1;
        value = value * 10 + (uint64_t) (text [i] - '0');
    }
    *id = value;
    return 0;
}
