/*  mc_resume: unfinished jobs back from the store after a restart. */
#include "mc_resume.h"
#include "mc_log.h"
#include "mc_time.h"
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

//  Engine ids, comma separated ("0,1,2"), into ids (room for max): how
//  many, or -1 when the text is not such a list.
static ssize_t
s_parse_ids (const char *text, int32_t *ids, size_t max)
{
    size_t count = 0;
    for (const char *at = text; *at; ) {
        char *end;
        long id = strtol (at, &end, 10);
        if (end == at || id < 0 || id > INT32_MAX || count == max || (*end && *end != ','))
            return -1;
        ids [count++] = (int32_t) id;
        at = *end? end + 1: end;
    }
    return (ssize_t) count;
}

//  What a task went through before the restart: its retries, and the
//  engines it killed, in order (mc_job counts them again, and names them
//  in a poison task's error).
static void
s_counts (void *arg, uint64_t number, uint32_t retries, const char *engines)
{
    s_marks_t *marks = arg;
    int32_t ids [256];
    ssize_t count = s_parse_ids (engines, ids, sizeof ids / sizeof ids [0]);
    if (count < 0) {
        mc_warn ("job %llu task %llu: its deaths in the store are not ours (%.64s): not counted",
                 (unsigned long long) mc_job_info (marks->job)->id, (unsigned long long) number, engines);
        count = 0;
    }
    if (mc_job_resume_counts (marks->job, number, retries, ids, (size_t) count))
        mc_warn ("out of memory: the deaths and retries of job %llu task %llu are not all counted",
                 (unsigned long long) mc_job_info (marks->job)->id, (unsigned long long) number);
}

//  The engine ids a direct job's tasks were for, one per task, into *ids
//  (caller frees): recorded with the job, or its own list of targets in
//  a store from before they were recorded. 0, or -1 when they are not
//  known ("all" unrecorded) or out of memory.
static int
s_direct_ids (mc_job_t *job, const char *recorded, uint64_t tasks, int32_t **ids)
{
    const msgpack_object *targets = mc_job_targets (job);
    *ids = calloc (tasks + 1, sizeof **ids);
    if (!*ids)
        return -1;
    if (*recorded)
        return s_parse_ids (recorded, *ids, tasks) == (ssize_t) tasks? 0: -1;
    if (targets->type != MSGPACK_OBJECT_ARRAY || targets->via.array.size != tasks)
        return -1;
    for (uint64_t i = 0; i < tasks; i++)
        (*ids) [i] = (int32_t) targets->via.array.ptr [i].via.u64;
    return 0;
}

//  Queue a direct job's tasks without a result for their engines, which
//  may not be back yet: how many.
static size_t
s_direct_queue (mc_server_t *server, mc_job_t *job)
{
    mc_job_info_t *info = mc_job_info (job);
    size_t queued = 0;
    for (uint64_t i = 0; i < info->tasks; i++) {
        mc_task_t *task = mc_job_task (job, i);
        if (task->state != MC_TASK_WAITING)
            continue;
        if (info->aborted)
            mc_server_fail_task (server, task, -1, MC_E_ABORTED, S_ABORTED_TEXT);
        else
        if (info->kind [0] == 'm' && task->count == 0)
            mc_server_task_finished (server, job, task, true, 0);  //  an empty block has nothing to run
        else
        if (mc_sched_await (server->sched, task))
            mc_server_fail_task (server, task, -1, MC_E_INTERNAL, "controller out of memory");
        else
            queued++;
    }
    return queued;
}

