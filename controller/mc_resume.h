/*  mc_resume: a restarted controller takes up the jobs its store holds
    unfinished (mc_proto.md §8). A load-balanced job keeps every result
    already committed and queues exactly the tasks without one: a task's
    random numbers come from the job's seed and its items, so a rerun gives
    the same bits. A direct job's missing tasks fail with ENGINE_LOST: the
    engines they were for may never come back. A job a client aborted runs
    none of its missing tasks: they fail with ABORTED. */
#ifndef MC_RESUME_H
#define MC_RESUME_H
#include "mc_server.h"

//  Rebuild and queue the unfinished jobs of server->store. Counts go into
//  *jobs, *kept (tasks whose results were committed) and *queued (tasks to
//  run again). 0, or -1 with err when the store cannot be read.
int mc_resume (mc_server_t *server, size_t *jobs, size_t *kept, size_t *queued, char *err, size_t errlen);
//  Self test: a store as a crash leaves it, taken up.
void mc_resume_test (bool verbose);
#endif
