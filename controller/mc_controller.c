/*  mc_controller: the controller's event loop and its handlers.
    Engine side: REGISTER / PING / RESULT / BYE. Client side: REQUEST ops.
    Finished jobs are committed to the store before anyone hears of it. */
#include "mc_controller.h"
#include "mc_job.h"
#include "mc_log.h"
#include "mc_proto.h"
#include "mc_registry.h"
#include "mc_sched.h"
#include "mc_store.h"
#include "mc_time.h"
#include <czmq.h>
#include <sodium.h>
#include <unistd.h>

//  A client request parked on a job until it finishes (or times out).
typedef enum { WAIT_STATUS, WAIT_RESULT, WAIT_META } mc_wait_kind_t;   //  META: result with task metadata
typedef struct {
    zframe_t *routing_id;
    uint64_t req;
    mc_wait_kind_t kind;
    int64_t deadline_us;            //  monotonic; 0 = none
} mc_waiter_t;

struct _mc_controller_t {
    mc_config_t config;
    char profile_dir [4096];
    char conn_path [4200];
    mc_conn_t conn;
    zsock_t *engine_sock, *client_sock;
    zloop_t *loop;
    mc_registry_t *registry;
    mc_sched_t *sched;
    mc_store_t *store;
    zhashx_t *jobs;                 //  unfinished jobs by id (owned)
    zhashx_t *client_bytes;         //  routing id (hex) -> bytes of array data held for that client
    int64_t frames_seen_us;         //  last time array data passed (monotonic); 0 once memory is trimmed
    zlistx_t *finishing;            //  jobs finished during this event, to report
    uint64_t next_job_id;
    size_t timed_waiters;           //  parked requests with a deadline
    msgpack_sbuffer buffer;         //  reused for every encoded body
    bool shutdown;                  //  a client asked us to stop
    //  Start-up
    size_t expect;
    bool ready;
    int64_t started_us;
    int rc;
    mc_controller_ready_fn *ready_fn;
    void *ready_arg;
    mc_controller_tick_fn *tick_fn;
    void *tick_arg;
};

//  --------------------------------------------------------------------------
//  Job table: keys are job ids stored in the pointer itself.

static size_t s_id_hash (const void *key) { return (size_t) (uintptr_t) key * 0x9E3779B97F4A7C15ull; }
static int s_id_cmp (const void *a, const void *b) { return a == b? 0: (a < b? -1: 1); }
static void s_job_free (void **item) { mc_job_destroy ((mc_job_t **) item); }

static mc_job_t *
s_job_lookup (mc_controller_t *self, uint64_t id)
{
    return id? zhashx_lookup (self->jobs, (void *) (uintptr_t) id): NULL;
}

//  --------------------------------------------------------------------------
//  Replies to clients

static msgpack_packer
s_body_start (mc_controller_t *self)
{
    msgpack_sbuffer_clear (&self->buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &self->buffer, msgpack_sbuffer_write);
    return pk;
}

static void
s_reply (mc_controller_t *self, zframe_t *routing_id, uint64_t req, uint64_t status, const char *text)
{
    mc_msg_t reply;
    mc_msg_init (&reply);
    reply.type = MC_REPLY;
    reply.req = req;
    reply.status = status;
    if (status == MC_OK) {
        reply.data.ptr = self->buffer.data;
        reply.data.size = self->buffer.size;
    }
    reply.text.ptr = text;
    reply.text.size = text? strlen (text): 0;
    mc_msg_send (&reply, zsock_resolve (self->client_sock), routing_id);
}

static void
s_reply_error (mc_controller_t *self, zframe_t *routing_id, uint64_t req, uint64_t code, const char *fmt, ...)
    __attribute__ ((format (printf, 5, 6)));
static void
s_reply_error (mc_controller_t *self, zframe_t *routing_id, uint64_t req, uint64_t code, const char *fmt, ...)
{
    char text [1024];
    va_list args;
    va_start (args, fmt);
    vsnprintf (text, sizeof text, fmt, args);
    va_end (args);
    mc_debug ("request %llu: %s: %s", (unsigned long long) req, mc_proto_error_name (code), text);
    s_reply (self, routing_id, req, code, text);
}

static void
s_pack_str (msgpack_packer *pk, const char *text)
{
    msgpack_pack_str_with_body (pk, text, strlen (text));
}

static void
s_pack_status (mc_controller_t *self, const mc_job_info_t *info)
{
    msgpack_packer pk = s_body_start (self);
    mc_job_info_pack (info, &pk, 0);
}

static int
s_pack_result (mc_controller_t *self, const mc_job_info_t *info, bool meta)
{
    msgpack_packer pk = s_body_start (self);
    mc_job_info_pack (info, &pk, meta? 4: 3);
    s_pack_str (&pk, "single");
    if (info->single)
        msgpack_pack_true (&pk);
    else
        msgpack_pack_false (&pk);
    if (meta) {
        s_pack_str (&pk, "meta");
        mc_store_pack_meta (self->store, info, &pk);
    }
    return mc_store_pack_results (self->store, info, &pk);
}

static void s_reply_transient (mc_controller_t *self, mc_waiter_t *waiter, mc_job_t *job);

//  Answer one parked request about a job (job is NULL once it is only in
//  the store).
static void
s_answer_waiter (mc_controller_t *self, mc_waiter_t *waiter, mc_job_t *job, const mc_job_info_t *info)
{
    if (job && mc_job_transient (job) && waiter->kind == WAIT_RESULT)
        s_reply_transient (self, waiter, job);
    else {
        if (waiter->kind != WAIT_STATUS)
            s_pack_result (self, info, waiter->kind == WAIT_META);
        else
            s_pack_status (self, info);
        s_reply (self, waiter->routing_id, waiter->req, MC_OK, NULL);
    }
    if (waiter->deadline_us)
        self->timed_waiters--;
    zframe_destroy (&waiter->routing_id);
    free (waiter);
}

//  --------------------------------------------------------------------------
//  Array data held for clients (requests and results of transient jobs)

//  Bytes held for a client.
static size_t
s_client_held (mc_controller_t *self, zframe_t *routing_id)
{
    char *key = zframe_strhex (routing_id);
    size_t *bytes = zhashx_lookup (self->client_bytes, key);
    free (key);
    return bytes? *bytes: 0;
}

//  Count bytes more (add) or fewer (!add) held for a client; a client that
//  holds nothing has no entry.
static void
s_client_count (mc_controller_t *self, zframe_t *routing_id, size_t bytes, bool add)
{
    if (bytes == 0)
        return;
    self->frames_seen_us = mc_time_mono_us ();
    char *key = zframe_strhex (routing_id);
    size_t *held = zhashx_lookup (self->client_bytes, key);
    if (!held && add) {
        held = calloc (1, sizeof *held);
        zhashx_insert (self->client_bytes, key, held);
    }
    if (held) {
        *held = add? *held + bytes: *held > bytes? *held - bytes: 0;
        if (*held == 0)
            zhashx_delete (self->client_bytes, key);
    }
    free (key);
}

//  One distinct error of a job, with where it happened.
typedef struct {
    char *text;
    uint64_t count;                 //  tasks
    int64_t *engines;               //  distinct, in order of first failure
    uint64_t *tasks;                //  count of them
    size_t engine_count;
} s_error_t;

static void
s_error_add (zlistx_t *errors, const char *text, size_t len, int64_t engine, uint64_t task)
{
    s_error_t *e;
    for (e = zlistx_first (errors); e; e = zlistx_next (errors))
        if (strlen (e->text) == len && !memcmp (e->text, text, len))
            break;
    if (!e) {
        e = calloc (1, sizeof *e);
        e->text = strndup (text, len);
        zlistx_add_end (errors, e);
    }
    e->tasks = realloc (e->tasks, (e->count + 1) * sizeof *e->tasks);
    e->tasks [e->count++] = task;
    for (size_t i = 0; i < e->engine_count; i++)
        if (e->engines [i] == engine)
            return;
    e->engines = realloc (e->engines, (e->engine_count + 1) * sizeof *e->engines);
    e->engines [e->engine_count++] = engine;
}

