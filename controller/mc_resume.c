/*  mc_resume: unfinished jobs back from the store after a restart. */
#include "mc_resume.h"
#include "mc_log.h"
#include <assert.h>
#include <stdlib.h>

//  What a task of an aborted job that had no result gets after a restart.
#define S_ABORTED_TEXT "aborted by a client (the controller restarted before the task finished)"

typedef struct {
    mc_server_t *server;
    size_t jobs, kept, queued;
} s_resume_t;

typedef struct {
    mc_job_t *job;
    size_t kept;
} s_marks_t;

//  A task with a committed result is finished already, and never made.
static void
s_mark (void *arg, uint64_t number, uint64_t status)
{
    s_marks_t *marks = arg;
    if (mc_job_mark_stored (marks->job, number, status == 0))
        marks->kept++;
}

static int
s_job (void *arg, uint64_t id, uint64_t seed, int64_t submitted_us, const void *body, size_t size)
{
    s_resume_t *resume = arg;
    mc_server_t *server = resume->server;
    int code;
    char err [512];
    mc_job_t *job = mc_job_new (id, body, size, seed, &code, err, sizeof err);
    mc_job_info_t stored;
    if (!job || mc_store_job_info (server->store, id, &stored)) {
        mc_error ("job %llu cannot be resumed: %s", (unsigned long long) id, job? mc_store_error (server->store): err);
        mc_job_destroy (&job);
        return 0;
    }
    mc_job_info_t *info = mc_job_info (job);
    info->submitted_us = submitted_us;
    //  A direct job's blocks depend only on how many engines it went to.
    bool direct = mc_job_targets (job) != NULL;
    int32_t *ids = direct? calloc (stored.tasks + 1, sizeof *ids): NULL;
    for (uint64_t i = 0; ids && i < stored.tasks; i++)
        ids [i] = (int32_t) i;
    s_marks_t marks = { job, 0 };
    if ((direct && !ids) || mc_job_plan (job, ids, direct? stored.tasks: 0) || info->tasks != stored.tasks
    ||  mc_store_each_result (server->store, id, s_mark, &marks)
    ||  zhashx_insert (server->jobs, (void *) (uintptr_t) id, job)) {
        mc_error ("job %llu cannot be resumed: out of memory, or its tasks do not match the store's", (unsigned long long) id);
        free (ids);
        mc_job_destroy (&job);
        return 0;
    }
    free (ids);
    info->started = marks.kept > 0;
    info->aborted = stored.aborted;
    resume->jobs++;
    resume->kept += marks.kept;
    if (direct) {
        for (uint64_t i = 0; i < info->tasks; i++) {
            mc_task_t *task = mc_job_task (job, i);
            if (task->state == MC_TASK_WAITING)
                mc_server_fail_task (server, task, -1, info->aborted? MC_E_ABORTED: MC_E_ENGINE_LOST,
                                     info->aborted? S_ABORTED_TEXT
                                     : "the controller restarted before this direct task finished (direct tasks are not run again)");
        }
    }
    else
    if (info->aborted) {
        //  None of its tasks runs again: each is made only to fail.
        mc_task_t *task;
        while ((task = mc_job_make_task (job)))
            mc_server_fail_task (server, task, -1, MC_E_ABORTED, S_ABORTED_TEXT);
    }
    else {
        //  The tasks without a result are made as engines take them,
        //  skipping the marked ones.
        uint64_t unmade = mc_job_unmade (job);
        mc_task_t *task;
        if (mc_sched_queue_job (server->sched, job) == 0)
            resume->queued += unmade;
        else
            while ((task = mc_job_make_task (job)))
                mc_server_fail_task (server, task, -1, MC_E_INTERNAL, "controller out of memory");
    }
    //  All its results were in: it only lacked its end, which comes now.
    if (mc_job_is_finished (job) && !zlistx_find (server->finishing, job))
        zlistx_add_end (server->finishing, job);
    return 0;
}

int
mc_resume (mc_server_t *server, size_t *jobs, size_t *kept, size_t *queued, char *err, size_t errlen)
{
    s_resume_t resume = { server, 0, 0, 0 };
    if (mc_store_each_unfinished (server->store, s_job, &resume)) {
        snprintf (err, errlen, "cannot read the unfinished jobs from the store: %s", mc_store_error (server->store));
        return -1;
    }
    *jobs = resume.jobs;
    *kept = resume.kept;
    *queued = resume.queued;
    return 0;
}

