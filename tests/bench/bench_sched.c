/*  bench_sched: the scheduler alone (mc_sched, in-process, no sockets):
    CPU per task chosen, sent (to a callback that does nothing) and
    finished, with 1, 100 and 10,000 load-balanced jobs active at once, on
    ENGINES engines. It isolates what fair share adds per task from the
    controller's I/O, which tests/bench/bench_fair.sh measures end to end.

        bench_sched [TASKS_PER_RUN [ENGINES [JOBS...]]]

    (defaults 1000000, 8, and 1 100 10000) prints JSON: ns of CPU per
    task for each count of jobs. With many jobs each task touches another
    job's memory (jobs take turns), so the figure includes cache misses
    that one job does not have; that cost levels off with the jobs' memory
    past the cache, while a scan would grow with the count. */
#include "mc_sched.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static mc_task_t **s_sent;          //  the tasks in flight, as sent
static size_t s_count;

static void
s_send (void *arg, mc_engine_t *engine, mc_task_t *task)
{
    (void) arg; (void) engine;
    s_sent [s_count++] = task;
}

static double
s_cpu_ns (void)
{
    struct timespec t;
    clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

//  ns of CPU per task: `jobs` jobs of tasks / jobs tasks each, drained by
//  `engines` engines (each result comes back at once, oldest first).
static double
s_run (size_t jobs, size_t tasks, size_t engines)
{
    mc_registry_t *registry = mc_registry_new ();
    mc_sched_t *sched = mc_sched_new (registry, 1, 5000, 3, s_send, NULL);
    mc_engine_t **engine = calloc (engines, sizeof *engine);
    mc_job_t **job = calloc (jobs, sizeof *job);
    s_sent = calloc (engines * 2 + 1, sizeof *s_sent);
    size_t per = tasks / jobs;
    char json [160], err [256];
    int code;
    snprintf (json, sizeof json, "{\"kind\":\"map\",\"kernel\":\"noop\",\"seq\":{\"range\":[0,%zu,1]}}", per);
    for (size_t i = 0; i < jobs; i++) {
        job [i] = mc_job_new_json (i + 1, json, &code, err, sizeof err);
        if (!job [i] || mc_job_plan (job [i], NULL, 0) || mc_sched_queue_job (sched, job [i]))
            return fprintf (stderr, "bench_sched: %s\n", err), -1;
    }
    for (size_t i = 0; i < engines; i++) {
        char uuid [32];
        snprintf (uuid, sizeof uuid, "e%zu", i);
        zframe_t *rid = zframe_new (uuid, strlen (uuid));
        char **kernels = calloc (2, sizeof *kernels);
        kernels [0] = strdup ("noop");
        bool replaced;
        engine [i] = mc_registry_register (registry, uuid, -1, "host", 1, rid, kernels, 1, 0, &replaced);
        zframe_destroy (&rid);
    }
    double start = s_cpu_ns ();
    for (size_t i = 0; i < engines; i++)
        mc_sched_engine_ready (sched, engine [i]);
    size_t done = 0, at = 0;
    while (at < s_count) {
        mc_task_t *task = s_sent [at++];
        mc_engine_t *owner = mc_registry_lookup (registry, task->engine);
        mc_job_task_finished (task->job, task, true, 100000);
        //  The ring of sent tasks wraps: engines hold one task each.
        if (at == s_count)
            at = s_count = 0;
        else
        if (s_count == engines * 2) {
            for (size_t k = at; k < s_count; k++)
                s_sent [k - at] = s_sent [k];
            s_count -= at;
            at = 0;
        }
        mc_sched_task_done (sched, owner, task);
        done++;
    }
    double ns = (s_cpu_ns () - start) / (double) done;
    for (size_t i = 0; i < jobs; i++)
        mc_job_destroy (&job [i]);
    mc_sched_destroy (&sched);
    mc_registry_destroy (&registry);
    free (engine);
    free (job);
    free (s_sent);
    return done == per * jobs? ns: -1;
}

int
main (int argc, char **argv)
{
    size_t tasks = argc > 1? (size_t) atol (argv [1]): 1000000;
    size_t engines = argc > 2? (size_t) atol (argv [2]): 8;
    size_t counts [16] = { 1, 100, 10000 }, ncounts = 3;
    if (argc > 3)
        for (ncounts = 0; ncounts < 16 && ncounts + 3 < (size_t) argc; ncounts++)
            counts [ncounts] = (size_t) atol (argv [ncounts + 3]);
    printf ("{\"tasks\": %zu, \"engines\": %zu", tasks, engines);
    for (size_t i = 0; i < ncounts; i++)
        printf (", \"ns_per_task_%zu_jobs\": %.0f", counts [i], s_run (counts [i], tasks, engines));
    printf ("}\n");
    return 0;
}
