/*  mc_launch_local: engines as child processes of the controller, on its
    host. They read the profile's engine.json (and so use its Unix
    socket); their deaths are seen at once (SIGCHLD) and the controller
    starts them again (mc_launcher_restart). */
#include "mc_launch.h"
#include <stdio.h>
#include "mc_log.h"
#include <stdlib.h>

int64_t
mc_launch_local_spawn (mc_alloc_t *alloc, char *err, size_t errlen)
{
    const mc_launcher_setup_t *setup = mc_alloc_setup (alloc);
    size_t extra = 0;
    while (setup->engine_args && setup->engine_args [extra])
        extra++;
    //  argv: mcengine --file ENGINE_FILE ...: a restarted controller
    //  counts the engines that outlived its predecessor by it (ipclusterd).
    const char **argv = calloc (4 + extra, sizeof *argv);
    if (!argv) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    argv [0] = setup->engine_bin;
    argv [1] = "--file";
    argv [2] = setup->engine_file;
    for (size_t k = 0; k < extra; k++)
        argv [3 + k] = setup->engine_args [k];
    char launch [64];
    snprintf (launch, sizeof launch, "MCCLUSTER_LAUNCH=%s", mc_alloc_tag (alloc));
    const char *env [] = { launch, NULL };
    mc_spawn_t spawn = { .argv = argv, .env = env };
    int64_t pid = mc_alloc_spawn (alloc, MC_CHILD_ENGINE, &spawn, err, errlen);
    free (argv);
    return pid;
}

//  Engines started per turn of the controller's loop. A fork and exec
//  take a millisecond or two, so that the loop stays responsive (it
//  welcomes the engines started before, answers clients) while -n 1000
//  starts: starting them all at once held it for seconds, long enough
//  for the first engines to give up on their WELCOME and reconnect.
#define S_BATCH 16

static int
s_start_some (mc_alloc_t *alloc, char *err, size_t errlen)
{
    size_t at = mc_alloc_started (alloc);
    for (size_t k = 0; k < S_BATCH && at < mc_alloc_engines (alloc); k++, at++)
        if (mc_launch_local_spawn (alloc, err, errlen) < 0) {
            mc_alloc_set_started (alloc, mc_alloc_engines (alloc));      //  no more
            return -1;
        }
    mc_alloc_set_started (alloc, at);
    return 0;
}

static int
s_start (mc_alloc_t *alloc, char *err, size_t errlen)
{
    mc_alloc_set_started (alloc, 0);
    if (s_start_some (alloc, err, errlen))
        return -1;
    mc_alloc_set_state (alloc, MC_ALLOC_RUNNING, NULL);
    return 0;
}

//  The next batch, at each tick until all are started.
static void
s_tick (mc_alloc_t *alloc)
{
    char err [1024];
    if (mc_alloc_started (alloc) < mc_alloc_engines (alloc) && s_start_some (alloc, err, sizeof err))
        mc_error ("%s: %s: the engines not started yet will not be", mc_alloc_tag (alloc), err);
}

//  Engine exits are the launcher's events (restarts); nothing else runs.
static void
s_exited (mc_alloc_t *alloc, mc_child_role_t role, const char *label, int status, const char *out)
{
    (void) alloc, (void) role, (void) label, (void) status, (void) out;
}

static const char *const s_keys [] = { NULL };

const mc_launch_kind_t mc_launch_local = {
    "local", "engines on this host, as child processes (the default)", s_keys, s_start, s_exited, NULL, NULL,
    s_tick, "its controller died: its engines, that controller's children, were left alone (they exit unless a "
    "controller answers within engine_grace_ms); those that came back serve on, are not restarted, and stop with "
    "the cluster", NULL
};
