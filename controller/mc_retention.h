/*  mc_retention: what ends a job early and what leaves the store: the
    `abort` and `purge` operations (mc_proto.md §6, §8). An aborted job's
    waiting tasks fail at once with ABORTED; the engines running its tasks
    are sent CANCEL, which raises those kernels' cancel flags (and restarts
    an engine whose kernel ignores it past abort_grace_ms), and the job
    ends as `aborted` when the last of them is back. A purge deletes finished jobs and their results and
    gives their pages back to the file system; a job still in memory (not
    finished, not yet committed, or waited on) is never purged. */
#ifndef MC_RETENTION_H
#define MC_RETENTION_H
#include "mc_proto.h"
#include "mc_server.h"

//  The handlers of MC_OP_ABORT and MC_OP_PURGE, for mc_api's table.
void mc_retention_abort_op (mc_server_t *server, mc_msg_t *msg, const msgpack_object *body);
void mc_retention_purge_op (mc_server_t *server, mc_msg_t *msg, const msgpack_object *body);
//  The aborted jobs with tasks in flight on this engine, which is about to
//  be reset or forgotten (its tasks then go back to the queues): a new
//  list, or NULL when there is none.
zlistx_t *mc_retention_aborted_inflight (mc_engine_t *engine);
//  Those tasks of these jobs came back to the queues: fail them with
//  ABORTED, never run them again. Takes the list (NULL: nothing to do).
void mc_retention_requeued (mc_server_t *server, zlistx_t **jobs_p);
//  Housekeeping (at most once a second): purge finished jobs older than
//  result_ttl_s, and the oldest finished jobs while the store is larger
//  than store_max_bytes; never a job in memory (unfinished, not yet
//  committed, or waited on). Off when both are 0.
void mc_retention_tick (mc_server_t *server, int64_t now_us);
//  Self test: the tasks of an aborted job that come back from an engine.
void mc_retention_test (bool verbose);
#endif