//  --------------------------------------------------------------------------
//  Selftest: a store left by a crash (a load-balanced map with some results
//  committed, a direct apply with none, a job with all its results but not
//  its end) comes back as it should.

void
mc_resume_test (bool verbose)
{
    (void) verbose;
    printf (" * mc_resume: ");
    char dir [] = "/tmp/mc_resume_test.XXXXXX", path [64], err [256];
    assert (mkdtemp (dir));
    snprintf (path, sizeof path, "%s/store.db", dir);
    mc_config_t config;
    mc_config_defaults (&config);
    mc_store_t *store = mc_store_new (path, err, sizeof err);
    assert (store);
    const char *bodies [] = {
        "{\"kind\":\"map\",\"kernel\":\"square\",\"seq\":{\"range\":[0,10,1]},\"chunksize\":3}",  //  4 tasks
        "{\"kind\":\"apply\",\"kernel\":\"square\",\"args\":[2],\"targets\":[0,1]}",              //  2 direct
        "{\"kind\":\"apply\",\"kernel\":\"square\",\"args\":[5]}",                                //  all in
        "{\"kind\":\"map\",\"kernel\":\"square\",\"seq\":[1,2,3]}",                                //  aborted
    };
    for (uint64_t id = 1; id <= 4; id++) {
        int code;
        mc_job_t *job = mc_job_new_json (id, bodies [id - 1], &code, err, sizeof err);
        int32_t targets [2] = { 0, 1 };
        assert (job && mc_job_plan (job, id == 2? targets: NULL, id == 2? 2: 0) == 0);
        size_t size;
        const void *body = mc_job_body (job, &size);
        assert (mc_store_add_job (store, mc_job_info (job), body, size) == 0);
        mc_job_destroy (&job);
    }
    //  Map tasks 1 and 3 done (one of them failed); the last apply done.
    assert (mc_store_add_result (store, 1, 1, 3, 3, 0, 0, "\x93\x09\x10\x19", 4, NULL, 0, 1, 2, NULL, 0) == 0);
    assert (mc_store_add_result (store, 1, 3, 9, 1, 1, MC_E_KERNEL_ERROR, NULL, 0, "boom", 4, 1, 2, NULL, 0) == 0);
    assert (mc_store_add_result (store, 3, 0, 0, 0, 0, 0, "\x19", 1, NULL, 0, 1, 2, NULL, 0) == 0);
    //  The aborted map: one task done before the abort, none after.
    assert (mc_store_add_result (store, 4, 0, 0, 1, 0, 0, "\x91\x01", 2, NULL, 0, 1, 2, NULL, 0) == 0);
    assert (mc_store_abort_job (store, 4) == 0);
    assert (mc_store_flush (store) == 0);

    mc_server_t server;
    assert (mc_server_init (&server, &config) == 0);
    server.store = store;
    server.sched = mc_sched_new (server.registry, 4, 5000, 3, NULL, NULL);
    assert (server.sched);
    size_t jobs, kept, queued;
    assert (mc_resume (&server, &jobs, &kept, &queued, err, sizeof err) == 0);
    assert (jobs == 4 && kept == 4 && queued == 2 && mc_sched_waiting (server.sched) == 2);
    //  The map waits for tasks 0 and 2, its counts kept; the direct apply
    //  failed (its engines may not come back); the last one only ends.
    mc_job_info_t *map = mc_job_info (mc_server_job (&server, 1));
    assert (map->done == 3 && map->failed == 1 && map->started);
    mc_job_t *direct = mc_server_job (&server, 2), *whole = mc_server_job (&server, 3);
    assert (mc_job_is_finished (direct) && mc_job_info (direct)->failed == 2);
    assert (mc_job_is_finished (whole) && mc_job_info (whole)->done == 1);
    //  The aborted one runs nothing again: it ends aborted.
    mc_job_t *aborted = mc_server_job (&server, 4);
    assert (mc_job_is_finished (aborted) && mc_job_info (aborted)->aborted);
    assert (mc_job_info (aborted)->done == 1 && mc_job_info (aborted)->failed == 2);
    assert (zlistx_size (server.finishing) == 3);
    mc_sched_destroy (&server.sched);
    mc_server_fini (&server);
    mc_store_destroy (&store);
    char command [128];
    snprintf (command, sizeof command, "rm -rf '%s'", dir);
    assert (system (command) == 0);
    printf ("OK\n");
}
