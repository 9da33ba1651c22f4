/*  mc_engines: the engine side of the protocol (mc_proto.md §3 and §4). */
#include "mc_engines.h"
#include "mc_answer.h"
#include "mc_libraries.h"
#include "mc_retention.h"
#include "mc_log.h"
#include "mc_time.h"

//  --------------------------------------------------------------------------
//  Sending

//  An outbox past either bound goes at once, not at the event's end.
#define S_OUTBOX_TASKS 1024
#define S_OUTBOX_BYTES (256u << 10)

static void
s_flush_one (mc_server_t *self, mc_engine_t *engine)
{
    mc_outbox_t *outbox = mc_engine_outbox (engine);
    if (outbox->count && mc_batch_send (&outbox->headers, outbox->count, zsock_resolve (self->engine_sock),
                                        mc_engine_routing_id (engine)))
        mc_warn ("cannot send %u tasks to engine %d", outbox->count, mc_engine_id (engine));
    //  Its memory goes too: with thousands of engines, only those that get
    //  tasks in this event hold any.
    msgpack_sbuffer_destroy (&outbox->headers);
    msgpack_sbuffer_init (&outbox->headers);
    outbox->count = 0;
}

void
mc_engines_flush (mc_server_t *self)
{
    for (size_t i = 0; i < self->outbox_count; i++) {
        //  An engine gone since took its outbox with it.
        mc_engine_t *engine = mc_registry_lookup (self->registry, self->outboxes [i]);
        if (engine)
            s_flush_one (self, engine);
    }
    self->outbox_count = 0;
}

//  Put a TASK in its engine's outbox: 0, or -1 when it must go alone (no memory).
static int
s_post (mc_server_t *self, mc_engine_t *engine, const mc_msg_t *msg)
{
    mc_outbox_t *outbox = mc_engine_outbox (engine);
    if (outbox->count == 0) {
        if (self->outbox_count == self->outbox_size) {
            size_t size = self->outbox_size? 2 * self->outbox_size: 256;
            int32_t *grown = realloc (self->outboxes, size * sizeof *grown);
            if (!grown)
                return -1;
            self->outboxes = grown;
            self->outbox_size = size;
        }
        self->outboxes [self->outbox_count++] = mc_engine_id (engine);
    }
    if (mc_batch_append (&outbox->headers, msg))
        return -1;              //  (listed with an empty outbox: harmless)
    if (++outbox->count >= S_OUTBOX_TASKS || outbox->headers.size >= S_OUTBOX_BYTES)
        s_flush_one (self, engine);
    return 0;
}

void
mc_engines_send_task (void *arg, mc_engine_t *engine, mc_task_t *task)
{
    mc_server_t *self = arg;
    mc_job_t *job = task->job;
    mc_job_info_t *info = mc_job_info (job);
    info->started = true;
    mc_msg_t msg;
    mc_msg_init (&msg);
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
    msg.out.ptr = mc_job_out (job);
    msg.out.size = strlen (msg.out.ptr);
    msg.reduce.ptr = mc_job_engine_reduce (job, &msg.reduce.size);
    msgpack_packer pk = mc_server_body (self);
    bool framed = mc_job_frame_count (job) > 0;
    msgpack_sbuffer args, kwargs;
    zlist_t *frames = framed? zlist_new (): NULL;
    if (framed) {
        //  Each task carries only the frames it refers to, renumbered.
        msgpack_sbuffer_init (&args);
        msgpack_sbuffer_init (&kwargs);
        msgpack_packer apk, kpk;
        msgpack_packer_init (&apk, &args, msgpack_sbuffer_write);
        msgpack_packer_init (&kpk, &kwargs, msgpack_sbuffer_write);
        //  Short of memory, the task goes out incomplete: the engine cannot
        //  read it and fails it, which its client hears of.
        if (!frames || mc_job_pack_task (job, task, &apk, &kpk, &pk, frames)
        ||  !(msg.frames = mc_proto_frame_array (frames, &msg.frame_count)))
            mc_error ("out of memory packing job %llu task %u", (unsigned long long) info->id, task->number);
        msg.args.ptr = args.data;
        msg.args.size = args.size;
        msg.kwargs.ptr = kwargs.data;
        msg.kwargs.size = kwargs.size;
    }
    else
    if (task->count && mc_job_pack_items (job, task, &pk))
        mc_error ("out of memory packing job %llu task %u", (unsigned long long) info->id, task->number);
    msg.items.ptr = self->buffer.data;
    msg.items.size = self->buffer.size;
    if (!framed && s_post (self, engine, &msg) == 0)
        return;
    //  After what its outbox holds, not before.
    s_flush_one (self, engine);
    if (mc_msg_send (&msg, zsock_resolve (self->engine_sock), mc_engine_routing_id (engine)))
        mc_warn ("cannot send task to engine %d", mc_engine_id (engine));
    if (framed) {
        free (msg.frames);
        zlist_destroy (&frames);
        msgpack_sbuffer_destroy (&args);
        msgpack_sbuffer_destroy (&kwargs);
    }
}

