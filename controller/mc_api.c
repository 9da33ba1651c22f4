/*  mc_api: client requests, dispatched through one table by operation code. */
#include "mc_api.h"
#include "mc_engines.h"
#include "mc_answer.h"
#include "mc_libraries.h"
#include "mc_retention.h"
#include "mc_scale.h"
#include "mc_share.h"
#include "mc_trust.h"
#include "mc_log.h"
#include "mc_ops.h"
#include "mc_time.h"
#include <sodium.h>
#include <unistd.h>

typedef void (s_handler_fn) (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body);

//  The status of a job, in memory or in the store; NULL when unknown, or
//  when the store cannot be read (then *unreadable is set).
static const mc_job_info_t *
s_find_info (mc_server_t *self, uint64_t id, mc_job_info_t *scratch, bool *unreadable)
{
    *unreadable = false;
    mc_job_t *job = mc_server_job (self, id);
    if (job && !mc_answer_stored (self, job)) {
        //  Finished, but not committed yet: not done before it is stored.
        *scratch = *mc_job_info (job);
        scratch->finished_us = 0;
        return scratch;
    }
    if (job)
        return mc_job_info (job);
    int rc = mc_store_job_info (self->store, id, scratch);
    *unreadable = rc == -2;
    return rc == 0? scratch: NULL;
}

//  The engine ids a direct job goes to, into *ids (caller frees): 0, or -1
//  when the request has been answered with why not. Load-balanced: none.
static int
s_submit_targets (mc_server_t *self, mc_msg_t *msg, mc_job_t *job, int32_t **ids, size_t *nids)
{
    const msgpack_object *targets = mc_job_targets (job);
    *nids = 0;
    if (!targets)
        return 0;
    size_t listed = targets->type == MSGPACK_OBJECT_ARRAY? targets->via.array.size: 0;
    *ids = calloc (mc_registry_size (self->registry) + listed + 1, sizeof **ids);
    if (!*ids) {
        mc_answer_error (self, msg->routing_id, msg->req, MC_E_INTERNAL, "controller out of memory");
        return -1;
    }
    if (targets->type == MSGPACK_OBJECT_STR)
        for (mc_engine_t *e = mc_registry_first (self->registry); e; e = mc_registry_next (self->registry, e))
            (*ids) [(*nids)++] = mc_engine_id (e);
    for (size_t i = 0; i < listed; i++) {
        uint64_t id = targets->via.array.ptr [i].via.u64;
        if (!mc_registry_lookup (self->registry, (int64_t) id)) {
            char list [256] = "";
            size_t used = 0;
            for (mc_engine_t *e = mc_registry_first (self->registry); e && used < sizeof list - 16;
                 e = mc_registry_next (self->registry, e))
                used += snprintf (list + used, sizeof list - used, "%s%d", used? ",": "", mc_engine_id (e));
            mc_answer_error (self, msg->routing_id, msg->req, MC_E_UNKNOWN_ENGINE, "no engine %llu (engines: %s)",
                             (unsigned long long) id, used? list: "none");
            return -1;
        }
        (*ids) [(*nids)++] = (int32_t) id;
    }
    if (*nids == 0) {
        mc_answer_error (self, msg->routing_id, msg->req, MC_E_NO_ENGINES, "no engines are registered");
        return -1;
    }
    return 0;
}