static void
s_errors_pack (zlistx_t *errors, msgpack_packer *pk)
{
    msgpack_pack_array (pk, zlistx_size (errors));
    s_error_t *e;
    while ((e = zlistx_detach (errors, NULL))) {
        msgpack_pack_map (pk, 4);
        s_pack_str (pk, "error");   s_pack_str (pk, e->text);
        s_pack_str (pk, "count");   msgpack_pack_uint64 (pk, e->count);
        s_pack_str (pk, "engines");
        msgpack_pack_array (pk, e->engine_count);
        for (size_t i = 0; i < e->engine_count; i++)
            msgpack_pack_int64 (pk, e->engines [i]);
        s_pack_str (pk, "tasks");
        msgpack_pack_array (pk, e->count);
        for (size_t i = 0; i < e->count; i++)
            msgpack_pack_uint64 (pk, e->tasks [i]);
        free (e->engines);
        free (e->tasks);
        free (e->text);
        free (e);
    }
}

//  Answer the submitter of a finished transient job with its results, whose
//  arrays go out as frames of the reply (shared, never copied).
static void
s_reply_transient (mc_controller_t *self, mc_waiter_t *waiter, mc_job_t *job)
{
    mc_job_info_t *info = mc_job_info (job);
    msgpack_packer pk = s_body_start (self);
    mc_job_info_pack (info, &pk, 3);
    s_pack_str (&pk, "single");
    msgpack_pack_false (&pk);
    s_pack_str (&pk, "results");
    msgpack_pack_array (&pk, (uint32_t) info->total);
    zlist_t *frames = zlist_new ();
    zlistx_t *errors = zlistx_new ();
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    for (uint64_t t = 0; t < info->tasks; t++) {
        mc_task_t *task = mc_job_task (job, t);
        uint32_t items = info->kind [0] == 'm'? task->count: 1;
        zmsg_t *kept = mc_job_result (job, t);
        mc_msg_t result;
        mc_msg_init (&result);
        msgpack_object data;
        int code;
        zframe_t *header = kept? zmsg_first (kept): NULL;
        bool ok = header && mc_msg_decode (&result, zframe_data (header), zframe_size (header), &code) == 0
               && result.status == MC_OK
               && mc_proto_unpack (result.data.ptr, result.data.size, &zone, &data) == 0
               && data.type == MSGPACK_OBJECT_ARRAY && data.via.array.size == items;
        if (ok) {
            size_t count = zmsg_size (kept) - 1;
            zframe_t **in = calloc (count + 1, sizeof *in);
            size_t n = 0;
            for (zframe_t *f = zmsg_next (kept); f; f = zmsg_next (kept))
                in [n++] = f;
            mc_repack_t how = { in, count, frames, false, NULL, NULL };
            for (uint32_t i = 0; i < items; i++)
                if (mc_proto_repack (&pk, &data.via.array.ptr [i], &how))
                    msgpack_pack_nil (&pk);
            free (in);
        }
        else {
            for (uint32_t i = 0; i < items; i++)
                msgpack_pack_nil (&pk);
            const char *text = header && result.text.size? result.text.ptr: "no result";
            size_t len = header && result.text.size? result.text.size: strlen (text);
            s_error_add (errors, text, len, header? result.engine_id: task->target, t);
        }
    }
    msgpack_zone_destroy (&zone);
    s_pack_str (&pk, "errors");
    s_errors_pack (errors, &pk);
    zlistx_destroy (&errors);
    mc_msg_t reply;
    mc_msg_init (&reply);
    reply.type = MC_REPLY;
    reply.req = waiter->req;
    reply.status = MC_OK;
    reply.data.ptr = self->buffer.data;
    reply.data.size = self->buffer.size;
    reply.frames = mc_proto_frame_array (frames, &reply.frame_count);
    if (mc_msg_send (&reply, zsock_resolve (self->client_sock), waiter->routing_id))
        mc_warn ("cannot send a reply of %zu frames", reply.frame_count);
    free (reply.frames);
    zlist_destroy (&frames);
    s_client_count (self, waiter->routing_id, mc_job_held_bytes (job), false);
}

//  --------------------------------------------------------------------------
//  Job completion

static void
s_task_finished (mc_controller_t *self, mc_job_t *job, mc_task_t *task, bool ok, int64_t run_us)
{
    mc_job_task_finished (job, task, ok, run_us);
    if (mc_job_is_finished (job))
        zlistx_add_end (self->finishing, job);
}

//  Report jobs that finished during this event: commit first, then answer
//  everyone parked on them, then forget them (the store has them now).
static void
s_report_finished (mc_controller_t *self)
{
    if (zlistx_size (self->finishing) == 0)
        return;
    for (mc_job_t *job = zlistx_first (self->finishing); job; job = zlistx_next (self->finishing))
        if (!mc_job_transient (job) && mc_store_finish_job (self->store, mc_job_info (job)))
            mc_error ("store: cannot record job %llu: %s",
                      (unsigned long long) mc_job_info (job)->id, mc_store_error (self->store));
    if (mc_store_flush (self->store))
        mc_error ("store: commit failed: %s", mc_store_error (self->store));
    mc_job_t *job;
    while ((job = zlistx_detach (self->finishing, NULL))) {
        mc_job_info_t *info = mc_job_info (job);
        mc_debug ("job %llu %s: %llu done, %llu failed", (unsigned long long) info->id,
                  mc_job_info_state (info), (unsigned long long) info->done, (unsigned long long) info->failed);
        mc_waiter_t *waiter;
        while ((waiter = zlist_pop (mc_job_waiters (job))))
            s_answer_waiter (self, waiter, job, info);
        zhashx_delete (self->jobs, (void *) (uintptr_t) info->id);
    }
}

//  Record a failed task that never ran (or whose engine is gone).
static void
s_fail_task (mc_controller_t *self, mc_task_t *task, int64_t engine, uint64_t code, const char *text)
{
    mc_job_t *job = task->job;
    int64_t now = mc_time_wall_us ();
    if (mc_job_transient (job)) {
        //  Kept as the RESULT the engine would have sent.
        mc_msg_t result;
        mc_msg_init (&result);
        result.type = MC_RESULT;
        result.engine_id = engine;
        result.job = mc_job_info (job)->id;
        result.task = task->number;
        result.status = code;
        result.started_us = result.finished_us = now;
        result.text.ptr = text;
        result.text.size = strlen (text);
        zmsg_t *kept = zmsg_new ();
        zframe_t *header = mc_msg_encode (&result);
        zmsg_append (kept, &header);
        mc_job_keep_result (job, task, &kept);
    }
    else
    if (mc_store_add_result (self->store, mc_job_info (job)->id, task->number, task->first, task->count,
                             engine, code, NULL, 0, text, strlen (text), now, now, NULL, 0))
        mc_error ("store: cannot record result: %s", mc_store_error (self->store));
    s_task_finished (self, job, task, false, 0);
}

static void
s_task_lost (void *arg, mc_task_t *task)
{
    mc_controller_t *self = arg;
    char text [128];
    int64_t engine = task->target >= 0? task->target: task->engine;
    snprintf (text, sizeof text, "engine %lld was lost before the task finished", (long long) engine);
    s_fail_task (self, task, engine, MC_E_ENGINE_LOST, text);
}

//  --------------------------------------------------------------------------
//  Engine side