void
mc_engines_send_cancel (mc_server_t *self, mc_engine_t *engine, uint64_t job)
{
    mc_msg_t msg;
    mc_msg_init (&msg);
    msg.type = MC_CANCEL;
    msg.job = job;
    msg.grace_ms = (uint64_t) self->config.abort_grace_ms;
    mc_engines_flush (self);
    if (mc_msg_send (&msg, zsock_resolve (self->engine_sock), mc_engine_routing_id (engine)))
        mc_warn ("cannot send CANCEL to engine %d", mc_engine_id (engine));
}

static void
s_send_error (mc_server_t *self, zframe_t *routing_id, uint64_t code, const char *text)
{
    mc_msg_t msg;
    mc_msg_init (&msg);
    msg.type = MC_ERROR;
    msg.status = code;
    msg.text.ptr = text;
    msg.text.size = strlen (text);
    mc_engines_flush (self);
    mc_msg_send (&msg, zsock_resolve (self->engine_sock), routing_id);
}

static void
s_send_empty (mc_server_t *self, zframe_t *routing_id, int type)
{
    mc_msg_t msg;
    mc_msg_init (&msg);
    msg.type = type;
    mc_engines_flush (self);
    mc_msg_send (&msg, zsock_resolve (self->engine_sock), routing_id);
}

//  PONG, encoded once: the answer to most of what engines send when idle.
static void
s_send_pong (mc_server_t *self, zframe_t *routing_id)
{
    static zframe_t *pong;
    if (!pong) {
        mc_msg_t msg;
        mc_msg_init (&msg);
        msg.type = MC_PONG;
        pong = mc_msg_encode (&msg);
        if (!pong)
            return;                 //  out of memory: the engine's next PING asks again
    }
    void *sock = zsock_resolve (self->engine_sock);
    if (zmq_send (sock, zframe_data (routing_id), zframe_size (routing_id), ZMQ_SNDMORE) >= 0)
        zmq_send (sock, zframe_data (pong), zframe_size (pong), 0);
}

//  The heartbeat class an engine should have now (mc_proto.md §4): the
//  interval heartbeat_ms << class doubles until all the engines' PINGs
//  fit in heartbeat_pings_per_s. It shrinks again only when the class
//  below would leave a quarter of the budget free, so that engines that
//  come and go around a bound do not flip it.
static unsigned
s_hb_class (mc_server_t *self, const mc_engine_t *engine)
{
    const mc_config_t *config = &self->config;
    double engines = (double) mc_registry_size (self->registry);
    double budget = (double) config->heartbeat_pings_per_s;
    unsigned k = 0;
    while (budget > 0 && k + 1 < MC_REGISTRY_HB_CLASSES && (config->heartbeat_ms << (k + 1)) <= 3600000
    &&     engines * 1000.0 > budget * (double) (config->heartbeat_ms << k))
        k++;
    unsigned now = mc_engine_hb_class (engine);
    if (k < now && engines * 1000.0 * 4 > budget * (double) (config->heartbeat_ms << (now - 1)) * 3)
        k = now;
    return k;
}

//  WELCOME: the engine's id, and the heartbeat of its class.
static void
s_send_welcome (mc_server_t *self, mc_engine_t *engine)
{
    mc_msg_t welcome;
    mc_msg_init (&welcome);
    welcome.type = MC_WELCOME;
    welcome.engine_id = mc_engine_id (engine);
    welcome.heartbeat_ms = (uint64_t) self->config.heartbeat_ms << mc_engine_hb_class (engine);
    welcome.liveness = (uint64_t) self->config.heartbeat_liveness;
    mc_engines_flush (self);
    mc_msg_send (&welcome, zsock_resolve (self->engine_sock), mc_engine_routing_id (engine));
}

//  How an engine died, in a few words, from why it is gone: the signal's
//  name or the exit status a local engine's parent saw, else "engine lost".
static void
s_cause (const char *why, char *cause, size_t len)
{
    const char *at;
    int n;
    if ((at = strstr (why, "killed by signal ")) && sscanf (at + 17, "%d", &n) == 1) {
        const char *name = sigabbrev_np (n);
        if (name)
            snprintf (cause, len, "SIG%s", name);
        else
            snprintf (cause, len, "signal %d", n);
    }
    else
    if ((at = strstr (why, "exit status ")) && sscanf (at + 12, "%d", &n) == 1)
        snprintf (cause, len, "exit status %d", n);
    else
        snprintf (cause, len, "engine lost");
}

char **
mc_engines_kernel_names (const mc_msg_t *msg, size_t *count)
{
    char **kernels = calloc (msg->kernel_count + 1, sizeof *kernels);
    *count = 0;
    for (size_t i = 0; kernels && i < msg->kernel_count; i++)
        if (mc_value_valid_kernel_name (msg->kernels [i].ptr, msg->kernels [i].size)
        &&  (kernels [*count] = strndup (msg->kernels [i].ptr, msg->kernels [i].size)))
            (*count)++;
    return kernels;
}

void
mc_engines_keep_kernel_info (mc_engine_t *engine, const mc_msg_t *msg)
{
    bool described = msg->kernel_info.size && mc_proto_sane (msg->kernel_info.ptr, msg->kernel_info.size);
    if (mc_engine_set_kernel_info (engine, described? msg->kernel_info.ptr: NULL, described? msg->kernel_info.size: 0))
        mc_warn ("engine %d: no memory to keep its kernels' descriptions", mc_engine_id (engine));
}

