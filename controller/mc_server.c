/*  mc_server: the controller's shared state and the completion of jobs. */
#include "mc_server.h"
#include "mc_answer.h"
#include "mc_log.h"
#include "mc_time.h"
#include <unistd.h>

//  Job table: keys are job ids stored in the pointer itself.
static size_t s_id_hash (const void *key) { return (size_t) (uintptr_t) key * 0x9E3779B97F4A7C15ull; }
static int s_id_cmp (const void *a, const void *b) { return a == b? 0: (a < b? -1: 1); }
static void s_job_free (void **item) { mc_job_destroy ((mc_job_t **) item); }

int
mc_server_init (mc_server_t *self, const mc_config_t *config)
{
    memset (self, 0, sizeof *self);
    self->config = *config;
    msgpack_sbuffer_init (&self->buffer);
    self->jobs = zhashx_new ();
    self->finishing = zlistx_new ();
    self->parked = mc_parked_new ();
    self->held = mc_held_new ();
    self->registry = mc_registry_new ();
    if (!self->jobs || !self->finishing || !self->parked || !self->held || !self->registry)
        return -1;
    zhashx_set_key_hasher (self->jobs, s_id_hash);
    zhashx_set_key_comparator (self->jobs, s_id_cmp);
    zhashx_set_key_duplicator (self->jobs, NULL);
    zhashx_set_key_destructor (self->jobs, NULL);
    zhashx_set_destructor (self->jobs, s_job_free);
    return 0;
}

void
mc_server_fini (mc_server_t *self)
{
    //  Engines may still hold tasks that point into jobs: forget them first.
    if (self->registry)
        for (mc_engine_t *e = mc_registry_first (self->registry); e; e = mc_registry_next (self->registry, e)) {
            mc_engine_load_t *load = mc_engine_load (e);
            load->running = NULL;
            load->inflight = 0;
            while (mc_taskq_pop (load->direct))
                ;
        }
    zhashx_destroy (&self->jobs);
    zlistx_destroy (&self->finishing);
    mc_parked_destroy (&self->parked);
    mc_held_destroy (&self->held);
    mc_sched_destroy (&self->sched);
    mc_registry_destroy (&self->registry);
    msgpack_sbuffer_destroy (&self->buffer);
}

mc_job_t *
mc_server_job (mc_server_t *self, uint64_t id)
{
    return id? zhashx_lookup (self->jobs, (void *) (uintptr_t) id): NULL;
}

msgpack_packer
mc_server_body (mc_server_t *self)
{
    msgpack_sbuffer_clear (&self->buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &self->buffer, msgpack_sbuffer_write);
    return pk;
}

void
mc_server_task_finished (mc_server_t *self, mc_job_t *job, mc_task_t *task, bool ok, int64_t run_us)
{
    mc_job_task_finished (job, task, ok, run_us);
    if (mc_job_is_finished (job))
        zlistx_add_end (self->finishing, job);
}

void
mc_server_fail_task (mc_server_t *self, mc_task_t *task, int64_t engine, uint64_t code, const char *text)
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
        if (!kept || !header || zmsg_append (kept, &header) || mc_job_keep_result (job, task, &kept))
            mc_error ("out of memory: the failure of job %llu task %u is reported as no result",
                      (unsigned long long) result.job, task->number);
        zframe_destroy (&header);
        zmsg_destroy (&kept);
    }
    else
    if (mc_store_add_result (self->store, mc_job_info (job)->id, task->number, task->first, task->count,
                             engine, code, NULL, 0, text, strlen (text), now, now, NULL, 0))
        mc_error ("store: cannot record result: %s", mc_store_error (self->store));
    mc_server_task_finished (self, job, task, false, 0);
}

void
mc_server_task_lost (void *arg, mc_task_t *task)
{
    char text [128];
    int64_t engine = task->target >= 0? task->target: task->engine;
    snprintf (text, sizeof text, "engine %lld was lost before the task finished", (long long) engine);
    mc_server_fail_task (arg, task, engine, MC_E_ENGINE_LOST, text);
}

void
mc_server_report_finished (mc_server_t *self)
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
        //  The first request parked on a transient job is its submit.
        mc_park_t *park;
        for (bool first = true; (park = mc_parked_take (self->parked, info->id)); first = false) {
            mc_answer_park (self, park, job, info, first);
            mc_park_destroy (&park);
        }
        zhashx_delete (self->jobs, (void *) (uintptr_t) info->id);
    }
}

//  --------------------------------------------------------------------------
//  Selftest: jobs finish, are committed and answered, over an inproc client
//  socket (mc_answer's replies included); no engines, no loop.

//  The next REPLY the test client gets: its status, and its body as JSON text.
static uint64_t
s_test_reply (zsock_t *client, uint64_t req, char *json, size_t len)
{
    mc_msg_t reply;
    mc_msg_init (&reply);
    int code;
    assert (mc_msg_recv (&reply, zsock_resolve (client), false, &code) == 0);
    assert (reply.type == MC_REPLY && reply.req == req);
    json [0] = 0;
    if (reply.status == MC_OK) {
        msgpack_zone zone;
        msgpack_zone_init (&zone, 1024);
        msgpack_object body;
        assert (mc_proto_unpack (reply.data.ptr, reply.data.size, &zone, &body) == 0);
        msgpack_object_print_buffer (json, len, body);
        msgpack_zone_destroy (&zone);
    }
    else
        mc_bytes_str (reply.text, json, len);
    uint64_t status = reply.status;
    mc_msg_reset (&reply);
    return status;
}