static void
s_send_task (void *arg, mc_engine_t *engine, mc_task_t *task)
{
    mc_controller_t *self = arg;
    mc_job_t *job = task->job;
    mc_job_info_t *info = mc_job_info (job);
    info->started = true;
    mc_msg_t msg;
    mc_msg_init (&msg);
    msgpack_sbuffer args, kwargs;
    zlist_t *frames = NULL;
    msgpack_packer pk = s_body_start (self);
    if (mc_job_frame_count (job)) {
        //  Each task carries only the frames it refers to, renumbered.
        msgpack_sbuffer_init (&args);
        msgpack_sbuffer_init (&kwargs);
        msgpack_packer apk, kpk;
        msgpack_packer_init (&apk, &args, msgpack_sbuffer_write);
        msgpack_packer_init (&kpk, &kwargs, msgpack_sbuffer_write);
        frames = zlist_new ();
        mc_job_pack_task (job, task, &apk, &kpk, &pk, frames);
        msg.frames = mc_proto_frame_array (frames, &msg.frame_count);
    }
    else
    if (task->count)
        mc_job_pack_items (job, task, &pk);
    msg.type = MC_TASK;
    msg.job = info->id;
    msg.task = task->number;
    msg.first = task->first;
    msg.count = task->count;
    msg.seed = info->seed;
    msg.kernel.ptr = info->kernel;
    msg.kernel.size = strlen (info->kernel);
    msg.args.ptr = mc_job_args (job, &msg.args.size);
    msg.kwargs.ptr = mc_job_kwargs (job, &msg.kwargs.size);
    if (frames) {
        msg.args.ptr = args.data;
        msg.args.size = args.size;
        msg.kwargs.ptr = kwargs.data;
        msg.kwargs.size = kwargs.size;
    }
    msg.items.ptr = self->buffer.data;
    msg.items.size = self->buffer.size;
    msg.out.ptr = mc_job_out (job);
    msg.out.size = strlen (msg.out.ptr);
    msg.reduce.ptr = mc_job_engine_reduce (job, &msg.reduce.size);
    if (mc_msg_send (&msg, zsock_resolve (self->engine_sock), engine->routing_id))
        mc_warn ("cannot send task to engine %d", engine->id);
    if (frames) {
        free (msg.frames);
        zlist_destroy (&frames);
        msgpack_sbuffer_destroy (&args);
        msgpack_sbuffer_destroy (&kwargs);
    }
}

static void
s_engine_gone (mc_controller_t *self, mc_engine_t *engine, const char *why)
{
    mc_info ("engine %d (%s pid %lld) %s; %u tasks in flight", engine->id, engine->host,
             (long long) engine->pid, why, engine->inflight);
    mc_sched_engine_gone (self->sched, engine, s_task_lost, self);
    mc_registry_remove (self->registry, &engine);
}

static void
s_send_engine_error (mc_controller_t *self, zframe_t *routing_id, uint64_t code, const char *text)
{
    mc_msg_t msg;
    mc_msg_init (&msg);
    msg.type = MC_ERROR;
    msg.status = code;
    msg.text.ptr = text;
    msg.text.size = strlen (text);
    mc_msg_send (&msg, zsock_resolve (self->engine_sock), routing_id);
}

static bool
s_valid_token (mc_bytes_t bytes, size_t max)
{
    if (bytes.size == 0 || bytes.size > max)
        return false;
    for (size_t i = 0; i < bytes.size; i++) {
        char c = bytes.ptr [i];
        if (!isalnum ((unsigned char) c) && c != '-' && c != '_' && c != '.')
            return false;
    }
    return true;
}

static void
s_on_register (mc_controller_t *self, mc_msg_t *msg)
{
    char uuid [65], host [256];
    if (!s_valid_token (msg->uuid, 64) || msg->host.size > 255) {
        s_send_engine_error (self, msg->routing_id, MC_E_BAD_ARGUMENT, "REGISTER: bad uuid or host");
        return;
    }
    mc_bytes_str (msg->uuid, uuid, sizeof uuid);
    mc_bytes_str (msg->host, host, sizeof host);
    char **kernels = calloc (msg->kernel_count + 1, sizeof *kernels);
    size_t count = 0;
    for (size_t i = 0; i < msg->kernel_count; i++)
        if (mc_value_valid_kernel_name (msg->kernels [i].ptr, msg->kernels [i].size))
            kernels [count++] = strndup (msg->kernels [i].ptr, msg->kernels [i].size);
    bool replaced;
    mc_engine_t *engine = mc_registry_register (self->registry, uuid, msg->engine_id, host, msg->pid,
                                                msg->routing_id, kernels, count, mc_time_mono_us (),
                                                &replaced);
    if (!engine) {
        for (size_t i = 0; i < count; i++)
            free (kernels [i]);
        free (kernels);
        s_send_engine_error (self, msg->routing_id, MC_E_INTERNAL, "REGISTER: no engine id left");
        return;
    }
    free (engine->kernel_info);
    engine->kernel_info = NULL;
    engine->kernel_info_size = 0;
    if (msg->kernel_info.size && mc_proto_sane (msg->kernel_info.ptr, msg->kernel_info.size)) {
        engine->kernel_info = malloc (msg->kernel_info.size);
        memcpy (engine->kernel_info, msg->kernel_info.ptr, msg->kernel_info.size);
        engine->kernel_info_size = msg->kernel_info.size;
    }
    mc_info ("engine %d %s (%s pid %lld, %zu kernels)", engine->id, replaced? "reconnected": "registered",
             host, (long long) msg->pid, count);
    mc_msg_t welcome;
    mc_msg_init (&welcome);
    welcome.type = MC_WELCOME;
    welcome.engine_id = engine->id;
    welcome.heartbeat_ms = (uint64_t) self->config.heartbeat_ms;
    welcome.liveness = (uint64_t) self->config.heartbeat_liveness;
    mc_msg_send (&welcome, zsock_resolve (self->engine_sock), engine->routing_id);
    if (replaced)
        mc_sched_engine_reset (self->sched, engine);
    mc_sched_engine_ready (self->sched, engine);
    if (!self->ready && self->expect && mc_registry_size (self->registry) >= self->expect) {
        self->ready = true;
        if (self->ready_fn)
            self->ready_fn (self->ready_arg, mc_registry_size (self->registry));
    }
}

//  The engine a message claims to come from, if it really does.
static mc_engine_t *
s_known_engine (mc_controller_t *self, mc_msg_t *msg)
{
    mc_engine_t *engine = mc_registry_lookup (self->registry, msg->engine_id);
    if (!engine || !zframe_eq (engine->routing_id, msg->routing_id)) {
        s_send_engine_error (self, msg->routing_id, MC_E_NOT_REGISTERED, "not registered: register again");
        return NULL;
    }
    mc_registry_touch (self->registry, engine, mc_time_mono_us ());
    return engine;
}

//  A chunk of a streamed %pull: on to its submitter at once, counted
//  against the submitter's limit of data in flight.
static void
s_on_chunk (mc_controller_t *self, mc_engine_t *engine, mc_msg_t *msg)
{
    mc_job_t *job = s_job_lookup (self, msg->job);
    mc_task_t *task = job? mc_job_task (job, msg->task): NULL;
    mc_waiter_t *submitter = job? zlist_first (mc_job_waiters (job)): NULL;
    if (!task || task->state != MC_TASK_RUNNING || task->engine != engine->id || !mc_job_streams (job)) {
        mc_debug ("engine %d: dropped a chunk for job %llu task %llu", engine->id,
                  (unsigned long long) msg->job, (unsigned long long) msg->task);
        if (job && mc_job_streams (job))
            mc_job_stream_fail (job, MC_E_MALFORMED);
        return;
    }
    size_t bytes = zframe_size (msg->frames [0]);
    if (!submitter || s_client_held (self, submitter->routing_id) + bytes > (size_t) self->config.max_client_bytes)
        mc_job_stream_fail (job, MC_E_QUEUE_FULL);
    if (mc_job_stream_chunk (job, msg))
        return;
    s_client_count (self, submitter->routing_id, bytes, true);
    mc_msg_t relay;
    mc_msg_init (&relay);
    relay.type = MC_REPLY_CHUNK;
    relay.req = submitter->req;
    relay.frame = msg->frame;
    relay.frame_size = msg->frame_size;
    relay.offset = msg->offset;
    relay.frames = msg->frames;
    relay.frame_count = 1;
    if (mc_msg_send (&relay, zsock_resolve (self->client_sock), submitter->routing_id))
        mc_job_stream_fail (job, MC_E_INTERNAL);
}

