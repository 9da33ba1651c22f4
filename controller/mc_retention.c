/*  mc_retention: abort and purge. */
#include "mc_retention.h"
#include "mc_answer.h"
#include "mc_engines.h"
#include "mc_log.h"
#include "mc_time.h"

//  At most this many jobs are named in one purge request (an id each).
#define S_PURGE_IDS_MAX 100000

//  The scheduler's callback for each waiting task of an aborted job.
static void
s_cancelled (void *arg, mc_task_t *task)
{
    mc_server_fail_task ((mc_server_t *) arg, task, -1, MC_E_ABORTED, "aborted by a client");
}

//  The same for a task that was running when its job was aborted and came
//  back to the queue because its engine restarted (or was lost): it does
//  not run again.
static void
s_stopped (void *arg, mc_task_t *task)
{
    mc_server_fail_task ((mc_server_t *) arg, task, -1, MC_E_ABORTED,
                         "aborted by a client while running (its engine restarted, or was lost)");
}

//  Ask each engine with a task of the job in flight to raise that task's
//  cancel flag, once per engine. Walks the engines' in-flight lists (a
//  load-balanced job's tasks are made as engines take them: they cannot be
//  looked up by number); an abort is rare, and the lists are short.
static void
s_stop_running (mc_server_t *self, mc_job_t *job)
{
    for (mc_engine_t *engine = mc_registry_first (self->registry); engine;
         engine = mc_registry_next (self->registry, engine)) {
        mc_engine_load_t *load = mc_engine_load (engine);
        mc_task_t *task = load->running;
        for (uint32_t i = 0; task && i < load->inflight; i++, task = task->next)
            if (task->job == job) {
                mc_engines_send_cancel (self, engine, mc_job_info (job)->id);
                break;
            }
    }
}

zlistx_t *
mc_retention_aborted_inflight (mc_engine_t *engine)
{
    zlistx_t *jobs = NULL;
    mc_engine_load_t *load = mc_engine_load (engine);
    mc_task_t *task = load->running;
    for (uint32_t i = 0; task && i < load->inflight; i++, task = task->next) {
        if (!mc_job_info (task->job)->aborted || (jobs && zlistx_find (jobs, task->job)))
            continue;
        if (!jobs)
            jobs = zlistx_new ();
        zlistx_add_end (jobs, task->job);
    }
    return jobs;
}

void
mc_retention_requeued (mc_server_t *self, zlistx_t **jobs_p)
{
    if (!*jobs_p)
        return;
    for (mc_job_t *job = zlistx_first (*jobs_p); job; job = zlistx_next (*jobs_p))
        if (!mc_job_is_finished (job))
            mc_sched_cancel_job (self->sched, job, s_stopped, self);
    zlistx_destroy (jobs_p);
}

void
mc_retention_abort_op (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body)
{
    uint64_t id;
    if (mc_answer_job_field (self, msg, body, &id))
        return;
    mc_job_t *job = mc_server_job (self, id);
    if (!job || mc_job_is_finished (job)) {
        mc_job_info_t info;
        int rc = job? 0: mc_store_job_info (self->store, id, &info);
        if (rc == -1)
            mc_answer_error (self, msg->routing_id, msg->req, MC_E_UNKNOWN_JOB, "no job j%llu", (unsigned long long) id);
        else
        if (rc == -2)
            mc_answer_error (self, msg->routing_id, msg->req, MC_E_INTERNAL, "cannot read job j%llu: %s",
                             (unsigned long long) id, mc_store_error (self->store));
        else
            mc_answer_error (self, msg->routing_id, msg->req, MC_E_BAD_ARGUMENT,
                             "job j%llu has finished: nothing to abort", (unsigned long long) id);
        return;
    }
    mc_job_info_t *info = mc_job_info (job);
    uint64_t finished, running;
    mc_job_count_tasks (job, &finished, &running);
    bool again = info->aborted;
    info->aborted = true;
    //  With the next commit, as the failures of its cancelled tasks: a
    //  controller restarted after it runs none of its tasks again.
    if (!again && !mc_job_transient (job) && mc_store_abort_job (self->store, id))
        mc_error ("cannot record the abort of job j%llu: %s", (unsigned long long) id, mc_store_error (self->store));
    //  The job may finish here (nothing running): mc_answer_finished, at
    //  the end of this event, stores it and answers its parked requests.
    size_t cancelled = mc_sched_cancel_job (self->sched, job, s_cancelled, self);
    //  Told again on a second abort: an engine that missed it (it
    //  reconnected since) hears it now.
    s_stop_running (self, job);
    if (!again)
        mc_info ("job j%llu aborted by a client: %zu tasks cancelled, %llu running told to stop "
                 "(within %lld ms), %llu finished", (unsigned long long) id, cancelled, (unsigned long long) running,
                 (long long) self->config.abort_grace_ms, (unsigned long long) finished);
    char text [32];
    mc_job_id_format (id, text, sizeof text);
    msgpack_packer pk = mc_server_body (self);
    msgpack_pack_map (&pk, 5);
    mc_proto_pack_str (&pk, "job");       mc_proto_pack_str (&pk, text);
    mc_proto_pack_str (&pk, "cancelled"); msgpack_pack_uint64 (&pk, cancelled);
    mc_proto_pack_str (&pk, "running");   msgpack_pack_uint64 (&pk, running);
    mc_proto_pack_str (&pk, "finished");  msgpack_pack_uint64 (&pk, finished);
    mc_proto_pack_str (&pk, "grace_ms");  msgpack_pack_uint64 (&pk, (uint64_t) self->config.abort_grace_ms);
    mc_answer_reply (self, msg->routing_id, msg->req, MC_OK, NULL);
}