//  An engine is gone: its load-balanced tasks go back to the queue, its
//  direct ones fail, its record goes. When it died (anything but a
//  goodbye), the task it was running counts the death (mc_sched).
static void
s_gone (mc_server_t *self, mc_engine_t *engine, const char *why, bool died)
{
    char cause [24];
    s_cause (why, cause, sizeof cause);
    mc_engine_set_cause (engine, cause);
    mc_info ("engine %d (%s pid %lld) %s; %u tasks in flight", mc_engine_id (engine), mc_engine_host (engine),
             (long long) mc_engine_pid (engine), why, mc_engine_inflight (engine));
    zlistx_t *aborted = mc_retention_aborted_inflight (engine);
    //  The task it died running alone counts the death (mc_sched): kept in
    //  the store too, so that a restarted controller goes on counting.
    mc_engine_load_t *load = mc_engine_load (engine);
    mc_task_t *killer = died && load->inflight == 1 && load->running->target < 0
                     && !mc_job_transient (load->running->job)? load->running: NULL;
    uint64_t job_id = killer? mc_job_info (killer->job)->id: 0;
    uint32_t number = killer? killer->number: 0;
    int32_t id = mc_engine_id (engine);
    mc_sched_engine_gone (self->sched, engine, died, mc_server_task_lost, self);
    mc_registry_remove (self->registry, &engine);
    //  (job_id and number were read before: a task that fails now may be
    //  reused by its job.)
    if (killer && mc_store_task_died (self->store, job_id, number, id))
        mc_error ("cannot record a death of job %llu task %u: %s", (unsigned long long) job_id, number,
                  mc_store_error (self->store));
    mc_retention_requeued (self, &aborted);
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

//  --------------------------------------------------------------------------
//  Actions: one per row of the transition table. engine is NULL when the
//  message comes from an engine the registry does not hold.

typedef void (s_action_fn) (mc_server_t *self, mc_engine_t *engine, mc_msg_t *msg);

//  REGISTER: (re)register, WELCOME it, and give it work.
static void
s_register (mc_server_t *self, mc_engine_t *engine, mc_msg_t *msg)
{
    char uuid [65], host [256];
    if (!s_valid_token (msg->uuid, 64) || msg->host.size > 255) {
        s_send_error (self, msg->routing_id, MC_E_BAD_ARGUMENT, "REGISTER: bad uuid or host");
        return;
    }
    mc_bytes_str (msg->uuid, uuid, sizeof uuid);
    mc_bytes_str (msg->host, host, sizeof host);
    size_t count;
    char **kernels = mc_engines_kernel_names (msg, &count);
    bool replaced;
    engine = kernels? mc_registry_register (self->registry, uuid, msg->engine_id, host, msg->pid, msg->routing_id,
                                            kernels, count, mc_time_mono_us (), &replaced): NULL;
    if (!engine) {
        s_send_error (self, msg->routing_id, MC_E_INTERNAL,
                      kernels? "REGISTER: no engine id left": "REGISTER: controller out of memory");
        return;
    }
    char launch [64];
    mc_engine_set_launch (engine, s_valid_token (msg->launch, sizeof launch - 1)? mc_bytes_str (msg->launch, launch, sizeof launch): "");
    mc_engines_keep_kernel_info (engine, msg);
    mc_info ("engine %d %s (%s pid %lld, %zu kernels)", mc_engine_id (engine), replaced? "reconnected": "registered",
             host, (long long) msg->pid, count);
    mc_registry_set_hb_class (self->registry, engine, s_hb_class (self, engine));
    s_send_welcome (self, engine);
    mc_libraries_welcome (self, engine);        //  before any TASK: its tasks may need them
    if (replaced) {
        zlistx_t *aborted = mc_retention_aborted_inflight (engine);
        mc_sched_engine_reset (self->sched, engine);
        mc_retention_requeued (self, &aborted);
    }
    mc_sched_engine_ready (self->sched, engine);
    if (!self->ready && self->expect && mc_registry_size (self->registry) >= self->expect) {
        self->ready = true;
        if (self->ready_fn)
            self->ready_fn (self->ready_arg, mc_registry_size (self->registry));
    }
}

//  PING: PONG, or WELCOME again when the engine's heartbeat class changed
//  with the number of engines.
static void
s_pong (mc_server_t *self, mc_engine_t *engine, mc_msg_t *msg)
{
    unsigned k = s_hb_class (self, engine);
    if (k == mc_engine_hb_class (engine)) {
        s_send_pong (self, msg->routing_id);
        return;
    }
    mc_registry_set_hb_class (self->registry, engine, k);
    s_send_welcome (self, engine);
}

//  RESULT_CHUNK: a chunk of a streamed %pull goes on to its submitter at
//  once, counted against the submitter's limit of data in flight.
static void
s_chunk (mc_server_t *self, mc_engine_t *engine, mc_msg_t *msg)
{
    mc_job_t *job = mc_server_job (self, msg->job);
    mc_task_t *task = job? mc_job_task (job, msg->task): NULL;
    const mc_park_t *submitter = job? mc_parked_first (self->parked, msg->job): NULL;
    if (!task || task->state != MC_TASK_RUNNING || task->engine != mc_engine_id (engine) || !mc_job_streams (job)) {
        mc_debug ("engine %d: dropped a chunk for job %llu task %llu", mc_engine_id (engine),
                  (unsigned long long) msg->job, (unsigned long long) msg->task);
        if (job && mc_job_streams (job))
            mc_job_stream_fail (job, MC_E_MALFORMED);
        return;
    }
    size_t bytes = zframe_size (msg->frames [0]);
    if (!submitter || mc_held_bytes (self->held, submitter->routing_id) + bytes > (size_t) self->config.max_client_bytes)
        mc_job_stream_fail (job, MC_E_QUEUE_FULL);
    if (mc_job_stream_chunk (job, msg))
        return;
    //  Counted once the job has counted it too: the reply gives back what the job holds.
    if (mc_held_add (self->held, submitter->routing_id, bytes, mc_time_mono_us ()))
        mc_warn ("out of memory: a chunk of %zu bytes held for a client is not counted", bytes);
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

//  A task's end that is not the engine's result: it fails with this code.
static void
s_task_fails (mc_server_t *self, mc_engine_t *engine, mc_task_t *task, uint64_t code, const char *text)
{
    mc_engine_count_task (engine, false);
    mc_server_fail_task (self, task, mc_engine_id (engine), code, text);
    mc_sched_task_done (self->sched, engine, task);
}

//  Keep a transient job's RESULT for its submitter, within the submitter's
//  limit of held data. 0, or -1 when the task failed instead.
static int
s_keep_transient (mc_server_t *self, mc_engine_t *engine, mc_job_t *job, mc_task_t *task, mc_msg_t *msg)
{
    size_t bytes = 0;
    for (size_t i = 0; i < msg->frame_count; i++)
        bytes += zframe_size (msg->frames [i]);
    const mc_park_t *submitter = mc_parked_first (self->parked, msg->job);
    if (submitter && mc_held_bytes (self->held, submitter->routing_id) + bytes > (size_t) self->config.max_client_bytes) {
        char why [256];
        snprintf (why, sizeof why, "results exceed max_client_bytes=%lld: pull from fewer engines "
                  "or fewer names at a time", (long long) self->config.max_client_bytes);
        s_task_fails (self, engine, task, MC_E_QUEUE_FULL, why);
        return -1;
    }
    zmsg_t *kept = msg->zmsg;
    msg->zmsg = NULL;
    if (!kept && (kept = zmsg_new ()) && zmsg_addmem (kept, msg->raw.ptr, msg->raw.size))
        zmsg_destroy (&kept);       //  (one that came in a BATCH: its header alone)
    if (!kept || mc_job_keep_result (job, task, &kept))
        mc_error ("out of memory: job %llu task %u reads as having no result",
                  (unsigned long long) msg->job, task->number);
    else
    if (submitter && mc_held_add (self->held, submitter->routing_id, bytes, mc_time_mono_us ()))
        mc_warn ("out of memory: a result of %zu bytes held for a client is not counted", bytes);
    return 0;
}

//  Record a stored job's RESULT: arrays inline, metadata only when it is
//  one well-formed map.
static void
s_store_result (mc_server_t *self, mc_engine_t *engine, mc_task_t *task, mc_msg_t *msg,
                const char *text, size_t text_len)
{
    const void *meta = msg->meta.ptr;
    size_t meta_size = msg->meta.size;
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    msgpack_object obj;
    if (meta_size && (mc_proto_unpack (meta, meta_size, &zone, &obj) || obj.type != MSGPACK_OBJECT_MAP))
        meta_size = 0;
    msgpack_sbuffer inlined;
    msgpack_sbuffer_init (&inlined);
    const void *data = msg->data.ptr;
    size_t size = msg->data.size;
    if (msg->status == MC_OK && msg->frame_count) {
        msgpack_packer pk;
        msgpack_packer_init (&pk, &inlined, msgpack_sbuffer_write);
        mc_repack_t how = { msg->frames, msg->frame_count, NULL, true, NULL, NULL };
        if (mc_proto_unpack (data, size, &zone, &obj) == 0 && mc_proto_repack (&pk, &obj, &how) == 0) {
            data = inlined.data;
            size = inlined.size;
        }
    }
    msgpack_zone_destroy (&zone);
    if (mc_store_add_result (self->store, msg->job, msg->task, task->first, task->count, mc_engine_id (engine),
                             msg->status, data, size, text, text_len, msg->started_us, msg->finished_us,
                             meta, meta_size))
        mc_error ("cannot record a result: %s", mc_store_error (self->store));
    msgpack_sbuffer_destroy (&inlined);
}

//  RESULT: the end of a task running on this engine.
static void
s_result (mc_server_t *self, mc_engine_t *engine, mc_msg_t *msg)
{
    if (msg->type == MC_LOADED) {
        mc_libraries_loaded (self, engine, msg);
        return;
    }
    mc_job_t *job = mc_server_job (self, msg->job);
    mc_task_t *task = job? mc_job_task (job, msg->task): NULL;
    if (!task || task->state != MC_TASK_RUNNING || task->engine != mc_engine_id (engine)) {
        //  A late answer for a task that was requeued or already answered.
        mc_debug ("engine %d: dropped result for job %llu task %llu", mc_engine_id (engine),
                  (unsigned long long) msg->job, (unsigned long long) msg->task);
        return;
    }
    uint64_t status = msg->status;
    const char *text = msg->text.ptr;
    size_t text_len = msg->text.size;
    if (status == MC_OK && !mc_proto_valid_array (msg->data.ptr, msg->data.size, task->count? task->count: 1)) {
        //  A broken engine costs its session, not the task: drop the engine,
        //  which requeues its load-balanced tasks.
        s_send_error (self, msg->routing_id, MC_E_MALFORMED, "malformed result: you are dropped");
        s_gone (self, engine, "sent a malformed result", true);
        return;
    }
    if (status != MC_OK && text_len == 0) {
        text = mc_proto_error_name (status);
        text_len = strlen (text);
    }
    int stream_code = status == MC_OK? mc_job_stream_check (job, msg): MC_OK;
    if (stream_code != MC_OK) {
        s_task_fails (self, engine, task, (uint64_t) stream_code,
                      stream_code == MC_E_QUEUE_FULL? "streamed result exceeds max_client_bytes"
                    : stream_code == MC_E_MALFORMED? "streamed arrays do not match the result that followed them"
                    : "the controller could not relay a streamed result");
        return;
    }
    char tried [1024];
    if (status != MC_OK && task->retries < mc_job_retries (job) && !mc_job_info (job)->aborted) {
        //  The submitter asked for another try (unless a client aborted
        //  the job since): only the last outcome is stored, so this one is
        //  only logged.
        task->retries++;
        if (!mc_job_transient (job) && mc_store_task_retried (self->store, msg->job, task->number, task->retries))
            mc_error ("cannot record a retry of job %llu task %u: %s", (unsigned long long) msg->job,
                      task->number, mc_store_error (self->store));
        snprintf (tried, sizeof tried, "%.*s", (int) (text_len < 512? text_len: 512), text);
        mc_info ("job %llu task %u failed on engine %d (%s): retry %u of %u", (unsigned long long) msg->job,
                 task->number, mc_engine_id (engine), tried, task->retries, mc_job_retries (job));
        mc_engine_count_task (engine, false);
        if (mc_sched_task_again (self->sched, engine, task) == 0)
            return;
        //  Out of memory: the task is out of the engine's list, not queued.
        mc_server_fail_task (self, task, mc_engine_id (engine), status, tried);
        return;
    }
    if (status != MC_OK && task->retries > 0) {
        snprintf (tried, sizeof tried, "%.*s (failed %u times: retries=%u)", (int) (text_len < 512? text_len: 512),
                  text, task->retries + 1, task->retries);
        text = tried;
        text_len = strlen (tried);
    }
    if (mc_job_transient (job)) {
        if (s_keep_transient (self, engine, job, task, msg))
            return;
    }
    else
        s_store_result (self, engine, task, msg, text, text_len);
    mc_engine_count_task (engine, status == MC_OK);
    mc_server_task_finished (self, job, task, status == MC_OK, msg->finished_us - msg->started_us);
    mc_sched_task_done (self->sched, engine, task);
}

//  BYE: an engine that says goodbye is gone at once.
static void
s_bye (mc_server_t *self, mc_engine_t *engine, mc_msg_t *msg)
{
    (void) msg;
    s_gone (self, engine, mc_engine_state (engine) == MC_ENGINE_STOPPING? "stopped": "said goodbye", false);
}

static void
s_expire (mc_server_t *self, mc_engine_t *engine, mc_msg_t *msg)
{
    (void) msg;
    s_gone (self, engine, "expired (no heartbeat)", true);
}

static void
s_stop (mc_server_t *self, mc_engine_t *engine, mc_msg_t *msg)
{
    (void) msg;
    mc_engine_set_state (engine, MC_ENGINE_STOPPING);
    s_send_empty (self, mc_engine_routing_id (engine), MC_STOP);
}

static void
s_not_registered (mc_server_t *self, mc_engine_t *engine, mc_msg_t *msg)
{
    (void) engine;
    s_send_error (self, msg->routing_id, MC_E_NOT_REGISTERED, "not registered: register again");
}

static void
s_unexpected (mc_server_t *self, mc_engine_t *engine, mc_msg_t *msg)
{
    (void) engine;
    s_send_error (self, msg->routing_id, MC_E_MALFORMED, "unexpected message type");
}

static void
s_nothing (mc_server_t *self, mc_engine_t *engine, mc_msg_t *msg)
{
    (void) self; (void) engine; (void) msg;
}

//  --------------------------------------------------------------------------
//  The state machine

typedef enum {
    A_NOTHING, A_REGISTER, A_PONG, A_RESULT, A_CHUNK, A_BYE, A_EXPIRE, A_STOP, A_NOT_REGISTERED, A_UNEXPECTED,
    A_COUNT
} s_action_t;

static const struct {
    const char *name;
    s_action_fn *fn;
} s_actions [A_COUNT] = {
    [A_NOTHING] = { "nothing", s_nothing },         [A_REGISTER] = { "register", s_register },
    [A_PONG] = { "pong", s_pong },                  [A_RESULT] = { "take result", s_result },
    [A_CHUNK] = { "relay chunk", s_chunk },         [A_BYE] = { "forget", s_bye },
    [A_EXPIRE] = { "expire", s_expire },            [A_STOP] = { "send stop", s_stop },
    [A_NOT_REGISTERED] = { "not registered", s_not_registered },
    [A_UNEXPECTED] = { "unexpected", s_unexpected },
};

#define S_STATES (MC_ENGINE_STOPPING + 1)
static const char *s_state_names [S_STATES] = { "unknown", "READY", "STOPPING" };
static const char *s_event_names [MC_ENGINE_EV_COUNT] = {
    "REGISTER", "PING", "RESULT", "RESULT_CHUNK", "BYE", "silence", "stop", "other"
};

//  For each state and event: the action, and the state that follows (the
//  actions make it so: the registry creates READY records and forgets gone
//  ones; s_stop sets STOPPING). Mirrors mc_proto.md §4.
static const struct {
    s_action_t action;
    int next;
} s_table [S_STATES][MC_ENGINE_EV_COUNT] = {
    [MC_ENGINE_UNKNOWN] = {
        [MC_ENGINE_EV_REGISTER] = { A_REGISTER, MC_ENGINE_READY },
        [MC_ENGINE_EV_PING]     = { A_NOT_REGISTERED, MC_ENGINE_UNKNOWN },
        [MC_ENGINE_EV_RESULT]   = { A_NOT_REGISTERED, MC_ENGINE_UNKNOWN },
        [MC_ENGINE_EV_CHUNK]    = { A_NOT_REGISTERED, MC_ENGINE_UNKNOWN },
        [MC_ENGINE_EV_BYE]      = { A_NOT_REGISTERED, MC_ENGINE_UNKNOWN },
        [MC_ENGINE_EV_SILENCE]  = { A_NOTHING, MC_ENGINE_UNKNOWN },
        [MC_ENGINE_EV_STOP]     = { A_NOTHING, MC_ENGINE_UNKNOWN },
        [MC_ENGINE_EV_OTHER]    = { A_UNEXPECTED, MC_ENGINE_UNKNOWN },
    },
    [MC_ENGINE_READY] = {
        [MC_ENGINE_EV_REGISTER] = { A_REGISTER, MC_ENGINE_READY },
        [MC_ENGINE_EV_PING]     = { A_PONG, MC_ENGINE_READY },
        [MC_ENGINE_EV_RESULT]   = { A_RESULT, MC_ENGINE_READY },
        [MC_ENGINE_EV_CHUNK]    = { A_CHUNK, MC_ENGINE_READY },
        [MC_ENGINE_EV_BYE]      = { A_BYE, MC_ENGINE_UNKNOWN },
        [MC_ENGINE_EV_SILENCE]  = { A_EXPIRE, MC_ENGINE_UNKNOWN },
        [MC_ENGINE_EV_STOP]     = { A_STOP, MC_ENGINE_STOPPING },
        [MC_ENGINE_EV_OTHER]    = { A_UNEXPECTED, MC_ENGINE_READY },
    },
    [MC_ENGINE_STOPPING] = {
        [MC_ENGINE_EV_REGISTER] = { A_REGISTER, MC_ENGINE_READY },
        [MC_ENGINE_EV_PING]     = { A_PONG, MC_ENGINE_STOPPING },
        [MC_ENGINE_EV_RESULT]   = { A_RESULT, MC_ENGINE_STOPPING },
        [MC_ENGINE_EV_CHUNK]    = { A_CHUNK, MC_ENGINE_STOPPING },
        [MC_ENGINE_EV_BYE]      = { A_BYE, MC_ENGINE_UNKNOWN },
        [MC_ENGINE_EV_SILENCE]  = { A_EXPIRE, MC_ENGINE_UNKNOWN },
        [MC_ENGINE_EV_STOP]     = { A_NOTHING, MC_ENGINE_STOPPING },
        [MC_ENGINE_EV_OTHER]    = { A_UNEXPECTED, MC_ENGINE_STOPPING },
    },
};

const char *
mc_engines_transition (int state, mc_engine_event_t event, int *next)
{
    assert (state >= 0 && state < S_STATES && event < MC_ENGINE_EV_COUNT);
    *next = s_table [state][event].next;
    return s_actions [s_table [state][event].action].name;
}

//  One event for one engine (NULL: one the registry does not hold).
static void
s_dispatch (mc_server_t *self, mc_engine_t *engine, mc_engine_event_t event, mc_msg_t *msg)
{
    int state = engine? (int) mc_engine_state (engine): MC_ENGINE_UNKNOWN;
    s_action_t action = s_table [state][event].action;
    mc_debug ("engine %lld: %s + %s -> %s: %s", engine? (long long) mc_engine_id (engine): msg? (long long) msg->engine_id: -1,
              s_state_names [state], s_event_names [event], s_state_names [s_table [state][event].next],
              s_actions [action].name);
    s_actions [action].fn (self, engine, msg);
}

//  The engine a message comes from, if the registry holds it under that
//  id and connection. A message of the protocol from it counts as a sign
//  of life (touch); one of a type engines do not send does not.
static mc_engine_t *
s_sender (mc_server_t *self, mc_msg_t *msg, bool touch)
{
    mc_engine_t *engine = mc_registry_lookup (self->registry, msg->engine_id);
    if (!engine || !zframe_eq (mc_engine_routing_id (engine), msg->routing_id))
        return NULL;
    if (touch)
        mc_registry_touch (self->registry, engine, mc_time_mono_us ());
    return engine;
}

static mc_engine_event_t
s_event (int type)
{
    switch (type) {
        case MC_REGISTER:     return MC_ENGINE_EV_REGISTER;
        case MC_PING:         return MC_ENGINE_EV_PING;
        case MC_RESULT:       return MC_ENGINE_EV_RESULT;
        case MC_RESULT_CHUNK: return MC_ENGINE_EV_CHUNK;
        case MC_LOADED:       return MC_ENGINE_EV_RESULT;   //  an answer, as a RESULT is (§4)
        case MC_BYE:          return MC_ENGINE_EV_BYE;
        default:              return MC_ENGINE_EV_OTHER;
    }
}

static int64_t s_drop (mc_server_t *self, zframe_t *routing_id, const char *why, bool died);

//  BATCH: each message in it as if it had come alone, from the same
//  connection. Garbage in it costs the rest of the batch, and so its
//  engine the session (its tasks go back to the queue).
static void
s_take_batch (mc_server_t *self, mc_msg_t *batch)
{
    size_t offset = 0;
    mc_msg_t inner;
    int code, rc;
    bool touched = false;           //  one sign of life per BATCH: they all came at once
    while ((rc = mc_batch_next (batch, &offset, &inner, &code)) == 1) {
        //  inner owns nothing (its fields point into the batch): no reset.
        inner.routing_id = batch->routing_id;  //  borrowed
        mc_engine_event_t event = s_event (inner.type);
        mc_engine_t *engine = s_sender (self, &inner, !touched && event != MC_ENGINE_EV_OTHER);
        touched |= engine != NULL;
        s_dispatch (self, engine, event, &inner);
    }
    if (rc == -2) {
        //  The rest of the batch cannot be read: the results in it are
        //  lost, so the engine is, and its tasks go back to the queue.
        s_send_error (self, batch->routing_id, (uint64_t) code, "malformed message in a BATCH: you are dropped");
        s_drop (self, batch->routing_id, "sent a malformed BATCH", false);
    }
}

int
mc_engines_readable (zloop_t *loop, zsock_t *sock, void *arg)
{
    (void) loop;
    mc_server_t *self = arg;
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
            //  From a registered engine it may have been a RESULT: the
            //  engine is dropped, so that its tasks are not held forever.
            //  (Which task it was is not known: none counts a death.)
            if (msg.routing_id) {
                s_send_error (self, msg.routing_id, (uint64_t) code, "malformed message");
                s_drop (self, msg.routing_id, "sent a malformed message", false);
            }
            continue;
        }
        if (!mc_auth_admit (self->auth, MC_ROLE_ENGINE, msg.routing_id, zmsg_first (msg.zmsg)))
            continue;               //  from a connection whose key was just revoked
        if (msg.type == MC_BATCH) {
            s_take_batch (self, &msg);
            continue;
        }
        mc_engine_event_t event = s_event (msg.type);
        s_dispatch (self, s_sender (self, &msg, event != MC_ENGINE_EV_OTHER), event, &msg);
    }
    mc_msg_reset (&msg);
    mc_engines_flush (self);
    mc_answer_finished (self);
    return 0;
}