//  Whether a parsed job may run here, split into tasks: 0, or -1 when the
//  request has been answered with why not.
static int
s_submit_admit (mc_server_t *self, mc_msg_t *msg, mc_job_t *job, size_t request_bytes)
{
    zframe_t *rid = msg->routing_id;
    mc_job_info_t *info = mc_job_info (job);
    size_t held = mc_held_bytes (self->held, rid);
    if (mc_job_transient (job) && held + request_bytes > (size_t) self->config.max_client_bytes) {
        mc_answer_error (self, rid, msg->req, MC_E_QUEUE_FULL,
                         "this client already has %zu bytes in flight; with %zu more it would pass "
                         "max_client_bytes=%lld", held, request_bytes, (long long) self->config.max_client_bytes);
        return -1;
    }
    int32_t *ids = NULL;
    size_t nids;
    int rc = s_submit_targets (self, msg, job, &ids, &nids);
    if (rc == 0 && mc_registry_size (self->registry) && !mc_nsop_find (info->kernel, strlen (info->kernel))
    &&  !mc_registry_has_kernel (self->registry, info->kernel)) {
        char list [1024];
        mc_registry_kernel_list (self->registry, list, sizeof list);
        mc_answer_error (self, rid, msg->req, MC_E_UNKNOWN_KERNEL, "unknown kernel '%s' (engines have: %s)",
                         info->kernel, list);
        rc = -1;
    }
    //  The limits are checked on the counts, before any task is made.
    uint64_t ntasks = 0;
    int code;
    char err [512];
    if (rc == 0 && mc_job_check_limits (job, nids, request_bytes, &self->config, &ntasks, &code, err, sizeof err)) {
        mc_answer_error (self, rid, msg->req, (uint64_t) code, "%s", err);
        rc = -1;
    }
    size_t waiting = mc_sched_waiting (self->sched);
    if (rc == 0 && (ntasks > (uint64_t) self->config.max_queued_tasks
                ||  waiting + ntasks > (uint64_t) self->config.max_queued_tasks)) {
        mc_answer_error (self, rid, msg->req, MC_E_QUEUE_FULL,
                         "queue full: %zu tasks waiting, this job adds %llu, limit max_queued_tasks=%lld",
                         waiting, (unsigned long long) ntasks, (long long) self->config.max_queued_tasks);
        rc = -1;
    }
    if (rc == 0 && mc_job_plan (job, ids, nids)) {
        mc_answer_error (self, rid, msg->req, MC_E_INTERNAL, "submit: controller out of memory for %llu tasks",
                         (unsigned long long) ntasks);
        rc = -1;
    }
    free (ids);
    return rc;
}

//  Queue an admitted job's tasks (the job table owns the job now).
static void
s_submit_queue (mc_server_t *self, mc_job_t *job)
{
    mc_job_info_t *info = mc_job_info (job);
    mc_task_t *task;
    if (mc_job_rest (job)) {
        //  Its tasks are made as engines take them.
        if (mc_sched_queue_job (self->sched, job))
            while ((task = mc_job_make_task (job)))
                mc_server_fail_task (self, task, -1, MC_E_INTERNAL, "controller out of memory");
    }
    else
    for (uint64_t i = 0; i < info->tasks; i++) {
        task = mc_job_task (job, i);
        if (info->kind [0] == 'm' && task->count == 0)
            mc_server_task_finished (self, job, task, true, 0);    //  an empty block has nothing to run
        else
        if (mc_sched_queue (self->sched, task))
            mc_server_fail_task (self, task, -1, MC_E_INTERNAL, "controller out of memory");
    }
    if (info->tasks == 0) {
        info->finished_us = mc_time_wall_us ();
        zlistx_add_end (self->finishing, job);
    }
}

//  Record the engines a stored direct job's tasks are for (what "all"
//  meant now), with the job: a restarted controller gives its unfinished
//  tasks to the same engines when they come back (mc_resume).
static void
s_store_targets (mc_server_t *self, mc_job_t *job)
{
    mc_job_info_t *info = mc_job_info (job);
    int32_t *ids = calloc (info->tasks + 1, sizeof *ids);
    for (uint64_t i = 0; ids && i < info->tasks; i++)
        ids [i] = mc_job_task (job, i)->target;
    //  Out of memory only (the job itself is written): it costs the job
    //  its unfinished tasks if the controller restarts before its end.
    if (!ids || mc_store_job_targets (self->store, info->id, ids, info->tasks))
        mc_warn ("job %llu: out of memory to record its engines; a restart would fail its unfinished tasks",
                 (unsigned long long) info->id);
    free (ids);
}