static void
s_on_result (mc_controller_t *self, mc_engine_t *engine, mc_msg_t *msg)
{
    mc_job_t *job = s_job_lookup (self, msg->job);
    mc_task_t *task = job? mc_job_task (job, msg->task): NULL;
    if (!task || task->state != MC_TASK_RUNNING || task->engine != engine->id) {
        //  A late answer for a task that was requeued or already answered.
        mc_debug ("engine %d: dropped result for job %llu task %llu", engine->id,
                  (unsigned long long) msg->job, (unsigned long long) msg->task);
        return;
    }
    uint64_t status = msg->status;
    const char *text = msg->text.ptr;
    size_t text_len = msg->text.size;
    uint32_t items = task->count? task->count: 1;
    if (status == MC_OK && !mc_proto_valid_array (msg->data.ptr, msg->data.size, items)) {
        //  A broken engine costs its session, not the task: drop the engine,
        //  which requeues its load-balanced tasks.
        s_send_engine_error (self, msg->routing_id, MC_E_MALFORMED, "malformed result: you are dropped");
        s_engine_gone (self, engine, "sent a malformed result");
        return;
    }
    if (status != MC_OK && text_len == 0) {
        text = mc_proto_error_name (status);
        text_len = strlen (text);
    }
    int stream_code = status == MC_OK? mc_job_stream_check (job, msg): MC_OK;
    if (stream_code != MC_OK) {
        engine->failed++;
        s_fail_task (self, task, engine->id, (uint64_t) stream_code,
                     stream_code == MC_E_QUEUE_FULL? "streamed result exceeds max_client_bytes"
                   : stream_code == MC_E_MALFORMED? "streamed arrays do not match the result that followed them"
                   : "the controller could not relay a streamed result");
        mc_sched_task_done (self->sched, engine, task);
        return;
    }
    if (mc_job_transient (job)) {
        //  Kept for the submitter, within its limit of held data.
        size_t bytes = 0;
        for (size_t i = 0; i < msg->frame_count; i++)
            bytes += zframe_size (msg->frames [i]);
        mc_waiter_t *submitter = zlist_first (mc_job_waiters (job));
        if (submitter && s_client_held (self, submitter->routing_id) + bytes > (size_t) self->config.max_client_bytes) {
            char why [256];
            snprintf (why, sizeof why, "results exceed max_client_bytes=%lld: pull from fewer engines "
                      "or fewer names at a time", (long long) self->config.max_client_bytes);
            engine->failed++;
            s_fail_task (self, task, engine->id, MC_E_QUEUE_FULL, why);
            mc_sched_task_done (self->sched, engine, task);
            return;
        }
        if (submitter)
            s_client_count (self, submitter->routing_id, bytes, true);
        zmsg_t *kept = msg->zmsg;
        msg->zmsg = NULL;
        mc_job_keep_result (job, task, &kept);
    }
    else {
        //  Metadata is kept only when it is one well-formed map.
        const void *meta = msg->meta.ptr;
        size_t meta_size = msg->meta.size;
        msgpack_zone mzone;
        msgpack_zone_init (&mzone, 256);
        msgpack_object mobj;
        if (meta_size && (mc_proto_unpack (meta, meta_size, &mzone, &mobj) || mobj.type != MSGPACK_OBJECT_MAP))
            meta_size = 0;
        msgpack_zone_destroy (&mzone);
        //  Arrays of a stored result are stored inline.
        msgpack_sbuffer inlined;
        msgpack_sbuffer_init (&inlined);
        const void *data = msg->data.ptr;
        size_t size = msg->data.size;
        if (status == MC_OK && msg->frame_count) {
            msgpack_zone zone;
            msgpack_zone_init (&zone, 1024);
            msgpack_object obj;
            msgpack_packer pk;
            msgpack_packer_init (&pk, &inlined, msgpack_sbuffer_write);
            mc_repack_t how = { msg->frames, msg->frame_count, NULL, true, NULL, NULL };
            if (mc_proto_unpack (data, size, &zone, &obj) == 0 && mc_proto_repack (&pk, &obj, &how) == 0) {
                data = inlined.data;
                size = inlined.size;
            }
            msgpack_zone_destroy (&zone);
        }
        if (mc_store_add_result (self->store, msg->job, msg->task, task->first, task->count, engine->id, status,
                                 data, size, text, text_len, msg->started_us, msg->finished_us, meta, meta_size))
            mc_error ("store: cannot record result: %s", mc_store_error (self->store));
        msgpack_sbuffer_destroy (&inlined);
    }
    if (status == MC_OK)
        engine->done++;
    else
        engine->failed++;
    s_task_finished (self, job, task, status == MC_OK, msg->finished_us - msg->started_us);
    mc_sched_task_done (self->sched, engine, task);
}

static int
s_engine_readable (zloop_t *loop, zsock_t *sock, void *arg)
{
    (void) loop;
    mc_controller_t *self = arg;
    mc_msg_t msg;
    mc_msg_init (&msg);
    //  Drain what is waiting, up to a bound, so that one busy peer cannot
    //  starve the client socket or the timers.
    for (int n = 0; n < 256 && (zsock_events (sock) & ZMQ_POLLIN); n++) {
        int code;
        int rc = mc_msg_recv (&msg, zsock_resolve (sock), true, &code);
        if (rc == -1)
            break;
        if (rc == -2) {
            if (msg.routing_id)
                s_send_engine_error (self, msg.routing_id, (uint64_t) code, "malformed message");
            continue;
        }
        mc_engine_t *engine;
        switch (msg.type) {
            case MC_REGISTER:
                s_on_register (self, &msg);
                break;
            case MC_PING:
                if (s_known_engine (self, &msg)) {
                    mc_msg_t pong;
                    mc_msg_init (&pong);
                    pong.type = MC_PONG;
                    mc_msg_send (&pong, zsock_resolve (sock), msg.routing_id);
                }
                break;
            case MC_RESULT:
                if ((engine = s_known_engine (self, &msg)))
                    s_on_result (self, engine, &msg);
                break;
            case MC_RESULT_CHUNK:
                if ((engine = s_known_engine (self, &msg)))
                    s_on_chunk (self, engine, &msg);
                break;
            case MC_BYE:
                if ((engine = s_known_engine (self, &msg)))
                    s_engine_gone (self, engine, "said goodbye");
                break;
            default:
                s_send_engine_error (self, msg.routing_id, MC_E_MALFORMED, "unexpected message type");
        }
    }
    mc_msg_reset (&msg);
    s_report_finished (self);
    return 0;
}

//  --------------------------------------------------------------------------
//  Client side

static int
s_body_job_id (const msgpack_object *body, uint64_t *id)
{
    const msgpack_object *job = mc_proto_map_get (body, "job");
    if (!job || job->type != MSGPACK_OBJECT_STR)
        return -1;
    return mc_job_id_parse (job->via.str.ptr, job->via.str.size, id);
}

//  The status of a job, in memory or in the store; NULL when unknown.
static const mc_job_info_t *
s_find_info (mc_controller_t *self, uint64_t id, mc_job_info_t *scratch)
{
    mc_job_t *job = s_job_lookup (self, id);
    if (job)
        return mc_job_info (job);
    return mc_store_job_info (self->store, id, scratch) == 0? scratch: NULL;
}