void
mc_engines_expire (mc_server_t *self, int64_t now_us)
{
    for (unsigned k = 0; k < MC_REGISTRY_HB_CLASSES; k++) {
        int64_t silence_us = (self->config.heartbeat_ms << k) * self->config.heartbeat_liveness * 1000;
        mc_engine_t *engine;
        while ((engine = mc_registry_oldest (self->registry, k)) && now_us - mc_engine_last_seen_us (engine) > silence_us)
            s_dispatch (self, engine, MC_ENGINE_EV_SILENCE, NULL);
    }
}

//  Forget the engine on this connection, as mc_engines_drop; died says
//  whether its running task counts a death.
static int64_t
s_drop (mc_server_t *self, zframe_t *routing_id, const char *why, bool died)
{
    for (mc_engine_t *e = mc_registry_first (self->registry); e; e = mc_registry_next (self->registry, e))
        if (zframe_eq (mc_engine_routing_id (e), routing_id)) {
            int64_t inflight = mc_engine_inflight (e);
            //  The silence row of §4: whatever its state, it is unknown now.
            s_gone (self, e, why, died);
            return inflight;
        }
    return -1;
}

int64_t
mc_engines_drop (mc_server_t *self, zframe_t *routing_id, const char *why)
{
    return s_drop (self, routing_id, why, true);
}