static void
s_op_submit (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body)
{
    zframe_t *rid = msg->routing_id;
    if (self->shutdown) {
        mc_answer_error (self, rid, msg->req, MC_E_SHUTTING_DOWN, "the controller is shutting down");
        return;
    }
    uint64_t seed;
    randombytes_buf (&seed, sizeof seed);
    seed &= INT64_MAX;                  //  63 bits: exact in every JSON reader
    int code;
    char err [512];
    mc_job_t *job = mc_job_new (self->next_job_id, msg->data.ptr, msg->data.size, seed, &code, err, sizeof err);
    if (!job) {
        mc_answer_error (self, rid, msg->req, (uint64_t) code, "%s", err);
        return;
    }
    mc_job_info_t *info = mc_job_info (job);
    //  Fair share counts users by the key they came with.
    mc_auth_user (self->auth, zmsg_first (msg->zmsg), info->user, sizeof info->user,
                  info->user_key, sizeof info->user_key);
    bool transient = mc_job_transient (job);
    size_t request_bytes = 0;
    for (size_t i = 0; i < msg->frame_count; i++)
        request_bytes += zframe_size (msg->frames [i]);
    if (s_submit_admit (self, msg, job, request_bytes))
        goto refused;
    //  A job is committed before it is acknowledged: now, by its id, or
    //  for a client that waits, with its results just before the reply.
    const msgpack_object *wait = mc_proto_map_get (body, "wait");
    bool waits = transient || (wait && wait->type == MSGPACK_OBJECT_BOOLEAN && wait->via.boolean);
    if ((msg->frame_count && mc_job_hold_frames (job, &msg->zmsg, msg->frames, msg->frame_count))
    ||  (waits && mc_parked_add (self->parked, info->id, rid, msg->req, MC_PARK_RESULT, 0))) {
        mc_answer_error (self, rid, msg->req, MC_E_INTERNAL, "controller out of memory");
        goto refused;
    }
    size_t body_size;
    const void *body_data = mc_job_body (job, &body_size);
    int stored = transient? 0: mc_store_add_job (self->store, info, body_data, body_size);
    if (!transient && stored == 0 && mc_job_targets (job))
        s_store_targets (self, job);
    if (!transient && stored == 0 && !waits && mc_store_flush (self->store)) {
        //  The store failed now: the job, refused, must not be written later.
        mc_job_info_t copy = *info;
        mc_store_fail_job (self->store, &copy, "");
        stored = -1;
    }
    if (stored) {
        mc_park_t *park = mc_parked_take (self->parked, info->id);
        mc_park_destroy (&park);
        mc_answer_error (self, rid, msg->req, MC_E_INTERNAL, "cannot record the job: %s",
                         mc_store_error (self->store));
        goto refused;
    }
    self->next_job_id++;
    //  Job ids are never given twice, so the table cannot hold this one.
    int inserted = zhashx_insert (self->jobs, (void *) (uintptr_t) info->id, job);
    assert (inserted == 0);
    if (mc_held_add (self->held, rid, request_bytes, mc_time_mono_us ()))
        mc_warn ("out of memory: %zu bytes held for a client are not counted", request_bytes);
    s_submit_queue (self, job);
    if (!waits) {
        char id [32];
        mc_job_id_format (info->id, id, sizeof id);
        msgpack_packer pk = mc_server_body (self);
        msgpack_pack_map (&pk, 1);
        mc_proto_pack_str (&pk, "job");
        mc_proto_pack_str (&pk, id);
        mc_answer_reply (self, rid, msg->req, MC_OK, NULL);
    }
    mc_sched_dispatch (self->sched);
    return;
refused:
    mc_job_destroy (&job);
}