void
mc_server_test (bool verbose)
{
    printf (" * mc_server: ");
    char dir [] = "/tmp/mc_server_test.XXXXXX", path [64], err [256], json [2048];
    assert (mkdtemp (dir));
    snprintf (path, sizeof path, "%s/store.db", dir);
    mc_config_t config;
    mc_config_defaults (&config);
    mc_server_t server;
    assert (mc_server_init (&server, &config) == 0);
    server.store = mc_store_new (path, err, sizeof err);
    server.client_sock = zsock_new_router ("inproc://mc_server_test");
    zsock_t *client = zsock_new (ZMQ_DEALER);
    assert (server.store && server.client_sock && client);
    zsock_set_identity (client, "client");
    assert (zsock_connect (client, "inproc://mc_server_test") == 0);
    zframe_t *rid = zframe_new ("client", 6);
    //  A stored apply job with one parked waiter for its result and one
    //  for its status; a task fails, the job finishes, both are answered
    //  after the job is committed.
    int code;
    mc_job_t *job = mc_job_new_json (1, "{\"kind\":\"apply\",\"kernel\":\"square\",\"args\":[3]}", &code, err, sizeof err);
    assert (job && mc_job_plan (job, NULL, 0) == 0);
    size_t size;
    const void *body = mc_job_body (job, &size);
    assert (mc_store_add_job (server.store, mc_job_info (job), body, size) == 0);
    assert (zhashx_insert (server.jobs, (void *) (uintptr_t) 1, job) == 0);
    assert (mc_server_job (&server, 1) == job && mc_server_job (&server, 2) == NULL && mc_server_job (&server, 0) == NULL);
    assert (mc_parked_add (server.parked, 1, rid, 10, MC_PARK_RESULT, 0) == 0);
    assert (mc_parked_add (server.parked, 1, rid, 11, MC_PARK_STATUS, 0) == 0);
    mc_server_report_finished (&server);               //  nothing has finished
    assert (mc_parked_count (server.parked, 1) == 2);
    mc_server_fail_task (&server, mc_job_task (job, 0), 4, MC_E_KERNEL_ERROR, "boom");
    mc_server_report_finished (&server);
    assert (mc_server_job (&server, 1) == NULL && mc_parked_count (server.parked, 1) == 0);
    assert (s_test_reply (client, 10, json, sizeof json) == MC_OK);
    if (verbose)
        printf ("\n  %s\n", json);
    assert (strstr (json, "\"state\"=>\"failed\"") && strstr (json, "\"results\"=>[nil]")
         && strstr (json, "\"error\"=>\"boom\"") && strstr (json, "\"engines\"=>[4]"));
    assert (s_test_reply (client, 11, json, sizeof json) == MC_OK);
    assert (strstr (json, "\"failed\"=>1") && !strstr (json, "results"));
    //  Only in the store now: answered from there.
    mc_job_info_t info;
    assert (mc_store_job_info (server.store, 1, &info) == 0 && info.failed == 1 && info.finished_us > 0);
    mc_answer_job (&server, rid, 12, MC_PARK_META, &info);
    assert (s_test_reply (client, 12, json, sizeof json) == MC_OK && strstr (json, "\"meta\"=>[{"));
    mc_answer_error (&server, rid, 13, MC_E_UNKNOWN_JOB, "no job j%d", 9);
    assert (s_test_reply (client, 13, json, sizeof json) == MC_E_UNKNOWN_JOB && !strcmp (json, "no job j9"));
    //  A transient job: its submitter (the first parked) gets the results it
    //  holds, as frames, and its held bytes are given back; a second client
    //  parked on it gets the result object.
    job = mc_job_new_json (2, "{\"kind\":\"apply\",\"kernel\":\"%names\",\"targets\":[0],\"transient\":true}",
                           &code, err, sizeof err);
    int32_t target = 0;
    assert (job && mc_job_transient (job) && mc_job_plan (job, &target, 1) == 0);
    assert (zhashx_insert (server.jobs, (void *) (uintptr_t) 2, job) == 0);
    assert (mc_parked_add (server.parked, 2, rid, 20, MC_PARK_RESULT, 0) == 0);
    assert (mc_parked_add (server.parked, 2, rid, 21, MC_PARK_RESULT, 0) == 0);
    assert (mc_held_add (server.held, rid, 5, 0) == 0);
    mc_server_task_lost (&server, mc_job_task (job, 0));
    mc_server_report_finished (&server);
    assert (s_test_reply (client, 20, json, sizeof json) == MC_OK);
    if (verbose)
        printf ("  %s\n", json);
    assert (strstr (json, "\"error\"=>\"engine 0 was lost before the task finished\"")
         && strstr (json, "\"single\"=>false"));
    assert (s_test_reply (client, 21, json, sizeof json) == MC_OK && strstr (json, "\"results\"=>["));
    assert (mc_held_bytes (server.held, rid) == 5);     //  the job held none of them
    zframe_destroy (&rid);
    zsock_destroy (&client);
    zsock_destroy (&server.client_sock);
    mc_store_destroy (&server.store);
    mc_server_fini (&server);
    const char *files [] = { "store.db", "store.db-wal", "store.db-shm" };
    for (size_t i = 0; i < 3; i++) {
        snprintf (path, sizeof path, "%s/%s", dir, files [i]);
        unlink (path);
    }
    assert (rmdir (dir) == 0);
    printf ("OK\n");
}