int64_t
mc_engines_exited (mc_server_t *self, const char *host, int64_t pid, const char *why, uint32_t *restarts)
{
    *restarts = 0;
    mc_engine_t *engine = mc_registry_find_pid (self->registry, host, pid);
    if (!engine)
        return mc_registry_take_back (self->registry, host, pid, restarts);
    int64_t id = mc_engine_id (engine);
    *restarts = mc_engine_restarts (engine);
    mc_engines_drop (self, mc_engine_routing_id (engine), why);
    return id;
}

void
mc_engines_stop_one (mc_server_t *self, mc_engine_t *engine)
{
    s_dispatch (self, engine, MC_ENGINE_EV_STOP, NULL);
}

void
mc_engines_stop (mc_server_t *self, int timeout_ms)
{
    for (mc_engine_t *e = mc_registry_first (self->registry); e; e = mc_registry_next (self->registry, e))
        s_dispatch (self, e, MC_ENGINE_EV_STOP, NULL);
    //  Collect goodbyes; whatever else engines send now is of no use.
    int64_t deadline = mc_time_mono_us () + (int64_t) timeout_ms * 1000;
    //  zmq_poll, not zpoller: after SIGTERM zpoller would return at once.
    zmq_pollitem_t item = { zsock_resolve (self->engine_sock), 0, ZMQ_POLLIN, 0 };
    mc_msg_t msg;
    mc_msg_init (&msg);
    while (mc_registry_size (self->registry) > 0) {
        int64_t left_ms = (deadline - mc_time_mono_us ()) / 1000;
        if (left_ms <= 0)
            break;
        if (zmq_poll (&item, 1, (long) left_ms) <= 0) {
            if (zmq_errno () == EINTR)
                continue;
            break;
        }
        int code;
        mc_engine_t *engine;
        if (mc_msg_recv (&msg, zsock_resolve (self->engine_sock), true, &code) == 0 && msg.type == MC_BYE
        &&  (engine = s_sender (self, &msg, true)))
            s_dispatch (self, engine, MC_ENGINE_EV_BYE, &msg);
    }
    mc_msg_reset (&msg);
    if (mc_registry_size (self->registry))
        mc_warn ("%zu engines did not say goodbye within %d ms", mc_registry_size (self->registry), timeout_ms);
}

