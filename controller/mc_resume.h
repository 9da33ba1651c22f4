/*  mc_resume: a restarted controller takes up the jobs its store holds
    unfinished (mc_proto.md §8). A load-balanced job keeps every result
    already committed and queues exactly the tasks without one: a task's
    random numbers come from the job's seed and its items, so a rerun gives
    the same bits, and goes on from the deaths and retries its tasks had
    counted. A direct job's missing tasks wait for the engines they were
    for to register again (engines outlive a crash and keep their ids and
    namespaces), and fail with ENGINE_LOST for an engine not back within
    engine_grace_ms of the restart. A job a client aborted runs none of
    its missing tasks: they fail with ABORTED. */
#ifndef MC_RESUME_H
#define MC_RESUME_H
#include "mc_server.h"

//  Rebuild and queue the unfinished jobs of server->store. Counts go into
//  *jobs, *kept (tasks whose results were committed) and *queued (tasks to
//  run again). 0, or -1 with err when the store cannot be read.
int mc_resume (mc_server_t *server, size_t *jobs, size_t *kept, size_t *queued, char *err, size_t errlen);
//  Take up the allocations of server->store that were not over when the
//  controller before this one died, through server->launcher
//  (mc_launcher_adopt: batch jobs are polled and cancellable again, other
//  kinds are ended), and number new ones after the highest id the store
//  ever held. *taken gets the engines requested by those of this kind
//  that are live again. 0, or -1 with err when the store cannot be read
//  (an allocation that cannot be taken up is logged, not an error).
int mc_resume_allocations (mc_server_t *server, const char *kind, size_t *taken, char *err, size_t errlen);
//  The store's row for what the launcher tells of an allocation
//  (mc_launcher_events_t.alloc_changed); its options stay info's.
void mc_resume_alloc_row (const mc_alloc_info_t *info, mc_store_alloc_t *row);
//  Housekeeping: once engine_grace_ms have passed since the restart, the
//  direct tasks still waiting for an engine that did not come back fail
//  with ENGINE_LOST. now is monotonic microseconds.
void mc_resume_tick (mc_server_t *server, int64_t now);
//  Self test: a store as a crash leaves it, taken up.
void mc_resume_test (bool verbose);
#endif
