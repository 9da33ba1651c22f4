/*  mc_server: the controller's shared state and the end of tasks. */
#include "mc_server.h"
#include "mc_libraries.h"
#include "mc_log.h"
#include "mc_time.h"

//  The job table owns its jobs.
static void s_job_free (void **item) { mc_job_destroy ((mc_job_t **) item); }

int
mc_server_init (mc_server_t *self, const mc_config_t *config)
{
    memset (self, 0, sizeof *self);
    self->config = *config;
    msgpack_sbuffer_init (&self->buffer);
    self->jobs = mc_job_id_table ();
    self->finishing = zlistx_new ();
    self->unstored = zlistx_new ();
    self->store_failed = zlistx_new ();
    self->parked = mc_parked_new ();
    self->held = mc_held_new ();
    self->registry = mc_registry_new ();
    if (!self->jobs || !self->finishing || !self->unstored || !self->store_failed || !self->parked || !self->held || !self->registry)
        return -1;
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
    mc_libraries_destroy (&self->libraries);
    zhashx_destroy (&self->jobs);
    zlistx_destroy (&self->finishing);
    zlistx_destroy (&self->unstored);
    zlistx_destroy (&self->store_failed);
    mc_parked_destroy (&self->parked);
    mc_held_destroy (&self->held);
    mc_sched_destroy (&self->sched);
    mc_registry_destroy (&self->registry);
    msgpack_sbuffer_destroy (&self->buffer);
    free (self->outboxes);
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
        mc_error ("cannot record a result: %s", mc_store_error (self->store));
    mc_server_task_finished (self, job, task, false, 0);
}

void
mc_server_task_lost (void *arg, mc_task_t *task)
{
    char text [512];
    int64_t engine = task->target;
    if (task->target >= 0)
        snprintf (text, sizeof text, "engine %lld was lost before the task finished", (long long) engine);
    else
    if (task->deaths > 0) {
        //  A poison task: it killed every engine that ran it.
        engine = mc_job_poison_text (task->job, task, text, sizeof text);
        mc_error ("job %llu %s", (unsigned long long) mc_job_info (task->job)->id, text);
    }
    else
        snprintf (text, sizeof text, "its engine was lost and the controller had no memory to queue it again");
    mc_server_fail_task (arg, task, engine, MC_E_ENGINE_LOST, text);
}

//  --------------------------------------------------------------------------
//  Selftest: the shared state, and a task's end counted towards its job's.

void
mc_server_test (bool verbose)
{
    (void) verbose;
    printf (" * mc_server: ");
    mc_config_t config;
    mc_config_defaults (&config);
    mc_server_t server;
    assert (mc_server_init (&server, &config) == 0);
    msgpack_packer pk = mc_server_body (&server);
    msgpack_pack_uint8 (&pk, 7);
    pk = mc_server_body (&server);                      //  cleared each time
    msgpack_pack_nil (&pk);
    assert (server.buffer.size == 1);
    int code;
    char err [256];
    mc_job_t *job = mc_job_new_json (3, "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":[1,2,3],\"chunksize\":2}",
                                     &code, err, sizeof err);
    assert (job && mc_job_plan (job, NULL, 0) == 0 && mc_job_info (job)->tasks == 2);
    assert (zhashx_insert (server.jobs, (void *) (uintptr_t) 3, job) == 0);
    assert (mc_server_job (&server, 3) == job && mc_server_job (&server, 4) == NULL);
    //  A job is listed as finishing once its last task is.
    mc_server_task_finished (&server, job, mc_job_make_task (job), true, 10);
    assert (zlistx_size (server.finishing) == 0);
    mc_server_task_finished (&server, job, mc_job_make_task (job), true, 20);
    assert (zlistx_size (server.finishing) == 1 && zlistx_first (server.finishing) == job);
    assert (mc_job_info (job)->done == 3 && mc_job_is_finished (job));
    mc_server_fini (&server);
    printf ("OK\n");
}