static void
s_op_submit (mc_controller_t *self, mc_msg_t *msg, const msgpack_object *body)
{
    zframe_t *rid = msg->routing_id;
    if (self->shutdown) {
        s_reply_error (self, rid, msg->req, MC_E_SHUTTING_DOWN, "the controller is shutting down");
        return;
    }
    uint64_t seed;
    randombytes_buf (&seed, sizeof seed);
    seed &= INT64_MAX;                  //  63 bits: exact in every JSON reader
    int code;
    char err [512];
    mc_job_t *job = mc_job_new (self->next_job_id, msg->data.ptr, msg->data.size, seed, &code, err, sizeof err);
    if (!job) {
        s_reply_error (self, rid, msg->req, (uint64_t) code, "%s", err);
        return;
    }
    mc_job_info_t *info = mc_job_info (job);
    bool transient = mc_job_transient (job);
    size_t request_bytes = 0;
    for (size_t i = 0; i < msg->frame_count; i++)
        request_bytes += zframe_size (msg->frames [i]);
    const msgpack_object *targets = mc_job_targets (job);
    size_t engines = mc_registry_size (self->registry);
    int32_t *ids = NULL;
    size_t nids = 0;
    if (transient && s_client_held (self, rid) + request_bytes > (size_t) self->config.max_client_bytes) {
        s_reply_error (self, rid, msg->req, MC_E_QUEUE_FULL,
                       "this client already has %zu bytes in flight; with %zu more it would pass "
                       "max_client_bytes=%lld", s_client_held (self, rid), request_bytes,
                       (long long) self->config.max_client_bytes);
        goto done;
    }
    if (targets) {
        ids = calloc (engines + (targets->type == MSGPACK_OBJECT_ARRAY? targets->via.array.size: 0) + 1,
                      sizeof *ids);
        if (targets->type == MSGPACK_OBJECT_STR) {
            for (mc_engine_t *e = mc_registry_first (self->registry); e; e = mc_registry_next (self->registry, e))
                ids [nids++] = e->id;
        }
        else
        for (uint32_t i = 0; i < targets->via.array.size; i++) {
            uint64_t id = targets->via.array.ptr [i].via.u64;
            if (!mc_registry_lookup (self->registry, (int64_t) id)) {
                char list [256] = "";
                size_t used = 0;
                for (mc_engine_t *e = mc_registry_first (self->registry); e && used < sizeof list - 16;
                     e = mc_registry_next (self->registry, e))
                    used += snprintf (list + used, sizeof list - used, "%s%d", used? ",": "", e->id);
                s_reply_error (self, rid, msg->req, MC_E_UNKNOWN_ENGINE, "no engine %llu (engines: %s)",
                               (unsigned long long) id, used? list: "none");
                goto done;
            }
            ids [nids++] = (int32_t) id;
        }
        if (nids == 0) {
            s_reply_error (self, rid, msg->req, MC_E_NO_ENGINES, "no engines are registered");
            goto done;
        }
    }
    if (engines && !mc_job_is_namespace_op (info->kernel) && !mc_registry_has_kernel (self->registry, info->kernel)) {
        char list [1024];
        mc_registry_kernel_list (self->registry, list, sizeof list);
        s_reply_error (self, rid, msg->req, MC_E_UNKNOWN_KERNEL, "unknown kernel '%s' (engines have: %s)",
                       info->kernel, list);
        goto done;
    }
    if (mc_job_plan (job, ids, nids)) {
        s_reply_error (self, rid, msg->req, MC_E_BAD_ARGUMENT, "submit: too many tasks");
        goto done;
    }
    if (mc_sched_waiting (self->sched) + info->tasks > (uint64_t) self->config.max_queued_tasks) {
        s_reply_error (self, rid, msg->req, MC_E_QUEUE_FULL,
                       "queue full: %zu tasks waiting, this job adds %llu, limit max_queued_tasks=%lld",
                       mc_sched_waiting (self->sched), (unsigned long long) info->tasks,
                       (long long) self->config.max_queued_tasks);
        goto done;
    }
    //  A job is committed before it is acknowledged: now, by its id, or
    //  for a client that waits, with its results just before the reply.
    const msgpack_object *wait = mc_proto_map_get (body, "wait");
    bool waits = transient || (wait && wait->type == MSGPACK_OBJECT_BOOLEAN && wait->via.boolean);
    size_t body_size;
    const void *body_data = mc_job_body (job, &body_size);
    if (!transient && (mc_store_add_job (self->store, info, body_data, body_size)
                   ||  (!waits && mc_store_flush (self->store)))) {
        s_reply_error (self, rid, msg->req, MC_E_INTERNAL, "store: cannot record job: %s",
                       mc_store_error (self->store));
        goto done;
    }
    self->next_job_id++;
    if (msg->frame_count) {
        mc_job_hold_frames (job, &msg->zmsg, msg->frames, msg->frame_count);
        s_client_count (self, rid, request_bytes, true);
    }
    zhashx_insert (self->jobs, (void *) (uintptr_t) info->id, job);
    mc_job_t *owned = job;
    job = NULL;                         //  the table owns it now
    for (uint64_t i = 0; i < info->tasks; i++) {
        mc_task_t *task = mc_job_task (owned, i);
        if (info->kind [0] == 'm' && task->count == 0)
            s_task_finished (self, owned, task, true, 0);   //  an empty block has nothing to run
        else
        if (mc_sched_queue (self->sched, task))
            s_fail_task (self, task, -1, MC_E_INTERNAL, "controller out of memory");
    }
    if (info->tasks == 0) {
        info->finished_us = mc_time_wall_us ();
        zlistx_add_end (self->finishing, owned);
    }
    if (waits) {
        mc_waiter_t *waiter = calloc (1, sizeof *waiter);
        waiter->routing_id = zframe_dup (rid);
        waiter->req = msg->req;
        waiter->kind = WAIT_RESULT;
        zlist_append (mc_job_waiters (owned), waiter);
    }
    else {
        char id [32];
        mc_job_id_format (info->id, id, sizeof id);
        msgpack_packer pk = s_body_start (self);
        msgpack_pack_map (&pk, 1);
        s_pack_str (&pk, "job");
        s_pack_str (&pk, id);
        s_reply (self, rid, msg->req, MC_OK, NULL);
    }
    mc_sched_dispatch (self->sched);
done:
    free (ids);
    mc_job_destroy (&job);
}