static int
s_job (void *arg, uint64_t id, uint64_t seed, int64_t submitted_us, const void *body, size_t size,
       const char *targets)
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
    //  Its share as it was: renice may have changed its priority since.
    info->priority = stored.priority;
    memcpy (info->user, stored.user, sizeof info->user);
    memcpy (info->user_key, stored.user_key, sizeof info->user_key);
    bool direct = mc_job_targets (job) != NULL;
    int32_t *ids = NULL;
    //  Engines not known (a store from before they were recorded): a
    //  direct map's blocks depend only on how many engines it went to, and
    //  its tasks without a result fail below.
    bool known = direct && s_direct_ids (job, targets, stored.tasks, &ids) == 0;
    for (uint64_t i = 0; ids && !known && i < stored.tasks; i++)
        ids [i] = -1;
    s_marks_t marks = { job, 0 };
    if ((direct && !ids) || mc_job_plan (job, ids, direct? stored.tasks: 0) || info->tasks != stored.tasks
    ||  mc_store_each_result (server->store, id, s_mark, &marks)
    ||  mc_store_each_task_counts (server->store, id, s_counts, &marks)
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
    if (direct && known)
        resume->queued += s_direct_queue (server, job);
    else
    if (direct) {
        for (uint64_t i = 0; i < info->tasks; i++) {
            mc_task_t *task = mc_job_task (job, i);
            if (task->state == MC_TASK_WAITING)
                mc_server_fail_task (server, task, -1, info->aborted? MC_E_ABORTED: MC_E_ENGINE_LOST,
                                     info->aborted? S_ABORTED_TEXT
                                     : "the controller restarted before this direct task finished, and the store"
                                       " does not say which engine it was for");
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
    //  An engine that outlived the crash is back within seconds; one that
    //  is not back after engine_grace_ms has given up on its controller
    //  and exited (§4), so its tasks can never run.
    if (mc_sched_awaited (server->sched))
        server->awaited_until_us = mc_time_mono_us () + server->config.engine_grace_ms * 1000;
    return 0;
}

typedef struct {
    mc_launcher_t *launcher;
    const char *kind;
    size_t taken;
} s_allocs_t;

static int
s_alloc (void *arg, const mc_store_alloc_t *stored, const char *const *opts)
{
    s_allocs_t *allocs = arg;
    mc_alloc_info_t info = { stored->id, stored->kind, (size_t) stored->engines, stored->job, MC_ALLOC_PENDING,
                             stored->reason, opts };
    //  A state not ours (a newer controller's): asked again, if it has a job.
    if (mc_alloc_state_parse (stored->state, &info.state))
        mc_warn ("allocation a%u: unknown state '%s' in the store: taken as pending", stored->id, stored->state);
    size_t before = mc_launcher_requested (allocs->launcher);
    char err [256];
    if (mc_launcher_adopt (allocs->launcher, &info, err, sizeof err))
        mc_error ("allocation a%u (%s%s%s) cannot be taken up: %s", stored->id, stored->kind,
                  *stored->job? " job ": "", stored->job, err);
    else
    if (!strcmp (stored->kind, allocs->kind))
        allocs->taken += mc_launcher_requested (allocs->launcher) - before;
    return 0;
}

void
mc_resume_alloc_row (const mc_alloc_info_t *info, mc_store_alloc_t *row)
{
    *row = (mc_store_alloc_t) { .id = info->id, .engines = info->engines };
    snprintf (row->kind, sizeof row->kind, "%s", info->kind);
    snprintf (row->job, sizeof row->job, "%s", info->job);
    snprintf (row->state, sizeof row->state, "%s", mc_alloc_state_name (info->state));
    snprintf (row->reason, sizeof row->reason, "%s", info->reason);
}

int
mc_resume_allocations (mc_server_t *server, const char *kind, size_t *taken, char *err, size_t errlen)
{
    s_allocs_t allocs = { server->launcher, kind, 0 };
    uint32_t next = mc_store_next_alloc_id (server->store);
    if (!next || mc_store_each_alloc (server->store, s_alloc, &allocs)) {
        snprintf (err, errlen, "cannot read the allocations from the store: %s", mc_store_error (server->store));
        return -1;
    }
    mc_launcher_set_next_id (server->launcher, next);
    *taken = allocs.taken;
    return 0;
}

static void
s_not_back (void *arg, mc_task_t *task)
{
    mc_server_t *server = arg;
    char text [256];
    snprintf (text, sizeof text, "engine %d did not come back within engine_grace_ms=%lld of the controller's restart",
              task->target, (long long) server->config.engine_grace_ms);
    mc_server_fail_task (server, task, task->target, MC_E_ENGINE_LOST, text);
}

void
mc_resume_tick (mc_server_t *server, int64_t now)
{
    if (server->awaited_until_us == 0 || now < server->awaited_until_us)
        return;
    server->awaited_until_us = 0;
    size_t lost = mc_sched_drop_awaited (server->sched, s_not_back, server);
    if (lost)
        mc_warn ("%zu direct tasks failed: their engines did not come back within engine_grace_ms=%lld of the restart",
                 lost, (long long) server->config.engine_grace_ms);
}

//  --------------------------------------------------------------------------
//  Selftest: a store left by a crash (a load-balanced map with some results
//  committed and a task that killed engines, a direct apply with none, a
//  job with all its results but not its end, an aborted one) comes back as
//  it should.

typedef struct {
    mc_task_t *task [8];
    int32_t to [8];
    size_t count;
} s_test_sent_t;

static void
s_test_send (void *arg, mc_engine_t *engine, mc_task_t *task)
{
    s_test_sent_t *sent = arg;
    assert (sent->count < 8);
    sent->task [sent->count] = task;
    sent->to [sent->count++] = mc_engine_id (engine);
}

static mc_engine_t *
s_test_engine (mc_server_t *server, const char *uuid, int64_t want_id)
{
    zframe_t *rid = zframe_new (uuid, strlen (uuid));
    char **kernels = calloc (2, sizeof *kernels);
    assert (rid && kernels && (kernels [0] = strdup ("square")));
    bool replaced;
    mc_engine_t *engine = mc_registry_register (server->registry, uuid, want_id, "host", 1, rid, kernels, 1, 0, &replaced);
    zframe_destroy (&rid);
    assert (engine);
    mc_sched_engine_ready (server->sched, engine);
    return engine;
}

//  What ipclusterd does with the launcher's news: store it.
static void
s_test_alloc_changed (void *arg, const mc_alloc_info_t *info)
{
    mc_server_t *server = arg;
    mc_store_alloc_t row;
    mc_resume_alloc_row (info, &row);
    assert (mc_store_put_alloc (server->store, &row, info->opts) == 0);
}

static int
s_test_alloc_row (void *arg, const mc_store_alloc_t *alloc, const char *const *opts)
{
    struct { mc_store_alloc_t *seen; size_t *count; } *into = arg;
    (void) opts;
    assert (*into->count < 4);
    into->seen [(*into->count)++] = *alloc;
    return 0;
}

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
        "{\"kind\":\"apply\",\"kernel\":\"square\",\"args\":[2],\"targets\":\"all\"}",              //  engines 3, 1
        "{\"kind\":\"apply\",\"kernel\":\"square\",\"args\":[5]}",                                //  all in
        "{\"kind\":\"map\",\"kernel\":\"square\",\"seq\":[1,2,3]}",                                //  aborted
    };
    for (uint64_t id = 1; id <= 4; id++) {
        int code;
        mc_job_t *job = mc_job_new_json (id, bodies [id - 1], &code, err, sizeof err);
        int32_t targets [2] = { 3, 1 };
        assert (job && mc_job_plan (job, id == 2? targets: NULL, id == 2? 2: 0) == 0);
        size_t size;
        const void *body = mc_job_body (job, &size);
        assert (mc_store_add_job (store, mc_job_info (job), body, size) == 0);
        assert (id != 2 || mc_store_job_targets (store, id, targets, 2) == 0);
        mc_job_destroy (&job);
    }
    //  Map tasks 1 and 3 done (one of them failed); the last apply done.
    assert (mc_store_add_result (store, 1, 1, 3, 3, 0, 0, "\x93\x09\x10\x19", 4, NULL, 0, 1, 2, NULL, 0) == 0);
    assert (mc_store_add_result (store, 1, 3, 9, 1, 1, MC_E_KERNEL_ERROR, NULL, 0, "boom", 4, 1, 2, NULL, 0) == 0);
    assert (mc_store_add_result (store, 3, 0, 0, 0, 0, 0, "\x19", 1, NULL, 0, 1, 2, NULL, 0) == 0);
    //  The aborted map: one task done before the abort, none after.
    assert (mc_store_add_result (store, 4, 0, 0, 1, 0, 0, "\x91\x01", 2, NULL, 0, 1, 2, NULL, 0) == 0);
    assert (mc_store_abort_job (store, 4) == 0);
    //  Map task 0 killed engines 0 and 1 and was retried once.
    assert (mc_store_task_died (store, 1, 0, 0) == 0 && mc_store_task_died (store, 1, 0, 1) == 0);
    assert (mc_store_task_retried (store, 1, 0, 1) == 0);
    assert (mc_store_flush (store) == 0);

    mc_server_t server;
    assert (mc_server_init (&server, &config) == 0);
    server.store = store;
    s_test_sent_t sent = { .count = 0 };
    server.sched = mc_sched_new (server.registry, 4, 5000, 3, s_test_send, &sent);
    assert (server.sched);
    size_t jobs, kept, queued;
    assert (mc_resume (&server, &jobs, &kept, &queued, err, sizeof err) == 0);
    assert (jobs == 4 && kept == 4 && queued == 4 && mc_sched_waiting (server.sched) == 4);
    //  The map waits for tasks 0 and 2, its counts kept; the direct apply
    //  waits for engines 3 and 1, until engine_grace_ms after the restart;
    //  the last one only ends.
    mc_job_t *lb = mc_server_job (&server, 1);
    mc_job_info_t *map = mc_job_info (lb);
    assert (map->done == 3 && map->failed == 1 && map->started);
    mc_job_t *direct = mc_server_job (&server, 2), *whole = mc_server_job (&server, 3);
    assert (!mc_job_is_finished (direct) && mc_sched_awaited (server.sched) == 2 && server.awaited_until_us > 0);
    assert (mc_job_is_finished (whole) && mc_job_info (whole)->done == 1);
    //  A new engine takes neither kept id, and the load-balanced tasks:
    //  task 0 goes on from its deaths and retries, task 2 from none.
    mc_engine_t *fresh = s_test_engine (&server, "fresh", -1);
    assert (mc_engine_id (fresh) == 0 && sent.count == 2 && sent.task [0]->job == lb && sent.task [0]->number == 0);
    assert (sent.task [0]->deaths == 2 && sent.task [0]->retries == 1);
    assert (sent.task [1]->number == 2 && sent.task [1]->deaths == 0 && sent.task [1]->retries == 0);
    char text [256];
    mc_job_poison_text (lb, sent.task [0], text, sizeof text);
    assert (strstr (text, "killed 2 engines (engines 0, 1)"));
    //  Engine 1 comes back: its direct task goes to it first.
    mc_engine_t *one = s_test_engine (&server, "one", 1);
    assert (mc_engine_id (one) == 1 && sent.count == 3 && sent.to [2] == 1);
    assert (sent.task [2]->job == direct && sent.task [2]->number == 1 && mc_sched_awaited (server.sched) == 1);
    //  Engine 3 does not come back in time: its task fails.
    mc_resume_tick (&server, server.awaited_until_us - 1);
    assert (mc_sched_awaited (server.sched) == 1);
    mc_resume_tick (&server, server.awaited_until_us);
    assert (mc_sched_awaited (server.sched) == 0 && server.awaited_until_us == 0);
    assert (mc_job_info (direct)->failed == 1 && !mc_job_is_finished (direct));
    //  The aborted one runs nothing again: it ends aborted.
    mc_job_t *aborted = mc_server_job (&server, 4);
    assert (mc_job_is_finished (aborted) && mc_job_info (aborted)->aborted);
    assert (mc_job_info (aborted)->done == 1 && mc_job_info (aborted)->failed == 2);
    assert (zlistx_size (server.finishing) == 2);

    //  Allocations: a PBS job is taken up and its engines count for its
    //  kind; a local allocation is ended, and says so in the store; a new
    //  one is numbered after the highest id ever stored (a cancelled a9).
    mc_store_alloc_t rows [] = {
        { .id = 2, .kind = "pbs", .engines = 4, .job = "17", .state = "running", .reason = "" },
        { .id = 5, .kind = "local", .engines = 2, .job = "", .state = "running", .reason = "" },
        { .id = 9, .kind = "pbs", .engines = 1, .job = "18", .state = "cancelled", .reason = "stopped by a client" },
    };
    const char *opts [] = { "qstat=/bin/true", "qdel=/bin/true", NULL };     //  stand-ins: no batch system here
    for (size_t i = 0; i < 3; i++)
        assert (mc_store_put_alloc (store, &rows [i], opts) == 0);
    assert (mc_store_flush (store) == 0);
    mc_launcher_setup_t setup = { .engine_bin = "/bin/true", .profile_dir = dir };
    mc_launcher_events_t events = { .arg = &server, .alloc_changed = s_test_alloc_changed };
    server.launcher = mc_launcher_new (&setup, &events);
    assert (server.launcher);
    size_t taken;
    assert (mc_resume_allocations (&server, "pbs", &taken, err, sizeof err) == 0 && taken == 4);
    assert (mc_launcher_find_job (server.launcher, "17") == 2 && mc_launcher_requested (server.launcher) == 4);
    assert (mc_launcher_find_job (server.launcher, "a5") == 5 && mc_launcher_find_job (server.launcher, "a9") == -1);
    assert (mc_launcher_add (server.launcher, "local", 1, NULL, err, sizeof err) == 10);
    //  What the store has now: a5 ended (forgotten at the next start), a2 taken up.
    mc_store_alloc_t seen [4];
    size_t count = 0;
    struct { mc_store_alloc_t *seen; size_t *count; } into = { seen, &count };
    assert (mc_store_each_alloc (store, s_test_alloc_row, &into) == 0 && count == 2);
    assert (seen [0].id == 2 && !strcmp (seen [0].state, "running") && strstr (seen [0].reason, "taken up"));
    assert (seen [1].id == 10);
    mc_launcher_stop (server.launcher, 1000);
    mc_launcher_destroy (&server.launcher);

    mc_sched_destroy (&server.sched);
    mc_server_fini (&server);
    mc_store_destroy (&store);
    char command [128];
    snprintf (command, sizeof command, "rm -rf '%s'", dir);
    assert (system (command) == 0);
    printf ("OK\n");
}
