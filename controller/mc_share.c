/*  mc_share: the renice and queue operations. */
#include "mc_share.h"
#include "mc_answer.h"
#include "mc_log.h"

//  May the sender of msg change this job? Its owner (the key that
//  submitted it) and the cluster's owner may.
static bool
s_may_change (mc_server_t *self, mc_msg_t *msg, const mc_job_info_t *info)
{
    zframe_t *header = zmsg_first (msg->zmsg);
    if (mc_auth_is_owner (self->auth, header))
        return true;
    char name [65], key [41];
    mc_auth_user (self->auth, header, name, sizeof name, key, sizeof key);
    return key [0] && !strcmp (key, info->user_key);
}

void
mc_share_renice_op (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body)
{
    uint64_t id;
    if (mc_answer_job_field (self, msg, body, &id))
        return;
    const msgpack_object *value = mc_proto_map_get (body, "priority");
    bool positive = value && value->type == MSGPACK_OBJECT_POSITIVE_INTEGER;
    bool negative = value && value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
    if ((!positive && !negative) || (positive && value->via.u64 > MC_SUBMIT_PRIORITY_MAX)
    ||  (negative && value->via.i64 < -MC_SUBMIT_PRIORITY_MAX)) {
        mc_answer_error (self, msg->routing_id, msg->req, MC_E_BAD_ARGUMENT,
                         "renice: 'priority' must be an integer from %d to %d",
                         -MC_SUBMIT_PRIORITY_MAX, MC_SUBMIT_PRIORITY_MAX);
        return;
    }
    int32_t priority = (int32_t) (positive? (int64_t) value->via.u64: value->via.i64);
    mc_job_t *job = mc_server_job (self, id);
    if (!job || mc_job_is_finished (job)) {
        mc_job_info_t info;
        int rc = job? 0: mc_store_job_info (self->store, id, &info);
        if (rc == -1)
            mc_answer_error (self, msg->routing_id, msg->req, MC_E_UNKNOWN_JOB, "no job j%llu", (unsigned long long) id);
        else
            mc_answer_error (self, msg->routing_id, msg->req, MC_E_BAD_ARGUMENT,
                             "job j%llu has finished: nothing to renice", (unsigned long long) id);
        return;
    }
    mc_job_info_t *info = mc_job_info (job);
    if (!s_may_change (self, msg, info)) {
        mc_answer_error (self, msg->routing_id, msg->req, MC_E_DENIED,
                         "job j%llu is %s's: only its owner or the cluster's owner may renice it",
                         (unsigned long long) id, info->user [0]? info->user: MC_JOB_OWNER);
        return;
    }
    int32_t was = info->priority;
    if (mc_sched_set_priority (self->sched, job, priority)) {
        mc_answer_error (self, msg->routing_id, msg->req, MC_E_INTERNAL, "controller out of memory");
        return;
    }
    //  With the next commit: a controller restarted after it keeps it.
    if (!mc_job_transient (job) && mc_store_renice_job (self->store, id, priority))
        mc_error ("cannot record the renice of job j%llu: %s", (unsigned long long) id, mc_store_error (self->store));
    if (was != priority)
        mc_info ("job j%llu reniced from %d to %d", (unsigned long long) id, was, priority);
    char text [32];
    mc_job_id_format (id, text, sizeof text);
    msgpack_packer pk = mc_server_body (self);
    msgpack_pack_map (&pk, 3);
    mc_proto_pack_str (&pk, "job");      mc_proto_pack_str (&pk, text);
    mc_proto_pack_str (&pk, "priority"); msgpack_pack_int32 (&pk, priority);
    mc_proto_pack_str (&pk, "was");      msgpack_pack_int32 (&pk, was);
    mc_answer_reply (self, msg->routing_id, msg->req, MC_OK, NULL);
    mc_sched_dispatch (self->sched);
}

//  One unfinished job's counts, for `queue`.
typedef struct {
    mc_job_t *job;
    uint64_t queued, running;
} s_row_t;

//  Users in name order, then jobs by id.
static int
s_row_cmp (const void *a, const void *b)
{
    const s_row_t *x = a, *y = b;
    int by_user = strcmp (mc_job_info (x->job)->user, mc_job_info (y->job)->user);
    if (by_user)
        return by_user;
    uint64_t i = mc_job_info (x->job)->id, j = mc_job_info (y->job)->id;
    return i < j? -1: i > j;
}