//  May this finished job leave the store? Not while it is in memory: it
//  is then unfinished, or waiting for its commit, or waited on.
static bool
s_purgeable (mc_server_t *self, uint64_t id)
{
    return !mc_server_job (self, id) && mc_parked_count (self->parked, id) == 0;
}

//  Purge the finished jobs (that finished before before_us) not in memory,
//  oldest first, in batches of `batch` ids, at most max_jobs of them (0:
//  all). 0, or -1 with the store's error.
static int
s_purge_finished (mc_server_t *self, int64_t before_us, uint64_t *ids, size_t batch, uint64_t max_jobs,
                  mc_store_purged_t *purged, uint64_t *skipped)
{
    uint64_t after = 0;             //  ids up to this one were seen
    uint64_t taken = 0;
    while (max_jobs == 0 || taken < max_jobs) {
        size_t want = max_jobs && max_jobs - taken < batch? (size_t) (max_jobs - taken): batch;
        size_t found = mc_store_finished_jobs (self->store, before_us, after, ids, want);
        if (found == 0)
            break;
        after = ids [found - 1];
        size_t count = 0;
        for (size_t i = 0; i < found; i++)
            if (s_purgeable (self, ids [i]))
                ids [count++] = ids [i];
            else
                (*skipped)++;
        if (count && mc_store_purge (self->store, ids, count, purged))
            return -1;
        taken += count;
    }
    return 0;
}

void
mc_retention_tick (mc_server_t *self, int64_t now_us)
{
    const mc_config_t *config = &self->config;
    if ((!config->result_ttl_s && !config->store_max_bytes) || now_us < self->retention_at_us
    ||  mc_store_failing_since (self->store))
        return;
    self->retention_at_us = now_us + 1000000;       //  once a second
    uint64_t ids [64];
    mc_store_purged_t purged = { 0 };
    uint64_t skipped = 0;
    int rc = 0;
    if (config->result_ttl_s) {
        int64_t ttl_us = config->result_ttl_s > INT64_MAX / 2000000? INT64_MAX / 2: config->result_ttl_s * 1000000;
        //  A bounded number per tick, so that the loop stays responsive.
        rc = s_purge_finished (self, mc_time_wall_us () - ttl_us, ids, 64, 256, &purged, &skipped);
    }
    //  Past the size bound: the oldest finished jobs, a few at a time,
    //  until the store fits or none is left.
    for (int round = 0; rc == 0 && config->store_max_bytes && round < 16
                       && mc_store_bytes (self->store) > config->store_max_bytes; round++) {
        uint64_t before = purged.jobs;
        rc = s_purge_finished (self, INT64_MAX, ids, 64, 16, &purged, &skipped);
        if (purged.jobs == before) {
            if (!self->retention_full)
                mc_warn ("store_max_bytes=%lld: the store holds %lld bytes and has no finished job left to purge",
                         (long long) config->store_max_bytes, (long long) mc_store_bytes (self->store));
            self->retention_full = true;
            break;
        }
        self->retention_full = false;
    }
    if (rc)
        mc_warn ("retention: %s", mc_store_error (self->store));
    if (purged.jobs)
        mc_info ("retention: purged %llu jobs, %llu results, %llu bytes", (unsigned long long) purged.jobs,
                 (unsigned long long) purged.results, (unsigned long long) purged.bytes);
}

