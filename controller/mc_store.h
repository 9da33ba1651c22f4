/*  mc_store: the job store, an SQLite database in the profile directory.
    Writes go into one open transaction that mc_store_flush commits, so
    that many results cost one commit (WAL, synchronous=NORMAL). Reads see
    the open transaction, so nothing written is ever invisible while the
    store is sound. A write or commit that fails for a reason that may pass
    (a full disk, an I/O error) makes the store "failing": the transaction
    is rolled back, every write since the last commit is kept in memory and
    written again at each later flush until one commits. While failing,
    reads do not see those writes, and new jobs are refused. */
#ifndef MC_STORE_H
#define MC_STORE_H
#include "mc_job.h"
#include <msgpack.h>

typedef struct _mc_store_t mc_store_t;

//  Open (creating if needed, mode 0600) the store at path, checked with
//  PRAGMA quick_check. NULL with err on failure (out of memory included);
//  a damaged store's err says how to move it aside.
mc_store_t *mc_store_new (const char *path, char *err, size_t errlen);
void mc_store_destroy (mc_store_t **self_p);
//  The next unused job id (ids survive restarts, and start at 1), or 0
//  when the store cannot be read.
uint64_t mc_store_next_job_id (mc_store_t *self);
//  Record a new job with its submit body. 0 or -1 (also while the store
//  is failing).
int mc_store_add_job (mc_store_t *self, const mc_job_info_t *info, const void *body, size_t size);
//  Record a finished task. data is the msgpack array of its item values
//  (ok) and error the message (failed); meta a msgpack map of what the
//  kernel reported, or empty. 0 or -1 (out of memory, or this write is
//  refused by SQLite for its own sake); a write kept while the store is
//  failing is 0.
int mc_store_add_result (mc_store_t *self, uint64_t job, uint64_t task, uint64_t first, uint64_t count,
                         int64_t engine, uint64_t status, const void *data, size_t size,
                         const char *error, size_t error_len, int64_t started_us, int64_t finished_us,
                         const void *meta, size_t meta_size);
//  Record a job's final counts and finish time. 0 or -1.
int mc_store_finish_job (mc_store_t *self, const mc_job_info_t *info);
//  Record that a client aborted a job before it finished (a restarted
//  controller must not run its tasks again). 0 or -1.
int mc_store_abort_job (mc_store_t *self, uint64_t id);
//  Record a job's new priority (renice), which a restarted controller
//  keeps. 0 or -1.
int mc_store_renice_job (mc_store_t *self, uint64_t id, int32_t priority);
//  Record the engine ids a direct job's tasks are for, in task order
//  (what "all" meant when it was submitted), so that a restarted
//  controller can give them to the same engines. 0 or -1.
int mc_store_job_targets (mc_store_t *self, uint64_t id, const int32_t *ids, size_t count);
//  A load-balanced task of an unfinished job killed this engine (§5,
//  "Retries"), or its kernel failed and it is queued again for the
//  retries-th time: kept for a restarted controller until the job
//  finishes. 0 or -1.
int mc_store_task_died (mc_store_t *self, uint64_t job, uint64_t task, int32_t engine);
int mc_store_task_retried (mc_store_t *self, uint64_t job, uint64_t task, uint32_t retries);
//  Commit what is pending; while the store is failing, write it all again
//  first (no more often than a retry delay that doubles up to 1 s). 0, or
//  -1 while the store is failing (said once per incident in the log).
int mc_store_flush (mc_store_t *self);
//  Writes waiting for the next flush.
size_t mc_store_pending (const mc_store_t *self);
//  Load a job's status. 0, -1 when there is no such job, -2 when it cannot
//  be read (mc_store_error says why).
int mc_store_job_info (mc_store_t *self, uint64_t id, mc_job_info_t *info);
//  Ids of the newest jobs, newest first; returns how many were written.
size_t mc_store_recent_jobs (mc_store_t *self, uint64_t *ids, size_t limit);
//  Pack "results" (all item values in order, nil for failed items) and
//  "errors" (one entry per distinct message with count, engines and
//  tasks) as two key/value pairs of an open map. 0, or -1 when out of
//  memory or the store cannot be read: what was packed is then incomplete
//  and must be discarded.
int mc_store_pack_results (mc_store_t *self, const mc_job_info_t *info, msgpack_packer *pk);
//  What went wrong last, naming the store's path: while the store is
//  failing, the incident ("store commit failed: database or disk is full
//  (/p/store.db)"). Borrowed, valid until the next call.
const char *mc_store_error (mc_store_t *self);
//  0 while the store is sound; else since when it has been failing
//  (monotonic microseconds).
int64_t mc_store_failing_since (const mc_store_t *self);
//  A job whose writes cannot be committed in time. A job whose record is
//  not committed either is forgotten (returns 1: its submit was refused);
//  otherwise its good results not yet committed become failures with
//  text, info's counts are updated to match, and its finish is written
//  again (returns 0). -1 when out of memory.
int mc_store_fail_job (mc_store_t *self, mc_job_info_t *info, const char *text);