//  Pack the users and their jobs: "users": [{ "user", "weight", "queued",
//  "running", "jobs": [{ "job", "priority", "queued", "running" }] }].
static void
s_pack_users (mc_server_t *self, msgpack_packer *pk, s_row_t *rows, size_t count)
{
    size_t users = 0;
    for (size_t i = 0; i < count; i++)
        users += i == 0 || strcmp (mc_job_info (rows [i].job)->user, mc_job_info (rows [i - 1].job)->user);
    msgpack_pack_array (pk, (uint32_t) users);
    for (size_t first = 0, end; first < count; first = end) {
        mc_job_info_t *info = mc_job_info (rows [first].job);
        uint64_t queued = 0, running = 0;
        for (end = first; end < count && !strcmp (mc_job_info (rows [end].job)->user, info->user); end++) {
            queued += rows [end].queued;
            running += rows [end].running;
        }
        msgpack_pack_map (pk, 5);
        mc_proto_pack_str (pk, "user");    mc_proto_pack_str (pk, info->user [0]? info->user: MC_JOB_OWNER);
        mc_proto_pack_str (pk, "weight");  msgpack_pack_uint32 (pk, mc_sched_weight (self->sched, info));
        mc_proto_pack_str (pk, "queued");  msgpack_pack_uint64 (pk, queued);
        mc_proto_pack_str (pk, "running"); msgpack_pack_uint64 (pk, running);
        mc_proto_pack_str (pk, "jobs");
        msgpack_pack_array (pk, (uint32_t) (end - first));
        for (size_t i = first; i < end; i++) {
            char id [32];
            mc_job_id_format (mc_job_info (rows [i].job)->id, id, sizeof id);
            msgpack_pack_map (pk, 4);
            mc_proto_pack_str (pk, "job");      mc_proto_pack_str (pk, id);
            mc_proto_pack_str (pk, "priority"); msgpack_pack_int32 (pk, mc_job_info (rows [i].job)->priority);
            mc_proto_pack_str (pk, "queued");   msgpack_pack_uint64 (pk, rows [i].queued);
            mc_proto_pack_str (pk, "running");  msgpack_pack_uint64 (pk, rows [i].running);
        }
    }
}

void
mc_share_queue_op (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body)
{
    (void) body;
    //  A status question: O(unfinished jobs and their tasks in flight).
    size_t count = 0;
    s_row_t *rows = calloc (zhashx_size (self->jobs) + 1, sizeof *rows);
    if (!rows) {
        mc_answer_error (self, msg->routing_id, msg->req, MC_E_INTERNAL, "controller out of memory");
        return;
    }
    for (mc_job_t *job = zhashx_first (self->jobs); job; job = zhashx_next (self->jobs)) {
        if (mc_job_is_finished (job) || mc_job_transient (job))
            continue;
        uint64_t finished, running;
        mc_job_count_tasks (job, &finished, &running);
        uint64_t tasks = mc_job_info (job)->tasks;
        rows [count++] = (s_row_t) { job, tasks - finished - running, running };
    }
    qsort (rows, count, sizeof *rows, s_row_cmp);
    msgpack_packer pk = mc_server_body (self);
    msgpack_pack_map (&pk, 3);
    mc_proto_pack_str (&pk, "queued");
    msgpack_pack_uint64 (&pk, mc_sched_lb_waiting (self->sched));
    mc_proto_pack_str (&pk, "engines");
    msgpack_pack_array (&pk, (uint32_t) mc_registry_size (self->registry));
    for (mc_engine_t *e = mc_registry_first (self->registry); e; e = mc_registry_next (self->registry, e)) {
        msgpack_pack_map (&pk, 3);
        mc_proto_pack_str (&pk, "id");      msgpack_pack_int32 (&pk, mc_engine_id (e));
        mc_proto_pack_str (&pk, "queued");  msgpack_pack_uint64 (&pk, mc_engine_queued (e));
        mc_proto_pack_str (&pk, "running"); msgpack_pack_uint32 (&pk, mc_engine_inflight (e));
    }
    mc_proto_pack_str (&pk, "users");
    s_pack_users (self, &pk, rows, count);
    free (rows);
    mc_answer_reply (self, msg->routing_id, msg->req, MC_OK, NULL);
}