//  status, wait and result: answer now, or park until the job finishes.
static void
s_op_job_query (mc_controller_t *self, mc_msg_t *msg, const msgpack_object *body, mc_wait_kind_t kind,
                bool may_wait)
{
    uint64_t id;
    if (s_body_job_id (body, &id)) {
        s_reply_error (self, msg->routing_id, msg->req, MC_E_BAD_ARGUMENT, "'job' must be a job id like \"j12\"");
        return;
    }
    mc_job_info_t scratch;
    const mc_job_info_t *info = s_find_info (self, id, &scratch);
    if (!info) {
        s_reply_error (self, msg->routing_id, msg->req, MC_E_UNKNOWN_JOB, "no job j%llu", (unsigned long long) id);
        return;
    }
    int64_t timeout_ms = -1;            //  wait without a deadline
    const msgpack_object *timeout = mc_proto_map_get (body, "timeout_ms");
    if (timeout && timeout->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        timeout_ms = timeout->via.u64 > INT32_MAX? INT32_MAX: (int64_t) timeout->via.u64;
    mc_job_t *job = s_job_lookup (self, id);
    if (may_wait && job && !info->finished_us && timeout_ms != 0) {
        zlist_t *waiters = mc_job_waiters (job);
        if (zlist_size (waiters) >= (size_t) self->config.max_waiters_per_job) {
            s_reply_error (self, msg->routing_id, msg->req, MC_E_QUEUE_FULL,
                           "too many clients wait for this job (max_waiters_per_job=%lld)",
                           (long long) self->config.max_waiters_per_job);
            return;
        }
        mc_waiter_t *waiter = calloc (1, sizeof *waiter);
        waiter->routing_id = zframe_dup (msg->routing_id);
        waiter->req = msg->req;
        waiter->kind = kind;
        if (timeout_ms > 0) {
            waiter->deadline_us = mc_time_mono_us () + timeout_ms * 1000;
            self->timed_waiters++;
        }
        zlist_append (waiters, waiter);
        return;
    }
    if (kind != WAIT_STATUS)
        s_pack_result (self, info, kind == WAIT_META);
    else
        s_pack_status (self, info);
    s_reply (self, msg->routing_id, msg->req, MC_OK, NULL);
}

static void
s_op_engines (mc_controller_t *self, mc_msg_t *msg, bool ids_only)
{
    msgpack_packer pk = s_body_start (self);
    msgpack_pack_array (&pk, (uint32_t) mc_registry_size (self->registry));
    int64_t now = mc_time_mono_us ();
    for (mc_engine_t *e = mc_registry_first (self->registry); e; e = mc_registry_next (self->registry, e)) {
        if (ids_only) {
            msgpack_pack_int32 (&pk, e->id);
            continue;
        }
        msgpack_pack_map (&pk, 10);
        s_pack_str (&pk, "id");       msgpack_pack_int32 (&pk, e->id);
        s_pack_str (&pk, "host");     s_pack_str (&pk, e->host);
        s_pack_str (&pk, "pid");      msgpack_pack_int64 (&pk, e->pid);
        s_pack_str (&pk, "state");    s_pack_str (&pk, e->stopping? "stopping": e->inflight? "busy": "idle");
        s_pack_str (&pk, "done");     msgpack_pack_uint64 (&pk, e->done);
        s_pack_str (&pk, "failed");   msgpack_pack_uint64 (&pk, e->failed);
        s_pack_str (&pk, "inflight"); msgpack_pack_uint32 (&pk, e->inflight);
        s_pack_str (&pk, "queued");   msgpack_pack_uint64 (&pk, mc_taskq_size (e->direct));
        s_pack_str (&pk, "uuid");     s_pack_str (&pk, e->uuid);
        s_pack_str (&pk, "last_seen_ms"); msgpack_pack_int64 (&pk, (now - e->last_seen_us) / 1000);
    }
    s_reply (self, msg->routing_id, msg->req, MC_OK, NULL);
}

static void
s_op_jobs (mc_controller_t *self, mc_msg_t *msg, const msgpack_object *body)
{
    uint64_t limit = 20;
    const msgpack_object *o = mc_proto_map_get (body, "limit");
    if (o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        limit = o->via.u64 < 1000? o->via.u64: 1000;
    uint64_t ids [1000];
    size_t count = mc_store_recent_jobs (self->store, ids, limit);
    msgpack_packer pk = s_body_start (self);
    msgpack_pack_array (&pk, (uint32_t) count);
    for (size_t i = 0; i < count; i++) {
        mc_job_info_t scratch;
        const mc_job_info_t *info = s_find_info (self, ids [i], &scratch);
        if (info)
            mc_job_info_pack (info, &pk, 0);
        else
            msgpack_pack_nil (&pk);
    }
    s_reply (self, msg->routing_id, msg->req, MC_OK, NULL);
}

static void
s_op_queue (mc_controller_t *self, mc_msg_t *msg)
{
    msgpack_packer pk = s_body_start (self);
    msgpack_pack_map (&pk, 2);
    s_pack_str (&pk, "queued");
    msgpack_pack_uint64 (&pk, mc_sched_lb_waiting (self->sched));
    s_pack_str (&pk, "engines");
    msgpack_pack_array (&pk, (uint32_t) mc_registry_size (self->registry));
    for (mc_engine_t *e = mc_registry_first (self->registry); e; e = mc_registry_next (self->registry, e)) {
        msgpack_pack_map (&pk, 3);
        s_pack_str (&pk, "id");      msgpack_pack_int32 (&pk, e->id);
        s_pack_str (&pk, "queued");  msgpack_pack_uint64 (&pk, mc_taskq_size (e->direct));
        s_pack_str (&pk, "running"); msgpack_pack_uint32 (&pk, e->inflight);
    }
    s_reply (self, msg->routing_id, msg->req, MC_OK, NULL);
}

//  One kernel as engines described it, and which engines have it.
typedef struct {
    char name [MC_KERNEL_NAME_MAX + 1];
    const msgpack_object *doc, *args;   //  point into zone
    int32_t engines [64];
    size_t engine_count;
} s_kernel_t;

static int
s_kernel_cmp (const void *a, const void *b)
{
    return strcmp (((const s_kernel_t *) a)->name, ((const s_kernel_t *) b)->name);
}

//  Pack "name:type[=default] ..." as [{"name", "type"[, "default"]}, ...].
static void
s_pack_args (msgpack_packer *pk, const msgpack_object *args)
{
    char text [1024] = "";
    if (args && args->type == MSGPACK_OBJECT_STR)
        snprintf (text, sizeof text, "%.*s", (int) args->via.str.size, args->via.str.ptr);
    char *tokens [64], *save = NULL;
    size_t n = 0;
    for (char *t = strtok_r (text, " ", &save); t && n < 64; t = strtok_r (NULL, " ", &save))
        tokens [n++] = t;
    msgpack_pack_array (pk, (uint32_t) n);
    for (size_t i = 0; i < n; i++) {
        char *type = strchr (tokens [i], ':');
        char *fallback = type? strchr (type, '='): NULL;
        if (type)
            *type++ = 0;
        if (fallback)
            *fallback++ = 0;
        msgpack_pack_map (pk, fallback? 3: 2);
        s_pack_str (pk, "name");
        s_pack_str (pk, tokens [i]);
        s_pack_str (pk, "type");
        s_pack_str (pk, type? type: "any");
        if (fallback) {
            s_pack_str (pk, "default");
            s_pack_str (pk, fallback);
        }
    }
}

//  kernels: every kernel some engine has, by name, with its doc, typed
//  arguments and engines.
static void
s_op_kernels (mc_controller_t *self, mc_msg_t *msg)
{
    msgpack_zone zone;
    msgpack_zone_init (&zone, 4096);
    s_kernel_t *kernels = NULL;
    size_t count = 0;
    for (mc_engine_t *e = mc_registry_first (self->registry); e; e = mc_registry_next (self->registry, e)) {
        msgpack_object info;
        if (!e->kernel_info || mc_proto_unpack (e->kernel_info, e->kernel_info_size, &zone, &info)
        ||  info.type != MSGPACK_OBJECT_ARRAY)
            continue;
        for (uint32_t i = 0; i < info.via.array.size; i++) {
            const msgpack_object *k = &info.via.array.ptr [i];
            if (k->type != MSGPACK_OBJECT_ARRAY || k->via.array.size != 3
            ||  k->via.array.ptr [0].type != MSGPACK_OBJECT_STR || k->via.array.ptr [0].via.str.size > MC_KERNEL_NAME_MAX)
                continue;
            char name [MC_KERNEL_NAME_MAX + 1];
            snprintf (name, sizeof name, "%.*s", (int) k->via.array.ptr [0].via.str.size, k->via.array.ptr [0].via.str.ptr);
            size_t j = 0;
            while (j < count && strcmp (kernels [j].name, name))
                j++;
            if (j == count) {
                kernels = realloc (kernels, (count + 1) * sizeof *kernels);
                memset (&kernels [j], 0, sizeof kernels [j]);
                strcpy (kernels [j].name, name);
                kernels [j].doc = &k->via.array.ptr [1];
                kernels [j].args = &k->via.array.ptr [2];
                count++;
            }
            if (kernels [j].engine_count < 64)
                kernels [j].engines [kernels [j].engine_count++] = e->id;
        }
    }
    qsort (kernels, count, sizeof *kernels, s_kernel_cmp);
    msgpack_packer pk = s_body_start (self);
    msgpack_pack_array (&pk, (uint32_t) count);
    for (size_t j = 0; j < count; j++) {
        msgpack_pack_map (&pk, 4);
        s_pack_str (&pk, "name");
        s_pack_str (&pk, kernels [j].name);
        s_pack_str (&pk, "doc");
        if (kernels [j].doc->type == MSGPACK_OBJECT_STR)
            msgpack_pack_object (&pk, *kernels [j].doc);
        else
            s_pack_str (&pk, "");
        s_pack_str (&pk, "args");
        s_pack_args (&pk, kernels [j].args);
        s_pack_str (&pk, "engines");
        msgpack_pack_array (&pk, (uint32_t) kernels [j].engine_count);
        for (size_t e = 0; e < kernels [j].engine_count; e++)
            msgpack_pack_int32 (&pk, kernels [j].engines [e]);
    }
    s_reply (self, msg->routing_id, msg->req, MC_OK, NULL);
    free (kernels);
    msgpack_zone_destroy (&zone);
}

static void
s_on_request (mc_controller_t *self, mc_msg_t *msg)
{
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    msgpack_object body;
    body.type = MSGPACK_OBJECT_NIL;
    if (msg->data.size
    &&  (mc_proto_unpack (msg->data.ptr, msg->data.size, &zone, &body) || body.type != MSGPACK_OBJECT_MAP)) {
        s_reply_error (self, msg->routing_id, msg->req, MC_E_MALFORMED, "request body is not a msgpack map");
        msgpack_zone_destroy (&zone);
        return;
    }
    mc_bytes_t op = msg->op;
    if (mc_bytes_eq (op, "submit"))
        s_op_submit (self, msg, &body);
    else
    if (mc_bytes_eq (op, "status"))
        s_op_job_query (self, msg, &body, WAIT_STATUS, false);
    else
    if (mc_bytes_eq (op, "wait"))
        s_op_job_query (self, msg, &body, WAIT_STATUS, true);
    else
    if (mc_bytes_eq (op, "result")) {
        const msgpack_object *wait = mc_proto_map_get (&body, "wait");
        const msgpack_object *meta = mc_proto_map_get (&body, "meta");
        bool with_meta = meta && meta->type == MSGPACK_OBJECT_BOOLEAN && meta->via.boolean;
        s_op_job_query (self, msg, &body, with_meta? WAIT_META: WAIT_RESULT,
                        wait && wait->type == MSGPACK_OBJECT_BOOLEAN && wait->via.boolean);
    }
    else
    if (mc_bytes_eq (op, "ping")) {
        msgpack_packer pk = s_body_start (self);
        msgpack_pack_map (&pk, 4);
        s_pack_str (&pk, "max_value_bytes"); msgpack_pack_int64 (&pk, self->config.max_value_bytes);
        s_pack_str (&pk, "version"); msgpack_pack_uint8 (&pk, MC_PROTO_VERSION);
        s_pack_str (&pk, "pid");     msgpack_pack_int64 (&pk, getpid ());
        s_pack_str (&pk, "engines"); msgpack_pack_uint64 (&pk, mc_registry_size (self->registry));
        s_reply (self, msg->routing_id, msg->req, MC_OK, NULL);
    }
    else
    if (mc_bytes_eq (op, "engines") || mc_bytes_eq (op, "ids"))
        s_op_engines (self, msg, mc_bytes_eq (op, "ids"));
    else
    if (mc_bytes_eq (op, "jobs"))
        s_op_jobs (self, msg, &body);
    else
    if (mc_bytes_eq (op, "kernels"))
        s_op_kernels (self, msg);
    else
    if (mc_bytes_eq (op, "queue"))
        s_op_queue (self, msg);
    else
    if (mc_bytes_eq (op, "shutdown")) {
        msgpack_packer pk = s_body_start (self);
        msgpack_pack_map (&pk, 0);
        s_reply (self, msg->routing_id, msg->req, MC_OK, NULL);
        mc_info ("shutdown requested by a client");
        self->shutdown = true;
    }
    else {
        char name [64];
        s_reply_error (self, msg->routing_id, msg->req, MC_E_UNKNOWN_OP, "unknown operation '%s'",
                       mc_bytes_str (op, name, sizeof name));
    }
    msgpack_zone_destroy (&zone);
}

static int
s_client_readable (zloop_t *loop, zsock_t *sock, void *arg)
{
    (void) loop;
    mc_controller_t *self = arg;
    mc_msg_t msg;
    mc_msg_init (&msg);
    for (int n = 0; n < 64 && !self->shutdown && (zsock_events (sock) & ZMQ_POLLIN); n++) {
        int code;
        int rc = mc_msg_recv (&msg, zsock_resolve (sock), true, &code);
        if (rc == -1)
            break;
        if (rc == -2 || msg.type != MC_REQUEST) {
            if (msg.routing_id)
                s_reply_error (self, msg.routing_id, rc == -2? 0: msg.req, rc == -2? (uint64_t) code: MC_E_MALFORMED,
                               "malformed request (%s)", rc == -2? mc_proto_error_name (code): "not a REQUEST");
            continue;
        }
        s_on_request (self, &msg);
    }
    mc_msg_reset (&msg);
    s_report_finished (self);
    return self->shutdown? -1: 0;
}

//  --------------------------------------------------------------------------
//  Housekeeping: commit, expire silent engines, time out waits, start-up.

static void
s_expire_waiters (mc_controller_t *self, int64_t now)
{
    for (mc_job_t *job = zhashx_first (self->jobs); job && self->timed_waiters; job = zhashx_next (self->jobs)) {
        zlist_t *waiters = mc_job_waiters (job);
        mc_waiter_t *waiter = zlist_first (waiters);
        while (waiter) {
            mc_waiter_t *next = zlist_next (waiters);
            if (waiter->deadline_us && waiter->deadline_us <= now) {
                zlist_remove (waiters, waiter);
                s_answer_waiter (self, waiter, job, mc_job_info (job));
            }
            waiter = next;
        }
    }
}

static int
s_tick (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop; (void) timer_id;
    mc_controller_t *self = arg;
    if (mc_store_flush (self->store))
        mc_error ("store: commit failed: %s", mc_store_error (self->store));
    int64_t now = mc_time_mono_us ();
    int64_t silence_us = self->config.heartbeat_ms * self->config.heartbeat_liveness * 1000;
    mc_engine_t *engine;
    while ((engine = mc_registry_oldest (self->registry)) && now - engine->last_seen_us > silence_us)
        s_engine_gone (self, engine, "expired (no heartbeat)");
    if (self->timed_waiters)
        s_expire_waiters (self, now);
    s_report_finished (self);
    if (self->expect && !self->ready && now - self->started_us > self->config.register_timeout_ms * 1000) {
        mc_error ("only %zu of %zu engines registered within %lld ms", mc_registry_size (self->registry),
                  self->expect, (long long) self->config.register_timeout_ms);
        self->rc = -1;
        return -1;
    }
    //  Large frames stay in the heap while data flows; a second after the
    //  last, the memory goes back to the system.
    if (self->frames_seen_us && now - self->frames_seen_us > 1000000 && zhashx_size (self->client_bytes) == 0) {
        mc_proto_trim ();
        self->frames_seen_us = 0;
    }
    if (self->tick_fn)
        self->tick_fn (self->tick_arg);
    return 0;
}

//  --------------------------------------------------------------------------
//  Construction

static zsock_t *
s_bind (const mc_config_t *config, const char *ip, int port, char *url, size_t urllen,
        const char *advertise, int io_thread, char *err, size_t errlen)
{
    zsock_t *sock = zsock_new (ZMQ_ROUTER);
    assert (sock);
    //  With two I/O threads, engines' connections get one and clients' the
    //  other, so that a large result is read from its engine while the one
    //  before it goes out to its client.
    if (zmq_ctx_get (zsys_init (), ZMQ_IO_THREADS) >= 2)
        zsock_set_affinity (sock, 1 << io_thread);
    zsock_set_maxmsgsize (sock, (int) (config->max_msg_bytes > INT32_MAX? INT32_MAX: config->max_msg_bytes));
    zsock_set_sndhwm (sock, 0);         //  limits are ours (max_queued_tasks), not silent drops
    zsock_set_rcvhwm (sock, 0);
    zsock_set_linger (sock, 100);
    int bound = port > 0? zsock_bind (sock, "tcp://%s:%d", ip, port): zsock_bind (sock, "tcp://%s:*", ip);
    if (bound < 0) {
        snprintf (err, errlen, "cannot bind tcp://%s:%d: %s", ip, port, zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
        return NULL;
    }
    snprintf (url, urllen, "tcp://%s:%d", advertise, bound);
    return sock;
}

mc_controller_t *
mc_controller_new (const mc_config_t *config, const char *profile_dir, const char *ip,
                   int engine_port, int client_port, char *err, size_t errlen)
{
    if (sodium_init () < 0) {
        snprintf (err, errlen, "libsodium failed to initialise");
        return NULL;
    }
    mc_controller_t *self = calloc (1, sizeof *self);
    assert (self);
    self->config = *config;
    snprintf (self->profile_dir, sizeof self->profile_dir, "%s", profile_dir);
    snprintf (self->conn_path, sizeof self->conn_path, "%s/%s", profile_dir, MC_CONN_FILE);
    msgpack_sbuffer_init (&self->buffer);
    self->jobs = zhashx_new ();
    zhashx_set_key_hasher (self->jobs, s_id_hash);
    zhashx_set_key_comparator (self->jobs, s_id_cmp);
    zhashx_set_key_duplicator (self->jobs, NULL);
    zhashx_set_key_destructor (self->jobs, NULL);
    zhashx_set_destructor (self->jobs, s_job_free);
    self->finishing = zlistx_new ();
    self->client_bytes = zhashx_new ();
    zhashx_set_destructor (self->client_bytes, (zhashx_destructor_fn *) zstr_free);
    self->registry = mc_registry_new ();
    self->sched = mc_sched_new (self->registry, config->max_inflight, config->pipeline_ms * 1000,
                                s_send_task, self);
    if (mc_conn_ensure_dir (profile_dir, err, errlen))
        goto fail;
    char store_path [4200];
    snprintf (store_path, sizeof store_path, "%s/store.db", profile_dir);
    self->store = mc_store_new (store_path, err, errlen);
    if (!self->store)
        goto fail;
    self->next_job_id = mc_store_next_job_id (self->store);

    char hostname [256] = "localhost";
    gethostname (hostname, sizeof hostname);
    hostname [sizeof hostname - 1] = 0;
    //  A wildcard bind is advertised by host name; anything else as given.
    bool wildcard = !strcmp (ip, "*") || !strcmp (ip, "0.0.0.0");
    const char *advertise = wildcard? hostname: ip;
    self->engine_sock = s_bind (config, wildcard? "*": ip, engine_port, self->conn.engine_url,
                                sizeof self->conn.engine_url, advertise, 0, err, errlen);
    if (!self->engine_sock)
        goto fail;
    self->client_sock = s_bind (config, wildcard? "*": ip, client_port, self->conn.client_url,
                                sizeof self->conn.client_url, advertise, 1, err, errlen);
    if (!self->client_sock)
        goto fail;
    //  Peers on this host use Unix sockets in the profile directory: they
    //  carry arrays about 1.5 times as fast as TCP over loopback.
    const char *names [2] = { "engine.ipc", "client.ipc" };
    zsock_t *socks [2] = { self->engine_sock, self->client_sock };
    char *urls [2] = { self->conn.engine_ipc, self->conn.client_ipc };
    for (int i = 0; i < 2; i++) {
        char url [256];
        if (snprintf (url, sizeof url, "ipc://%s/%s", profile_dir, names [i]) < 100
        &&  zsock_bind (socks [i], "%s", url) == 0)
            snprintf (urls [i], 256, "%s", url);
    }
    snprintf (self->conn.host, sizeof self->conn.host, "%s", hostname);
    self->conn.pid = getpid ();
    if (mc_conn_write (self->conn_path, &self->conn, err, errlen))
        goto fail;
    if (strncmp (ip, "127.", 4) && strcmp (ip, "localhost") && strcmp (ip, "::1"))
        mc_warn ("listening on %s without encryption: anyone who can reach it can use the cluster", ip);
    mc_info ("engines connect to %s, clients to %s", self->conn.engine_url, self->conn.client_url);
    return self;
fail:
    self->conn_path [0] = 0;            //  do not remove another controller's file
    mc_controller_destroy (&self);
    return NULL;
}

void
mc_controller_destroy (mc_controller_t **self_p)
{
    mc_controller_t *self = *self_p;
    if (!self)
        return;
    if (self->conn_path [0] && self->engine_sock) {
        //  Remove the connection file only if it is still ours.
        mc_conn_t conn;
        char err [256];
        if (mc_conn_read (self->conn_path, &conn, err, sizeof err) == 0 && conn.pid == getpid ())
            unlink (self->conn_path);
    }
    zloop_destroy (&self->loop);
    //  Park no one forever: jobs are destroyed with their waiters.
    if (self->jobs)
        for (mc_job_t *job = zhashx_first (self->jobs); job; job = zhashx_next (self->jobs)) {
            mc_waiter_t *waiter;
            while ((waiter = zlist_pop (mc_job_waiters (job)))) {
                zframe_destroy (&waiter->routing_id);
                free (waiter);
            }
        }
    //  Engines may still hold tasks that point into jobs: forget them first.
    if (self->registry)
        for (mc_engine_t *e = mc_registry_first (self->registry); e; e = mc_registry_next (self->registry, e)) {
            e->running = NULL;
            e->inflight = 0;
            while (mc_taskq_pop (e->direct))
                ;
        }
    zhashx_destroy (&self->jobs);
    zlistx_destroy (&self->finishing);
    zhashx_destroy (&self->client_bytes);
    mc_sched_destroy (&self->sched);
    mc_registry_destroy (&self->registry);
    mc_store_destroy (&self->store);
    zsock_destroy (&self->engine_sock);
    zsock_destroy (&self->client_sock);
    msgpack_sbuffer_destroy (&self->buffer);
    free (self);
    *self_p = NULL;
}

const mc_conn_t *
mc_controller_conn (const mc_controller_t *self)
{
    return &self->conn;
}

const char *
mc_controller_conn_path (const mc_controller_t *self)
{
    return self->conn_path;
}

void
mc_controller_set_tick (mc_controller_t *self, mc_controller_tick_fn *tick, void *arg)
{
    self->tick_fn = tick;
    self->tick_arg = arg;
}

int
mc_controller_run (mc_controller_t *self, size_t expect, mc_controller_ready_fn *ready, void *arg)
{
    self->expect = expect;
    self->ready_fn = ready;
    self->ready_arg = arg;
    self->started_us = mc_time_mono_us ();
    self->rc = 0;
    if (expect == 0) {
        self->ready = true;
        if (ready)
            ready (arg, 0);
    }
    self->loop = zloop_new ();
    assert (self->loop);
    zloop_reader (self->loop, self->engine_sock, s_engine_readable, self);
    zloop_reader (self->loop, self->client_sock, s_client_readable, self);
    int64_t tick_ms = self->config.store_flush_ms < 100? self->config.store_flush_ms: 100;
    zloop_timer (self->loop, (size_t) tick_ms, 0, s_tick, self);
    zloop_start (self->loop);
    zloop_destroy (&self->loop);
    mc_store_flush (self->store);
    return self->rc;
}

void
mc_controller_stop_engines (mc_controller_t *self, int timeout_ms)
{
    mc_msg_t stop;
    mc_msg_init (&stop);
    stop.type = MC_STOP;
    for (mc_engine_t *e = mc_registry_first (self->registry); e; e = mc_registry_next (self->registry, e)) {
        e->stopping = true;
        mc_msg_send (&stop, zsock_resolve (self->engine_sock), e->routing_id);
    }
    //  Collect goodbyes; whatever else engines send now is of no use.
    int64_t deadline = mc_time_mono_us () + (int64_t) timeout_ms * 1000;
    zpoller_t *poller = zpoller_new (self->engine_sock, NULL);
    mc_msg_t msg;
    mc_msg_init (&msg);
    while (mc_registry_size (self->registry) > 0) {
        int64_t left_ms = (deadline - mc_time_mono_us ()) / 1000;
        if (left_ms <= 0 || !zpoller_wait (poller, (int) left_ms))
            break;
        int code;
        if (mc_msg_recv (&msg, zsock_resolve (self->engine_sock), true, &code) == 0 && msg.type == MC_BYE) {
            mc_engine_t *engine = mc_registry_lookup (self->registry, msg.engine_id);
            if (engine && zframe_eq (engine->routing_id, msg.routing_id))
                s_engine_gone (self, engine, "stopped");
        }
    }
    mc_msg_reset (&msg);
    zpoller_destroy (&poller);
    if (mc_registry_size (self->registry))
        mc_warn ("%zu engines did not say goodbye within %d ms", mc_registry_size (self->registry), timeout_ms);
}