void
mc_retention_purge_op (mc_server_t *self, mc_msg_t *msg, const msgpack_object *body)
{
    const msgpack_object *jobs = mc_proto_map_get (body, "jobs");
    const msgpack_object *before = mc_proto_map_get (body, "before");
    const msgpack_object *finished = mc_proto_map_get (body, "finished");
    bool all = finished && finished->type == MSGPACK_OBJECT_BOOLEAN && finished->via.boolean;
    if ((jobs != NULL) + (before != NULL) + all != 1
    ||  (jobs && (jobs->type != MSGPACK_OBJECT_ARRAY || jobs->via.array.size == 0
                  || jobs->via.array.size > S_PURGE_IDS_MAX))
    ||  (before && before->type != MSGPACK_OBJECT_POSITIVE_INTEGER)) {
        mc_answer_error (self, msg->routing_id, msg->req, MC_E_BAD_ARGUMENT,
                         "purge takes one of 'jobs' (1 to %d job ids), 'before' (Unix seconds) "
                         "or 'finished' (true)", S_PURGE_IDS_MAX);
        return;
    }
    size_t count = 0, limit = jobs? jobs->via.array.size: 4096;
    uint64_t *ids = malloc (limit * sizeof *ids);
    if (!ids) {
        mc_answer_error (self, msg->routing_id, msg->req, MC_E_INTERNAL, "controller out of memory");
        return;
    }
    mc_store_purged_t purged = { 0 };
    uint64_t skipped = 0;
    int rc = 0;
    if (jobs) {
        //  Every named job is checked before any is deleted.
        for (uint32_t i = 0; i < jobs->via.array.size; i++) {
            uint64_t id;
            mc_job_info_t info;
            int found = -1;
            if (mc_job_id_from (&jobs->via.array.ptr [i], &id)) {
                mc_answer_error (self, msg->routing_id, msg->req, MC_E_BAD_ARGUMENT,
                                 "'jobs' must be job ids like \"j12\"");
                goto done;
            }
            if (!s_purgeable (self, id)) {
                mc_answer_error (self, msg->routing_id, msg->req, MC_E_BAD_ARGUMENT,
                                 "job j%llu has not finished (or a client waits on it): not purged; "
                                 "abort it or wait for it first", (unsigned long long) id);
                goto done;
            }
            found = mc_store_job_info (self->store, id, &info);
            if (found == -2) {
                mc_answer_error (self, msg->routing_id, msg->req, MC_E_INTERNAL, "cannot read job j%llu: %s",
                                 (unsigned long long) id, mc_store_error (self->store));
                goto done;
            }
            if (found == -1) {
                mc_answer_error (self, msg->routing_id, msg->req, MC_E_UNKNOWN_JOB, "no job j%llu",
                                 (unsigned long long) id);
                goto done;
            }
            if (!info.finished_us) {
                mc_answer_error (self, msg->routing_id, msg->req, MC_E_BAD_ARGUMENT,
                                 "job j%llu has not finished: not purged; abort it or wait for it first",
                                 (unsigned long long) id);
                goto done;
            }
            ids [count++] = id;
        }
        rc = mc_store_purge (self->store, ids, count, &purged);
    }
    else {
        //  Batches of the oldest finished jobs, until none is left.
        int64_t before_us = before? (int64_t) (before->via.u64 > INT64_MAX / 1000000? INT64_MAX / 1000000
                                                                                   : before->via.u64) * 1000000
                                  : INT64_MAX;
        rc = s_purge_finished (self, before_us, ids, limit, 0, &purged, &skipped);
    }
    if (rc) {
        mc_answer_error (self, msg->routing_id, msg->req, MC_E_INTERNAL, "%s", mc_store_error (self->store));
        goto done;
    }
    mc_info ("purged %llu jobs, %llu results, %llu bytes", (unsigned long long) purged.jobs,
             (unsigned long long) purged.results, (unsigned long long) purged.bytes);
    msgpack_packer pk = mc_server_body (self);
    msgpack_pack_map (&pk, 4);
    mc_proto_pack_str (&pk, "jobs");    msgpack_pack_uint64 (&pk, purged.jobs);
    mc_proto_pack_str (&pk, "results"); msgpack_pack_uint64 (&pk, purged.results);
    mc_proto_pack_str (&pk, "bytes");   msgpack_pack_uint64 (&pk, purged.bytes);
    mc_proto_pack_str (&pk, "skipped"); msgpack_pack_uint64 (&pk, skipped);
    mc_answer_reply (self, msg->routing_id, msg->req, MC_OK, NULL);
done:
    free (ids);
}