//  status, wait and result: answer now, or park until the job finishes.
static void
s_job_query (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body, mc_park_kind_t kind, bool may_wait)
{
    uint64_t id;
    if (mc_answer_job_field (self, msg, body, &id))
        return;
    mc_job_info_t scratch;
    bool unreadable;
    const mc_job_info_t *info = s_find_info (self, id, &scratch, &unreadable);
    if (!info && unreadable) {
        mc_answer_error (self, msg->routing_id, msg->req, MC_E_INTERNAL, "cannot read job j%llu: %s",
                         (unsigned long long) id, mc_store_error (self->store));
        return;
    }
    if (!info) {
        mc_answer_error (self, msg->routing_id, msg->req, MC_E_UNKNOWN_JOB, "no job j%llu", (unsigned long long) id);
        return;
    }
    int64_t timeout_ms = -1;            //  wait without a deadline
    const msgpack_object *timeout = mc_proto_map_get (body, "timeout_ms");
    if (timeout && timeout->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        timeout_ms = timeout->via.u64 > INT32_MAX? INT32_MAX: (int64_t) timeout->via.u64;
    if (!may_wait || !mc_server_job (self, id) || info->finished_us || timeout_ms == 0) {
        mc_answer_job (self, msg->routing_id, msg->req, kind, info);
        return;
    }
    if (mc_parked_count (self->parked, id) >= (size_t) self->config.max_waiters_per_job)
        mc_answer_error (self, msg->routing_id, msg->req, MC_E_QUEUE_FULL,
                         "too many clients wait for this job (max_waiters_per_job=%lld)",
                         (long long) self->config.max_waiters_per_job);
    else
    if (mc_parked_add (self->parked, id, msg->routing_id, msg->req, kind,
                       timeout_ms > 0? mc_time_mono_us () + timeout_ms * 1000: 0))
        mc_answer_error (self, msg->routing_id, msg->req, MC_E_INTERNAL, "controller out of memory");
}

static void
s_op_status (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body)
{
    s_job_query (self, msg, body, MC_PARK_STATUS, false);
}

static void
s_op_wait (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body)
{
    s_job_query (self, msg, body, MC_PARK_STATUS, true);
}

static void
s_op_result (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body)
{
    const msgpack_object *wait = mc_proto_map_get (body, "wait");
    const msgpack_object *meta = mc_proto_map_get (body, "meta");
    bool with_meta = meta && meta->type == MSGPACK_OBJECT_BOOLEAN && meta->via.boolean;
    s_job_query (self, msg, body, with_meta? MC_PARK_META: MC_PARK_RESULT,
                 wait && wait->type == MSGPACK_OBJECT_BOOLEAN && wait->via.boolean);
}

static void
s_op_ping (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body)
{
    (void) body;
    msgpack_packer pk = mc_server_body (self);
    msgpack_pack_map (&pk, 4);
    mc_proto_pack_str (&pk, "max_value_bytes"); msgpack_pack_int64 (&pk, self->config.max_value_bytes);
    mc_proto_pack_str (&pk, "version"); msgpack_pack_uint8 (&pk, MC_PROTO_VERSION);
    mc_proto_pack_str (&pk, "pid");     msgpack_pack_int64 (&pk, getpid ());
    mc_proto_pack_str (&pk, "engines"); msgpack_pack_uint64 (&pk, mc_registry_size (self->registry));
    mc_answer_reply (self, msg->routing_id, msg->req, MC_OK, NULL);
}

static void
s_op_shutdown (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body)
{
    (void) body;
    msgpack_packer pk = mc_server_body (self);
    msgpack_pack_map (&pk, 0);
    mc_answer_reply (self, msg->routing_id, msg->req, MC_OK, NULL);
    mc_info ("shutdown requested by a client");
    self->shutdown = true;
}

static void
s_op_ids (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body)
{
    (void) body;
    msgpack_packer pk = mc_server_body (self);
    msgpack_pack_array (&pk, (uint32_t) mc_registry_size (self->registry));
    for (mc_engine_t *e = mc_registry_first (self->registry); e; e = mc_registry_next (self->registry, e))
        msgpack_pack_int32 (&pk, mc_engine_id (e));
    mc_answer_reply (self, msg->routing_id, msg->req, MC_OK, NULL);
}

static void
s_op_engines (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body)
{
    (void) body;
    msgpack_packer pk = mc_server_body (self);
    msgpack_pack_array (&pk, (uint32_t) mc_registry_size (self->registry));
    int64_t now = mc_time_mono_us ();
    for (mc_engine_t *e = mc_registry_first (self->registry); e; e = mc_registry_next (self->registry, e)) {
        msgpack_pack_map (&pk, 12);
        mc_proto_pack_str (&pk, "id");       msgpack_pack_int32 (&pk, mc_engine_id (e));
        mc_proto_pack_str (&pk, "host");     mc_proto_pack_str (&pk, mc_engine_host (e));
        mc_proto_pack_str (&pk, "pid");      msgpack_pack_int64 (&pk, mc_engine_pid (e));
        mc_proto_pack_str (&pk, "state");    mc_proto_pack_str (&pk, mc_engine_state (e) == MC_ENGINE_STOPPING? "stopping": mc_engine_inflight (e)? "busy": "idle");
        mc_proto_pack_str (&pk, "done");     msgpack_pack_uint64 (&pk, mc_engine_done (e));
        mc_proto_pack_str (&pk, "failed");   msgpack_pack_uint64 (&pk, mc_engine_failed (e));
        mc_proto_pack_str (&pk, "inflight"); msgpack_pack_uint32 (&pk, mc_engine_inflight (e));
        mc_proto_pack_str (&pk, "queued");   msgpack_pack_uint64 (&pk, mc_engine_queued (e));
        mc_proto_pack_str (&pk, "uuid");     mc_proto_pack_str (&pk, mc_engine_uuid (e));
        mc_proto_pack_str (&pk, "last_seen_ms"); msgpack_pack_int64 (&pk, (now - mc_engine_last_seen_us (e)) / 1000);
        mc_proto_pack_str (&pk, "restarts"); msgpack_pack_uint32 (&pk, mc_engine_restarts (e));
        mc_proto_pack_str (&pk, "launch");   mc_proto_pack_str (&pk, mc_engine_launch (e));
    }
    mc_answer_reply (self, msg->routing_id, msg->req, MC_OK, NULL);
}

static void
s_op_jobs (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body)
{
    uint64_t limit = 20;
    const msgpack_object *o = mc_proto_map_get (body, "limit");
    if (o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        limit = o->via.u64 < 1000? o->via.u64: 1000;
    uint64_t ids [1000];
    size_t count = mc_store_recent_jobs (self->store, ids, limit);
    msgpack_packer pk = mc_server_body (self);
    msgpack_pack_array (&pk, (uint32_t) count);
    for (size_t i = 0; i < count; i++) {
        mc_job_info_t scratch;
        bool unreadable;
        const mc_job_info_t *info = s_find_info (self, ids [i], &scratch, &unreadable);
        if (info)
            mc_job_info_pack (info, &pk, 0);
        else
            msgpack_pack_nil (&pk);
    }
    mc_answer_reply (self, msg->routing_id, msg->req, MC_OK, NULL);
}

//  One kernel or walker target as engines described it, and which engines
//  have it.
typedef struct {
    char name [MC_KERNEL_NAME_MAX + 1];
    const msgpack_object *doc, *args;   //  point into zone
    const msgpack_object *origin, *hash;    //  (REGISTER's 4th and 5th), or NULL; into zone
    const msgpack_object *shape;        //  a target's {dim, params, log} (6th), or NULL for a kernel; into zone
    int32_t engines [64];
    size_t engine_count;
} s_kernel_t;

//  Kernels first, then targets, each by name.
static int
s_kernel_cmp (const void *a, const void *b)
{
    const s_kernel_t *x = a, *y = b;
    if ((x->shape != NULL) != (y->shape != NULL))
        return x->shape? 1: -1;
    return strcmp (x->name, y->name);
}

//  The value of key in a msgpack map, or NULL.
static const msgpack_object *
s_map_get (const msgpack_object *map, const char *key)
{
    size_t len = strlen (key);
    for (uint32_t i = 0; map && map->type == MSGPACK_OBJECT_MAP && i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr [i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == len && !memcmp (kv->key.via.str.ptr, key, len))
            return &kv->val;
    }
    return NULL;
}

//  A target's shape value as an integer, else fallback.
static int64_t
s_shape_int (const msgpack_object *shape, const char *key, int64_t fallback)
{
    const msgpack_object *v = s_map_get (shape, key);
    if (v && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 <= INT32_MAX)
        return (int64_t) v->via.u64;
    if (v && v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && v->via.i64 >= INT32_MIN)
        return v->via.i64;
    return fallback;
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
        if (strcmp (t, "*"))            //  "*" only says where keyword-only arguments begin
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
        mc_proto_pack_str (pk, "name");
        mc_proto_pack_str (pk, tokens [i]);
        mc_proto_pack_str (pk, "type");
        mc_proto_pack_str (pk, type? type: "any");
        if (fallback) {
            mc_proto_pack_str (pk, "default");
            mc_proto_pack_str (pk, fallback);
        }
    }
}

//  Add the kernels one engine described at REGISTER to kernels[*count],
//  once per name (their doc and args point into zone). 0, or -1 when out
//  of memory.
static int
s_kernels_add (const mc_engine_t *e, msgpack_zone *zone, s_kernel_t **kernels, size_t *count)
{
    size_t size;
    const void *described = mc_engine_kernel_info (e, &size);
    msgpack_object info;
    if (!described || mc_proto_unpack (described, size, zone, &info) || info.type != MSGPACK_OBJECT_ARRAY)
        return 0;
    for (uint32_t i = 0; i < info.via.array.size; i++) {
        const msgpack_object *k = &info.via.array.ptr [i];
        if (k->type != MSGPACK_OBJECT_ARRAY || k->via.array.size < 3
        ||  k->via.array.ptr [0].type != MSGPACK_OBJECT_STR || k->via.array.ptr [0].via.str.size > MC_KERNEL_NAME_MAX)
            continue;
        char name [MC_KERNEL_NAME_MAX + 1];
        snprintf (name, sizeof name, "%.*s", (int) k->via.array.ptr [0].via.str.size, k->via.array.ptr [0].via.str.ptr);
        //  A sixth element, a map, makes it a walker target (§3).
        const msgpack_object *shape = k->via.array.size > 5 && k->via.array.ptr [5].type == MSGPACK_OBJECT_MAP?
                                      &k->via.array.ptr [5]: NULL;
        size_t j = 0;
        while (j < *count && (strcmp ((*kernels) [j].name, name) || ((*kernels) [j].shape != NULL) != (shape != NULL)))
            j++;
        if (j == *count) {
            s_kernel_t *grown = realloc (*kernels, (*count + 1) * sizeof *grown);
            if (!grown)
                return -1;
            *kernels = grown;
            memset (&grown [j], 0, sizeof grown [j]);
            strcpy (grown [j].name, name);
            grown [j].doc = &k->via.array.ptr [1];
            grown [j].args = &k->via.array.ptr [2];
            grown [j].origin = k->via.array.size > 3? &k->via.array.ptr [3]: NULL;
            grown [j].hash = k->via.array.size > 4? &k->via.array.ptr [4]: NULL;
            grown [j].shape = shape;
            (*count)++;
        }
        s_kernel_t *kernel = &(*kernels) [j];
        if (kernel->engine_count < 64)
            kernel->engines [kernel->engine_count++] = mc_engine_id (e);
    }
    return 0;
}

//  kernels: every kernel some engine has, by name, with its doc, typed
//  arguments and engines; then every walker target, by name, with its doc,
//  dimension, parameter count, density or log, and engines.
static void
s_op_kernels (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body)
{
    (void) body;
    msgpack_zone zone;
    msgpack_zone_init (&zone, 4096);
    s_kernel_t *kernels = NULL;
    size_t count = 0;
    int rc = 0;
    for (mc_engine_t *e = mc_registry_first (self->registry); e && rc == 0; e = mc_registry_next (self->registry, e))
        rc = s_kernels_add (e, &zone, &kernels, &count);
    if (rc == 0) {
        qsort (kernels, count, sizeof *kernels, s_kernel_cmp);
        msgpack_packer pk = mc_server_body (self);
        msgpack_pack_array (&pk, (uint32_t) count);
        for (size_t j = 0; j < count; j++) {
            const msgpack_object *shape = kernels [j].shape;
            msgpack_pack_map (&pk, shape? 9: 7);
            mc_proto_pack_str (&pk, "name");
            mc_proto_pack_str (&pk, kernels [j].name);
            mc_proto_pack_str (&pk, "origin");
            if (kernels [j].origin && kernels [j].origin->type == MSGPACK_OBJECT_STR)
                msgpack_pack_object (&pk, *kernels [j].origin);
            else
                mc_proto_pack_str (&pk, "built-in");
            mc_proto_pack_str (&pk, "hash");
            if (kernels [j].hash && kernels [j].hash->type == MSGPACK_OBJECT_STR)
                msgpack_pack_object (&pk, *kernels [j].hash);
            else
                mc_proto_pack_str (&pk, "");
            mc_proto_pack_str (&pk, "doc");
            if (kernels [j].doc->type == MSGPACK_OBJECT_STR)
                msgpack_pack_object (&pk, *kernels [j].doc);
            else
                mc_proto_pack_str (&pk, "");
            if (shape) {
                const msgpack_object *log = s_map_get (shape, "log");
                mc_proto_pack_str (&pk, "dim");
                msgpack_pack_int64 (&pk, s_shape_int (shape, "dim", 0));
                mc_proto_pack_str (&pk, "params");
                msgpack_pack_int64 (&pk, s_shape_int (shape, "params", 0));
                mc_proto_pack_str (&pk, "log");
                if (log && log->type == MSGPACK_OBJECT_BOOLEAN && log->via.boolean)
                    msgpack_pack_true (&pk);
                else
                    msgpack_pack_false (&pk);
            }
            else {
                mc_proto_pack_str (&pk, "args");
                s_pack_args (&pk, kernels [j].args);
            }
            mc_proto_pack_str (&pk, "engines");
            msgpack_pack_array (&pk, (uint32_t) kernels [j].engine_count);
            for (size_t e = 0; e < kernels [j].engine_count; e++)
                msgpack_pack_int32 (&pk, kernels [j].engines [e]);
            //  Last: what scripts matched before it came stays as it was.
            mc_proto_pack_str (&pk, "kind");
            mc_proto_pack_str (&pk, shape? "target": "kernel");
        }
        mc_answer_reply (self, msg->routing_id, msg->req, MC_OK, NULL);
    }
    else
        mc_answer_error (self, msg->routing_id, msg->req, MC_E_INTERNAL, "controller out of memory");
    free (kernels);
    msgpack_zone_destroy (&zone);
}

//  --------------------------------------------------------------------------
//  Dispatch

static s_handler_fn *s_handlers [MC_OP_COUNT] = {
    [MC_OP_PING]     = s_op_ping,
    [MC_OP_IDS]      = s_op_ids,
    [MC_OP_ENGINES]  = s_op_engines,
    [MC_OP_SUBMIT]   = s_op_submit,
    [MC_OP_STATUS]   = s_op_status,
    [MC_OP_WAIT]     = s_op_wait,
    [MC_OP_RESULT]   = s_op_result,
    [MC_OP_JOBS]     = s_op_jobs,
    [MC_OP_KERNELS]  = s_op_kernels,
    [MC_OP_QUEUE]    = mc_share_queue_op,
    [MC_OP_SHUTDOWN] = s_op_shutdown,
    [MC_OP_TRUST]    = mc_trust_op,
    [MC_OP_ABORT]    = mc_retention_abort_op,
    [MC_OP_PURGE]    = mc_retention_purge_op,
    [MC_OP_ALLOCATIONS]  = mc_scale_allocations_op,
    [MC_OP_ENGINES_ADD]  = mc_scale_add_op,
    [MC_OP_ENGINES_STOP] = mc_scale_stop_op,
    [MC_OP_RENICE]   = mc_share_renice_op,
    [MC_OP_KERNELS_ADD]    = mc_libraries_add_op,
    [MC_OP_KERNELS_REMOVE] = mc_libraries_remove_op,
};

static void
s_request (mc_server_t *self, mc_msg_t *msg)
{
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    msgpack_object body;
    body.type = MSGPACK_OBJECT_NIL;
    const mc_op_t *op = mc_op_find (msg->op.ptr, msg->op.size);
    char name [64];
    if (msg->data.size
    &&  (mc_proto_unpack (msg->data.ptr, msg->data.size, &zone, &body) || body.type != MSGPACK_OBJECT_MAP))
        mc_answer_error (self, msg->routing_id, msg->req, MC_E_MALFORMED, "request body is not a msgpack map");
    else
    if (!op)
        mc_answer_error (self, msg->routing_id, msg->req, MC_E_UNKNOWN_OP, "unknown operation '%s'",
                         mc_bytes_str (msg->op, name, sizeof name));
    else
        s_handlers [op->code] (self, msg, &body);
    msgpack_zone_destroy (&zone);
}

int
mc_api_readable (zloop_t *loop, zsock_t *sock, void *arg)
{
    (void) loop;
    mc_server_t *self = arg;
    mc_msg_t msg;
    mc_msg_init (&msg);
    for (int n = 0; n < 64 && !self->shutdown && (zsock_events (sock) & ZMQ_POLLIN); n++) {
        int code;
        int rc = mc_msg_recv (&msg, zsock_resolve (sock), true, &code);
        if (rc == -1)
            break;
        if (rc == -2 || msg.type != MC_REQUEST) {
            //  Answered to the request's own id whenever its header could
            //  be read that far (mc_msg_recv), so that its client stops
            //  waiting; else to id 0, which a client takes as the answer
            //  to whatever it waits for (mc_proto.md, section 6).
            uint64_t req = msg.type == MC_REQUEST? msg.req: 0;
            if (msg.routing_id)
                mc_answer_error (self, msg.routing_id, req, rc == -2? (uint64_t) code: MC_E_MALFORMED,
                                 "%s", rc == 0? "malformed request: not a REQUEST"
                                     : code == MC_E_MALFORMED? "malformed request: not a valid MCP/3 REQUEST (its body "
                                                               "must be one msgpack value nested at most 64 deep)"
                                     : code == MC_E_VERSION? "malformed request: unsupported protocol version"
                                     : "controller out of memory reading the request");
            continue;
        }
        if (mc_auth_admit (self->auth, MC_ROLE_CLIENT, msg.routing_id, zmsg_first (msg.zmsg)))
            s_request (self, &msg);
    }
    mc_msg_reset (&msg);
    mc_engines_flush (self);
    mc_answer_finished (self);
    return self->shutdown? -1: 0;
}

void
mc_api_expire (mc_server_t *self, int64_t now_us)
{
    mc_park_t *park;
    while ((park = mc_parked_expired (self->parked, now_us))) {
        //  A finished job has taken its parked requests with it.
        mc_job_t *job = mc_server_job (self, park->job);
        assert (job);
        mc_answer_park (self, park, job, mc_job_info (job), false);
        mc_park_destroy (&park);
    }
}

//  --------------------------------------------------------------------------

void
mc_api_test (bool verbose)
{
    printf (" * mc_api: ");
    //  Every operation of the table has a handler, and only those.
    for (int code = 0; code < MC_OP_COUNT; code++) {
        if (verbose && code)
            printf ("%s%s", code > 1? ", ": "", mc_op_name ((mc_op_code_t) code));
        assert ((code == MC_OP_NONE) == (s_handlers [code] == NULL));
    }
    //  Kernel arguments are described as the spec says.
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_object args = { .type = MSGPACK_OBJECT_STR };
    args.via.str.ptr = "samples:int seed:int=7 rest...";
    args.via.str.size = (uint32_t) strlen (args.via.str.ptr);
    s_pack_args (&pk, &args);
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    msgpack_object out;
    assert (mc_proto_unpack (sb.data, sb.size, &zone, &out) == 0);
    char text [256];
    msgpack_object_print_buffer (text, sizeof text, out);
    if (verbose)
        printf ("\n  %s\n", text);
    assert (!strcmp (text, "[{\"name\"=>\"samples\", \"type\"=>\"int\"}, "
                           "{\"name\"=>\"seed\", \"type\"=>\"int\", \"default\"=>\"7\"}, "
                           "{\"name\"=>\"rest...\", \"type\"=>\"any\"}]"));
    msgpack_zone_destroy (&zone);
    msgpack_sbuffer_destroy (&sb);

    //  An engine's kernel_info: a kernel, then targets (a sixth element);
    //  a target and a kernel of one name ("ring") are two entries; sorted,
    //  the kernels come first.
    msgpack_sbuffer_init (&sb);
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array (&pk, 4);
    const char *names [] = { "ring", "zz.t", "ring", "a.t" };
    for (int i = 0; i < 4; i++) {
        msgpack_pack_array (&pk, i? 6: 5);
        mc_proto_pack_str (&pk, names [i]);
        mc_proto_pack_str (&pk, "doc");
        mc_proto_pack_str (&pk, i? "": "x:int");
        mc_proto_pack_str (&pk, i == 1? "client": "built-in");
        mc_proto_pack_str (&pk, i == 1? "0123456789abcdef": "");
        if (i) {
            msgpack_pack_map (&pk, 3);
            mc_proto_pack_str (&pk, "dim");
            msgpack_pack_uint32 (&pk, 2 + i);
            mc_proto_pack_str (&pk, "params");
            msgpack_pack_int32 (&pk, i == 3? -1: 0);
            mc_proto_pack_str (&pk, "log");
            msgpack_pack_uint8 (&pk, 1);                //  not a bool: read as false
        }
    }
    mc_registry_t *registry = mc_registry_new ();
    zframe_t *rid = zframe_new ("e", 1);
    char **kernels = calloc (2, sizeof *kernels);
    assert (registry && rid && kernels && (kernels [0] = strdup ("ring")));
    bool replaced;
    mc_engine_t *engine = mc_registry_register (registry, "e", -1, "host", 1, rid, kernels, 1, 0, &replaced);
    assert (engine && mc_engine_set_kernel_info (engine, sb.data, sb.size) == 0);
    zframe_destroy (&rid);
    msgpack_zone_init (&zone, 1024);
    s_kernel_t *found = NULL;
    size_t count = 0;
    assert (s_kernels_add (engine, &zone, &found, &count) == 0 && count == 4);
    qsort (found, count, sizeof *found, s_kernel_cmp);
    assert (!strcmp (found [0].name, "ring") && !found [0].shape);
    assert (!strcmp (found [1].name, "a.t") && s_shape_int (found [1].shape, "dim", 0) == 5
            && s_shape_int (found [1].shape, "params", 0) == -1);
    assert (!strcmp (found [2].name, "ring") && found [2].shape && s_shape_int (found [2].shape, "dim", 0) == 4);
    assert (!strcmp (found [3].name, "zz.t") && s_shape_int (found [3].shape, "dim", 0) == 3);
    assert (!s_map_get (found [3].shape, "nope") && s_shape_int (found [3].shape, "nope", 7) == 7);
    assert (found [3].engine_count == 1 && found [3].engines [0] == 0);
    free (found);
    msgpack_zone_destroy (&zone);
    msgpack_sbuffer_destroy (&sb);
    mc_registry_destroy (&registry);
    printf ("OK\n");
}

