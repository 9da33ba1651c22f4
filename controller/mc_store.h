/*  mc_store: the job store, an SQLite database in the profile directory.
    Writes go into one open transaction that mc_store_flush commits, so
    that many results cost one commit (WAL, synchronous=NORMAL). Reads see
    the open transaction, so nothing written is ever invisible. */
#ifndef MC_STORE_H
#define MC_STORE_H
#include "mc_job.h"
#include <msgpack.h>

typedef struct _mc_store_t mc_store_t;

//  Open (creating if needed) the store at path. NULL with err on failure
//  (out of memory included).
mc_store_t *mc_store_new (const char *path, char *err, size_t errlen);
void mc_store_destroy (mc_store_t **self_p);
//  The next unused job id (ids survive restarts, and start at 1), or 0
//  when the store cannot be read.
uint64_t mc_store_next_job_id (mc_store_t *self);
//  Record a new job with its submit body. 0 or -1.
int mc_store_add_job (mc_store_t *self, const mc_job_info_t *info, const void *body, size_t size);
//  Record a finished task. data is the msgpack array of its item values
//  (ok) and error the message (failed); meta a msgpack map of what the
//  kernel reported, or empty. 0 or -1.
int mc_store_add_result (mc_store_t *self, uint64_t job, uint64_t task, uint64_t first, uint64_t count,
                         int64_t engine, uint64_t status, const void *data, size_t size,
                         const char *error, size_t error_len, int64_t started_us, int64_t finished_us,
                         const void *meta, size_t meta_size);
//  Record a job's final counts and finish time. 0 or -1.
int mc_store_finish_job (mc_store_t *self, const mc_job_info_t *info);
//  Commit what is pending. 0 or -1.
int mc_store_flush (mc_store_t *self);
//  Writes waiting for the next flush.
size_t mc_store_pending (const mc_store_t *self);
//  Load a job's status. 0, or -1 when there is no such job (or it cannot
//  be read).
int mc_store_job_info (mc_store_t *self, uint64_t id, mc_job_info_t *info);
//  Ids of the newest jobs, newest first; returns how many were written.
size_t mc_store_recent_jobs (mc_store_t *self, uint64_t *ids, size_t limit);
//  Pack "results" (all item values in order, nil for failed items) and
//  "errors" (one entry per distinct message with count, engines and
//  tasks) as two key/value pairs of an open map. 0, or -1 when out of
//  memory or the store cannot be read: what was packed is then incomplete
//  and must be discarded.
int mc_store_pack_results (mc_store_t *self, const mc_job_info_t *info, msgpack_packer *pk);
//  The last SQLite error message.
const char *mc_store_error (mc_store_t *self);

//  Per task of a job, in task order: {"task", "engine", "ok", "started",
//  "finished", "meta"} (times in Unix seconds). 0, or -1 as for
//  mc_store_pack_results.
int mc_store_pack_meta (mc_store_t *self, const mc_job_info_t *info, msgpack_packer *pk);
//  After a restart: the jobs that never finished, oldest first, each with
//  its seed, submission time and submit body (for mc_job_new); fn returns
//  0 to go on. 0, or -1 with the store's error.
typedef int (mc_store_job_fn) (void *arg, uint64_t id, uint64_t seed, int64_t submitted_us,
                               const void *body, size_t size);
int mc_store_each_unfinished (mc_store_t *self, mc_store_job_fn *fn, void *arg);
//  The tasks of a job that have a result recorded, with its status (0 ok).
typedef void (mc_store_task_fn) (void *arg, uint64_t task, uint64_t status);
int mc_store_each_result (mc_store_t *self, uint64_t job, mc_store_task_fn *fn, void *arg);

//  Self test: a store written, reopened and read back, in a temporary directory.
void mc_store_test (bool verbose);
#endif