//  --------------------------------------------------------------------------
//  Selftest: the table against the one in mc_proto.md §4.

#ifndef MC_PROTO_SPEC
#define MC_PROTO_SPEC "proto/mc_proto.md"
#endif

//  The action and next state a cell of the spec's table names.
static void
s_spec_cell (const char *cell, int column, int state, s_action_t *action, int *next)
{
    *next = state;
    *action = A_NOTHING;
    if (!strncmp (cell, "WELCOME", 7))
        *action = A_REGISTER, *next = MC_ENGINE_READY;
    else
    if (strstr (cell, "NOT_REGISTERED"))
        *action = A_NOT_REGISTERED;
    else
    if (strstr (cell, "MALFORMED"))
        *action = A_UNEXPECTED;
    else
    if (!strcmp (cell, "PONG"))
        *action = A_PONG;
    else
    if (!strcmp (cell, "take it"))
        *action = column == MC_ENGINE_EV_CHUNK? A_CHUNK: A_RESULT;
    else
    if (!strncmp (cell, "forget", 6))
        *action = A_BYE;
    else
    if (!strncmp (cell, "expire", 6))
        *action = A_EXPIRE;
    else
    if (strstr (cell, "STOPPING"))
        *action = A_STOP;
    else
        assert (!strcmp (cell, "—"));
    if (strstr (cell, "unknown"))
        *next = MC_ENGINE_UNKNOWN;
    if (strstr (cell, "→ STOPPING"))
        *next = MC_ENGINE_STOPPING;
}