//  --------------------------------------------------------------------------
//  Selftest: the tasks of an aborted job that come back from an engine
//  (reset by a reconnect, as after a restart of the engine) fail with
//  ABORTED instead of running again; another job's go back to the queue.

static void
s_test_send (void *arg, mc_engine_t *engine, mc_task_t *task)
{
    (void) engine; (void) task;
    (*(int *) arg)++;
}

void
mc_retention_test (bool verbose)
{
    (void) verbose;
    printf (" * mc_retention: ");
    char dir [] = "/tmp/mc_retention_test.XXXXXX", path [64], err [256];
    assert (mkdtemp (dir));
    snprintf (path, sizeof path, "%s/store.db", dir);
    mc_config_t config;
    mc_config_defaults (&config);
    mc_server_t server;
    assert (mc_server_init (&server, &config) == 0);
    server.store = mc_store_new (path, err, sizeof err);
    int sent = 0;
    server.sched = mc_sched_new (server.registry, 4, 5000, 3, s_test_send, &sent);
    assert (server.store && server.sched);
    int code;
    mc_job_t *doomed = mc_job_new_json (1, "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":[1,2]}", &code, err, sizeof err);
    mc_job_t *other = mc_job_new_json (2, "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":[3,4]}", &code, err, sizeof err);
    assert (doomed && other && mc_job_plan (doomed, NULL, 0) == 0 && mc_job_plan (other, NULL, 0) == 0);
    assert (zhashx_insert (server.jobs, (void *) (uintptr_t) 1, doomed) == 0);
    assert (zhashx_insert (server.jobs, (void *) (uintptr_t) 2, other) == 0);
    assert (mc_sched_queue_job (server.sched, doomed) == 0 && mc_sched_queue_job (server.sched, other) == 0);
    char **kernels = calloc (2, sizeof *kernels);
    assert (kernels && (kernels [0] = strdup ("noop")));
    zframe_t *rid = zframe_new ("e", 1);
    bool replaced;
    mc_engine_t *engine = mc_registry_register (server.registry, "e", -1, "host", 1, rid, kernels, 1, 0, &replaced);
    assert (engine);
    mc_sched_engine_ready (server.sched, engine);
    //  One task in flight (the engine's speed is not known yet): the doomed
    //  job's first; the rest wait.
    assert (sent == 1 && mc_engine_inflight (engine) == 1 && mc_engine_load (engine)->running->job == doomed
         && mc_engine_load (engine)->running->number == 0);
    //  Nothing aborted: nothing to do.
    assert (mc_retention_aborted_inflight (engine) == NULL);
    mc_job_info (doomed)->aborted = true;
    zlistx_t *aborted = mc_retention_aborted_inflight (engine);
    assert (aborted && zlistx_size (aborted) == 1 && zlistx_first (aborted) == doomed);
    mc_sched_engine_reset (server.sched, engine);
    mc_retention_requeued (&server, &aborted);
    assert (aborted == NULL);
    //  Task 0 came back and failed, as task 1, which waited, would at the abort.
    assert (mc_job_is_finished (doomed) && mc_job_info (doomed)->failed == 2);
    assert (!mc_job_is_finished (other) && mc_sched_waiting (server.sched) == 2);
    assert (zlistx_size (server.finishing) == 1);
    mc_retention_requeued (&server, &aborted);          //  NULL: nothing
    //  Clean up: the other job's tasks leave the queue, the engine goes.
    mc_job_info (other)->aborted = true;
    assert (mc_sched_cancel_job (server.sched, other, s_cancelled, &server) == 2);
    mc_registry_remove (server.registry, &engine);
    zframe_destroy (&rid);
    mc_sched_destroy (&server.sched);
    mc_store_destroy (&server.store);
    mc_server_fini (&server);
    char command [128];
    snprintf (command, sizeof command, "rm -rf '%s'", dir);
    assert (system (command) == 0);
    printf ("OK\n");
}