//  Per task of a job, in task order: {"task", "engine", "ok", "started",
//  "finished", "meta"} (times in Unix seconds). 0, or -1 as for
//  mc_store_pack_results.
int mc_store_pack_meta (mc_store_t *self, const mc_job_info_t *info, msgpack_packer *pk);
//  After a restart: the jobs that never finished, oldest first, each with
//  its seed, submission time, submit body (for mc_job_new) and the engine
//  ids its direct tasks were for (mc_store_job_targets: "0,1,2", or ""
//  when none were recorded; borrowed for the call); fn returns 0 to go
//  on. 0, or -1 with the store's error.
typedef int (mc_store_job_fn) (void *arg, uint64_t id, uint64_t seed, int64_t submitted_us,
                               const void *body, size_t size, const char *targets);
int mc_store_each_unfinished (mc_store_t *self, mc_store_job_fn *fn, void *arg);
//  The tasks of a job that have a result recorded, with its status (0 ok).
//  Libraries clients added (§8): kept, replaced by name, or removed, each
//  committed at once (after what was pending). 0, or -1 (mc_store_error).
int mc_store_put_library (mc_store_t *self, const char *name, const char *hash, const void *bytes, size_t size);
int mc_store_remove_library (mc_store_t *self, const char *name);
//  Call fn for each stored library, oldest first, until it returns non-zero.
typedef int (mc_store_library_fn) (void *arg, const char *name, const char *hash, const void *bytes, size_t size);
int mc_store_each_library (mc_store_t *self, mc_store_library_fn *fn, void *arg);
typedef void (mc_store_task_fn) (void *arg, uint64_t task, uint64_t status);
int mc_store_each_result (mc_store_t *self, uint64_t job, mc_store_task_fn *fn, void *arg);
//  The tasks of an unfinished job that killed engines or were retried:
//  its retries, and the ids of the engines it killed, in order, comma
//  separated ("" when none; borrowed for the call).
typedef void (mc_store_counts_fn) (void *arg, uint64_t task, uint32_t retries, const char *engines);
int mc_store_each_task_counts (mc_store_t *self, uint64_t job, mc_store_counts_fn *fn, void *arg);

//  --- Allocations (mc_proto.md §4 "Launchers", §8) ---
//  An allocation as kept, with what a restarted controller needs to poll
//  and cancel its batch job, or to say why it cannot take it up.
typedef struct {
    uint32_t id;                    //  its tag is "a<id>"
    char kind [16];                 //  local, slurm, pbs, ssh, mpi
    uint64_t engines;               //  requested
    char job [64];                  //  its batch job id (mpi: mpiexec's pid), "" before it has one
    char state [16];                //  submitting, pending, running, ended, failed, cancelled
    char reason [256];
} mc_store_alloc_t;
//  Record an allocation, new or changed, with its launcher options
//  (NULL-terminated "KEY=VALUE", may be NULL), written with the next
//  commit. 0 or -1 (out of memory).
int mc_store_put_alloc (mc_store_t *self, const mc_store_alloc_t *alloc, const char *const *opts);
//  The next unused allocation id (ids start at 1 and are never given
//  twice in a store), or 0 when the store cannot be read.
uint32_t mc_store_next_alloc_id (mc_store_t *self);
//  After a restart: first forget the allocations that are over (ended,
//  failed, cancelled: their own controller showed them), then call fn for
//  each one left, oldest first, with its options (NULL-terminated,
//  borrowed for the call); fn returns 0 to go on. Commits what is
//  pending. 0, or -1 with the store's error.
typedef int (mc_store_alloc_fn) (void *arg, const mc_store_alloc_t *alloc, const char *const *opts);
int mc_store_each_alloc (mc_store_t *self, mc_store_alloc_fn *fn, void *arg);

//  --- Retention ---
//  Ids above `after` of the jobs that finished before before_us (wall
//  clock; INT64_MAX for all), in id order, at most limit: how many were
//  written (0 also when the store cannot be read).
size_t mc_store_finished_jobs (mc_store_t *self, int64_t before_us, uint64_t after, uint64_t *ids, size_t limit);
//  What a purge removed: jobs, result rows, and bytes the store file shrank.
typedef struct { uint64_t jobs, results, bytes; } mc_store_purged_t;
//  Delete these jobs and their results, and give their space back to the
//  file system. Only finished jobs are deleted (others are skipped); the
//  caller makes sure that no client waits on them. Commits what is pending
//  first. Adds to *purged. 0, or -1 (also while the store is failing) with
//  mc_store_error set.
int mc_store_purge (mc_store_t *self, const uint64_t *ids, size_t count, mc_store_purged_t *purged);
//  Bytes the database takes (pages times page size), or -1.
int64_t mc_store_bytes (mc_store_t *self);
//  Self test: a store written, reopened and read back, in a temporary directory.
void mc_store_test (bool verbose);
#endif