void
mc_engines_test (bool verbose)
{
    printf (" * mc_engines: ");
    if (verbose)
        printf ("\n");
    FILE *spec = fopen (MC_PROTO_SPEC, "r");
    assert (spec);
    //  The spec's columns, in order; RESULT and RESULT_CHUNK share one.
    static const int columns [] = { MC_ENGINE_EV_REGISTER, MC_ENGINE_EV_PING, MC_ENGINE_EV_RESULT, MC_ENGINE_EV_BYE,
                                    MC_ENGINE_EV_SILENCE, MC_ENGINE_EV_STOP, MC_ENGINE_EV_OTHER };
    char line [1024];
    size_t rows = 0, checked = 0;
    while (fgets (line, sizeof line, spec)) {
        int state = -1;
        for (int i = 0; i < S_STATES; i++) {
            char head [32];
            snprintf (head, sizeof head, "| %s |", s_state_names [i]);
            if (!strncmp (line, head, strlen (head)))
                state = i;
        }
        if (state < 0)
            continue;
        rows++;
        char *cell = strchr (line + 1, '|') + 1;
        for (size_t c = 0; c < sizeof columns / sizeof columns [0]; c++) {
            char *end = strchr (cell, '|');
            assert (end);
            *end = 0;
            while (*cell == ' ')
                cell++;
            for (char *t = end - 1; t > cell && *t == ' '; t--)
                *t = 0;
            int events [2] = { columns [c], columns [c] == MC_ENGINE_EV_RESULT? MC_ENGINE_EV_CHUNK: -1 };
            for (int k = 0; k < 2 && events [k] >= 0; k++) {
                s_action_t action;
                int next, got;
                s_spec_cell (cell, events [k], state, &action, &next);
                const char *name = mc_engines_transition (state, (mc_engine_event_t) events [k], &got);
                if (verbose)
                    printf ("  %-8s + %-12s -> %-8s: %s (spec: %s)\n", s_state_names [state],
                            s_event_names [events [k]], s_state_names [got], name, cell);
                assert (s_table [state][events [k]].action == action && got == next);
                checked++;
            }
            cell = end + 1;
        }
    }
    fclose (spec);
    assert (rows == S_STATES && checked == S_STATES * MC_ENGINE_EV_COUNT);
    printf ("OK\n");
}
